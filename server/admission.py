"""Admission of push batches: a fixed number are read, checked and applied at once per
process; a bounded number wait their turn (without their body read, so memory stays flat);
beyond that a push is answered 503 with Retry-After straight away. A thousand stores coming
back online together are then served steadily instead of all timing out together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from backoffice.problems import Problem


class PushGate:
    def __init__(self, concurrent: int, waiting: int) -> None:
        self._slots = asyncio.Semaphore(concurrent)
        self._max_waiting = waiting
        self.waiting = 0

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._slots.locked() and self.waiting >= self._max_waiting:
            raise Problem(503, f"head office is busy ({self.waiting} push batches are waiting); "
                               "nothing was read or changed — retry shortly",
                          headers={"Retry-After": "3"})
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._slots.release()
