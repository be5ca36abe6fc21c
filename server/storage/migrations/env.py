"""Alembic environment: runs on the connection handed over by ``server.storage.migrate``."""

from __future__ import annotations

from alembic import context

from server.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through 'backoffice server init', which passes the "
                       "database connection")
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
