"""Who is making a head-office change: an API token's holder, or the operator at the CLI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    token_id: int | None  # None for the operator at the server's command line
    name: str
    role: str


OPERATOR = Principal(token_id=None, name="operator (command line)", role="admin")
