"""Posting store events into the journal, in the ingest's own transaction.

Each store's events are posted in seq order through a cursor (``posting_cursors``) that moves
in the same transaction as the entries, so an event is posted exactly once: never skipped,
never repeated (the entry key ``STORE:SEQ`` is unique as well). An event the rules cannot post
(a payload from a future agent, say) stops that store's cursor there, files a reconciliation
item and leaves the event for :func:`post_pending` — the ingest itself never fails for it.

Late events (whose business date falls in a closed month) post into the first open month,
flagged ``late``, with their business date kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.accounting.chart import Chart, load_chart
from server.accounting.costing import CostBook, Position
from server.accounting.rules import Books, Draft, Line, SaleCost, Transit, event_key, post_event
from server.storage import Storage
from server.storage.bulk import (
    add_to_rows,
    converter,
    dialect_insert,
    insert_statements,
    replace_rows,
    rows_in,
)
from server.storage.tables import (
    accounts,
    catalog_products,
    cost_positions,
    fiscal_periods,
    journal_entries,
    journal_lines,
    ledger_daily,
    posting_cursors,
    reconciliation_items,
    sale_costs,
    sales,
    store_events,
    transit_values,
)
from sync import StoreEvent

log = logging.getLogger(__name__)
_INT_KEYS = orjson.OPT_NON_STR_KEYS  # a sale cost's line numbers, stored as JSON keys
_UNPOSTABLE = (KeyError, TypeError, ValueError, ArithmeticError, AttributeError)


@dataclass(frozen=True, slots=True)
class Accounting:
    """What posting needs to know: the chart and the chain's currency."""

    chart: Chart
    currency: str = "USD"


_default: Accounting | None = None


def default_accounting() -> Accounting:
    global _default
    if _default is None:
        _default = Accounting(load_chart())
    return _default


async def sync_chart(conn: AsyncConnection, chart: Chart) -> int:
    """Add the chart's accounts that the database does not hold yet, and give each posting
    role to the account the chart file names for it (a renumbered chart moves its roles).
    Names and active flags of accounts already there are left as head office set them.
    Returns how many accounts were added."""
    held = {row.code for row in await conn.execute(sa.select(accounts.c.code))}
    now = datetime.now(UTC)
    new = [{"code": a.code, "name": a.name, "type": a.type, "role": None, "active": True,
            "created_at": now} for a in chart.accounts if a.code not in held]
    if new:
        await conn.execute(accounts.insert(), new)
    roles = {row.code: row.role for row in await conn.execute(
        sa.select(accounts.c.code, accounts.c.role).where(accounts.c.role.is_not(None)))}
    wanted = {code: role for role, code in chart.roles.items()}
    stale = [code for code, role in roles.items() if wanted.get(code) != role]
    if stale:
        await conn.execute(accounts.update().where(accounts.c.code.in_(stale))
                           .values(role=None))
    for code, role in wanted.items():
        if roles.get(code) != role:
            await conn.execute(accounts.update().where(accounts.c.code == code)
                               .values(role=role, active=True))
    return len(new)


CATCH_UP_LIMIT = 5000  # events behind the cursor an ingest will post on its own


async def post_store_events(conn: AsyncConnection, store_id: str, events: Sequence[StoreEvent],
                            accounting: Accounting) -> int:
    """Post ``events`` (just recorded, in seq order) — or, if the store's cursor is a little
    behind them, everything pending up to their end. A cursor far behind (a database that
    held events before it kept books) is left to :func:`post_pending`, which catches up in
    chunks rather than in one push's transaction. Returns how many events were posted."""
    cursor = await _cursor(conn, store_id)
    if cursor.stuck_seq is not None or not events:
        return 0
    if events[0].seq != cursor.posted_through + 1:
        if events[0].seq - cursor.posted_through > CATCH_UP_LIMIT:
            return 0
        events = await _pending(conn, store_id, cursor.posted_through, events[-1].seq)
    return await _post(conn, store_id, list(events), accounting)


async def mark_stuck(conn: AsyncConnection, store_id: str, seq: int, reason: str) -> None:
    """Stop the store's cursor at ``seq`` (posting it failed in the database)."""
    await _cursor(conn, store_id)
    await conn.execute(posting_cursors.update().where(posting_cursors.c.store_id == store_id)
                       .values(stuck_seq=seq, stuck_reason=reason[:500]))
    await file_stuck(conn, store_id, seq, reason)


async def file_stuck(conn: AsyncConnection, store_id: str, seq: int, reason: str) -> None:
    """A ``posting_stuck`` reconciliation item, unless one is already open for the event."""
    held = await conn.execute(sa.select(reconciliation_items.c.id).where(
        reconciliation_items.c.store_id == store_id, reconciliation_items.c.seq == seq,
        reconciliation_items.c.kind == "posting_stuck",
        reconciliation_items.c.status == "open").limit(1))
    if held.first() is None:
        await conn.execute(reconciliation_items.insert().values(
            store_id=store_id, seq=seq, kind="posting_stuck",
            detail={"problem": reason[:500], "fix": "correct the posting rule or the chart, "
                    "then post pending (POST /api/v1/books/post-pending)"},
            status="open", created_at=datetime.now(UTC)))


async def post_pending(storage: Storage, store_id: str, accounting: Accounting,
                       chunk: int = CATCH_UP_LIMIT) -> int:
    """Post whatever the store's cursor has not reached, retrying a stuck event once, in
    transactions of at most ``chunk`` events. Returns how many were posted."""
    total, retry = 0, True
    while True:
        async with storage.write() as conn:
            cursor = await _cursor(conn, store_id)
            if cursor.stuck_seq is not None:
                if not retry:
                    return total
                await conn.execute(posting_cursors.update()
                                   .where(posting_cursors.c.store_id == store_id)
                                   .values(stuck_seq=None, stuck_reason=None))
            retry = False
            events = await _pending(conn, store_id, cursor.posted_through,
                                    cursor.posted_through + chunk)
            if not events:
                return total
            posted = await _post(conn, store_id, events, accounting)
        total += posted
        if posted < len(events):  # it stopped at an event it cannot post
            return total


async def post_stores(storage: Storage, accounting: Accounting,
                      store_ids: Sequence[str]) -> tuple[dict[str, int], dict[str, str]]:
    """:func:`post_pending` for each store on its own, so one store's trouble never keeps
    the others' books behind: (events posted per store, why it failed per store)."""
    posted: dict[str, int] = {}
    failed: dict[str, str] = {}
    for store_id in store_ids:
        try:
            posted[store_id] = await post_pending(storage, store_id, accounting)
        except sa.exc.SQLAlchemyError as exc:
            log.error("posting store %s failed: %s", store_id, exc)
            failed[store_id] = repr(exc)[:300]
    return posted, failed


@dataclass(frozen=True, slots=True)
class _Cursor:
    posted_through: int
    stuck_seq: int | None


async def _cursor(conn: AsyncConnection, store_id: str) -> _Cursor:
    query = sa.select(posting_cursors).where(posting_cursors.c.store_id == store_id)
    row = (await conn.execute(query.with_for_update())).first()
    if row is None:
        await conn.execute(posting_cursors.insert().values(store_id=store_id, posted_through=0))
        return _Cursor(0, None)
    return _Cursor(int(row.posted_through), row.stuck_seq)


async def _pending(conn: AsyncConnection, store_id: str, after: int,
                   through: int | None) -> list[StoreEvent]:
    query = sa.select(store_events).where(store_events.c.store_id == store_id,
                                          store_events.c.seq > after)
    if through is not None:
        query = query.where(store_events.c.seq <= through)
    rows = await conn.execute(query.order_by(store_events.c.seq))
    return [StoreEvent(store_id=r.store_id, seq=int(r.seq), event_id=r.event_id, kind=r.kind,
                       recorded_at=r.recorded_at, business_date=r.business_date.isoformat(),
                       payload=r.payload, hash=r.hash) for r in rows]


async def _post(conn: AsyncConnection, store_id: str, events: list[StoreEvent],
                accounting: Accounting) -> int:
    plan = await _plan(conn, store_id, events, accounting)
    plan.draft(plan.events)
    return await write_planned(conn, plan)


@dataclass(slots=True)
class PostingPlan:
    """A batch being posted: the books it touches (loaded, then moved on by its drafts) and
    the rows its entries become."""

    store_id: str
    events: list[StoreEvent]
    books: Books
    accounting: Accounting
    rows: EntryRows
    stuck: tuple[int, str] | None = None  # the first event the rules could not post, why
    book_rows: BookRows | None = None  # made once every event is drafted

    def draft(self, events: Sequence[StoreEvent]) -> bool:
        """Draft ``events`` (the plan's next ones) into the rows; False once one of them
        could not be posted (the plan is then stuck there)."""
        drafts, self.stuck = _drafts(events, self.books)
        self.rows.add(drafts)
        return self.stuck is None


async def _plan(conn: AsyncConnection, store_id: str, events: Sequence[StoreEvent],
                accounting: Accounting) -> PostingPlan:
    closed = await closed_for_writing(conn)
    return PostingPlan(store_id, list(events),
                       await load_books(conn, store_id, events, accounting), accounting,
                       EntryRows(conn, closed))


async def plan_posting(conn: AsyncConnection, store_id: str, events: Sequence[StoreEvent],
                       accounting: Accounting) -> PostingPlan | None:
    """What posting ``events`` — the store's next events, about to be recorded — needs from
    the database, read before they are recorded, so that their entries can be drafted
    (:func:`draft_in_slices`) while the database records them, and written after
    (:func:`write_planned`). None when the store's cursor is not right behind them (stuck,
    or catching up, which reads recorded events): :func:`post_store_events` after recording
    then."""
    cursor = await _cursor(conn, store_id)
    if cursor.stuck_seq is not None or not events or \
            events[0].seq != cursor.posted_through + 1:
        return None
    return await _plan(conn, store_id, events, accounting)


DRAFT_SLICE = 25  # events drafted between two turns of the event loop


async def draft_in_slices(plan: PostingPlan) -> None:
    """Draft the plan's events a slice at a time, handing the event loop back between
    slices: pure Python that runs while the database thread executes what another task sent
    it (the batch's recording)."""
    events = plan.events
    for start in range(0, len(events), DRAFT_SLICE):
        if not plan.draft(events[start:start + DRAFT_SLICE]):
            return
        await asyncio.sleep(0)
    plan.book_rows = book_rows(plan.books)


async def write_planned(conn: AsyncConnection, plan: PostingPlan,
                        projected_sales: Collection[int] | None = None) -> int:
    """Store the plan's entries (as far as the first event the rules could not post) and its
    books, and move the store's cursor; how many events were posted. ``projected_sales``:
    the seqs of the plan's sales the recording projected, if it said (else looked up)."""
    store_id, events, books, rows, stuck = (plan.store_id, plan.events, plan.books, plan.rows,
                                            plan.stuck)
    if stuck is not None:
        log.warning("store %s seq %s: %s", store_id, stuck[0], stuck[1])
        # The failed event may have moved cost positions part-way: redo the batch up to it
        # from freshly loaded books.
        events = [e for e in events if e.seq < stuck[0]]
        books = await load_books(conn, store_id, events, plan.accounting)
        rows = EntryRows(conn, rows.closed)
        rows.add(_drafts(events, books)[0])
    await rows.store(conn)
    await save_books(conn, books, plan.book_rows if stuck is None else None, projected_sales)
    values: dict[str, Any] = {}
    if events:
        values["posted_through"] = events[-1].seq
    if stuck is not None:
        values.update(stuck_seq=stuck[0], stuck_reason=stuck[1])
        await file_stuck(conn, store_id, stuck[0], stuck[1])
    if values:
        await conn.execute(posting_cursors.update()
                           .where(posting_cursors.c.store_id == store_id).values(**values))
    return len(events)


def _drafts(events: Sequence[StoreEvent],
            books: Books) -> tuple[list[Draft], tuple[int, str] | None]:
    """The batch's entries, up to the first event the rules cannot post (and why)."""
    drafts: list[Draft] = []
    for event in events:
        try:
            draft = post_event(event, books)
        except _UNPOSTABLE as exc:
            return drafts, (event.seq, f"{event.kind} could not be posted: {exc!r}"[:500])
        if draft is not None:
            drafts.append(draft)
    return drafts, None


# --- the books a batch touches -----------------------------------------------------------

def _skus(events: Iterable[StoreEvent]) -> set[str]:
    out: set[str] = set()
    for event in events:
        payload = event.payload
        if "sku" in payload:
            out.add(str(payload["sku"]))
        lines = payload.get("lines")
        if isinstance(lines, list):
            out.update([str(line["sku"]) for line in lines
                        if isinstance(line, dict) and "sku" in line])
    return out


async def load_books(conn: AsyncConnection, store_id: str, events: Sequence[StoreEvent],
                     accounting: Accounting) -> Books:
    skus = sorted(_skus(events))
    positions: dict[tuple[str, str], Position] = {}
    standard: dict[str, int | None] = {}
    for sku, qty, value, unit in await rows_in(
            conn, cost_positions, ("sku", "qty_milli", "value_minor", "unit_cost_minor"),
            "sku", skus, store_id=store_id):
        positions[(store_id, sku)] = Position(int(qty), int(value),
                                              None if unit is None else int(unit))
    # Standard costs: for goods received without a cost, and for products this store never
    # had a cost for (the common case, a product with a position, needs none).
    receipts = {str(line.get("sku")) for e in events if e.kind == "stock.received"
                for line in e.payload.get("lines", ()) if isinstance(line, dict)
                and line.get("unit_cost") is None}
    wanted = sorted(receipts | {sku for sku in skus if (store_id, sku) not in positions
                                or (positions[(store_id, sku)].qty_milli <= 0
                                    and positions[(store_id, sku)].unit_cost_minor is None)})
    standard.update(await rows_in(conn, catalog_products, ("sku", "cost_minor"), "sku",
                                  wanted))
    books = Books(chart=accounting.chart, currency=accounting.currency,
                  costs=CostBook(positions=positions, standard_costs=standard))
    # Sales the batch refers to (voids, returns) and the batch's own sale ids (a sale id
    # posted before is a duplicate).
    referenced = sorted({str(e.payload.get("original_sale_id")
                             if e.kind == "return.completed" else e.payload.get("sale_id"))
                         for e in events if e.kind in ("sale.voided", "return.completed",
                                                       "sale.completed")
                         and (e.payload.get("sale_id") or e.payload.get("original_sale_id"))})
    for sale_id, seq, lines in await _sale_costs(conn, store_id, referenced):
        if isinstance(lines, str | bytes):  # the JSON column's text, as the driver gives it
            lines = orjson.loads(lines)
        books.sales[(store_id, sale_id)] = SaleCost(int(seq),
                                                    {int(k): v for k, v in lines.items()})
    voided_keys = sorted({event_key(store_id,
                                    books.sales[(store_id, str(e.payload["sale_id"]))].seq)
                          for e in events if e.kind == "sale.voided"
                          and (store_id, str(e.payload.get("sale_id"))) in books.sales})
    if voided_keys:
        held: dict[str, list[tuple[int, Line]]] = defaultdict(list)
        for key, number, account, amount, sub in await rows_in(
                conn, journal_lines, ("entry_key", "line_no", "account_code", "amount_minor",
                                      "sub"), "entry_key", voided_keys):
            held[key].append((int(number), Line(account, int(amount), sub)))
        books.entries.update({k: tuple(line for _, line in sorted(v))
                              for k, v in held.items()})
    transfer_ids = sorted({str(e.payload["transfer_id"]) for e in events
                           if e.kind.startswith("transfer.") and e.payload.get("transfer_id")})
    if transfer_ids:
        # Both ends of a transfer may be pushed at once by two stores: make the rows exist,
        # then lock them (in id order), so neither push overwrites the other's side.
        await conn.execute(dialect_insert(conn, transit_values).on_conflict_do_nothing(), [
            {"transfer_id": t, "written_off_minor": 0} for t in transfer_ids])
        for row in await conn.execute(sa.select(transit_values).where(
                transit_values.c.transfer_id.in_(transfer_ids))
                .order_by(transit_values.c.transfer_id).with_for_update()):
            books.transits[row.transfer_id] = Transit(row.shipped, row.received,
                                                      int(row.written_off_minor))
    return books


async def _sale_costs(conn: AsyncConnection, store_id: str,
                      sale_ids: list[str]) -> list[tuple[str, int, Any]]:
    """(sale id, seq, lines) of the store's posted sales with these ids. Most are found
    through the sales projection's unique id and then by their event; a sale it cannot hold
    (an id another store used first, an id repeated here) by the id its cost row keeps. The
    look-ups by id leave the store to this code: a condition on the store would let SQLite
    choose an index by store and read every sale of the store instead of probing each id."""
    if not sale_ids:
        return []
    ids_by_seq = {seq: sale_id for sale_id, (store, seq) in
                  (await _projected_sales(conn, sale_ids)).items() if store == store_id}
    found = [(ids_by_seq[int(seq)], int(seq), lines) for seq, lines in await rows_in(
        conn, sale_costs, ("seq", "lines"), "seq", sorted(ids_by_seq), store_id=store_id)]
    found += [(sale_id, int(seq), lines) for store, sale_id, seq, lines in await rows_in(
        conn, sale_costs, ("store_id", "lookup_id", "seq", "lines"), "lookup_id", sale_ids)
        if store == store_id]
    return found


async def _projected_sales(conn: AsyncConnection,
                           sale_ids: list[str]) -> dict[str, tuple[str, int]]:
    """Sale id -> (store, seq) of the sale the sales projection holds under each of these
    ids (an id is held once, chain-wide), probed through its unique index on the id."""
    return {sale_id: (store, int(seq)) for sale_id, store, seq in await rows_in(
        conn, sales, ("sale_id", "store_id", "seq"), "sale_id", sale_ids)}


async def _with_lookup_ids(conn: AsyncConnection, new_sale_costs: list[tuple[str, str, int, str]],
                           projected_sales: Collection[int] | None) -> list[tuple[Any, ...]]:
    """The new sale cost rows as stored: each with its sale id as ``lookup_id`` unless the
    sales projection holds that id for that very event — as the recording said
    (``projected_sales``, the seqs of the batch's sales it projected) or, when posting
    follows an earlier recording, as the projection shows."""
    if projected_sales is None:
        projected = set((await _projected_sales(conn, sorted(
            {sale_id for _, sale_id, _, _ in new_sale_costs}))).values())
    else:
        projected = {(store, seq) for store, _, seq, _ in new_sale_costs
                     if seq in projected_sales}
    return [(store, seq, sale_id, None if (store, seq) in projected else sale_id, lines)
            for store, sale_id, seq, lines in new_sale_costs]


@dataclass(frozen=True, slots=True)
class BookRows:
    """The rows saving a batch's books writes in bulk, made from the books with no I/O."""

    positions: list[dict[str, Any]]  # cost positions the batch touched
    new_sale_costs: list[tuple[str, str, int, str]]  # store, sale id, seq, lines as JSON


def book_rows(books: Books) -> BookRows:
    touched = books.costs.touched
    return BookRows(
        [{"store_id": store, "sku": sku, "qty_milli": p.qty_milli,
          "value_minor": p.value_minor, "unit_cost_minor": p.unit_cost_minor}
         for (store, sku), p in books.costs.positions.items() if (store, sku) in touched],
        # The documents as JSON text: what a JSON column holds on SQLite, what COPY takes on
        # PostgreSQL.
        [(store, sale_id, cost.seq, orjson.dumps(cost.lines, option=_INT_KEYS).decode())
         for store, sale_id in books.new_sales for cost in (books.sales[(store, sale_id)],)])


async def save_books(conn: AsyncConnection, books: Books, rows: BookRows | None = None,
                     projected_sales: Collection[int] | None = None) -> None:
    """Write the books back: cost positions, sale costs, transfers' values, notes. ``rows``:
    :func:`book_rows` of these books, made beforehand; ``projected_sales``: as for
    :func:`write_planned`."""
    rows = rows or book_rows(books)
    await replace_rows(conn, cost_positions, ("store_id", "sku"), rows.positions)
    changed = sorted(books.changed_sales - set(books.new_sales))
    if changed:
        await conn.execute(
            sale_costs.update().where(sale_costs.c.store_id == sa.bindparam("b_store"),
                                      sale_costs.c.seq == sa.bindparam("b_seq"))
            .values(lines=sa.bindparam("b_lines")),
            [{"b_store": store, "b_seq": books.sales[(store, sale_id)].seq,
              "b_lines": {str(k): v for k, v in books.sales[(store, sale_id)].lines.items()}}
             for store, sale_id in changed])
    if rows.new_sale_costs:
        await insert_statements(conn, sale_costs,
                                ["store_id", "seq", "sale_id", "lookup_id", "lines"],
                                await _with_lookup_ids(conn, rows.new_sale_costs,
                                                       projected_sales), converted=True)
    await replace_rows(conn, transit_values, ("transfer_id",), [
        {"transfer_id": t, "shipped": books.transits[t].shipped,
         "received": books.transits[t].received,
         "written_off_minor": books.transits[t].written_off}
        for t in sorted(books.touched_transits)])
    await _file_notes(conn, books)


async def _file_notes(conn: AsyncConnection, books: Books) -> None:
    """File the batch's notes as reconciliation items: one open item per store, kind and SKU
    (the first event that showed it), not one per sale."""
    if not books.notes:
        return
    first: dict[tuple[str, str, str], Any] = {}
    for note in books.notes:
        first.setdefault((note.store_id, note.kind, str(note.detail.get("sku", note.seq))),
                         note)
    open_items = await conn.execute(
        sa.select(reconciliation_items.c.store_id, reconciliation_items.c.kind,
                  reconciliation_items.c.detail)
        .where(reconciliation_items.c.status == "open",
               reconciliation_items.c.kind.in_(sorted({k for _, k, _ in first})),
               reconciliation_items.c.store_id.in_(sorted({s for s, _, _ in first}))))
    for row in open_items:
        first.pop((row.store_id, row.kind, str((row.detail or {}).get("sku"))), None)
    if first:
        now = datetime.now(UTC)
        await conn.execute(reconciliation_items.insert(), [
            {"store_id": n.store_id, "seq": n.seq, "kind": n.kind, "detail": n.detail,
             "status": "open", "created_at": now} for n in first.values()])


# --- writing entries ---------------------------------------------------------------------

PERIODS_LOCK = 0x626F6F6B  # "book": PostgreSQL advisory lock between posting and closing


async def lock_periods(conn: AsyncConnection, exclusive: bool) -> None:
    """On PostgreSQL, hold the periods lock until the transaction ends: shared while
    entries are written (many at once), exclusive while a month or year closes — so a close
    cannot slip between reading the closed months and writing an entry into one."""
    if conn.dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        await conn.execute(sa.text(f"SELECT {function}(:key)"), {"key": PERIODS_LOCK})


async def closed_periods(conn: AsyncConnection) -> set[str]:
    return {row.period for row in await conn.execute(
        sa.select(fiscal_periods.c.period).where(fiscal_periods.c.status == "closed"))}


def posting_date(business_date: date, closed: set[str]) -> date:
    """The business date, or the first day of the first open month after it."""
    day, month = business_date, business_date.strftime("%Y-%m")
    while month in closed:
        year, number = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        day = date(year, number, 1)
        month = day.strftime("%Y-%m")
    return day


LINE_COLUMNS = ["entry_key", "line_no", "account_code", "store_id", "sub", "amount_minor",
                "currency", "business_date", "posted_date"]
HEADER_COLUMNS = ["entry_key", "store_id", "source", "seq", "business_date", "posted_date",
                  "currency", "memo", "line_count", "late", "reverses_key", "created_by",
                  "created_at"]


class EntryRows:
    """The rows a batch of drafts becomes — journal lines, headers (each with its posting
    date: the business date, or the first day of the first open month after it) and the
    daily running sums — built draft by draft, with no I/O, then stored at once."""

    def __init__(self, conn: AsyncConnection, closed: set[str], created_by: str | None = None,
                 reverses: dict[str, str] | None = None) -> None:
        self.closed, self._created_by, self._reverses = closed, created_by, reverses or {}
        self._as_date = converter(conn, journal_lines.c.business_date)
        self._now = converter(conn, journal_entries.c.created_at)(datetime.now(UTC))
        self._dates: dict[date, tuple[date, Any, Any]] = {}  # day -> posted, both as stored
        self.lines: list[tuple[Any, ...]] = []
        self.headers: list[tuple[Any, ...]] = []
        self.posted: list[date] = []
        self.daily: dict[tuple[str, str, str, str, date], list[int]] = defaultdict(
            lambda: [0, 0])

    def add(self, drafts: Iterable[Draft]) -> None:
        lines, headers, posted, daily = self.lines, self.headers, self.posted, self.daily
        for draft in drafts:
            day = draft.business_date
            known = self._dates.get(day)
            if known is None:
                when = posting_date(day, self.closed)
                known = self._dates[day] = (when, self._as_date(day), self._as_date(when))
            when, day_db, when_db = known
            posted.append(when)
            store, currency, key = draft.store_id or "", draft.currency, draft.key
            for number, (account, amount, sub) in enumerate(draft.lines, start=1):
                lines.append((key, number, account, store, sub, amount, currency, day_db,
                              when_db))
                daily[(account, store, sub, currency, when)][0 if amount > 0 else 1] += \
                    abs(amount)
            headers.append((key, draft.store_id, draft.source, draft.seq, day_db, when_db,
                            currency, draft.memo[:500], len(draft.lines), when != day,
                            self._reverses.get(key), self._created_by, self._now))

    async def store(self, conn: AsyncConnection) -> None:
        """Lines, then headers (the database checks each entry balances), then the sums.
        One COPY (PostgreSQL) or a few multi-row statements (SQLite) per table: the balance
        check is a statement-level trigger on PostgreSQL, so it runs once per batch."""
        if not self.headers:
            return
        await insert_statements(conn, journal_lines, LINE_COLUMNS, self.lines, converted=True)
        await insert_statements(conn, journal_entries, HEADER_COLUMNS, self.headers,
                                converted=True)
        await add_to_rows(conn, ledger_daily,
                          ("account_code", "store_id", "sub", "currency", "posted_date"),
                          [{"account_code": a, "store_id": s, "sub": sub, "currency": c,
                            "posted_date": d, "debit_minor": v[0], "credit_minor": v[1]}
                           for (a, s, sub, c, d), v in self.daily.items()],
                          ("debit_minor", "credit_minor"))


async def closed_for_writing(conn: AsyncConnection) -> set[str]:
    """The closed months, read under the shared periods lock (held to the transaction's
    end), for writing entries."""
    await lock_periods(conn, exclusive=False)
    return await closed_periods(conn)


async def write_entries(conn: AsyncConnection, drafts: Sequence[Draft],
                        created_by: str | None = None,
                        reverses: dict[str, str] | None = None,
                        closed: set[str] | None = None) -> list[date]:
    """Store ``drafts``: their lines, then their headers (the database checks each balances),
    then the daily running sums. Returns each entry's posting date (``closed`` overrides the
    closed months, for closing entries)."""
    if not drafts:
        return []
    if closed is None:
        closed = await closed_for_writing(conn)
    rows = EntryRows(conn, closed, created_by, reverses)
    rows.add(drafts)
    await rows.store(conn)
    return rows.posted
