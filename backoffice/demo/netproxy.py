"""A loopback TCP forwarder that can take a link down and bring it back: how the demo (and the
tests) make a store lose head office for part of the day, with real refused connections."""

from __future__ import annotations

import asyncio
import contextlib


class LinkProxy:
    """Forwards ``127.0.0.1:listen_port`` to ``target_port`` while the link is up."""

    def __init__(self, listen_port: int, target_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.listen_port = listen_port
        self.target_port = target_port
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def is_up(self) -> bool:
        return self._server is not None

    async def up(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, self.host, self.listen_port,
                                                      reuse_address=True)

    async def down(self) -> None:
        """Stop listening and cut every open connection: new connects are refused."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
        for task in list(self._pipes):
            task.cancel()
        for task in list(self._pipes):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            writer.close()
            return
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.ensure_future(_pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()
