"""Errors of the store agent; each leaf builds its message from the ids it is given."""

from __future__ import annotations


class AgentError(Exception):
    """Base class of the agent's own errors."""


class LedgerError(AgentError):
    """The ledger file cannot be used as it is."""


class LedgerNotInitialised(LedgerError, FileNotFoundError):
    def __init__(self, path: object) -> None:
        super().__init__(f"no ledger at {path}: run 'backoffice agent init' first")


class LedgerBelongsToAnotherStore(LedgerError):
    def __init__(self, path: object, ledger_store: str, config_store: str) -> None:
        super().__init__(f"the ledger at {path} belongs to store {ledger_store}, but the "
                         f"config says store {config_store}")


class LedgerFull(LedgerError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"the ledger cannot grow ({detail}); nothing was written. Free disk "
                         "space on the store server, then retry")


class UnknownProduct(AgentError, LookupError):
    def __init__(self, field: str, code: str) -> None:
        self.field = field
        self.code = code
        kind = "barcode" if field.endswith("barcode") else "SKU"
        super().__init__(f"{field}: unknown {kind} {code!r}")


class InvalidSale(AgentError, ValueError):
    """A sale request that cannot be rung up as it is; names the field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


class TendersDoNotCover(AgentError, ValueError):
    def __init__(self, total: str, tendered: str) -> None:
        super().__init__(f"tenders total {tendered} but the sale totals {total}; add a tender "
                         "for the rest")


class SaleConflict(AgentError):
    def __init__(self, sale_id: str) -> None:
        super().__init__(f"sale {sale_id} was already recorded with different content; a "
                         "sale_id names one sale, use a new id for a new sale")


class CatalogImportError(AgentError, ValueError):
    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("catalog not imported, nothing changed:\n  " + "\n  ".join(errors))


class SyncError(AgentError):
    """Base of the sync client's failures."""


class HeadOfficeUnreachable(SyncError, ConnectionError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"head office is unreachable at {url}: {reason}. Sales go on; the "
                         "events wait in the ledger and sync when head office answers")


class HeadOfficeBusy(HeadOfficeUnreachable):
    """Head office answered 502/503/504: it is there but cannot take the batch now; it may
    say when to come back (Retry-After)."""

    def __init__(self, url: str, reason: str, retry_after: float | None) -> None:
        self.retry_after = retry_after
        super().__init__(url, reason)


class SyncRefused(SyncError, PermissionError):
    def __init__(self, store_id: str, status: int, detail: str) -> None:
        self.status = status
        super().__init__(f"head office refused store {store_id}'s sync token (HTTP {status}): "
                         f"{detail}. Check head_office.sync_token in the store's config")


class SyncRejected(SyncError):
    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        super().__init__(f"head office rejected the batch (HTTP {status}): {detail}")


class UnknownEmployee(AgentError, LookupError):
    def __init__(self, field: str, employee_id: str) -> None:
        self.field = field
        super().__init__(f"{field}: no active employee {employee_id!r} at this store")


class NotAllowed(AgentError, PermissionError):
    """An action the named employee may not take (wrong PIN, not a manager)."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


class StateConflict(AgentError):
    """An action that does not fit the current state (no open cash session, a closed
    business day, a punch out without a punch in); the message states the current state."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(problem)


class RequestConflict(AgentError):
    def __init__(self, request_key: str) -> None:
        super().__init__(f"{request_key} was already done with different content; use a new id "
                         "for a new action")


class UnknownSession(AgentError, LookupError):
    def __init__(self, session_id: str) -> None:
        self.field = "session_id"
        super().__init__(f"no cash session {session_id!r} at this store")


class UnknownSale(AgentError, LookupError):
    def __init__(self, sale_id: str) -> None:
        self.field = "sale_id"
        super().__init__(f"no sale {sale_id!r} in this store's ledger")


class UnknownTransfer(AgentError, LookupError):
    def __init__(self, transfer_id: str) -> None:
        self.field = "transfer_id"
        super().__init__(f"no transfer {transfer_id!r} from this store has reached it from head "
                         "office yet; sync, then retry")
