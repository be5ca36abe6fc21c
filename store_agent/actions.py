"""The frame every recorded action shares: one transaction, the business day, idempotent
replay of client-keyed requests, and the event itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from store_agent.business_day import business_date
from store_agent.clock import utc_text
from store_agent.context import Outcome, StoreContext, request_digest
from store_agent.errors import RequestConflict
from store_agent.ledger import write_transaction
from store_agent.ledger.projector import record
from store_agent.sales import ensure_day_open
from sync.events import StoreEvent


@dataclass(frozen=True, slots=True)
class Moment:
    """When an action happens: the UTC instant and the store's business date."""

    now: datetime
    recorded_at: str
    business_date: str


Build = Callable[[Database, Moment], tuple[str, dict[str, Any]]]
Answer = Callable[[StoreEvent], dict[str, Any]]


def perform(db: Database, store: StoreContext, request_key: str, request: dict[str, Any],
            now: datetime, build: Build, answer: Answer, check_day: bool = True) -> Outcome:
    """Run ``build`` (which validates and returns the event kind and payload), record the
    event and remember the answer under ``request_key``; a retry gets the same answer."""
    digest = request_digest(request)
    with write_transaction(db):
        previous = db.execute("SELECT digest, response FROM requests WHERE request_key = ?",
                              [request_key]).fetchone()
        if previous is not None:
            if previous[0] != digest:
                raise RequestConflict(request_key)
            return Outcome(created=False, response=json.loads(previous[1]))
        moment = Moment(now=now, recorded_at=utc_text(now),
                        business_date=business_date(now, store.timezone,
                                                    store.day_cutoff).isoformat())
        if check_day:
            ensure_day_open(db, moment.business_date)
        kind, payload = build(db, moment)
        event = record(db, store.store_id, kind, payload, moment.recorded_at,
                       moment.business_date)
        response = answer(event)
        db.execute("INSERT INTO requests (request_key, digest, seq, response) VALUES (?,?,?,?)",
                   [request_key, digest, event.seq, json.dumps(response)])
    return Outcome(created=True, response=response, seq=event.seq, kind=event.kind)
