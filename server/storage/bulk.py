"""Many rows into one table, fast: SQLAlchemy's own bind processors for each column (so a
date, a datetime or a JSON document is stored exactly as Core would store it), applied in one
tight loop, then a single ``executemany`` on the driver. Core's generic path costs several
microseconds per row in parameter handling, which dominated ingesting a big push batch."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

MAX_PARAMETERS = 30_000  # below both drivers' limits on parameters per statement


# Placeholders for ``count`` parameters numbered from ``start``, per driver paramstyle: qmark
# for aiosqlite, numeric_dollar for asyncpg (the two drivers this project supports).
_MARKERS = {
    "qmark": lambda count, start: ", ".join("?" for _ in range(count)),
    "numeric_dollar": lambda count, start: ", ".join(f"${n}"
                                                     for n in range(start, start + count)),
}


def _marks(paramstyle: str, count: int, start: int = 1) -> str:
    return _MARKERS[paramstyle](count, start)


def _parameters(conn: AsyncConnection, table: sa.Table, names: list[str],
                rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    processors = [table.c[name].type._cached_bind_processor(conn.dialect) for name in names]
    if all(p is None for p in processors):
        return [tuple(row[n] for n in names) for row in rows]
    pairs = list(zip(names, processors, strict=True))
    return [tuple(value if p is None else p(value)
                  for value, p in ((row[n], p) for n, p in pairs)) for row in rows]


async def insert_rows(conn: AsyncConnection, table: sa.Table,
                      rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one statement."""
    if not rows:
        return
    names = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
           f"VALUES ({_marks(conn.dialect.paramstyle, len(names))})")
    await conn.exec_driver_sql(sql, _parameters(conn, table, names, rows))


async def insert_returning(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]],
                           returning: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Insert ``rows`` with multi-row VALUES statements and return the ``returning`` columns
    of each new row (its generated id, say) — no second query to find them again."""
    if not rows:
        return []
    names = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES "
    tail = f" RETURNING {', '.join(quote(n) for n in returning)}"
    params = _parameters(conn, table, names, rows)
    per_statement = max(1, MAX_PARAMETERS // len(names))
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(params), per_statement):
        chunk = params[start:start + per_statement]
        groups = ", ".join(f"({_marks(conn.dialect.paramstyle, len(names), 1 + i * len(names))})"
                           for i in range(len(chunk)))
        flat = tuple(value for row in chunk for value in row)
        result = await conn.exec_driver_sql(head + groups + tail, flat)
        out.extend(tuple(r) for r in result)
    return out


async def add_to_rows(conn: AsyncConnection, table: sa.Table, keys: tuple[str, ...],
                      values: list[dict[str, Any]], summed: tuple[str, ...]) -> None:
    """Insert rows, or add their ``summed`` columns to the rows already there (an upsert)."""
    insert = (postgresql.insert(table) if conn.dialect.name == "postgresql"
              else sqlite.insert(table))
    statement = insert.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys],
        set_={name: table.c[name] + insert.excluded[name] for name in summed})
    for start in range(0, len(values), 1000):
        await conn.execute(statement, values[start:start + 1000])
