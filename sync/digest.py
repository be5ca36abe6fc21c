"""Ledger digests: what both sides compare nightly to prove they hold the same events.

A digest through seq N is the event count, per kind the count and the sum of its money field,
and the hash at seq N. Pure: both sides feed it their events in seq order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# The money field summed per kind (kinds not listed only count).
MONEY_FIELD = {"sale.completed": "total", "sale.voided": "total", "return.completed": "total",
               "cash.paid_in": "amount", "cash.paid_out": "amount",
               "cash.session_opened": "float"}


@dataclass
class Digest:
    through_seq: int = 0
    count: int = 0
    kinds: dict[str, list[int]] = field(default_factory=dict)  # kind -> [count, money sum]
    last_hash: str = "0" * 64

    def add(self, seq: int, kind: str, payload: dict[str, Any], digest: str) -> None:
        entry = self.kinds.setdefault(kind, [0, 0])
        entry[0] += 1
        money = payload.get(MONEY_FIELD.get(kind, ""), 0)
        entry[1] += money if isinstance(money, int) else 0
        self.count += 1
        self.through_seq = seq
        self.last_hash = digest

    def as_dict(self) -> dict[str, Any]:
        return {"through_seq": self.through_seq, "count": self.count,
                "kinds": {k: list(v) for k, v in sorted(self.kinds.items())},
                "last_hash": self.last_hash}


def digest_of(events: Iterable[tuple[int, str, dict[str, Any], str]]) -> Digest:
    result = Digest()
    for seq, kind, payload, digest in events:
        result.add(seq, kind, payload, digest)
    return result


def differences(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """What differs between two digests, in words a person can act on."""
    out = []
    for key in ("through_seq", "count", "last_hash"):
        if mine.get(key) != theirs.get(key):
            out.append(f"{key}: store {mine.get(key)}, head office {theirs.get(key)}")
    kinds = set(mine.get("kinds", {})) | set(theirs.get("kinds", {}))
    for kind in sorted(kinds):
        a, b = mine.get("kinds", {}).get(kind), theirs.get("kinds", {}).get(kind)
        if a != b:
            out.append(f"{kind} [count, money]: store {a}, head office {b}")
    return out
