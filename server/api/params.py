"""Query-string parsing shared by the head-office API: dates, limits, opaque cursors."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web

from backoffice.problems import Problem
from server import keys
from sync.errors import InvalidAmount
from sync.money import exponent_of, format_minor, parse_amount

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def date_param(request: web.Request, name: str) -> date | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Problem(400, f"{name} must be a date YYYY-MM-DD, got {text!r}", field=name) from None


def date_range(request: web.Request) -> tuple[date | None, date | None]:
    """The ``from`` and ``to`` dates of a query, either optional; 400 when from is after to."""
    start, end = date_param(request, "from"), date_param(request, "to")
    if start and end and start > end:
        raise Problem(400, f"from ({start}) is after to ({end})", field="from")
    return start, end


def flag_param(request: web.Request, name: str) -> bool | None:
    """A ``true``/``false`` query parameter; None when absent, 400 for anything else."""
    text = request.query.get(name)
    if text is None:
        return None
    if text not in ("true", "false"):
        raise Problem(400, f"{name} must be true or false", field=name)
    return text == "true"


def limit_param(request: web.Request) -> int:
    text = request.query.get("limit", str(DEFAULT_LIMIT))
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or \
            not 1 <= int(text) <= MAX_LIMIT:
        raise Problem(400, f"limit must be an integer from 1 to {MAX_LIMIT}, got {text!r}",
                      field="limit")
    return int(text)


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{row_id}".encode()).decode().rstrip("=")


def cursor_param(request: web.Request) -> int:
    """The row id after which the next page starts (0 for the first page)."""
    text = request.query.get("cursor")
    if not text:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        kind, _, value = decoded.partition(":")
        if kind != "id" or not (value.isascii() and value.isdigit()) or len(value) > 18:
            raise ValueError(decoded)
        return int(value)
    except ValueError:
        raise Problem(400, "cursor is not one this API issued; pass next_cursor from the "
                           "previous page", field="cursor") from None


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 with the offset; SQLite hands back naive datetimes, which are UTC here."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def job_run_json(row: Any) -> dict[str, Any]:
    """A ``job_runs`` row (a scheduled job's run) as the API shows it."""
    return {"id": row.id, "job": row.job, "slot": row.slot, "runner": row.runner,
            "started_at": iso_utc(row.started_at), "finished_at": iso_utc(row.finished_at),
            "outcome": row.outcome, "detail": row.detail}


def money_text(request: web.Request, minor: int) -> str:
    """Minor units as the chain currency's decimal string."""
    return format_minor(int(minor), exponent_of(request.app[keys.SETTINGS].chain.currency))


def money_field(request: web.Request, value: object, field: str) -> int:
    """A non-negative money string from a request body, in minor units, or a 422."""
    try:
        amount = parse_amount(value, exponent_of(request.app[keys.SETTINGS].chain.currency),
                              field=field)
    except InvalidAmount as exc:
        raise Problem(422, str(exc), field=field) from None
    if amount < 0:
        raise Problem(422, f"{field}: must not be negative", field=field)
    return amount
