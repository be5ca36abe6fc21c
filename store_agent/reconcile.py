"""The nightly reconciliation: a full sync, then both sides' digests of the events head office
has acknowledged are compared; a mismatch is logged, kept in the ledger's sync state (agent
status) and reported to head office (its store status)."""

from __future__ import annotations

import json
import logging
import ssl
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
import msgpack
from sqlite_utils import Database

from backoffice.tls import client_ssl_context
from config import AgentSettings
from store_agent.clock import Clock, utc_text
from store_agent.errors import HeadOfficeUnreachable, SyncRejected
from store_agent.ledger import Ledger, sync_state, write_transaction
from store_agent.sync_client import push_pending
from sync import CONTENT_TYPE, DIGEST_PATH
from sync.digest import Digest, differences

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    through_seq: int
    matches: bool
    differences: tuple[str, ...]


async def reconcile(ledger: Ledger, settings: AgentSettings, clock: Clock,
                    session: aiohttp.ClientSession | None = None) -> Reconciliation:
    own = session is None
    if session is None:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(
            total=settings.head_office.timeout_seconds))
    try:
        await push_pending(ledger, settings, clock, session=session)
        through = (await ledger.run(sync_state)).acked_seq
        mine = (await ledger.run(partial(_local_digest, through=through))).as_dict()
        ssl_context = client_ssl_context(settings.head_office.ca_file)
        theirs = await _call(session, settings, "GET", {"through": str(through)}, None,
                             ssl_context)
        found = differences(mine, theirs)
        result = Reconciliation(through_seq=through, matches=not found,
                                differences=tuple(found))
        await _call(session, settings, "POST", None, msgpack.packb({
            "v": 1, "type": "digest_report", "through_seq": through,
            "matches": result.matches, "differences": list(found)}), ssl_context)
        if found:
            log.error("nightly digest through seq %s does NOT match head office: %s", through,
                      "; ".join(found))
        await ledger.run(partial(_record, result=result, at=utc_text(clock.now())))
        return result
    finally:
        if own:
            await session.close()


def _local_digest(db: Database, *, through: int) -> Digest:
    result = Digest()
    for seq, kind, payload, digest in db.execute(
            "SELECT seq, kind, payload, hash FROM events WHERE seq <= ? ORDER BY seq",
            [through]):
        result.add(seq, kind, json.loads(payload), digest)
    return result


def _record(db: Database, *, result: Reconciliation, at: str) -> None:
    with write_transaction(db):
        db.execute("UPDATE sync_state SET digest_checked_at = ?, digest_through_seq = ?, "
                   "digest_matches = ?, digest_problems = ? WHERE id = 1",
                   [at, result.through_seq, int(result.matches),
                    json.dumps(list(result.differences))])


async def _call(session: aiohttp.ClientSession, settings: AgentSettings, method: str,
                params: dict[str, str] | None, body: bytes | None,
                ssl_context: ssl.SSLContext | None) -> Any:
    url = settings.head_office.url.rstrip("/") + DIGEST_PATH
    headers = {"Authorization": f"Bearer {settings.head_office.sync_token}",
               "Content-Type": CONTENT_TYPE}
    try:
        async with session.request(method, url, params=params, data=body, headers=headers,
                                   ssl=ssl_context if ssl_context is not None else True) as resp:
            data = await resp.read()
            if resp.status != 200:
                raise SyncRejected(resp.status, data[:200].decode("utf-8", "replace"))
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise HeadOfficeUnreachable(url, str(exc) or type(exc).__name__) from exc
    if method == "GET":
        return msgpack.unpackb(data, raw=False)
    return json.loads(data)
