"""The ``backoffice`` command: server, agent and demo subcommands.

Every command loads its settings first; a bad config prints one line naming the file, the key
and the problem, and exits with status 2 before anything else happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.table import Table

from config import AgentSettings, ConfigError, ServerSettings
from config import load_agent_settings as _load_agent
from config import load_server_settings as _load_server

T = TypeVar("T")
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

EXIT_CONFIG = 2
EXIT_UNREACHABLE = 3
EXIT_REFUSED = 4
EXIT_REJECTED = 5


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    sys.exit(code)


def _settings(loader: Callable[[Path], T], path: Path) -> T:
    try:
        return loader(path)
    except ConfigError as exc:
        fail(f"bad configuration: {exc}", EXIT_CONFIG)


def _logging(level: str, fmt: str = "text") -> None:
    from backoffice.logs import configure

    configure(level, fmt)


server_config = click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default="server.toml",
    envvar="BACKOFFICE_SERVER_CONFIG", show_default=True, show_envvar=True,
    help="The server's TOML settings file (see config/examples/server.toml).")
agent_config = click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default="store.toml",
    envvar="BACKOFFICE_AGENT_CONFIG", show_default=True, show_envvar=True,
    help="The store agent's TOML settings file (see config/examples/store.toml).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """retail-backoffice: store agents that keep selling offline, and the head-office server
    they sync to."""


@cli.group()
def server() -> None:
    """The central head-office server."""


@server.command("init")
@server_config
def server_init(config_path: Path) -> None:
    """Create or migrate the central database; print the first admin API token once."""
    from server.admin import init_database
    from server.storage import Storage

    settings = _settings(_load_server, config_path)

    async def run() -> Any:
        storage = Storage(settings.database.url)
        try:
            return await init_database(storage)
        finally:
            await storage.dispose()

    result = _run_db(run)
    if result.revision_before == result.revision_after:
        out.print(f"database already at schema revision {result.revision_after}")
    else:
        out.print(f"database migrated from {result.revision_before or 'empty'} to "
                  f"{result.revision_after}")
    if result.admin_token:
        out.print("admin API token (shown once, keep it safe):")
        out.print(result.admin_token, soft_wrap=True)


@server.command("run")
@server_config
def server_run(config_path: Path) -> None:
    """Serve the sync endpoints and the head-office API until stopped (SIGINT/SIGTERM)."""
    from backoffice.serve import serve
    from backoffice.tls import server_ssl_context
    from server import create_app

    settings: ServerSettings = _settings(_load_server, config_path)
    tls = _settings(lambda path: server_ssl_context(settings.http, str(path)), config_path)
    _logging(settings.logging.level, settings.logging.format)
    _run_db(lambda: serve(create_app(settings), settings.http.host, settings.http.port,
                          "backoffice server", tls, settings.http.shutdown_timeout_seconds))


@server.command("enroll-store")
@click.argument("store_id")
@click.option("--name", required=True, help="The store's display name.")
@click.option("--timezone", "timezone", required=True,
              help="IANA time zone of the store, e.g. Europe/Berlin.")
@server_config
def server_enroll_store(store_id: str, name: str, timezone: str, config_path: Path) -> None:
    """Enroll STORE_ID and print its sync token once (put it in the store's config)."""
    from config import checks
    from server.admin import enroll_store
    from server.errors import StoreAlreadyEnrolled
    from server.storage import Storage

    settings = _settings(_load_server, config_path)
    for problem in (checks.store_id(store_id), checks.timezone(timezone)):
        if problem:
            fail(problem)

    async def run() -> str:
        storage = Storage(settings.database.url)
        try:
            return await enroll_store(storage, store_id, name, timezone)
        finally:
            await storage.dispose()

    try:
        token = _run_db(run)
    except StoreAlreadyEnrolled as exc:
        fail(str(exc))
    out.print(f"store {store_id} enrolled. Sync token (shown once; set head_office.sync_token "
              "in the store's config):")
    out.print(token, soft_wrap=True)


@server.command("rotate-store-token")
@click.argument("store_id")
@server_config
def server_rotate_store_token(store_id: str, config_path: Path) -> None:
    """Issue STORE_ID a new sync token (printed once); the old token stops working at once.
    Also re-enables a revoked store."""
    from server.admin import rotate_store_token

    settings = _settings(_load_server, config_path)
    token = _store_admin(settings.database.url, lambda storage: rotate_store_token(storage,
                                                                                   store_id))
    out.print(f"store {store_id}: new sync token (shown once; the old one no longer works):")
    out.print(token, soft_wrap=True)


@server.command("revoke-store-token")
@click.argument("store_id")
@server_config
def server_revoke_store_token(store_id: str, config_path: Path) -> None:
    """Refuse STORE_ID's sync token from now on; its events wait in its ledger until the
    store gets a new token (rotate-store-token)."""
    from server.admin import revoke_store_token

    settings = _settings(_load_server, config_path)
    _store_admin(settings.database.url, lambda storage: revoke_store_token(storage, store_id))
    out.print(f"store {store_id}: sync token revoked")


@server.command("create-api-token")
@click.option("--name", required=True, help="Who or what holds the token, e.g. 'Jane (finance)'.")
@click.option("--role", required=True,
              type=click.Choice(["admin", "manager", "accountant", "payroll", "auditor"]),
              help="What the token may do (docs/head-office-api.md lists each role's rights).")
@server_config
def server_create_api_token(name: str, role: str, config_path: Path) -> None:
    """Issue a head-office API token and print it once (head office keeps only a digest)."""
    from server.admin import create_api_token

    settings = _settings(_load_server, config_path)
    issued = _store_admin(settings.database.url,
                          lambda storage: create_api_token(storage, name, role))
    out.print(f"API token {issued.token_id} for {name} ({role}), shown once:")
    out.print(issued.token, soft_wrap=True)


@server.command("revoke-api-token")
@click.argument("token_id", type=int)
@server_config
def server_revoke_api_token(token_id: int, config_path: Path) -> None:
    """Refuse API token TOKEN_ID from now on (the last admin token cannot be revoked)."""
    from server.admin import revoke_api_token

    settings = _settings(_load_server, config_path)
    _store_admin(settings.database.url, lambda storage: revoke_api_token(storage, token_id))
    out.print(f"API token {token_id} revoked")


def _store_admin(url: str, work: Callable[[Any], Any]) -> Any:
    from server.errors import LastAdminToken, UnknownApiToken, UnknownStore
    from server.storage import Storage

    async def run() -> Any:
        storage = Storage(url)
        try:
            return await work(storage)
        finally:
            await storage.dispose()

    try:
        return _run_db(run)
    except (UnknownStore, UnknownApiToken, LastAdminToken) as exc:
        fail(str(exc))


@cli.group()
def agent() -> None:
    """The store agent beside the POS terminals."""


@agent.command("init")
@agent_config
def agent_init(config_path: Path) -> None:
    """Create (or migrate) the store's ledger; the agent can sell from then on."""
    from store_agent.errors import LedgerError
    from store_agent.ledger import create_ledger

    settings: AgentSettings = _settings(_load_agent, config_path)
    try:
        created = create_ledger(settings.ledger.path, settings.store.id,
                                datetime.now(UTC).isoformat())
    except LedgerError as exc:
        fail(str(exc))
    verb = "created" if created else "already exists; schema brought up to date"
    out.print(f"ledger for store {settings.store.id} at {settings.ledger.path} {verb}")


@agent.command("import-catalog")
@click.argument("csv_file", type=click.Path(path_type=Path))
@agent_config
def agent_import_catalog(csv_file: Path, config_path: Path) -> None:
    """Load products and barcodes from CSV_FILE (sku,name,price,tax_rate,barcodes) so a store
    that has not synced yet can sell. All rows or none."""
    from store_agent.catalog import import_catalog_csv
    from store_agent.errors import AgentError
    from sync.money import exponent_of

    settings: AgentSettings = _settings(_load_agent, config_path)
    with _ledger_db(settings) as db:
        try:
            count = import_catalog_csv(db, csv_file, exponent_of(settings.store.currency))
        except AgentError as exc:
            fail(str(exc))
    out.print(f"imported {count} products into store {settings.store.id}'s catalog")


@agent.command("import-employees")
@click.argument("csv_file", type=click.Path(path_type=Path))
@agent_config
def agent_import_employees(csv_file: Path, config_path: Path) -> None:
    """Load employees from CSV_FILE (employee_id,name,role,pin; role cashier or manager) for a
    store that has not synced yet. PINs are stored hashed. All rows or none."""
    from store_agent.employees import import_employees_csv
    from store_agent.errors import AgentError

    settings: AgentSettings = _settings(_load_agent, config_path)
    with _ledger_db(settings) as db:
        try:
            count = import_employees_csv(db, csv_file)
        except AgentError as exc:
            fail(str(exc))
    out.print(f"imported {count} employees into store {settings.store.id}")


@agent.command("run")
@agent_config
def agent_run(config_path: Path) -> None:
    """Serve the POS terminal API until stopped (SIGINT/SIGTERM)."""
    from backoffice.serve import serve
    from backoffice.tls import client_ssl_context, server_ssl_context
    from store_agent.app import create_app
    from store_agent.errors import LedgerError

    settings: AgentSettings = _settings(_load_agent, config_path)
    tls = _settings(lambda path: server_ssl_context(settings.http, str(path)), config_path)
    _settings(lambda path: client_ssl_context(settings.head_office.ca_file), config_path)
    _logging(settings.logging.level, settings.logging.format)
    try:
        asyncio.run(serve(create_app(settings), settings.http.host, settings.http.port,
                          f"store agent {settings.store.id}", tls,
                          settings.http.shutdown_timeout_seconds))
    except LedgerError as exc:
        fail(str(exc))


@agent.command("sync")
@agent_config
def agent_sync(config_path: Path) -> None:
    """Push every pending event to head office now, with a progress bar. Exits 3 when head
    office is unreachable, 4 when it refuses the store's token, 5 when it rejects a batch."""
    from backoffice.sync_progress import run_sync
    from store_agent.errors import LedgerError
    from store_agent.sync_lock import SyncBusy

    settings: AgentSettings = _settings(_load_agent, config_path)
    try:
        with _sync_exit_codes():
            result = asyncio.run(run_sync(settings, err))
    except (LedgerError, SyncBusy) as exc:
        fail(str(exc))
    out.print(f"store {settings.store.id}: pushed {result.pushed} events in {result.batches} "
              f"batches; head office holds up to seq {result.high_water}; pulled "
              f"{result.pulled} changes")


@agent.command("verify")
@agent_config
def agent_verify(config_path: Path) -> None:
    """Re-check the ledger's hash chain, rebuild every projection from the event log and
    report any difference. Exits 0 when the ledger is sound, 1 when it is not."""
    from store_agent.ledger.verify import verify_ledger

    settings: AgentSettings = _settings(_load_agent, config_path)
    with _ledger_db(settings) as db:
        report = verify_ledger(db, settings.store.id)
    for problem in report.problems:
        err.print(f"[red]✗[/] {problem}", soft_wrap=True)
    if not report.sound:
        fail(f"ledger {settings.ledger.path} is NOT sound: {len(report.problems)} problem(s) in "
             f"{report.events} events")
    out.print(f"ledger {settings.ledger.path} is sound: {report.events} events, hash chain "
              "intact, every projection matches the event log")


@agent.command("reconcile")
@agent_config
def agent_reconcile(config_path: Path) -> None:
    """Run the nightly reconciliation now: a full sync, then compare the ledger's digest (event
    count, per-kind counts and money sums, last hash) with head office's. Exits 0 when they
    match, 1 when they differ (each difference printed), 3/4/5 as 'agent sync'."""
    from store_agent.clock import clock_from_setting
    from store_agent.ledger import Ledger
    from store_agent.reconcile import reconcile
    from store_agent.sync_lock import sync_lock

    settings: AgentSettings = _settings(_load_agent, config_path)

    async def run() -> Any:
        ledger = Ledger(settings.ledger.path, settings.store.id)
        await ledger.open()
        try:
            return await reconcile(ledger, settings, clock_from_setting(
                settings.store.clock_start))
        finally:
            await ledger.close()

    with _sync_exit_codes(), sync_lock(settings.ledger.path, wait_seconds=60):
        result = asyncio.run(run())
    if not result.matches:
        for difference in result.differences:
            err.print(f"[red]✗[/] {difference}", soft_wrap=True)
        fail(f"store {settings.store.id}: the ledger through seq {result.through_seq} does NOT "
             "match head office; reported to head office")
    out.print(f"store {settings.store.id}: ledger and head office match through seq "
              f"{result.through_seq}")


@agent.command("status")
@agent_config
def agent_status(config_path: Path) -> None:
    """Show the ledger's state: events, what head office has acknowledged, last sync."""
    from store_agent.ledger import sync_state

    settings: AgentSettings = _settings(_load_agent, config_path)
    with _ledger_db(settings) as db:
        state = sync_state(db)
        sales = db.execute("SELECT COUNT(*) FROM sales WHERE status = 'completed'").fetchone()
        printing = db.execute("SELECT COUNT(*) FROM print_queue WHERE status != 'printed'"
                              ).fetchone()
        skew = db.execute("SELECT clock_skew_seconds FROM sync_state").fetchone()
    table = Table(title=f"store {settings.store.id}", show_header=False)
    for label, value in (
        ("ledger", str(settings.ledger.path)), ("events recorded", str(state.last_seq)),
        ("acknowledged by head office", str(state.acked_seq)),
        ("waiting to sync", str(state.pending)), ("sales", str(sales[0])),
        ("last sync attempt", state.last_attempt_at or "never"),
        ("last successful sync", state.last_success_at or "never"),
        ("last sync error", state.last_error or "none"),
        ("clock skew vs head office", "unknown" if skew[0] is None else f"{skew[0]:+d} s"),
        ("receipts waiting to print", str(printing[0])),
    ):
        table.add_row(label, value)
    out.print(table)


@cli.group()
def devices() -> None:
    """The store's devices (receipt printer, ...): test them from the store server."""


@devices.command("test")
@agent_config
def devices_test(config_path: Path) -> None:
    """Print a test page and kick the drawer, write to the display, read the scale, open the
    scanner's port; report each configured device's state. Exit 0 when every configured
    device worked, 1 otherwise."""
    from store_agent.device_check import check_devices

    settings: AgentSettings = _settings(_load_agent, config_path)
    table = Table(title=f"store {settings.store.id}: devices")
    for column in ("device", "address", "test", "state", "detail"):
        table.add_column(column)
    failed = False
    for row in check_devices(settings):
        failed |= not row.ok
        table.add_row(row.device, row.address or "—",
                      row.test if row.ok else f"[red]{row.test}[/]", row.state, row.detail)
    out.print(table)
    sys.exit(1 if failed else 0)


@cli.command("demo")
@click.option("--stores", default=3, show_default=True, type=click.IntRange(1, 20),
              help="How many store agents to run.")
@click.option("--days", default=1, show_default=True, type=click.IntRange(1, 14),
              help="How many trading days to ring up.")
@click.option("--sales", "sales_per_day", default=60, show_default=True,
              type=click.IntRange(1, 10_000), help="Sales per store per day.")
@click.option("--wrong-token", "wrong_token", metavar="STORE_ID", default=None,
              help="Give this store (e.g. S002) a wrong sync token, to see the failure.")
@click.option("--keep", is_flag=True,
              help="Leave the server and agents running, print URLs and tokens, stop on Ctrl-C.")
@click.option("--workdir", type=click.Path(path_type=Path), default=None,
              help="Folder for databases and configs (default: a new temporary folder).")
def demo(stores: int, days: int, sales_per_day: int, wrong_token: str | None, keep: bool,
         workdir: Path | None) -> None:
    """Simulate a chain: a server on embedded SQLite, store agents as real processes, a trading
    day with one store offline for part of it, sync, and a reconciliation table. Exits 0 only
    if every store's ledger reconciles with head office."""
    from backoffice.demo import DemoOptions, run_demo

    options = DemoOptions(stores=stores, days=days, sales_per_day=sales_per_day,
                          wrong_token_store=wrong_token, keep=keep, workdir=workdir)
    console = Console(highlight=False, width=max(shutil.get_terminal_size().columns, 120))
    sys.exit(asyncio.run(run_demo(options, console)))


@contextlib.contextmanager
def _sync_exit_codes() -> Iterator[None]:
    """Turn sync failures into one line and the documented exit status (3, 4, 5)."""
    from store_agent.errors import HeadOfficeUnreachable, SyncRefused, SyncRejected

    try:
        yield
    except HeadOfficeUnreachable as exc:
        fail(str(exc), EXIT_UNREACHABLE)
    except SyncRefused as exc:
        fail(str(exc), EXIT_REFUSED)
    except SyncRejected as exc:
        fail(str(exc), EXIT_REJECTED)


@contextlib.contextmanager
def _ledger_db(settings: AgentSettings) -> Iterator[Any]:
    """The store's ledger, opened for a command (one line and exit 1 if it cannot be)."""
    from store_agent.errors import LedgerError
    from store_agent.ledger import open_ledger

    try:
        db = open_ledger(settings.ledger.path, settings.store.id)
    except LedgerError as exc:
        fail(str(exc))
    try:
        yield db
    finally:
        db.close()


def _run_db(factory: Callable[[], Any]) -> Any:
    """Run async database work, turning unreachable databases into one clear line."""
    from server.errors import DatabaseNotMigrated

    try:
        return asyncio.run(factory())
    except DatabaseNotMigrated as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot reach the database: {exc}")


def main() -> None:
    cli(prog_name="backoffice")


def _register() -> None:
    from backoffice.books_cli import books

    cli.add_command(books)


_register()
