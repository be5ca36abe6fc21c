"""Cash sessions per drawer: open with a float, paid in and out, audited no-sale openings,
the X report mid-shift, and the Z report that closes the session (expected vs counted per
tender, over/short); and closing a business day."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from store_agent import requests as rq
from store_agent.actions import Moment, perform
from store_agent.basket import TENDER_TYPES
from store_agent.context import Outcome, StoreContext
from store_agent.employees import identify, manager_approval
from store_agent.errors import InvalidSale, StateConflict, UnknownSession
from store_agent.ledger import write_transaction
from store_agent.sales import enqueue_print
from sync.events import StoreEvent
from sync.money import format_minor


def open_session(db: Database, store: StoreContext, terminal_id: str, request: dict[str, Any],
                 now: datetime) -> Outcome:
    session_id = rq.client_id(request, "session_id")
    drawer_id = rq.text(request, "drawer_id", 32, required=False) or terminal_id

    def build(db: Database, moment: Moment) -> tuple[str, dict[str, Any]]:
        employee = identify(db, request, "employee", store.require_pin)
        float_minor = rq.amount(request.get("float"), store.exponent, "float", allow_zero=True)
        if db.execute("SELECT 1 FROM cash_sessions WHERE session_id = ?",
                      [session_id]).fetchone():
            raise StateConflict("session_id", f"cash session {session_id} already exists")
        row = db.execute("SELECT session_id FROM cash_sessions WHERE drawer_id = ? AND "
                         "status = 'open'", [drawer_id]).fetchone()
        if row is not None:
            raise StateConflict("drawer_id", f"drawer {drawer_id} already has open cash session "
                                             f"{row[0]}; close it first")
        return "cash.session_opened", {
            "session_id": session_id, "drawer_id": drawer_id, "terminal_id": terminal_id,
            "employee_id": employee.employee_id, "float": float_minor,
            "currency": store.currency}

    return perform(db, store, f"session:{session_id}", request, now, build,
                   lambda event: session_report(db, store, session_id))


def cash_movement(db: Database, store: StoreContext, session_id: str, kind: str,
                  request: dict[str, Any], now: datetime) -> Outcome:
    """``cash.paid_in``, ``cash.paid_out`` (both with an amount) or ``cash.no_sale``."""
    movement_id = rq.client_id(request, "movement_id")

    def build(db: Database, moment: Moment) -> tuple[str, dict[str, Any]]:
        require_open(db, session_id)
        employee = identify(db, request, "employee", store.require_pin)
        payload: dict[str, Any] = {"movement_id": movement_id, "session_id": session_id,
                                   "employee_id": employee.employee_id,
                                   "reason": rq.text(request, "reason", 64)}
        if kind != "cash.no_sale":
            payload["amount"] = rq.amount(request.get("amount"), store.exponent, "amount")
        if kind == "cash.paid_out":
            payload["approved_by"] = manager_approval(db, request, "a paid-out").employee_id
        return kind, payload

    def answer(event: StoreEvent) -> dict[str, Any]:
        out = {"movement_id": movement_id, "seq": event.seq, "kind": kind,
               "session_id": session_id, "reason": event.payload["reason"]}
        if "amount" in event.payload:
            out["amount"] = format_minor(event.payload["amount"], store.exponent)
        if kind == "cash.no_sale":  # the audited opening kicks the drawer, in the same commit
            terminal = db.execute("SELECT terminal_id FROM cash_sessions WHERE session_id = ?",
                                  [session_id]).fetchone()[0]
            enqueue_print(db, event.seq, terminal, "drawer_kick", {}, event.recorded_at)
            out["terminal_id"] = terminal
        return out

    return perform(db, store, f"movement:{movement_id}", request, now, build, answer)


def close_session(db: Database, store: StoreContext, session_id: str, request: dict[str, Any],
                  now: datetime) -> Outcome:
    """The Z report: counted per tender against expected; closes the session."""

    def build(db: Database, moment: Moment) -> tuple[str, dict[str, Any]]:
        require_open(db, session_id)
        employee = identify(db, request, "employee", store.require_pin)
        counted_raw = request.get("counted")
        if not isinstance(counted_raw, dict) or "cash" not in counted_raw:
            raise InvalidSale("counted", "give the counted amount per tender, at least "
                                         "{\"cash\": \"123.45\"}")
        counted = {}
        for tender, value in counted_raw.items():
            if tender not in TENDER_TYPES:
                raise InvalidSale(f"counted.{tender}", f"unknown tender; one of "
                                                       f"{', '.join(sorted(TENDER_TYPES))}")
            counted[tender] = rq.amount(value, store.exponent, f"counted.{tender}",
                                        allow_zero=True)
        expected = expected_by_tender(db, session_id)
        tenders = sorted(set(expected) | set(counted))
        return "cash.session_closed", {
            "session_id": session_id, "employee_id": employee.employee_id,
            "expected": {t: expected.get(t, 0) for t in tenders},
            "counted": {t: counted.get(t, expected.get(t, 0) if t != "cash" else 0)
                        for t in tenders},
            "over_short": {t: counted.get(t, expected.get(t, 0)) - expected.get(t, 0)
                           for t in tenders},
        }

    def answer(event: StoreEvent) -> dict[str, Any]:
        report = session_report(db, store, session_id, event.payload)
        # The Z report is printed for the drawer's till, queued in the same commit.
        enqueue_print(db, event.seq, report["terminal_id"], "z_report", report,
                      event.recorded_at)
        return report

    return perform(db, store, f"close:{session_id}", request, now, build, answer,
                   check_day=False)


def queue_x_report(db: Database, store: StoreContext, session_id: str, created_at: str) -> int:
    """Queue the session's X report (mid-shift, no event) for printing; returns the job id."""
    with write_transaction(db):
        report = session_report(db, store, session_id)
        last_seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
        return enqueue_print(db, last_seq, report["terminal_id"], "x_report", report,
                             created_at)


def close_business_day(db: Database, store: StoreContext, day: str, request: dict[str, Any],
                       now: datetime) -> Outcome:
    def build(db: Database, moment: Moment) -> tuple[str, dict[str, Any]]:
        manager = manager_approval(db, request, "closing a business day")
        if db.execute("SELECT 1 FROM business_days WHERE business_date = ?", [day]).fetchone():
            raise StateConflict("business_date", f"business day {day} is already closed")
        if day > moment.business_date:
            raise StateConflict("business_date", f"business day {day} has not begun (today's is "
                                                 f"{moment.business_date})")
        open_ones = [r[0] for r in db.execute(
            "SELECT session_id FROM cash_sessions WHERE status = 'open' AND business_date <= ?",
            [day]).fetchall()]
        if open_ones:
            raise StateConflict("business_date", f"cash sessions still open: "
                                                 f"{', '.join(open_ones)}; close them first")
        return "business_day.closed", {"business_date": day, "employee_id": manager.employee_id}

    return perform(db, store, f"day:{day}", request, now, build,
                   lambda event: {"business_date": day, "status": "closed", "seq": event.seq},
                   check_day=False)


def require_open(db: Database, session_id: str) -> None:
    row = db.execute("SELECT status FROM cash_sessions WHERE session_id = ?",
                     [session_id]).fetchone()
    if row is None:
        raise UnknownSession(session_id)
    if row[0] != "open":
        raise StateConflict("session_id", f"cash session {session_id} is {row[0]}")


def expected_by_tender(db: Database, session_id: str) -> dict[str, int]:
    rows = db.execute("SELECT tender, SUM(amount_minor) FROM cash_movements WHERE session_id = ? "
                      "GROUP BY tender", [session_id]).fetchall()
    expected = {r[0]: int(r[1]) for r in rows}
    expected.setdefault("cash", 0)
    return expected


def session_report(db: Database, store: StoreContext, session_id: str,
                   closing: dict[str, Any] | None = None) -> dict[str, Any]:
    """X report (``closing`` None) or Z report: the session's money by tender and by kind."""
    row = db.execute("SELECT drawer_id, terminal_id, business_date, opened_at, opened_by, "
                     "float_minor, status, closed_at, closed_by FROM cash_sessions "
                     "WHERE session_id = ?", [session_id]).fetchone()
    if row is None:
        raise UnknownSession(session_id)

    def money(minor: int) -> str:
        return format_minor(minor, store.exponent)

    by_kind = db.execute("SELECT kind, tender, SUM(amount_minor), COUNT(*) FROM cash_movements "
                         "WHERE session_id = ? GROUP BY kind, tender ORDER BY kind, tender",
                         [session_id]).fetchall()
    sales = db.execute("SELECT COUNT(*), COALESCE(SUM(total_minor), 0) FROM sales WHERE "
                       "session_id = ? AND status = 'completed'", [session_id]).fetchone()
    report: dict[str, Any] = {
        "session_id": session_id, "drawer_id": row[0], "terminal_id": row[1],
        "business_date": row[2], "opened_at": row[3], "opened_by": row[4],
        "float": money(row[5]), "status": row[6], "closed_at": row[7], "closed_by": row[8],
        "report": "Z" if closing else "X",
        "sales": {"count": sales[0], "total": money(sales[1])},
        "movements": [{"kind": k, "tender": t, "amount": money(a), "count": c}
                      for k, t, a, c in by_kind],
        "expected": {t: money(a) for t, a in expected_by_tender(db, session_id).items()},
    }
    if closing:
        report["expected"] = {t: money(a) for t, a in closing["expected"].items()}
        report["counted"] = {t: money(a) for t, a in closing["counted"].items()}
        report["over_short"] = {t: money(a) for t, a in closing["over_short"].items()}
    return report
