"""A TCP fault proxy for loopback tests: between the agent and head office it passes, refuses,
delays, cuts a request midway, or lets the request through and drops the answer (the server
committed, the agent never hears it) — chosen per connection by a seeded RNG."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter

FAULTS = ("pass", "refuse", "cut_request", "drop_answer", "delay")


class FaultProxy:
    def __init__(self, target_port: int, seed: int, fault_rate: float = 0.5) -> None:
        self.target_port = target_port
        self.rng = random.Random(seed)
        self.fault_rate = fault_rate
        self.port = 0
        self.seen: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def calm(self) -> None:
        """No more faults from now on."""
        self.fault_rate = 0.0

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            # A cut connection is the point of this proxy, not a failure of it.
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                await self._handle(reader, writer)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fault = "pass" if self.rng.random() >= self.fault_rate else \
            self.rng.choice(FAULTS[1:])
        self.seen[fault] += 1
        if fault == "refuse":
            return
        if fault == "delay":
            await asyncio.sleep(self.rng.uniform(0.05, 0.4))
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        try:
            if fault == "cut_request":
                data = await reader.read(self.rng.randint(1, 2048))
                up_writer.write(data[: max(1, len(data) // 2)])
                await up_writer.drain()
                return
            upstream = asyncio.ensure_future(_pipe(reader, up_writer))
            if fault == "drop_answer":
                # Let the whole request reach the server and its answer come back, then drop
                # the answer: the batch is committed but the agent never learns it.
                with contextlib.suppress(TimeoutError, ConnectionError):
                    await asyncio.wait_for(up_reader.read(65536), 10)
                upstream.cancel()
                return
            downstream = asyncio.ensure_future(_pipe(up_reader, writer))
            await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
            for task in (upstream, downstream):
                task.cancel()
        finally:
            up_writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
