"""Operator and admin actions (the CLI and the API share them): initialise the database, enroll
stores and manage their sync tokens, issue and revoke head-office API tokens. Each change is
audited in its own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import audit
from server.errors import LastAdminToken, StoreAlreadyEnrolled, UnknownApiToken, UnknownStore
from server.principal import OPERATOR, Principal
from server.roles import ADMIN, ROLES
from server.storage import Storage, upgrade_to_head
from server.storage.tables import api_tokens, stores
from server.tokens import API_TOKEN_PREFIX, STORE_TOKEN_PREFIX, new_token, token_digest
from sync.events import GENESIS_HASH

ADMIN_ROLE = ADMIN


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
            _, token = await _insert_api_token(conn, "first admin", ADMIN_ROLE, OPERATOR)
    return InitResult(revision_before=before, revision_after=after, admin_token=token)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token_id: int
    name: str
    role: str
    token: str  # shown once


async def _insert_api_token(conn: AsyncConnection, name: str, role: str,
                            actor: Principal) -> tuple[int, str]:
    token = new_token(API_TOKEN_PREFIX)
    token_id = (await conn.execute(api_tokens.insert().values(
        name=name, role=role, token_hash=token_digest(token), created_at=datetime.now(UTC))
        .returning(api_tokens.c.id))).scalar_one()
    await audit.record(conn, actor, "api_token.create", f"api_token:{token_id}", None,
                       {"id": token_id, "name": name, "role": role})
    return int(token_id), token


async def create_api_token(storage: Storage, name: str, role: str, *,
                           actor: Principal = OPERATOR) -> IssuedToken:
    """Issue a head-office API token for a person or system with ``role``."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    async with storage.write() as conn:
        token_id, token = await _insert_api_token(conn, name, role, actor)
    return IssuedToken(token_id=token_id, name=name, role=role, token=token)


async def revoke_api_token(storage: Storage, token_id: int, *,
                           actor: Principal = OPERATOR) -> None:
    """Refuse a token from now on; the last working admin token cannot be revoked, so head
    office can never lock itself out."""
    async with storage.write() as conn:
        row = (await conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)
                                  .with_for_update())).first()
        if row is None:
            raise UnknownApiToken(token_id)
        if row.revoked_at is not None:
            return
        if row.role == ADMIN_ROLE:
            admins = (await conn.execute(sa.select(sa.func.count()).select_from(api_tokens)
                                         .where(api_tokens.c.role == ADMIN_ROLE,
                                                api_tokens.c.revoked_at.is_(None)))
                      ).scalar_one()
            if admins <= 1:
                raise LastAdminToken(token_id)
        now = datetime.now(UTC)
        await conn.execute(api_tokens.update().where(api_tokens.c.id == token_id)
                           .values(revoked_at=now))
        await audit.record(conn, actor, "api_token.revoke", f"api_token:{token_id}",
                           {"id": token_id, "name": row.name, "role": row.role,
                            "revoked": False},
                           {"id": token_id, "name": row.name, "role": row.role,
                            "revoked": True})


async def enroll_store(storage: Storage, store_id: str, name: str, timezone: str, *,
                       actor: Principal = OPERATOR) -> str:
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
        await audit.record(conn, actor, "store.enroll", f"store:{store_id}", None,
                           {"store_id": store_id, "name": name, "timezone": timezone})
    return token


async def rotate_store_token(storage: Storage, store_id: str, *,
                             actor: Principal = OPERATOR) -> str:
    """Issue a new sync token for ``store_id``; the old one stops working at once (and a
    revoked store is re-enabled)."""
    token = new_token(STORE_TOKEN_PREFIX)
    async with storage.write() as conn:
        updated = await conn.execute(stores.update().where(stores.c.store_id == store_id)
                                     .values(token_hash=token_digest(token), revoked_at=None))
        if updated.rowcount == 0:
            raise UnknownStore(store_id)
        await audit.record(conn, actor, "store.rotate_token", f"store:{store_id}", None,
                           {"store_id": store_id, "token_rotated": True, "revoked": False})
    return token


async def revoke_store_token(storage: Storage, store_id: str, *,
                             actor: Principal = OPERATOR) -> None:
    """Refuse the store's sync token from now on (a stolen till server, a closed store)."""
    async with storage.write() as conn:
        updated = await conn.execute(stores.update().where(stores.c.store_id == store_id)
                                     .values(revoked_at=datetime.now(UTC)))
        if updated.rowcount == 0:
            raise UnknownStore(store_id)
        await audit.record(conn, actor, "store.revoke_token", f"store:{store_id}", None,
                           {"store_id": store_id, "revoked": True})
