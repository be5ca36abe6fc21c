"""Employees' bank accounts for direct deposit: sealed with Fernet (AES-128-CBC + HMAC,
from ``cryptography``) under a key kept in a file outside the database, and shown only
masked. The database never holds an account number in clear."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from stdnum.us import rtn

ACCOUNT_TYPES = ("checking", "savings")


class BankAccountError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class BankAccount:
    routing: str
    account: str
    account_type: str

    @classmethod
    def from_document(cls, doc: Any) -> BankAccount:
        if not isinstance(doc, dict):
            raise BankAccountError("bank_account", "must be an object with routing, account "
                                                   "and account_type")
        routing, account = str(doc.get("routing", "")), str(doc.get("account", ""))
        kind = doc.get("account_type", "checking")
        if not rtn.is_valid(routing):
            raise BankAccountError("bank_account.routing", f"{routing!r} is not a valid "
                                                           "9-digit ABA routing number")
        if not account.isalnum() or not 1 <= len(account) <= 17:
            raise BankAccountError("bank_account.account", "1 to 17 letters or digits")
        if kind not in ACCOUNT_TYPES:
            raise BankAccountError("bank_account.account_type", "checking or savings")
        return cls(routing, account.upper(), kind)

    def masked(self) -> str:
        return f"{self.account_type} ****{self.account[-4:]} at {self.routing}"


def load_or_create_key(path: Path) -> bytes:
    """The sealing key; a new one (file mode 0600) when the file does not exist yet."""
    if path.exists():
        key = path.read_bytes().strip()
        Fernet(key)  # refuse a damaged key at start, not at the first pay run
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    return key


class BankVault:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, account: BankAccount) -> str:
        body = json.dumps({"routing": account.routing, "account": account.account,
                           "account_type": account.account_type}).encode()
        return self._fernet.encrypt(body).decode()

    def open(self, sealed: str) -> BankAccount:
        try:
            doc = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise ValueError("a bank account sealed under another key: restore the "
                             "payroll bank key file this database was used with") from None
        return BankAccount(doc["routing"], doc["account"], doc["account_type"])
