"""Operator actions behind the CLI: initialise the database, enroll a store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from server.errors import StoreAlreadyEnrolled, UnknownStore
from server.storage import Storage, upgrade_to_head
from server.storage.tables import api_tokens, stores
from server.tokens import API_TOKEN_PREFIX, STORE_TOKEN_PREFIX, new_token, token_digest
from sync.events import GENESIS_HASH

ADMIN_ROLE = "admin"


@dataclass(frozen=True, slots=True)
class InitResult:
    revision_before: str | None
    revision_after: str
    admin_token: str | None  # only when this run created the first admin token


async def init_database(storage: Storage) -> InitResult:
    """Create or migrate the schema; issue the first admin token if there is none yet."""
    before, after = await upgrade_to_head(storage)
    async with storage.write() as conn:
        count = (await conn.execute(sa.select(sa.func.count()).select_from(api_tokens))
                 ).scalar_one()
        token = None
        if count == 0:
            token = new_token(API_TOKEN_PREFIX)
            await conn.execute(api_tokens.insert().values(
                name="first admin", role=ADMIN_ROLE, token_hash=token_digest(token),
                created_at=datetime.now(UTC)))
    return InitResult(revision_before=before, revision_after=after, admin_token=token)


async def enroll_store(storage: Storage, store_id: str, name: str, timezone: str) -> str:
    """Enroll a store and return its sync token (shown once, stored hashed)."""
    token = new_token(STORE_TOKEN_PREFIX)
    async with storage.write() as conn:
        exists = (await conn.execute(sa.select(stores.c.store_id).where(
            stores.c.store_id == store_id))).first()
        if exists:
            raise StoreAlreadyEnrolled(store_id)
        await conn.execute(stores.insert().values(
            store_id=store_id, name=name, timezone=timezone, token_hash=token_digest(token),
            enrolled_at=datetime.now(UTC), high_water=0, last_hash=GENESIS_HASH))
    return token


async def rotate_store_token(storage: Storage, store_id: str) -> str:
    """Issue a new sync token for ``store_id``; the old one stops working at once (and a
    revoked store is re-enabled)."""
    token = new_token(STORE_TOKEN_PREFIX)
    async with storage.write() as conn:
        updated = await conn.execute(stores.update().where(stores.c.store_id == store_id)
                                     .values(token_hash=token_digest(token), revoked_at=None))
        if updated.rowcount == 0:
            raise UnknownStore(store_id)
    return token


async def revoke_store_token(storage: Storage, store_id: str) -> None:
    """Refuse the store's sync token from now on (a stolen till server, a closed store)."""
    async with storage.write() as conn:
        updated = await conn.execute(stores.update().where(stores.c.store_id == store_id)
                                     .values(revoked_at=datetime.now(UTC)))
        if updated.rowcount == 0:
            raise UnknownStore(store_id)
