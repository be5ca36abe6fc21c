"""Device emulators that speak the devices' own protocols, for tests, the demo and a store IT
bench without hardware.

:class:`NetworkPrinter` is an ESC/POS printer on a loopback TCP port (a network printer's raw
port 9100): it answers real-time status requests (DLE EOT n) from its settable state, prints
(decodes into text lines, barcodes, QR codes, cuts and drawer kicks) what it receives while it
has paper and its cover is shut, and renders a PNG preview of any job.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from drivers.escpos_decode import Printout, decode
from drivers.status import PrinterState, status_byte


@dataclass
class Job:
    data: bytes
    printout: Printout


@dataclass
class NetworkPrinter:
    host: str = "127.0.0.1"
    port: int = 0
    state: PrinterState = PrinterState.READY
    jobs: list[Job] = field(default_factory=list)
    discarded: int = 0  # jobs that arrived while it could not print
    _server: asyncio.Server | None = None

    async def start(self) -> NetworkPrinter:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Unplug it: no one can connect until :meth:`start` again (same port)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received = bytearray()
        try:
            while chunk := await reader.read(65536):
                received += chunk
                # Answer status requests as they arrive, as a printer does in real time.
                while (at := received.find(b"\x10\x04")) != -1 and len(received) >= at + 3:
                    writer.write(bytes((status_byte(received[at + 2], self.state),)))
                    del received[at:at + 3]
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(ConnectionError):
                writer.close()
        if received:
            if self.state.can_print:
                self.jobs.append(Job(bytes(received), decode(bytes(received))))
            else:
                self.discarded += 1

    @property
    def printed(self) -> list[Printout]:
        return [job.printout for job in self.jobs]


def preview_png(printout: Printout, path: Path, columns: int = 48) -> Path:
    """Render a printout's text (and its codes as captions) to a PNG, as on paper."""
    font = ImageFont.load_default()
    lines = [*printout.lines, *(f"[barcode {b}]" for b in printout.barcodes),
             *(f"[QR {q}]" for q in printout.qr_codes)]
    char_w, line_h = 7, 14
    image = Image.new("L", (columns * char_w + 20, line_h * (len(lines) + 2)), 255)
    draw = ImageDraw.Draw(image)
    for row, text in enumerate(lines, start=1):
        for column, char in enumerate(text):  # a fixed grid, as the print head has
            draw.text((10 + column * char_w, row * line_h), char, fill=0, font=font)
    image.save(path)
    return path
