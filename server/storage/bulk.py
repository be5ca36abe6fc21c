"""Many rows into one table, fast: SQLAlchemy's own bind processors for each column (so a
date, a datetime or a JSON document is stored exactly as Core would store it), applied in one
tight loop, then a single ``executemany`` on the driver. Core's generic path costs several
microseconds per row in parameter handling, which dominated ingesting a big push batch."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

MAX_PARAMETERS = 30_000  # below both drivers' limits on parameters per statement
# Rows per multi-row statement on SQLite: a fixed size, so that the same statement text (and
# the sqlite3 module's compiled statement) serves every full chunk of every batch. Large, as
# each statement costs a few hops to the database thread (256 rows measured slower than 512
# or 1,024 for journal lines); not larger, as the sqlite3 module keeps up to 128 compiled
# statements per connection and one of 512 rows of 9 columns takes about 0.4 MB.
SQLITE_ROWS = 512


# Placeholders for ``count`` parameters numbered from ``start``, per driver paramstyle: qmark
# for aiosqlite, numeric_dollar for asyncpg (the two drivers this project supports).
_MARKERS = {
    "qmark": lambda count, start: ", ".join("?" for _ in range(count)),
    "numeric_dollar": lambda count, start: ", ".join(f"${n}"
                                                     for n in range(start, start + count)),
}


async def _run(conn: AsyncConnection, sql: str, params: Sequence[Any]) -> list[Any]:
    """One statement and all its rows. On SQLite straight on the connection's aiosqlite
    connection, inside the transaction SQLAlchemy holds open: one hop to the database thread,
    where SQLAlchemy's adapter makes several (cursor, execute, fetch, close: 456 µs of CPU a
    statement against 76 µs, measured here — a push batch runs dozens). Errors are raised as
    SQLAlchemy raises them (``IntegrityError`` for a trigger's abort, say)."""
    if conn.dialect.name != "sqlite":
        return list(await conn.exec_driver_sql(sql, tuple(params)))
    raw = await conn.get_raw_connection()
    try:
        return list(await raw.driver_connection.execute_fetchall(  # type: ignore[union-attr]
            sql, params))
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc


def _marks(paramstyle: str, count: int, start: int = 1) -> str:
    return _MARKERS[paramstyle](count, start)


def _converters(conn: AsyncConnection, table: sa.Table,
                names: list[str]) -> list[tuple[int, Any]]:
    """(position, bind processor) for the columns whose values the driver cannot take as
    they are; dates and times (few distinct per batch: business days, the batch's "now")
    are converted once each."""
    converted = []
    for index, name in enumerate(names):
        column_type = table.c[name].type
        processor = column_type._cached_bind_processor(conn.dialect)
        if processor is not None:
            if isinstance(column_type, sa.Date | sa.DateTime):  # dates, and "now"
                processor = functools.lru_cache(maxsize=256)(processor)
            converted.append((index, processor))
    return converted


def _convert(rows: Iterable[tuple[Any, ...]],
             converted: list[tuple[int, Any]]) -> list[tuple[Any, ...]]:
    """Rows with the ``converted`` columns passed through their processors — column by
    column (``map`` and ``zip`` loop in C), not value by value in Python."""
    rows = list(rows)
    if not converted or not rows:
        return rows
    columns: list[Iterable[Any]] = list(zip(*rows, strict=True))
    for index, processor in converted:
        columns[index] = map(processor, columns[index])
    return list(zip(*columns, strict=True))


def _parameters(conn: AsyncConnection, table: sa.Table, names: list[str],
                rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    getter: Any = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    return _convert(map(getter, rows), _converters(conn, table, names))


async def insert_rows(conn: AsyncConnection, table: sa.Table,
                      rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one statement."""
    if not rows:
        return
    names = list(rows[0])
    await _execute_many(conn, table, names, _parameters(conn, table, names, rows))


async def _execute_many(conn: AsyncConnection, table: sa.Table, names: list[str],
                        params: list[tuple[Any, ...]], tail: str = "") -> None:
    """``params`` (converted rows) into ``table``. On SQLite, multi-row statements of a
    fixed size: each is one step of the database, during which the sqlite3 module lets go
    of the GIL, whereas ``executemany`` takes the GIL back for every row and so waits on
    whatever Python runs meanwhile (and was measured slower even alone). On PostgreSQL, one
    ``executemany`` (asyncpg pipelines it)."""
    if conn.dialect.name == "sqlite":
        for sql, flat in _multi_row(conn, table, names, params, tail,
                                    per_statement=SQLITE_ROWS):
            await _run(conn, sql, flat)
        return
    sql = _multi_row_sql(conn.dialect.identifier_preparer.quote, conn.dialect.paramstyle,
                         table.name, tuple(names), 1, tail)
    await conn.exec_driver_sql(sql, params)


def _multi_row(conn: AsyncConnection, table: sa.Table, names: list[str],
               params: list[tuple[Any, ...]], tail: str = "",
               per_statement: int | None = None) -> list[tuple[str, tuple[Any, ...]]]:
    """Multi-row ``INSERT ... VALUES (...), (...)`` statements for ``params`` (rows of
    ``names``, converted), each below the drivers' parameter limit, flattened. On SQLite
    the rows left after the full statements go in statements of 512, 256, ... 1 rows: the
    sqlite3 module keeps each distinct statement compiled (128 per connection), and a
    compiled statement of hundreds of rows is large, so the sizes must be few, not one per
    batch length."""
    most = max(1, MAX_PARAMETERS // len(names))
    per_statement = min(per_statement, most) if per_statement else most
    out = []
    start = 0
    while start < len(params):
        size = min(per_statement, len(params) - start)
        if conn.dialect.name == "sqlite" and size < per_statement:
            size = 1 << (size.bit_length() - 1)  # the largest power of two that fits
        chunk = params[start:start + size]
        sql = _multi_row_sql(conn.dialect.identifier_preparer.quote, conn.dialect.paramstyle,
                             table.name, tuple(names), size, tail)
        out.append((sql, tuple(chain.from_iterable(chunk))))
        start += size
    return out


@functools.lru_cache(maxsize=128)
def _multi_row_sql(quote: Any, paramstyle: str, table: str, names: tuple[str, ...],
                   rows: int, tail: str) -> str:
    """The text of a multi-row INSERT (made once per table, columns and row count)."""
    head = f"INSERT INTO {quote(table)} ({', '.join(quote(n) for n in names)}) VALUES "
    width = len(names)
    return head + ", ".join(f"({_marks(paramstyle, width, 1 + i * width)})"
                            for i in range(rows)) + tail


async def insert_statements(conn: AsyncConnection, table: sa.Table, names: list[str],
                            rows: list[tuple[Any, ...]], converted: bool = False) -> None:
    """Insert ``rows`` (tuples of the ``names`` columns): one ``COPY`` on PostgreSQL, whose
    statement-level triggers then fire once per batch rather than once per row; multi-row
    statements of a fixed size on SQLite. Values must be plain (str, int, bool, date,
    datetime): no JSON columns. ``converted``: the rows already hold what the database
    takes (values passed through :func:`converter`), so they are not converted again."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        try:
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                table.name, records=rows, columns=names)
        except asyncpg.PostgresError as exc:  # as SQLAlchemy would raise it from a statement
            raise sa.exc.DBAPIError(f"COPY {table.name}", None, exc) from exc
        return
    await _execute_many(conn, table, names,
                        rows if converted else _convert(rows, _converters(conn, table, names)))


def converter(conn: AsyncConnection, column: sa.Column[Any]) -> Any:
    """What ``column``'s values become for this connection's database, as a function (the
    identity when the driver takes them as they are, and always for PostgreSQL's ``COPY``):
    for callers that convert each distinct value once and pass ``converted=True``."""
    if conn.dialect.name == "postgresql":
        return _identity
    return column.type._cached_bind_processor(conn.dialect) or _identity


def _identity(value: Any) -> Any:
    return value


IN_CHUNK = 512  # values per IN list of :func:`rows_in`


async def rows_in(conn: AsyncConnection, table: sa.Table, columns: tuple[str, ...],
                  column: str, values: list[Any], **equal: Any) -> list[tuple[Any, ...]]:
    """``columns`` of the rows of ``table`` whose ``column`` is one of ``values`` (distinct:
    a value repeated in two IN lists would find its row twice) and whose
    ``equal`` columns hold the given values — as the driver returns them, with no result
    processing, so only for plain columns (text, integers). A hot path's look-up: the text
    is made once per shape, not compiled from an expression for every batch."""
    out: list[tuple[Any, ...]] = []
    fixed = tuple(equal)
    custom = conn.dialect.name == "postgresql" and bool(values)
    if custom:
        # A long IN list of parameters in a prepared statement: after a few executions
        # PostgreSQL may switch to a generic plan made while the table was small — a
        # sequential scan that compares every row with every value, slower with each batch
        # (measured: 240 ms a look-up at 25,000 rows). These look-ups are planned for the
        # values at hand; the rest of the transaction keeps the default.
        await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start:start + IN_CHUNK]
        if conn.dialect.name == "sqlite":
            # SQLite: the list padded to a power of two with its last value repeated (which
            # finds nothing more), so that a few statement texts, each compiled once and
            # kept by the sqlite3 module, serve every batch's look-ups, instead of one
            # compiled afresh for each length.
            chunk += chunk[-1:] * ((1 << (len(chunk) - 1).bit_length()) - len(chunk))
        sql = _rows_in_sql(conn.dialect.identifier_preparer.quote, conn.dialect.paramstyle,
                           table.name, columns, column, fixed, len(chunk))
        out.extend(tuple(row) for row in await _run(conn, sql, (*equal.values(), *chunk)))
    if custom:
        await conn.exec_driver_sql("SET LOCAL plan_cache_mode TO DEFAULT")
    return out


@functools.lru_cache(maxsize=128)
def _rows_in_sql(quote: Any, paramstyle: str, table: str, columns: tuple[str, ...],
                 column: str, fixed: tuple[str, ...], count: int) -> str:
    marks = _marks(paramstyle, len(fixed) + count).split(", ")
    where = [f"{quote(name)} = {mark}" for name, mark in zip(fixed, marks, strict=False)]
    where.append(f"{quote(column)} IN ({', '.join(marks[len(fixed):])})")
    return (f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} "
            f"WHERE {' AND '.join(where)}")


async def insert_returning(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]],
                           returning: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Insert ``rows`` with multi-row VALUES statements and return the ``returning`` columns
    of each new row (its generated id, say) — no second query to find them again."""
    if not rows:
        return []
    quote = conn.dialect.identifier_preparer.quote
    tail = f" RETURNING {', '.join(quote(n) for n in returning)}"
    names = list(rows[0])
    out: list[tuple[Any, ...]] = []
    for sql, flat in _multi_row(conn, table, names, _parameters(conn, table, names, rows),
                                tail):
        out.extend(tuple(r) for r in await _run(conn, sql, flat))
    return out


def dialect_insert(conn: AsyncConnection, table: sa.Table) -> Any:
    """An INSERT that knows ON CONFLICT, in the connection's dialect."""
    return (postgresql.insert(table) if conn.dialect.name == "postgresql"
            else sqlite.insert(table))


async def _upsert(conn: AsyncConnection, table: sa.Table, keys: tuple[str, ...],
                  rows: list[dict[str, Any]], summed: tuple[str, ...]) -> None:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` (both databases know the syntax) executed
    for every row, in order, values converted as Core would."""
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    names = list(rows[0])
    target = quote(table.name)
    updates = ", ".join(
        f"{quote(n)} = {target}.{quote(n)} + excluded.{quote(n)}" if n in summed
        else f"{quote(n)} = excluded.{quote(n)}" for n in names if n not in keys)
    tail = f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) " + \
        (f"DO UPDATE SET {updates}" if updates else "DO NOTHING")
    await _execute_many(conn, table, names, _parameters(conn, table, names, rows), tail)


async def add_to_rows(conn: AsyncConnection, table: sa.Table, keys: tuple[str, ...],
                      values: list[dict[str, Any]], summed: tuple[str, ...]) -> None:
    """Insert rows, or add their ``summed`` columns to the rows already there (an upsert;
    any other column takes the new value)."""
    await _upsert(conn, table, keys, values, summed)


async def replace_rows(conn: AsyncConnection, table: sa.Table, keys: tuple[str, ...],
                       rows: list[dict[str, Any]]) -> None:
    """Insert rows, or overwrite the rows already there with the same ``keys``."""
    await _upsert(conn, table, keys, rows, ())
