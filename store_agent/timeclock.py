"""The time clock: punch in, break start and end, punch out — a small state machine per
employee. A punch that makes no sense is refused with the employee's current state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from store_agent import requests as rq
from store_agent.actions import Moment, perform
from store_agent.context import Outcome, StoreContext
from store_agent.employees import identify
from store_agent.errors import InvalidSale, StateConflict

OFF, WORKING, ON_BREAK = "off", "working", "on_break"
# action -> (state it needs, state it leaves)
TRANSITIONS: dict[str, tuple[str, str]] = {
    "in": (OFF, WORKING),
    "break_start": (WORKING, ON_BREAK),
    "break_end": (ON_BREAK, WORKING),
    "out": (WORKING, OFF),
}


def next_state(current: str, action: str) -> str:
    """The state after ``action``; raises StateConflict naming the current state."""
    needed, after = TRANSITIONS[action]
    if current != needed:
        hint = {OFF: "not clocked in", WORKING: "clocked in and working",
                ON_BREAK: "on a break"}[current]
        raise StateConflict("action", f"cannot punch {action!r}: the employee is {hint} "
                                      f"(state {current!r})")
    return after


def punch(db: Database, store: StoreContext, terminal_id: str, request: dict[str, Any],
          now: datetime) -> Outcome:
    punch_id = rq.client_id(request, "punch_id")

    def build(db: Database, moment: Moment) -> tuple[str, dict[str, Any]]:
        employee = identify(db, request, "employee", store.require_pin)
        action = request.get("action")
        if action not in TRANSITIONS:
            raise InvalidSale("action", f"must be one of {', '.join(TRANSITIONS)}")
        row = db.execute("SELECT state FROM shifts WHERE employee_id = ?",
                         [employee.employee_id]).fetchone()
        before = OFF if row is None else str(row[0])
        return "time.punched", {"punch_id": punch_id, "employee_id": employee.employee_id,
                                "action": action, "state_before": before,
                                "state_after": next_state(before, action),
                                "terminal_id": terminal_id}

    return perform(db, store, f"punch:{punch_id}", request, now, build,
                   lambda event: {"punch_id": punch_id, "seq": event.seq,
                                  "employee_id": event.payload["employee_id"],
                                  "action": event.payload["action"],
                                  "state": event.payload["state_after"],
                                  "at": event.recorded_at, "business_date": event.business_date},
                   check_day=False)
