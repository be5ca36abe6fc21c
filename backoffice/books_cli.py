"""``backoffice books``: the books from the command line, against the central database —
``export`` (beancount or CSV, whole or a date range) and ``verify`` (recompute from the raw
events and print every difference; exit 1 if there is one)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from backoffice.cli import _run_db, _settings, err, out, server_config
from config import load_server_settings as _load_server


@click.group()
def books() -> None:
    """The books: export them, verify them."""


def _date(_ctx: Any, _param: Any, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"a date YYYY-MM-DD, got {value!r}") from None


@books.command("export")
@click.option("--format", "fmt", type=click.Choice(["beancount", "csv"]), default="beancount",
              show_default=True, help="beancount (a plain-text ledger bean-check accepts) or "
                                      "CSV journal lines.")
@click.option("--from", "start", callback=_date, help="First posting date (YYYY-MM-DD); "
                                                      "earlier balances are brought forward.")
@click.option("--to", "end", callback=_date, help="Last posting date (YYYY-MM-DD).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of to standard output.")
@server_config
def books_export(fmt: str, start: date | None, end: date | None, output: Path | None,
                 config_path: Path) -> None:
    """Export the books for an external accountant."""
    from server.accounting import export
    from server.storage import Storage

    settings = _settings(_load_server, config_path)
    if start and end and start > end:
        raise click.BadParameter(f"--from {start} is after --to {end}")

    async def run() -> int:
        storage = Storage(settings.database.url)
        target = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        written = 0
        try:
            async with storage.read() as conn:
                chunks = export.csv_lines(conn, start, end) if fmt == "csv" else \
                    export.beancount(conn, settings.chain.currency, start, end)
                async for chunk in chunks:
                    target.write(chunk)
                    written += len(chunk)
        finally:
            if output:
                target.close()
            await storage.dispose()
        return written

    written = _run_db(run)
    if output:
        err.print(f"wrote {output} ({written:,} characters, {fmt})")


@books.command("verify")
@click.option("--store", "store_id", help="Only this store.")
@server_config
def books_verify(store_id: str | None, config_path: Path) -> None:
    """Recompute the books from the raw store events and compare with what is posted, per
    store, business day, tax rate and tender; print every difference, exit 1 if any."""
    from server.accounting.chart import load_chart
    from server.accounting.verify import Verification, verify_books
    from server.storage import Storage

    settings = _settings(_load_server, config_path)
    chart = load_chart(settings.accounting.chart_file)

    async def run() -> Verification:
        storage = Storage(settings.database.url)
        try:
            async with storage.read() as conn:
                return await verify_books(conn, chart, store_id)
        finally:
            await storage.dispose()

    result: Verification = _run_db(run)
    if result.ok:
        out.print(f"books verified: {result.events:,} events, {result.entries:,} entries, "
                  "no difference")
        return
    table = Table(title=f"{len(result.differences)} differences between the events and the "
                        "books")
    for column in ("store", "business date", "figure", "what", "from events", "posted"):
        table.add_column(column)
    for d in result.differences:
        table.add_row(d["store_id"], d["business_date"] or "", d["figure"], d["what"],
                      "" if d["expected_minor"] is None else str(d["expected_minor"]),
                      "" if d["posted_minor"] is None else str(d["posted_minor"]))
    out.print(table)
    sys.exit(1)
