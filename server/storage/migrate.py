"""Alembic, driven from code: upgrade to head, and tell whether a database is at head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from server.storage.engine import Storage

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations folder has no head revision"
    return head


async def upgrade_to_head(storage: Storage) -> tuple[str | None, str]:
    """Create or migrate the schema; return (revision before, revision after)."""
    async with storage.write() as conn:
        before = await conn.run_sync(_current)
        await conn.run_sync(lambda sync_conn: command.upgrade(alembic_config(sync_conn), "head"))
    return before, head_revision()


async def current_revision(storage: Storage) -> str | None:
    async with storage.read() as conn:
        return await conn.run_sync(_current)


def _current(sync_conn: Any) -> str | None:
    revision: str | None = MigrationContext.configure(sync_conn).get_current_revision()
    return revision
