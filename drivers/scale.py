"""Scales over serial: the Mettler-Toledo 8217 protocol and the NCI (Weigh-Tronix) general
protocol, both request/response. A read is stable, in motion, over capacity or under zero;
a scale that does not answer in time is offline.

- Mettler-Toledo 8217: the host sends ``W``; a stable weight comes back as
  ``STX dd.ddd CR`` (kilograms); otherwise ``STX ? status CR`` where the status byte's bit 0 is
  "in motion", bit 1 "over capacity", bit 2 "under zero" (bits 5 and 6 always set).
- NCI: the host sends ``W CR``; the scale answers ``LF wwww.www kg CR LF hh CR ETX``: the
  weight line, then two status characters. In the first, bit 0 is "in motion", bit 1
  "at zero", bit 2 "RAM error"; in the second, bit 0 "under capacity" (below zero), bit 1
  "over capacity". An unstable or over/under scale still sends a weight line; the status says
  it must not be used.
"""

from __future__ import annotations

import termios
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import serial

STX, ETX, CR, LF = 0x02, 0x03, 0x0D, 0x0A


class ScaleState(StrEnum):
    STABLE = "stable"
    IN_MOTION = "in_motion"
    OVER_CAPACITY = "over_capacity"
    UNDER_ZERO = "under_zero"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Weighing:
    state: ScaleState
    kilograms: Decimal | None = None  # only when stable


class ScaleFault(Exception):
    def __init__(self, state: ScaleState, detail: str) -> None:
        self.state = state
        super().__init__(detail)


# --- Mettler-Toledo 8217 ---------------------------------------------------------------------

def mt8217_request() -> bytes:
    return b"W"


def mt8217_answer(weighing: Weighing) -> bytes:
    """What an 8217 scale sends (for the emulator)."""
    if weighing.state == ScaleState.STABLE and weighing.kilograms is not None:
        return bytes((STX,)) + f"{weighing.kilograms:06.3f}".encode() + bytes((CR,))
    bits = {ScaleState.IN_MOTION: 0x01, ScaleState.OVER_CAPACITY: 0x02,
            ScaleState.UNDER_ZERO: 0x04}.get(weighing.state, 0)
    return bytes((STX, ord("?"), 0x60 | bits, CR))


def mt8217_parse(frame: bytes) -> Weighing:
    if len(frame) < 3 or frame[0] != STX or frame[-1] != CR:
        raise ValueError(f"not an 8217 answer: {frame!r}")
    body = frame[1:-1]
    if body.startswith(b"?"):
        status = body[1] if len(body) > 1 else 0
        if status & 0x02:
            return Weighing(ScaleState.OVER_CAPACITY)
        if status & 0x04:
            return Weighing(ScaleState.UNDER_ZERO)
        return Weighing(ScaleState.IN_MOTION)
    try:
        return Weighing(ScaleState.STABLE, Decimal(body.decode("ascii")))
    except (InvalidOperation, UnicodeDecodeError):
        raise ValueError(f"not an 8217 weight: {body!r}") from None


# --- NCI general protocol --------------------------------------------------------------------

def nci_request() -> bytes:
    return b"W\r"


def nci_answer(weighing: Weighing) -> bytes:
    kilograms = weighing.kilograms if weighing.kilograms is not None else Decimal(0)
    first = 0x30 | (0x01 if weighing.state == ScaleState.IN_MOTION else 0)
    second = 0x30 | {ScaleState.UNDER_ZERO: 0x01, ScaleState.OVER_CAPACITY: 0x02}.get(
        weighing.state, 0)
    return (bytes((LF,)) + f"{kilograms:08.3f}kg".encode() + bytes((CR, LF, first, second, CR,
                                                                    ETX)))


def nci_parse(frame: bytes) -> Weighing:
    if len(frame) < 8 or frame[0] != LF or frame[-1] != ETX:
        raise ValueError(f"not an NCI answer: {frame!r}")
    weight_line, _, rest = frame[1:].partition(bytes((CR, LF)))
    if len(rest) < 3:
        raise ValueError(f"NCI answer without status: {frame!r}")
    first, second = rest[0], rest[1]
    if second & 0x02:
        return Weighing(ScaleState.OVER_CAPACITY)
    if second & 0x01:
        return Weighing(ScaleState.UNDER_ZERO)
    if first & 0x01:
        return Weighing(ScaleState.IN_MOTION)
    text = weight_line.decode("ascii", "replace").strip()
    for unit in ("kg", "lb", "g"):
        text = text.removesuffix(unit)
    try:
        return Weighing(ScaleState.STABLE, Decimal(text.strip()))
    except InvalidOperation:
        raise ValueError(f"not an NCI weight: {weight_line!r}") from None


PROTOCOLS = {"mt8217": (mt8217_request, mt8217_parse, bytes((CR,))),
             "nci": (nci_request, nci_parse, bytes((ETX,)))}


class Scale:
    """A scale on a serial port, kept open between weighings and reopened after a fault."""

    def __init__(self, url: str, protocol: str = "mt8217", baudrate: int = 9600,
                 parity: str = "E", bytesize: int = 7, timeout: float = 1.0) -> None:
        self.url, self.protocol, self.baudrate = url, protocol, baudrate
        self.parity, self.bytesize, self.timeout = parity, bytesize, timeout
        self._port: serial.SerialBase | None = None

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None

    def _open(self) -> serial.SerialBase:
        if self._port is None:
            try:
                self._port = serial.serial_for_url(
                    self.url, baudrate=self.baudrate, parity=self.parity,
                    bytesize=self.bytesize, timeout=self.timeout)
            except (serial.SerialException, ValueError, OSError, termios.error) as exc:
                raise ScaleFault(ScaleState.OFFLINE, f"scale on {self.url}: cannot open it "
                                                     f"at {self.baudrate} baud, "
                                                     f"{self.bytesize}{self.parity}1: {exc}"
                                 ) from exc
        return self._port

    def weigh(self) -> Weighing:
        """Ask for the weight (blocking; call from a thread). Raises ScaleFault when offline."""
        request, parse, terminator = PROTOCOLS[self.protocol]
        port = self._open()
        try:
            port.reset_input_buffer()
            port.write(request())
            answer = port.read_until(terminator, size=64)
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise ScaleFault(ScaleState.OFFLINE, f"scale on {self.url}: {exc}") from exc
        if not answer.endswith(terminator):
            raise ScaleFault(ScaleState.OFFLINE, f"scale on {self.url} did not answer within "
                                                 f"{self.timeout} s ({self.protocol}, "
                                                 f"{self.baudrate} baud, {self.bytesize}"
                                                 f"{self.parity}1)")
        try:
            return parse(answer)
        except ValueError as exc:
            raise ScaleFault(ScaleState.OFFLINE, f"scale on {self.url}: {exc} — check the "
                                                 "protocol and line settings") from exc
