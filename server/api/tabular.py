"""Report answers as JSON or CSV: every report is a list of flat rows with fixed columns, so
``?format=csv`` (or ``Accept: text/csv``) gives the same rows as a spreadsheet-ready file."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from backoffice.problems import Problem


def wants_csv(request: web.Request) -> bool:
    fmt = request.query.get("format")
    if fmt is not None and fmt not in ("json", "csv"):
        raise Problem(400, f"format must be json or csv, got {fmt!r}", field="format")
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("Accept", "")
    return "text/csv" in accept and "application/json" not in accept


def report_response(request: web.Request, name: str, columns: Sequence[str],
                    rows: list[dict[str, Any]], extra: dict[str, Any] | None = None
                    ) -> web.Response:
    """``{"columns": [...], "items": [...], **extra}``, or a CSV file of the same rows."""
    if wants_csv(request):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore",
                                lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return web.Response(text=buffer.getvalue(), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition":
                                     f'attachment; filename="{name}.csv"'})
    return web.json_response({"columns": list(columns), "items": rows, **(extra or {})})
