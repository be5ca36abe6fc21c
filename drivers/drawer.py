"""A cash drawer on its own serial port (a drawer with a serial interface, or one wired to a
terminal's serial port).

Such drawers open when a command byte arrives — the ASCII BEL (``07``) on the common
interfaces (APG SerialPRO, IBM SurePOS drawer ports) — whatever the line settings. Where the
drawer reports whether it is open, it does so in one of two ways, chosen in config:

- ``query``: the host sends a status request (``06``, ASCII ACK, on IBM-style ports) and the
  drawer answers one byte; a configured bit of that byte is set while the drawer is closed;
- a modem-status line (``cts``, ``dsr``, ``ri`` or ``dcd``) that the drawer's switch drives,
  high while closed or while open depending on the model.

``none`` means the drawer cannot tell. The port stays open between uses and is reopened after
a fault; blocking I/O, called from a worker thread.
"""

from __future__ import annotations

import termios
from dataclasses import dataclass

import serial

STATUS_MODES = ("none", "query", "cts", "dsr", "ri", "dcd")


class DrawerGone(Exception):
    """The drawer's port cannot be opened or written, or it did not answer a status request."""


@dataclass(frozen=True, slots=True)
class DrawerConfig:
    url: str
    baudrate: int = 9600
    open_command: bytes = b"\x07"
    status: str = "none"
    status_command: bytes = b"\x06"
    closed_bit: int = 0
    line_high_when: str = "closed"
    timeout: float = 1.0


def parse_hex(text: str) -> bytes:
    """``"1B 07"`` or ``"1b07"`` as bytes; ValueError names the problem."""
    cleaned = text.replace(" ", "")
    try:
        data = bytes.fromhex(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is not hex bytes, e.g. '07' or '1B 07'") from None
    if not 1 <= len(data) <= 8:
        raise ValueError("give 1 to 8 bytes, in hex, e.g. '07'")
    return data


class SerialDrawer:
    """Opens the drawer and reads its state over its serial port."""

    def __init__(self, config: DrawerConfig) -> None:
        self.config = config
        self._port: serial.SerialBase | None = None

    @property
    def url(self) -> str:
        return self.config.url

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None

    def _open(self) -> serial.SerialBase:
        if self._port is None:
            try:
                self._port = serial.serial_for_url(self.config.url,
                                                   baudrate=self.config.baudrate,
                                                   timeout=self.config.timeout,
                                                   write_timeout=self.config.timeout)
            except (serial.SerialException, ValueError, OSError, termios.error) as exc:
                raise DrawerGone(f"cash drawer on {self.config.url}: cannot open it at "
                                 f"{self.config.baudrate} baud: {exc}") from exc
        return self._port

    def kick(self) -> None:
        """Send the open command."""
        port = self._open()
        try:
            port.write(self.config.open_command)
            port.flush()
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise DrawerGone(f"cash drawer on {self.config.url}: {exc}") from exc

    def is_open(self) -> bool | None:
        """True/False where the drawer reports it; None when it cannot tell (status none)."""
        mode = self.config.status
        if mode == "none":
            return None
        port = self._open()
        try:
            if mode == "query":
                port.reset_input_buffer()
                port.write(self.config.status_command)
                port.flush()
                answer = port.read(1)
                if not answer:
                    raise DrawerGone(f"cash drawer on {self.config.url} did not answer its "
                                     f"status request ({self.config.status_command.hex(' ')}) "
                                     f"within {self.config.timeout} s")
                return not answer[0] & (1 << self.config.closed_bit)
            high = bool(getattr(port, mode))
        except (serial.SerialException, OSError, termios.error) as exc:
            self.close()
            raise DrawerGone(f"cash drawer on {self.config.url}: cannot read its {mode} "
                             f"status: {exc}") from exc
        return high != (self.config.line_high_when == "closed")
