"""Barcode scanner over serial (pyserial ``serial_for_url``: a device path, a COM port, a
``socket://`` URL, or a pty in tests).

:class:`Framer` is pure: bytes in, whole reads out. A scanner sends each code followed by a
suffix (CR, LF, CRLF or TAB), optionally after a prefix and an AIM symbology identifier
(``]E0`` for EAN-13, ``]C1`` for GS1-128, ...). Frames split across reads are reassembled;
bytes that cannot be part of a code (control characters, bytes above 0x7E — what a wrong baud
rate produces) and frames longer than a code can be are dropped and counted, and a run of them
is reported as a likely baud-rate or parity mismatch naming the port and its settings.

:class:`SerialScanner` runs the framer on a port in a thread, reconnects after the scanner is
unplugged, and hands each read to a callback (the agent publishes it on its event stream).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import serial

log = logging.getLogger(__name__)

SUFFIXES = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "TAB": b"\t"}
MAX_CODE = 64  # longer than any linear code or GS1-128 a till reads
AIM_SYMBOLOGIES = {"A": "code39", "C": "code128", "E": "ean/upc", "F": "codabar",
                   "G": "code93", "I": "itf", "Q": "qr", "d": "datamatrix", "e": "gs1_databar"}
GARBAGE_RUN = 3  # this many bad frames in a row: the line settings are probably wrong


@dataclass(frozen=True, slots=True)
class ScanRead:
    code: str
    symbology: str | None = None  # from the AIM identifier, when the scanner sends one


@dataclass
class Framer:
    suffix: bytes = b"\r"
    prefix: bytes = b""
    aim: bool = False
    buffer: bytearray = field(default_factory=bytearray)
    dropped: int = 0
    bad_in_a_row: int = 0

    def feed(self, data: bytes) -> list[ScanRead]:
        """Add received bytes; return the reads they complete."""
        self.buffer += data
        reads: list[ScanRead] = []
        while (end := self.buffer.find(self.suffix)) != -1:
            frame = bytes(self.buffer[:end])
            del self.buffer[:end + len(self.suffix)]
            if self.suffix == b"\r" and frame.startswith(b"\n"):  # a CRLF scanner on CR
                frame = frame[1:]
            read = self._read(frame)
            if read is None:
                self.dropped += 1
                self.bad_in_a_row += 1
            else:
                self.bad_in_a_row = 0
                reads.append(read)
        if len(self.buffer) > MAX_CODE + len(self.prefix) + 3:  # no suffix in sight: noise
            self.buffer.clear()
            self.dropped += 1
            self.bad_in_a_row += 1
        return reads

    @property
    def looks_misconfigured(self) -> bool:
        return self.bad_in_a_row >= GARBAGE_RUN

    def _read(self, frame: bytes) -> ScanRead | None:
        if self.prefix:
            if not frame.startswith(self.prefix):
                return None
            frame = frame[len(self.prefix):]
        symbology = None
        if self.aim and frame.startswith(b"]") and len(frame) >= 3:
            symbology = AIM_SYMBOLOGIES.get(chr(frame[1]), f"aim-{chr(frame[1])}")
            frame = frame[3:]
        if not frame or len(frame) > MAX_CODE or any(b < 0x20 or b > 0x7E for b in frame):
            return None
        return ScanRead(code=frame.decode("ascii"), symbology=symbology)


@dataclass(frozen=True, slots=True)
class ScannerConfig:
    url: str
    baudrate: int = 9600
    parity: str = "N"  # N, E, O
    suffix: str = "CR"
    prefix: str = ""
    aim: bool = False

    @property
    def line(self) -> str:
        return f"{self.baudrate} baud, 8 data bits, parity {self.parity}, 1 stop bit"


class SerialScanner:
    """Reads a scanner in a thread; reconnects; reports reads and its state."""

    def __init__(self, config: ScannerConfig, on_read: Callable[[ScanRead], None],
                 on_state: Callable[[str, str | None], None],
                 reconnect_seconds: float = 2.0) -> None:
        self.config = config
        self._on_read = on_read
        self._on_state = on_state
        self._reconnect = reconnect_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scanner", daemon=True)
        self.state = "unknown"
        self.detail: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _set(self, state: str, detail: str | None) -> None:
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail = state, detail
            self._on_state(state, detail)

    def _run(self) -> None:
        config = self.config
        while not self._stop.is_set():
            try:
                port = serial.serial_for_url(config.url, baudrate=config.baudrate,
                                             parity=config.parity, timeout=0.05)
            except (serial.SerialException, ValueError, OSError) as exc:
                self._set("disconnected", f"{config.url}: {exc}")
                self._stop.wait(self._reconnect)
                continue
            self._set("ready", None)
            framer = Framer(SUFFIXES[config.suffix], config.prefix.encode(), config.aim)
            try:
                while not self._stop.is_set():
                    # One byte (or the timeout), then whatever else has arrived: a read of
                    # N bytes would wait for N, or for the timeout, on every code.
                    data = port.read(1)
                    if not data:
                        continue
                    data += port.read(port.in_waiting)
                    for read in framer.feed(data):
                        self._on_read(read)
                    if framer.looks_misconfigured:
                        self._set("misconfigured", f"garbage from the scanner on {config.url} "
                                                   f"at {config.line}: check the scanner's "
                                                   "baud rate, parity and suffix")
                    elif framer.bad_in_a_row == 0 and self.state == "misconfigured":
                        self._set("ready", None)
            except (serial.SerialException, OSError) as exc:
                log.warning("scanner on %s: %s", config.url, exc)
                self._set("disconnected", f"{config.url}: unplugged ({exc})")
                time.sleep(0)
            finally:
                port.close()
            self._stop.wait(self._reconnect)
