"""Customer (pole) display, 2 lines x 20 characters, over serial: the CD5220 command set or the
ESC/POS line-display commands (Epson DM-D and compatibles). Pure encoders for both, and a small
driver that writes a screen to the port.

- CD5220: ``ESC @`` initialise, ``ESC Q A text CR`` upper line, ``ESC Q B text CR`` lower line.
- ESC/POS: ``ESC @`` initialise, ``FF`` clear, ``US $ x y`` move the cursor, then the text.

Text is padded or cut to 20 columns and sent in code page 437 (what both families show by
default); characters it cannot show become ``?``.
"""

from __future__ import annotations

from dataclasses import dataclass

import serial

COLUMNS = 20
ESC, FF, CR, US = b"\x1b", b"\x0c", b"\r", b"\x1f"


def fit(text: str) -> bytes:
    return text[:COLUMNS].ljust(COLUMNS).encode("cp437", "replace")


def cd5220_screen(upper: str, lower: str) -> bytes:
    return (ESC + b"@" + ESC + b"QA" + fit(upper) + CR + ESC + b"QB" + fit(lower) + CR)


def escpos_screen(upper: str, lower: str) -> bytes:
    return (ESC + b"@" + FF + US + b"$\x01\x01" + fit(upper) + US + b"$\x01\x02" + fit(lower))


ENCODERS = {"cd5220": cd5220_screen, "escpos": escpos_screen}


class DisplayGone(Exception):
    pass


@dataclass(frozen=True, slots=True)
class LineDisplay:
    url: str
    protocol: str = "cd5220"
    baudrate: int = 9600
    timeout: float = 2.0

    def show(self, upper: str, lower: str = "") -> None:
        """Put two lines on the display (blocking; call from a thread)."""
        data = ENCODERS[self.protocol](upper, lower)
        try:
            port = serial.serial_for_url(self.url, baudrate=self.baudrate,
                                         write_timeout=self.timeout)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise DisplayGone(f"customer display on {self.url}: {exc}") from exc
        try:
            port.write(data)
            port.flush()
        except (serial.SerialException, OSError) as exc:
            raise DisplayGone(f"customer display on {self.url}: {exc}") from exc
        finally:
            port.close()
