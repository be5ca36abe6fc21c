"""Typed, frozen settings for the central server and for a store agent.

A settings object has one section per TOML table (``[http]``, ``[database]`` ...); each
field of a section is one setting, declared with its default and help text. Load them with
:func:`config.load_server_settings` / :func:`config.load_agent_settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from config import checks
from config.fields import setting
from store_agent.barcodes import DEFAULT_LABEL_RULES


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpSettings:
    """Where the process listens and how much it accepts."""

    host: str = setting("127.0.0.1", help="Address to listen on.")
    port: int = setting(8080, help="TCP port to listen on (0 picks a free port).",
                        check=checks.port)
    max_body_bytes: int = setting(
        4 * 1024 * 1024, help="Largest request body accepted, in bytes (after decompression); "
                              "larger ones get 413.",
        check=checks.positive)
    tls_cert_file: Path | None = setting(
        None, help="PEM certificate chain to serve HTTPS directly (with tls_key_file); "
                   "leave unset behind a TLS-terminating proxy.", path=True)
    tls_key_file: Path | None = setting(None, help="PEM private key for tls_cert_file.",
                                        path=True)
    shutdown_timeout_seconds: int = setting(
        30, help="On SIGTERM/SIGINT, how long in-flight requests get to finish (a push batch "
                   "commits or rolls back whole) before the process exits.",
        check=checks.positive)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggingSettings:
    """What the process logs."""

    level: str = setting("info", help="Log level: debug, info, warning or error.",
                         check=checks.log_level)
    format: str = setting("json", help="json: one JSON object per line (time, level, logger, "
                                       "message and fields such as a request's method, path, "
                                       "status and duration), for log collectors; text: for "
                                       "reading at a terminal.", check=checks.log_format)


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseSettings:
    """The central database."""

    url: str = setting(
        "sqlite:///central.db",
        help="SQLAlchemy-style URL. 'sqlite:///PATH' (embedded, the default; a relative PATH "
             "is relative to the config file) or 'postgresql://USER@HOST:PORT/DB' (asyncpg).",
        check=checks.database_url, path=True)
    pool_size: int = setting(
        10, help="PostgreSQL connections each server process keeps open.", check=checks.positive)
    max_overflow: int = setting(
        10, help="PostgreSQL connections a process may open beyond pool_size under load.",
        check=checks.non_negative)
    pool_timeout_seconds: int = setting(
        10, help="How long a request waits for a free connection before it is answered 503 "
                 "'busy, retry' (a store retries its batch with backoff).",
        check=checks.positive)
    statement_timeout_seconds: int = setting(
        30, help="Longest a database statement or lock wait may take (PostgreSQL "
                 "statement_timeout and lock_timeout; SQLite's busy timeout). Past it the "
                 "transaction rolls back and the request is answered 503, nothing kept.",
        check=checks.positive)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainSettings:
    """Facts about the whole chain."""

    currency: str = setting("USD", help="ISO 4217 code of the one currency of this deployment.",
                            check=checks.currency)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSyncSettings:
    """Limits the server applies to store sync."""

    max_batch_events: int = setting(
        5000, help="Most events the server accepts in one push batch.", check=checks.positive)
    max_concurrent_pushes: int = setting(
        4, help="Push batches a server process reads, checks and applies at once; others wait "
                "their turn before their body is read, so memory stays bounded however many "
                "stores push together.", check=checks.positive)
    max_waiting_pushes: int = setting(
        256, help="Push batches allowed to wait for a turn; beyond that a push is answered 503 "
                 "at once with a Retry-After saying when the queue should have drained (the "
                 "store comes back then) rather than "
                 "waiting past its timeout.", check=checks.positive)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountingSettings:
    """The books (docs/accounting.md)."""

    chart_file: Path | None = setting(
        None, help="The chart of accounts (TOML); unset for the retail chart shipped in "
                   "config/accounting/chart_of_accounts.toml. Accounts are added to the "
                   "database at start; ones already there are left as they are.",
        path=True, check=checks.chart_file)
    nightly_enabled: bool = setting(
        True, help="Run the books' nightly job in this process: post anything pending, close "
                   "the days of stores whose Z reports arrived, verify the books. With several "
                   "server processes each may run it; one run per night happens.")
    nightly_at: str = setting("03:00", help="UTC time HH:MM of the nightly job.",
                              check=checks.day_cutoff)
    nightly_interval_seconds: int = setting(
        0, help="Run the job every this many seconds instead of nightly (tests and demos); "
                "0 for nightly.", check=checks.non_negative)


@dataclass(frozen=True, slots=True, kw_only=True)
class PayrollSettings:
    """Payroll (docs/payroll.md)."""

    workweek_start: str = setting(
        "monday", help="The day the employer's fixed workweek starts (overtime is counted per "
                       "workweek).", check=checks.weekday)
    bank_key_file: Path = setting(
        Path("payroll-bank.key"), path=True,
        help="The key that seals employees' bank accounts (made, readable by this user "
             "only, on first start if missing). Keep it out of the database's backups' "
             "reach, and back it up: without it the accounts cannot be read back.")
    company_name: str = setting("Retail Backoffice Demo Co",
                                help="The employer's name on the direct-deposit file.")
    company_id: str = setting("1000000000", help="The ACH company identification (10 "
                                                 "characters, usually 1 + the EIN).",
                              check=checks.ach_company_id)
    bank_routing: str = setting("011000015", help="The employer's bank (ODFI) routing "
                                                  "number.", check=checks.routing_number)
    bank_name: str = setting("Originating Bank", help="The employer's bank's name.")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    """Everything the central server reads from ``server.toml``."""

    http: HttpSettings = HttpSettings()
    database: DatabaseSettings = DatabaseSettings()
    chain: ChainSettings = ChainSettings()
    sync: ServerSyncSettings = ServerSyncSettings()
    accounting: AccountingSettings = AccountingSettings()
    payroll: PayrollSettings = PayrollSettings()
    logging: LoggingSettings = LoggingSettings()


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreSettings:
    """Who this store is and how it keeps time."""

    id: str = setting(help="The store id head office enrolled (e.g. 'S001').",
                      check=checks.store_id)
    timezone: str = setting(help="IANA time zone of the store, e.g. 'Europe/Berlin'.",
                            check=checks.timezone)
    day_cutoff: str = setting(
        "04:00", help="Local time HH:MM at which the trading day rolls over; a sale at 00:30 "
                      "with a 04:00 cut-off belongs to the previous business date.",
        check=checks.day_cutoff)
    currency: str = setting("USD", help="ISO 4217 currency; must match head office.",
                            check=checks.currency)
    name: str = setting("", help="The store's name as printed on receipts.")
    prices_include_tax: bool = setting(
        False, help="true when shelf prices include tax (VAT countries); false when tax is "
                    "added at the till (US sales tax).")
    require_pin: bool = setting(
        False, help="true to require the employee's PIN on every cashier action.")
    discount_limit_percent: int = setting(
        10, help="Largest discount (percent of what it applies to) a cashier may give; above "
                 "it the sale needs a manager's approval.", check=checks.percent)
    clock_start: str = setting(
        "", help="Demo and test use only: an ISO 8601 instant at which the agent's clock "
                 "starts (it then runs in real time). Empty means the system clock.")


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerSettings:
    """The store's own SQLite ledger."""

    path: Path = setting(Path("ledger.db"),
                         help="SQLite ledger file; a relative path is relative to the config file.",
                         path=True)
    max_size_mb: int = setting(
        0, help="Cap on the ledger file in MiB (0: no cap). At the cap new sales are refused "
                "with 507 and nothing half-written, instead of filling the disk the till's "
                "system needs.", check=checks.non_negative)


@dataclass(frozen=True, slots=True, kw_only=True)
class HeadOfficeSettings:
    """How the agent reaches head office."""

    url: str = setting(help="Base URL of the central server, e.g. 'https://hq.example.com'.",
                       check=checks.http_url)
    sync_token: str = setting(help="The store's sync token, printed once by "
                                   "'backoffice server enroll-store'.",
                              check=checks.token, secret=True)
    timeout_seconds: int = setting(
        30, help="Seconds to wait for head office to answer one request before giving up.",
        check=checks.positive)
    ca_file: Path | None = setting(
        None, help="PEM file of the certificate authority to trust for an https:// url "
                   "(a private or self-signed head-office certificate); unset: the system's.",
        path=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSyncSettings:
    """How the agent pushes its ledger to head office."""

    batch_max_events: int = setting(500, help="Most events in one push batch.",
                                    check=checks.positive)
    batch_max_bytes: int = setting(1024 * 1024, help="Largest encoded push batch, in bytes.",
                                   check=checks.positive)
    enabled: bool = setting(
        True, help="Sync in the background while 'agent run' serves; false leaves syncing to "
                   "'backoffice agent sync' (e.g. a nightly cron job).")
    interval_seconds: int = setting(30, help="Seconds between background syncs while online.",
                                    check=checks.positive)
    debounce_seconds: int = setting(
        2, help="A sale schedules a sync this many seconds later (if none is due sooner), so "
                "head office sees sales promptly without a request per sale.",
        check=checks.non_negative)
    compress_min_bytes: int = setting(
        1024, help="Push batches at least this large are sent gzip-compressed "
                   "(Content-Encoding: gzip); 0 turns compression off.",
        check=checks.non_negative)
    nightly_at: str = setting(
        "02:30", help="Store-local time HH:MM of the nightly reconciliation (full sync, then "
                      "digests compared with head office). Runs once per day across DST.",
        check=checks.day_cutoff)
    max_backoff_seconds: int = setting(
        300, help="Longest wait between attempts while head office is unreachable (the wait "
                  "doubles from interval_seconds/8, with jitter, up to this).",
        check=checks.positive)


@dataclass(frozen=True, slots=True, kw_only=True)
class PrinterSettings:
    """The store's receipt printer (docs/hardware.md). Receipts are queued in the ledger with
    the sale and printed from the queue: a printer that is off, out of paper or open never
    fails or slows a sale."""

    url: str = setting(
        "", help="tcp://HOST:9100 (a network printer's raw port), serial:///dev/ttyUSB0?"
                 "baudrate=19200 (any pyserial URL after 'serial:'), usb://VENDOR:PRODUCT "
                 "(hex ids from lsusb, e.g. usb://04b8:0202; needs libusb), "
                 "file:///dev/usb/lp0, or empty for no printer (receipts wait in the queue).",
        check=checks.printer_url)
    width_mm: int = setting(80, help="Paper width: 80 (48 columns) or 58 (32 columns).",
                            check=checks.paper_width)
    logo: Path | None = setting(None, help="An image (PNG, BMP, GIF, JPEG) printed at the top "
                                           "of each receipt: made black and white and scaled "
                                           "to the paper, at most 30 mm high.",
                                path=True, check=checks.logo_image)
    header: str = setting("", help="Lines printed under the store name (newline-separated), "
                                   "e.g. the address and tax number.")
    footer: str = setting("Thank you for shopping with us",
                          help="Lines printed at the end of each receipt (newline-separated).")
    number_as: str = setting("barcode", help="How the receipt number is printed for returns: "
                                             "barcode (CODE128) or qr.",
                             check=checks.receipt_number_as)
    drawer_pin: int = setting(2, help="Kick the cash drawer through the printer after a cash "
                                      "sale: pin 2 or 5; 0 when the drawer is not on the "
                                      "printer.", check=checks.drawer_pin)
    timeout_seconds: int = setting(3, help="How long to wait for the printer to answer.",
                                   check=checks.positive)
    retry_seconds: int = setting(5, help="How often a queued receipt is retried while the "
                                         "printer is not ready.", check=checks.positive)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScannerSettings:
    """A serial barcode scanner (docs/hardware.md); its reads reach the terminals on the
    agent's event stream."""

    url: str = setting("", help="Serial port: a device path (/dev/ttyACM0), a COM port, or any "
                                "pyserial URL (socket://HOST:PORT, rfc2217://...); empty for "
                                "none.")
    terminal: str = setting("T1", help="The terminal the scanner belongs to (reads carry it).")
    baudrate: int = setting(9600, help="Line speed the scanner is set to.",
                            check=checks.baudrate)
    parity: str = setting("N", help="N (none), E (even) or O (odd); 8 data bits, 1 stop bit.",
                          check=checks.parity)
    suffix: str = setting("CR", help="What ends each code: CR, LF, CRLF or TAB.",
                          check=checks.scanner_suffix)
    prefix: str = setting("", help="Characters the scanner sends before each code, if set to.")
    aim: bool = setting(False, help="The scanner sends AIM symbology identifiers (]E0, ]C1 ...) "
                                    "before each code.")


@dataclass(frozen=True, slots=True, kw_only=True)
class DisplaySettings:
    """A customer (pole) display, 2 x 20 (docs/hardware.md)."""

    url: str = setting("", help="Serial port of the display (a device path, COM port or "
                                "pyserial URL); empty for none.")
    protocol: str = setting("cd5220", help="cd5220 or escpos (Epson DM-D line display).",
                            check=checks.display_protocol)
    terminal: str = setting("T1", help="The terminal the display faces the customer at.")
    idle_message: str = setting("Welcome", help="Shown when no sale is in progress.")
    idle_seconds: int = setting(20, help="Seconds after a sale before the idle message.",
                                check=checks.positive)
    health_seconds: int = setting(30, help="How often the display is checked (its screen "
                                           "rewritten) while nothing else writes to it.",
                                  check=checks.positive)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScaleSettings:
    """A checkout scale on a serial port (docs/hardware.md)."""

    url: str = setting("", help="Serial port of the scale; empty for none.")
    protocol: str = setting("mt8217", help="mt8217 (Mettler-Toledo 8217) or nci "
                                           "(NCI / Weigh-Tronix general protocol).",
                            check=checks.scale_protocol)
    baudrate: int = setting(9600, help="Line speed.", check=checks.baudrate)
    parity: str = setting("E", help="N, E or O.", check=checks.parity)
    bytesize: int = setting(7, help="Data bits: 7 or 8.", check=checks.bytesize)
    timeout_seconds: int = setting(1, help="How long to wait for the scale's answer.",
                                   check=checks.positive)
    health_seconds: int = setting(30, help="How often the scale is asked for a weight while "
                                           "no terminal asks, so status shows one that went "
                                           "silent.", check=checks.positive)


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawerSettings:
    """A cash drawer on its own serial port (docs/hardware.md); a drawer wired to the receipt
    printer is set with printer.drawer_pin instead."""

    url: str = setting("", help="Serial port of the drawer (a device path, COM port or pyserial "
                                "URL); empty when the drawer is on the printer or absent.")
    terminal: str = setting("T1", help="The terminal whose cash sales and no-sales open it.")
    baudrate: int = setting(9600, help="Line speed.", check=checks.baudrate)
    open_command: str = setting("07", help="Bytes, in hex, that open the drawer (07, ASCII BEL, "
                                           "on most serial drawers).", check=checks.hex_bytes)
    status: str = setting("none", help="How the drawer says it is open: none, query (a "
                                       "status request answered with one byte), or the modem "
                                       "line its switch drives: cts, dsr, ri or dcd.",
                          check=checks.drawer_status)
    status_command: str = setting("06", help="query: the status request, in hex (06, ASCII "
                                             "ACK, on IBM-style drawer ports).",
                                  check=checks.hex_bytes)
    closed_bit: int = setting(0, help="query: the bit (0-7) of the answer that is set while "
                                      "the drawer is closed.", check=checks.bit_number)
    line_high_when: str = setting("closed", help="cts/dsr/ri/dcd: whether the line is high "
                                                 "while the drawer is closed or open.",
                                  check=checks.open_or_closed)
    timeout_seconds: int = setting(1, help="How long to wait for a status answer.",
                                   check=checks.positive)
    health_seconds: int = setting(30, help="How often the drawer's state is read while "
                                           "nothing opens it.", check=checks.positive)


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelSettings:
    """Variable-measure labels printed by scales (docs/hardware.md): which prefixes carry a
    price or a weight, and where the item and value digits sit."""

    prefixes: Mapping[str, str] = setting(
        dict(DEFAULT_LABEL_RULES),
        help="Prefix = \"price LAYOUT\" or \"weight LAYOUT\": one letter per digit, P prefix, "
             "I item, V value (price in minor units, weight in grams), X not read, C check "
             "digit; 12 letters for UPC-A, 13 for EAN-13. Giving the table replaces the "
             "defaults (02, 20-29).",
        check=checks.label_rules)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSettings:
    """Everything a store agent reads from ``store.toml``."""

    store: StoreSettings
    head_office: HeadOfficeSettings
    terminals: Mapping[str, str] = setting(
        help="POS terminals allowed to use this agent: terminal id = token. Each terminal "
             "sends its token as 'Authorization: Bearer TOKEN'.",
        check=checks.terminals, secret=True)
    http: HttpSettings = HttpSettings(port=8081)
    ledger: LedgerSettings = LedgerSettings()
    sync: AgentSyncSettings = AgentSyncSettings()
    printer: PrinterSettings = PrinterSettings()
    scanner: ScannerSettings = ScannerSettings()
    display: DisplaySettings = DisplaySettings()
    scale: ScaleSettings = ScaleSettings()
    drawer: DrawerSettings = DrawerSettings()
    labels: LabelSettings = LabelSettings()
    logging: LoggingSettings = LoggingSettings()
