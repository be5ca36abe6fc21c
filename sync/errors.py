"""Errors of the sync contract: malformed records, amounts and protocol messages."""

from __future__ import annotations


class SyncContractError(Exception):
    """Base class for input that breaks the contract between agent and server."""


class InvalidAmount(SyncContractError, ValueError):
    """A money amount that is not a decimal string the currency can hold."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


class DecodeError(SyncContractError, ValueError):
    """A message that cannot be decoded: names the field and what is wrong with it."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class UnsupportedVersion(DecodeError):
    """A protocol version this side does not speak."""

    def __init__(self, version: object, accepted: tuple[int, ...]) -> None:
        super().__init__("v", f"protocol version {version!r} is not supported; this side "
                              f"accepts {', '.join(map(str, accepted))}")


class NotCanonical(SyncContractError, TypeError):
    """A payload value that has no canonical encoding (floats, bytes keys, sets...)."""

    def __init__(self, path: str, value: object) -> None:
        super().__init__(f"{path}: {type(value).__name__} values are not allowed in event "
                         "payloads (use integers for money and decimal strings for quantities)")
        self.path = path
