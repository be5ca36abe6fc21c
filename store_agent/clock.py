"""The agent's clock, injected so that demos and tests can start a trading day anywhere."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class StartedClock:
    """A clock that reads ``start`` when created and then runs in real time."""

    def __init__(self, start: datetime) -> None:
        self._start = start.astimezone(UTC)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)


def clock_from_setting(clock_start: str) -> Clock:
    """The system clock, or a started clock for the ``store.clock_start`` demo setting."""
    if not clock_start:
        return SystemClock()
    start = datetime.fromisoformat(clock_start)
    if start.tzinfo is None:
        raise ValueError(f"store.clock_start {clock_start!r} needs a UTC offset, e.g. "
                         "'2026-11-20T09:00:00+01:00'")
    return StartedClock(start)


def utc_text(instant: datetime) -> str:
    """An instant as the ISO 8601 UTC text events carry (microseconds, 'Z')."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
