"""Head office's side of the nightly comparison: its digest of a store's events, and the
store's verdict, kept and shown in the store's sync status."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa

from server.storage import Storage
from server.storage.tables import store_digests, store_events
from sync.digest import Digest

log = logging.getLogger(__name__)
CHUNK = 5000


async def digest_through(storage: Storage, store_id: str, through: int) -> Digest:
    result = Digest()
    after = 0
    async with storage.read() as conn:
        while True:
            rows = (await conn.execute(
                sa.select(store_events.c.seq, store_events.c.kind, store_events.c.payload,
                          store_events.c.hash)
                .where(store_events.c.store_id == store_id, store_events.c.seq > after,
                       store_events.c.seq <= through)
                .order_by(store_events.c.seq).limit(CHUNK))).all()
            for row in rows:
                result.add(int(row.seq), row.kind, row.payload, row.hash)
            if len(rows) < CHUNK:
                return result
            after = int(rows[-1].seq)


async def record_digest_report(storage: Storage, store_id: str, through: int, matches: bool,
                               found: list[str]) -> None:
    if not matches:
        log.error("store %s: nightly digest through seq %s does NOT match head office: %s",
                  store_id, through, "; ".join(found))
    values = {"checked_at": datetime.now(UTC), "through_seq": through, "matches": matches,
              "differences": found[:50]}
    async with storage.write() as conn:
        updated = await conn.execute(store_digests.update()
                                     .where(store_digests.c.store_id == store_id).values(**values))
        if updated.rowcount == 0:
            await conn.execute(store_digests.insert().values(store_id=store_id, **values))
