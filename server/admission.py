"""Admission of push batches: a fixed number are read, checked and applied at once per
process; a bounded number wait their turn (without their body read, so memory stays flat);
beyond that a push is answered 503 straight away with a Retry-After that says when the queue
ahead will have drained (from the recent time per batch), so a store turned away comes back
when there is room rather than after a long blind backoff. A thousand stores coming back
online together are then served steadily instead of all timing out together."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator

from backoffice.problems import Problem

MAX_RETRY_AFTER = 60


class PushGate:
    def __init__(self, concurrent: int, waiting: int) -> None:
        self._slots = asyncio.Semaphore(concurrent)
        self._concurrent = concurrent
        self._max_waiting = waiting
        self.waiting = 0
        self.seconds_per_batch = 0.1  # a running average of the time a turn takes

    def retry_after(self) -> int:
        """Seconds until the batches now waiting should have had their turn."""
        ahead = (self.waiting + self._concurrent) / self._concurrent
        return max(1, min(MAX_RETRY_AFTER, math.ceil(ahead * self.seconds_per_batch)))

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._slots.locked() and self.waiting >= self._max_waiting:
            raise Problem(503, f"head office is busy ({self.waiting} push batches are waiting); "
                               "nothing was read or changed — retry shortly",
                          headers={"Retry-After": str(self.retry_after())})
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        started = time.monotonic()
        try:
            yield
        finally:
            self._slots.release()
            self.seconds_per_batch = 0.8 * self.seconds_per_batch + \
                0.2 * (time.monotonic() - started)
