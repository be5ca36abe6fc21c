"""Fan-out of live notices to terminals (scanner reads, device status, ledger and sync news)
over Server-Sent Events. A slow subscriber loses its oldest notices, never blocks a sale."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

QUEUE_SIZE = 256


class EventBroker:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._listeners: list[Callable[[dict[str, Any]], None]] = []

    def listen(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Call ``listener`` with every notice (in-process followers such as the display);
        it must not block."""
        self._listeners.append(listener)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, notice: dict[str, Any]) -> None:
        for listener in self._listeners:
            listener(notice)
        for queue in self._subscribers:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(notice)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
