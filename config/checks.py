"""Value checks shared by the settings declarations; each returns a problem or None."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from sync.money import CURRENCY_EXPONENTS

_STORE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_TERMINAL_ID = _STORE_ID
_CUTOFF = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_LOG_LEVELS = {"debug", "info", "warning", "error"}
MIN_TOKEN_LENGTH = 16


def port(value: Any) -> str | None:
    return None if 0 <= value <= 65535 else "must be between 0 and 65535 (0 picks a free port)"


def positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than zero"


def non_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be zero or more"


def percent(value: Any) -> str | None:
    return None if 0 <= value <= 100 else "must be between 0 and 100"


def store_id(value: Any) -> str | None:
    if _STORE_ID.fullmatch(value):
        return None
    return "must be 1-32 letters, digits, '-' or '_', starting with a letter or digit"


def timezone(value: Any) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a tzdata folder
        return f"{value!r} is not an IANA time zone (e.g. 'Europe/Berlin', 'America/New_York')"
    return None


def day_cutoff(value: Any) -> str | None:
    return None if _CUTOFF.fullmatch(value) else "must be a local time HH:MM, e.g. '04:00'"


def currency(value: Any) -> str | None:
    if value in CURRENCY_EXPONENTS:
        return None
    known = ", ".join(sorted(CURRENCY_EXPONENTS))
    return f"{value!r} is not a supported ISO 4217 currency code (one of: {known})"


def http_url(value: Any) -> str | None:
    if re.match(r"^https?://[^/\s]+", value):
        return None
    return "must be an http:// or https:// URL, e.g. 'https://hq.example.com'"


def database_url(value: Any) -> str | None:
    if value.startswith(("sqlite:///", "postgresql://", "postgres://")):
        return None
    return "must start with 'sqlite:///' (embedded) or 'postgresql://' (scale-out)"


def log_level(value: Any) -> str | None:
    return None if value in _LOG_LEVELS else f"must be one of {sorted(_LOG_LEVELS)}"


def log_format(value: Any) -> str | None:
    return None if value in ("json", "text") else "must be json or text"


def token(value: Any) -> str | None:
    if len(value) >= MIN_TOKEN_LENGTH:
        return None
    if not value:
        return "missing token: paste the token head office issued"
    return f"token is too short ({len(value)} characters; tokens have at least {MIN_TOKEN_LENGTH})"


def terminals(value: Any) -> str | None:
    if not value:
        return "missing: at least one terminal, e.g. T1 = \"<token>\" under [terminals]"
    for terminal_id, terminal_token in value.items():
        if not _TERMINAL_ID.fullmatch(terminal_id):
            return f"terminal id {terminal_id!r}: {store_id(terminal_id)}"
        problem = token(terminal_token)
        if problem:
            return f"terminal {terminal_id}: {problem}"
    if len(set(value.values())) != len(value):
        return "two terminals share a token; give each terminal its own"
    return None


def printer_url(value: Any) -> str | None:
    if value == "":
        return None
    from drivers.printer import check_url

    return check_url(value)


def paper_width(value: Any) -> str | None:
    return None if value in (58, 80) else "must be 58 or 80"


def receipt_number_as(value: Any) -> str | None:
    return None if value in ("barcode", "qr") else "must be barcode or qr"


def drawer_pin(value: Any) -> str | None:
    return None if value in (0, 2, 5) else "must be 2 or 5 (or 0: no drawer on the printer)"


def baudrate(value: Any) -> str | None:
    rates = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
    return None if value in rates else f"must be one of {', '.join(map(str, rates))}"


def parity(value: Any) -> str | None:
    return None if value in ("N", "E", "O") else "must be N, E or O"


def scanner_suffix(value: Any) -> str | None:
    return None if value in ("CR", "LF", "CRLF", "TAB") else "must be CR, LF, CRLF or TAB"


def display_protocol(value: Any) -> str | None:
    return None if value in ("cd5220", "escpos") else "must be cd5220 or escpos"


def scale_protocol(value: Any) -> str | None:
    return None if value in ("mt8217", "nci") else "must be mt8217 or nci"


def bytesize(value: Any) -> str | None:
    return None if value in (7, 8) else "must be 7 or 8"


def label_rules(value: Any) -> str | None:
    from store_agent.barcodes import LabelRules

    try:
        LabelRules.parse(value)
    except ValueError as exc:
        return str(exc)
    return None


def hex_bytes(value: Any) -> str | None:
    from drivers.drawer import parse_hex

    try:
        parse_hex(value)
    except ValueError as exc:
        return str(exc)
    return None


def drawer_status(value: Any) -> str | None:
    from drivers.drawer import STATUS_MODES

    return None if value in STATUS_MODES else f"must be one of: {', '.join(STATUS_MODES)}"


def bit_number(value: Any) -> str | None:
    return None if 0 <= value <= 7 else "must be a bit number from 0 to 7"


def open_or_closed(value: Any) -> str | None:
    return None if value in ("open", "closed") else "must be 'open' or 'closed'"


def logo_image(value: Any) -> str | None:
    from PIL import Image, UnidentifiedImageError

    if value is None:
        return None
    try:
        with Image.open(value) as image:
            image.verify()
    except (OSError, UnidentifiedImageError) as exc:
        return f"cannot read {value} as an image: {exc}"
    return None


def chart_file(value: Any) -> str | None:
    from server.accounting.chart import ChartError, load_chart

    if value is None:
        return None
    try:
        load_chart(value)
    except ChartError as exc:
        return str(exc)
    return None


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def weekday(value: Any) -> str | None:
    return None if value in WEEKDAYS else f"must be one of {', '.join(WEEKDAYS)}"


def routing_number(value: Any) -> str | None:
    from stdnum.us import rtn

    return None if rtn.is_valid(str(value)) else \
        f"{value!r} is not a valid 9-digit ABA routing number"


def ach_company_id(value: Any) -> str | None:
    return None if 1 <= len(str(value)) <= 10 and str(value).isalnum() else \
        "must be 1-10 letters or digits"
