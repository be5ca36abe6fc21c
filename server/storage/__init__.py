"""Central storage: SQLAlchemy Core tables, the engine per dialect, Alembic migrations."""

from server.storage.engine import Storage, async_url
from server.storage.migrate import current_revision, head_revision, upgrade_to_head

__all__ = ["Storage", "async_url", "current_revision", "head_revision", "upgrade_to_head"]
