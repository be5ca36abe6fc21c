"""``agent verify``: prove the ledger is sound.

Walks the event log in order, checking that seqs are gap-free and that every hash follows
from its predecessor; replays every event through the projectors into a scratch database; and
compares each projected table with the live one. Problems are collected, not stopped at.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from store_agent.ledger.database import connect, write_transaction
from store_agent.ledger.projector import PROJECTED_TABLES, project
from sync.events import GENESIS_HASH, StoreEvent, canonical_event_bytes, chain_hash

CHUNK = 2000
MAX_REPORTED = 20


@dataclass
class VerifyReport:
    events: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.problems


def verify_ledger(db: Database, store_id: str) -> VerifyReport:
    report = VerifyReport()
    with tempfile.TemporaryDirectory(prefix="ledger-verify-") as folder:
        scratch = connect(Path(folder) / "replay.db")
        try:
            _replay(db, scratch, store_id, report)
            for table, key in PROJECTED_TABLES.items():
                _compare(db, scratch, table, key, report)
        finally:
            scratch.close()
    return report


def _replay(db: Database, scratch: Database, store_id: str, report: VerifyReport) -> None:
    expected_seq, previous = 1, GENESIS_HASH
    after = 0
    while True:
        rows = db.execute("SELECT seq, event_id, kind, recorded_at, business_date, payload, hash "
                          "FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                          [after, CHUNK]).fetchall()
        if not rows:
            return
        with write_transaction(scratch):
            for seq, event_id, kind, recorded_at, day, payload_text, digest in rows:
                report.events += 1
                if seq != expected_seq:
                    report.problems.append(f"events: seq {expected_seq} is missing (next is "
                                           f"{seq})")
                try:
                    payload = json.loads(payload_text)
                except ValueError:
                    report.problems.append(f"events: seq {seq} payload is not valid JSON")
                    payload = {}
                computed = chain_hash(previous, canonical_event_bytes(
                    store_id, seq, event_id, kind, recorded_at, day, payload))
                if computed != digest:
                    report.problems.append(f"events: hash chain broken at seq {seq} (the event "
                                           "or one before it was altered)")
                event = StoreEvent(store_id=store_id, seq=seq, event_id=event_id, kind=kind,
                                   recorded_at=recorded_at, business_date=day, payload=payload,
                                   hash=digest)
                try:
                    project(scratch, event)
                except (KeyError, TypeError, ValueError) as exc:
                    report.problems.append(f"events: seq {seq} ({kind}) cannot be projected: "
                                           f"{exc!r}")
                expected_seq, previous, after = seq + 1, digest, seq


def _compare(live: Database, rebuilt: Database, table: str, key: str,
             report: VerifyReport) -> None:
    columns = [c.name for c in rebuilt.table(table).columns]
    query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {key}"
    positions = [columns.index(name.strip()) for name in key.split(",")]

    def keyed(db: Database) -> dict[tuple[object, ...], tuple[object, ...]]:
        return {tuple(row[i] for i in positions): tuple(row)
                for row in db.execute(query).fetchall()}

    live_rows, rebuilt_rows = keyed(live), keyed(rebuilt)
    found = 0
    for row_key in sorted(set(live_rows) | set(rebuilt_rows), key=str):
        have, want = live_rows.get(row_key), rebuilt_rows.get(row_key)
        if have == want:
            continue
        found += 1
        if found <= MAX_REPORTED:
            if have is None:
                report.problems.append(f"{table}: row {row_key} is missing (the events say "
                                       f"{want})")
            elif want is None:
                report.problems.append(f"{table}: row {row_key} is not backed by any event "
                                       f"({have})")
            else:
                report.problems.append(f"{table}: row {row_key} is {have}, the events say {want}")
    if found > MAX_REPORTED:
        report.problems.append(f"{table}: {found - MAX_REPORTED} more differences")
