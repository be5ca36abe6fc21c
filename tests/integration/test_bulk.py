"""The bulk writers and the IN look-up that ingest and posting use, on SQLite and PostgreSQL:
rows stored exactly as Core would store them (dates, times, JSON), upserts applied row after
row in order (duplicates in one call add up, or the last one wins), batches larger than one
statement, and look-ups with more values than one IN list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from server.storage import Storage
from server.storage.bulk import (
    IN_CHUNK,
    SQLITE_ROWS,
    add_to_rows,
    converter,
    insert_rows,
    insert_statements,
    replace_rows,
    rows_in,
)

metadata = sa.MetaData()
probe = sa.Table(
    "bulk_probe", metadata,
    sa.Column("store_id", sa.String(8), primary_key=True),
    sa.Column("sku", sa.String(16), primary_key=True),
    sa.Column("qty", sa.BigInteger, nullable=False),
    sa.Column("day", sa.Date),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("doc", sa.JSON),
)
DAY = date(2026, 11, 20)
AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
async def storage(central_url: str) -> AsyncIterator[Storage]:
    """The central database with the probe table."""
    held = Storage(central_url)
    try:
        async with held.write() as conn:
            await conn.run_sync(metadata.create_all)
        yield held
    finally:
        await held.dispose()


async def _all(storage: Storage) -> dict[tuple[str, str], Any]:
    async with storage.read() as conn:
        result = await conn.execute(sa.select(probe))
        return {(row.store_id, row.sku): row for row in result}


async def test_inserts_store_what_core_would_and_span_statements(storage: Storage) -> None:
    count = SQLITE_ROWS * 2 + 7  # two full multi-row statements, the rest in shorter ones
    async with storage.write() as conn:
        await insert_rows(conn, probe, [
            {"store_id": "S1", "sku": f"A{n:05d}", "qty": n, "day": DAY, "at": AT,
             "doc": {"n": n, "tags": ["x"]}} for n in range(count)])
        as_date = converter(conn, probe.c.day)
        await insert_statements(conn, probe, ["store_id", "sku", "qty", "day"], [
            ("S2", f"B{n:05d}", -n, as_date(DAY)) for n in range(count)], converted=True)
        await insert_statements(conn, probe, ["store_id", "sku", "qty", "day", "at"], [
            ("S3", "C", 5, DAY, AT)])
    rows = await _all(storage)
    assert len(rows) == 2 * count + 1
    first = rows[("S1", "A00003")]
    assert (first.qty, first.day, first.doc) == (3, DAY, {"n": 3, "tags": ["x"]})
    assert first.at.replace(tzinfo=UTC) == AT
    assert rows[("S2", f"B{count - 1:05d}")].day == DAY
    assert rows[("S3", "C")].qty == 5 and rows[("S3", "C")].day == DAY


async def test_upserts_apply_row_after_row(storage: Storage) -> None:
    async with storage.write() as conn:
        await insert_rows(conn, probe, [{"store_id": "S1", "sku": "A", "qty": 10}])
        await add_to_rows(conn, probe, ("store_id", "sku"), [
            {"store_id": "S1", "sku": "A", "qty": 5},   # onto the row already there
            {"store_id": "S1", "sku": "B", "qty": 2},   # new
            {"store_id": "S1", "sku": "B", "qty": 3},   # the same key again in one call
        ], ("qty",))
        await replace_rows(conn, probe, ("store_id", "sku"), [
            {"store_id": "S1", "sku": "C", "qty": 1, "doc": {"v": 1}},
            {"store_id": "S1", "sku": "C", "qty": 9, "doc": {"v": 2}},  # the last wins
        ])
    rows = await _all(storage)
    assert rows[("S1", "A")].qty == 15
    assert rows[("S1", "B")].qty == 5
    assert (rows[("S1", "C")].qty, rows[("S1", "C")].doc) == (9, {"v": 2})


async def test_a_look_up_with_more_values_than_one_in_list(storage: Storage) -> None:
    async with storage.write() as conn:
        await insert_rows(conn, probe, [
            {"store_id": store, "sku": f"A{n:05d}", "qty": n}
            for store in ("S1", "S2") for n in range(IN_CHUNK + 50)])
    wanted = [f"A{n:05d}" for n in range(0, IN_CHUNK + 50, 2)] + ["missing"]
    async with storage.read() as conn:
        found = await rows_in(conn, probe, ("sku", "qty"), "sku", wanted, store_id="S2")
        none = await rows_in(conn, probe, ("sku",), "sku", [], store_id="S2")
    assert sorted(found) == [(f"A{n:05d}", n) for n in range(0, IN_CHUNK + 50, 2)]
    assert none == []


@pytest.mark.parametrize("count", [1, 3, 5, IN_CHUNK - 1, IN_CHUNK + 1])
async def test_a_look_up_finds_each_row_once_whatever_the_list_length(
        storage: Storage, count: int) -> None:
    """On SQLite the IN list is padded to a power of two with its last value repeated (so
    that few statement texts serve every batch): the rows found are still each row once."""
    async with storage.write() as conn:
        await insert_rows(conn, probe, [{"store_id": "S1", "sku": f"B{n:05d}", "qty": n}
                                        for n in range(IN_CHUNK + 1)])
    wanted = [f"B{n:05d}" for n in range(count)]  # the last one exists: it is the padding
    async with storage.read() as conn:
        found = await rows_in(conn, probe, ("sku", "qty"), "sku", wanted, store_id="S1")
    assert sorted(found) == [(f"B{n:05d}", n) for n in range(count)]


async def test_a_refused_bulk_insert_raises_as_sqlalchemy_does_and_changes_nothing(
        storage: Storage) -> None:
    """On SQLite the bulk writers run on the driver's connection directly (one hop to its
    thread): a constraint the database enforces still surfaces as SQLAlchemy's
    IntegrityError, the transaction rolls back whole, and the connection serves the next."""
    rows = [{"store_id": "S9", "sku": f"C{n}", "qty": n} for n in range(3)]
    with pytest.raises(sa.exc.IntegrityError):
        async with storage.write() as conn:
            await insert_rows(conn, probe, rows[:1])
            await insert_rows(conn, probe, rows)  # C0 again: the primary key refuses it
    async with storage.write() as conn:
        assert await rows_in(conn, probe, ("sku",), "sku", ["C0", "C1", "C2"],
                             store_id="S9") == []
        await insert_rows(conn, probe, rows)
    async with storage.read() as conn:
        found = await rows_in(conn, probe, ("sku", "qty"), "sku", ["C0", "C1", "C2"],
                              store_id="S9")
    assert sorted(found) == [("C0", 0), ("C1", 1), ("C2", 2)]
