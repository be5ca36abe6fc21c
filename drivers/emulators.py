"""Device emulators that speak the devices' own protocols, for tests, the demo and a store IT
bench without hardware.

:class:`NetworkPrinter` is an ESC/POS printer on a loopback TCP port (a network printer's raw
port 9100): it answers real-time status requests (DLE EOT n) from its settable state, prints
(decodes into text lines, barcodes, QR codes, cuts and drawer kicks) what it receives while it
has paper and its cover is shut, and renders a PNG preview of any job.

:class:`LineDisplayEmulator` and :class:`ScaleEmulator` sit at the far end of a real pty pair,
so the drivers open a real serial port (``emulator.path``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from drivers.escpos_decode import Printout, RasterImage, decode
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
    drawer_open: bool = False  # opened by a kick pulse, shut by close_drawer() (the cashier)
    # A fault that strikes after this many bytes of the next job (say, the cover opened
    # mid-receipt): the job does not come out and the state becomes ``fault_state``.
    fault_after_bytes: int | None = None
    fault_state: PrinterState = PrinterState.COVER_OPEN
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
        spoiled = False
        try:
            while chunk := await reader.read(65536):
                received += chunk
                if self.fault_after_bytes is not None and \
                        len(received) > self.fault_after_bytes:
                    self.state, self.fault_after_bytes, spoiled = self.fault_state, None, True
                # Answer status requests as they arrive, as a printer does in real time.
                while (at := received.find(b"\x10\x04")) != -1 and len(received) >= at + 3:
                    writer.write(bytes((status_byte(received[at + 2], self.state,
                                                    self.drawer_open),)))
                    del received[at:at + 3]
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(ConnectionError):
                writer.close()
        if received:
            if self.state.can_print and not spoiled:
                job = Job(bytes(received), decode(bytes(received)))
                self.jobs.append(job)
                self.drawer_open = self.drawer_open or bool(job.printout.drawer_kicks)
            else:
                self.discarded += 1

    def close_drawer(self) -> None:
        self.drawer_open = False

    @property
    def printed(self) -> list[Printout]:
        return [job.printout for job in self.jobs]


def preview_png(printout: Printout, path: Path, columns: int = 48) -> Path:
    """Render a printout as on paper: its raster images (the logo) where they were printed,
    its text on the print head's fixed grid, and its codes as captions."""
    font = ImageFont.load_default()
    lines = [*printout.lines, *(f"[barcode {b}]" for b in printout.barcodes),
             *(f"[QR {q}]" for q in printout.qr_codes)]
    char_w, line_h = 7, 14
    width = max([columns * char_w + 20, *(img.width + 20 for img in printout.images)])
    height = line_h * (len(lines) + 2) + sum(img.height for img in printout.images)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    y = line_h
    pending = sorted(printout.images, key=lambda img: img.at_line)
    for row, text in enumerate(lines):
        while pending and pending[0].at_line <= row:
            y = _paste_raster(image, pending.pop(0), y)
        for column, char in enumerate(text):  # a fixed grid, as the print head has
            draw.text((10 + column * char_w, y), char, fill=0, font=font)
        y += line_h
    for raster in pending:
        y = _paste_raster(image, raster, y)
    image.save(path)
    return path


def _paste_raster(image: Image.Image, raster: RasterImage, top: int) -> int:
    left = (image.width - raster.width) // 2
    for y in range(raster.height):
        for x in range(raster.width):
            if raster.dot(x, y):
                image.putpixel((left + x, top + y), 0)
    return top + raster.height


class PtyDevice:
    """A serial device at the far end of a pty pair: the driver opens :attr:`path` as its
    port; :meth:`answer` sees what the driver writes and returns what the device sends."""

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=type(self).__name__)
        self._thread.start()

    def answer(self, data: bytes) -> bytes:  # pragma: no cover - overridden
        return b""

    def send(self, data: bytes) -> None:
        os.write(self._master, data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            reply = self.answer(data)
            if reply:
                os.write(self._master, reply)


class LineDisplayEmulator(PtyDevice):
    """A 2 x 20 pole display that understands CD5220 and ESC/POS line-display commands and
    keeps its screen."""

    def __init__(self) -> None:
        self.screen = [" " * 20, " " * 20]
        self.frames = 0
        self._row, self._col = 0, 0
        self._pending = bytearray()
        super().__init__()

    @property
    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen]

    def answer(self, data: bytes) -> bytes:
        self._pending += data
        buffer = self._pending
        i = 0
        while i < len(buffer):
            byte = buffer[i]
            if byte == 0x1B and buffer[i + 1:i + 2] == b"@":
                self.screen, self._row, self._col, i = [" " * 20, " " * 20], 0, 0, i + 2
                self.frames += 1
            elif byte == 0x1B and buffer[i + 1:i + 2] == b"Q":  # CD5220: ESC Q A|B text CR
                end = buffer.find(b"\r", i)
                if end == -1 or i + 3 > len(buffer):
                    break
                row = 0 if buffer[i + 2] == ord("A") else 1
                self.screen[row] = buffer[i + 3:end].decode("cp437")[:20].ljust(20)
                i = end + 1
            elif byte == 0x0C:
                self.screen, self._row, self._col, i = [" " * 20, " " * 20], 0, 0, i + 1
            elif byte == 0x1F and buffer[i + 1:i + 2] == b"$":  # ESC/POS: US $ x y
                if i + 4 > len(buffer):
                    break
                self._col, self._row = buffer[i + 2] - 1, buffer[i + 3] - 1
                i += 4
            elif byte >= 0x20:
                line = self.screen[self._row]
                char = bytes((byte,)).decode("cp437")
                if self._col < 20:
                    self.screen[self._row] = line[:self._col] + char + line[self._col + 1:]
                self._col += 1
                i += 1
            else:
                i += 1
        del buffer[:i]
        return b""


class ScaleEmulator(PtyDevice):
    """A scale with a settable weight and state, answering the Mettler-Toledo 8217 or the NCI
    protocol; ``silent`` makes it not answer at all."""

    def __init__(self, protocol: str = "mt8217") -> None:
        from drivers.scale import ScaleState, Weighing

        self.protocol = protocol
        self.weighing = Weighing(ScaleState.STABLE, Decimal("0.000"))
        self.silent = False
        self.requests = 0
        super().__init__()

    def answer(self, data: bytes) -> bytes:
        from drivers.scale import mt8217_answer, nci_answer

        if b"W" not in data or self.silent:
            return b""
        self.requests += 1
        return (mt8217_answer if self.protocol == "mt8217" else nci_answer)(self.weighing)


class ScannerEmulator(PtyDevice):
    """A serial scanner at the far end of a pty pair: :meth:`scan` sends a code the way a
    scanner programmed with ``suffix``, ``prefix`` and AIM identifiers would; ``pieces``
    splits the frame across writes as a slow line does."""

    def __init__(self, suffix: bytes = b"\r", prefix: bytes = b"", aim: str = "") -> None:
        self.suffix, self.prefix, self.aim = suffix, prefix, aim
        super().__init__()

    def scan(self, code: str, pieces: int = 1) -> None:
        frame = self.prefix + self.aim.encode() + code.encode("ascii") + self.suffix
        step = max(1, len(frame) // pieces)
        for start in range(0, len(frame), step):
            self.send(frame[start:start + step])

    def unplug(self) -> None:
        self.close()


class DrawerEmulator(PtyDevice):
    """A serial cash drawer: opens on the open command (BEL by default), answers a status
    request (ACK) with one byte whose bit 0 is set while closed. :meth:`close_drawer` is the
    cashier pushing it shut; ``silent`` makes it not answer."""

    def __init__(self, open_command: bytes = b"\x07", status_command: bytes = b"\x06") -> None:
        self.open_command, self.status_command = open_command, status_command
        self.is_open = False
        self.openings = 0
        self.silent = False
        super().__init__()

    def answer(self, data: bytes) -> bytes:
        reply = b""
        if self.open_command in data:
            self.openings += data.count(self.open_command)
            self.is_open = True
        if self.status_command in data and not self.silent:
            reply = bytes((0x30 | (0 if self.is_open else 0x01),))
        return reply

    def close_drawer(self) -> None:
        self.is_open = False
