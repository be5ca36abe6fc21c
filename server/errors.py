"""Errors of the central server; each leaf names the ids involved."""

from __future__ import annotations


class ServerError(Exception):
    """Base class of the server's own errors."""


class StoreAlreadyEnrolled(ServerError):
    def __init__(self, store_id: str) -> None:
        super().__init__(f"store {store_id} is already enrolled; its token was shown once at "
                         "enrollment")


class SeqGap(ServerError):
    def __init__(self, store_id: str, expected: int, got: int) -> None:
        self.expected = expected
        super().__init__(f"store {store_id}: batch starts at seq {got} but head office expects "
                         f"seq {expected}; resend from {expected}")


class ChainBroken(ServerError):
    def __init__(self, store_id: str, seq: int) -> None:
        self.seq = seq
        super().__init__(f"store {store_id}: hash chain broken at seq {seq}; nothing from this "
                         "batch was applied")


class HistoryDiverged(ServerError):
    def __init__(self, store_id: str, seq: int) -> None:
        self.seq = seq
        super().__init__(f"store {store_id}: event at seq {seq} differs from the one head "
                         "office already holds; nothing from this batch was applied")


class DatabaseNotMigrated(ServerError):
    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(f"the database is at schema revision {current or 'none'} but this "
                         f"version needs {head}: run 'backoffice server init' first")


class UnknownStore(ServerError, LookupError):
    def __init__(self, store_id: str) -> None:
        super().__init__(f"no store {store_id!r} is enrolled")


class UnknownApiToken(ServerError, LookupError):
    def __init__(self, token_id: int) -> None:
        super().__init__(f"no API token {token_id}")


class LastAdminToken(ServerError):
    def __init__(self, token_id: int) -> None:
        super().__init__(f"API token {token_id} is the last working admin token; issue another "
                         "admin token before revoking it")
