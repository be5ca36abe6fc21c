"""Values every use case receives or returns: the store's facts and an action's outcome."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from store_agent.barcodes import DEFAULT_LABELS, LabelRules


@dataclass(frozen=True, slots=True)
class StoreContext:
    store_id: str
    timezone: str
    day_cutoff: str
    currency: str
    exponent: int
    name: str = ""
    prices_include_tax: bool = False
    require_pin: bool = False
    discount_limit_percent: int = 10
    labels: LabelRules = DEFAULT_LABELS


@dataclass(frozen=True, slots=True)
class Outcome:
    """``created`` is False when the answer replays an earlier identical request."""

    created: bool
    response: dict[str, Any]
    seq: int | None = None  # the event recorded (None when replayed)
    kind: str | None = None


def request_digest(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True,
                                     separators=(",", ":")).encode()).hexdigest()
