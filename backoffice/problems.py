"""One error shape for every 4xx/5xx of both HTTP apps: RFC 9457 ``application/problem+json``.

Handlers raise :class:`Problem`; the middleware turns it (and aiohttp's own HTTP errors, and
anything unexpected) into ``{"type", "title", "status", "detail", ...}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

PROBLEM_CONTENT_TYPE = "application/problem+json"
log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Problem(Exception):
    """An answer that is an error: status, a message a person can act on, and extra members."""

    def __init__(self, status: int, detail: str, *, title: str | None = None,
                 type_: str = "about:blank", headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.headers = headers or {}
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.type = type_
        self.extra = extra

    def to_response(self, headers: dict[str, str] | None = None) -> web.Response:
        body = {"type": self.type, "title": self.title, "status": self.status,
                "detail": self.detail, **self.extra}
        return web.Response(status=self.status, text=json.dumps(body),
                            content_type=PROBLEM_CONTENT_TYPE,
                            headers={**self.headers, **(headers or {})})


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every error as problem+json; never leak a traceback to the client."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem.to_response()
    except web.HTTPRequestEntityTooLarge as exc:
        return Problem(413, f"request body too large: {exc.text}").to_response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        detail = exc.text if exc.text and exc.text != f"{exc.status}: {exc.reason}" else \
            _default_detail(exc.status, request)
        headers = {k: v for k, v in exc.headers.items() if k.lower() in {"allow"}}
        return Problem(exc.status, detail).to_response(headers)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return Problem(500, "internal error; the incident is in the server log").to_response()


def _default_detail(status: int, request: web.Request) -> str:
    if status == 404:
        return f"no such resource: {request.path}"
    if status == 405:
        return f"method {request.method} is not allowed on {request.path}"
    return HTTPStatus(status).phrase


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 4xx Problem saying what is wrong with it."""
    if request.content_type != "application/json":
        raise Problem(415, f"expected Content-Type application/json, got "
                           f"{request.content_type or 'none'}")
    raw = await request.read()
    try:
        body = json.loads(raw, parse_float=_refuse_float)
    except _FloatInBody as exc:
        raise Problem(422, f"numbers with a fraction are not accepted ({exc}); send amounts "
                           "and quantities as decimal strings like \"12.34\"") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Problem(400, f"body is not valid JSON: {exc}") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise Problem(400, f"body is not JSON this service accepts: {exc}") from None
    if not isinstance(body, dict):
        raise Problem(422, "body must be a JSON object")
    return body


class _FloatInBody(ValueError):
    pass


def _refuse_float(text: str) -> Any:
    raise _FloatInBody(text)


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, if there is one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
