"""The audit log: every head-office change, written in the same transaction as the change, so
there is never a change without its record nor a record of a change that did not happen."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from server.principal import OPERATOR, Principal
from server.storage.tables import audit_log

__all__ = ["OPERATOR", "Principal", "record"]


async def record(conn: AsyncConnection, actor: Principal, action: str, target: str,
                 before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Append one audit entry; ``before``/``after`` must hold no secrets."""
    await conn.execute(audit_log.insert().values(
        at=datetime.now(UTC), actor=actor.name, actor_role=actor.role,
        actor_token_id=actor.token_id, action=action, target=target, before=before,
        after=after))
