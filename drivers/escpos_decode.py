"""Reading ESC/POS back: the bytes a printer receives turned into what it would print — text
lines (in the code page selected with ESC t), raster images (GS v 0), barcodes and QR codes
with their data, cuts and drawer kicks — plus the real-time status requests (DLE EOT n) a
driver asked. The printer emulator uses it, and tests read receipts back with it.

Commands it does not print (alignment, emphasis, sizes, line spacing) are parsed and skipped
by their documented lengths, so an unknown-but-well-formed job never derails the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, DLE, LF = 0x1B, 0x1D, 0x10, 0x0A

CODE_PAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 13: "cp857",
              14: "cp737", 16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858",
              39: "iso8859_2", 40: "iso8859_15", 45: "cp1250", 46: "cp1251", 47: "cp1253",
              48: "cp1254", 49: "cp1255", 50: "cp1256", 51: "cp1257", 52: "cp1258"}

# Fixed-length commands: ESC x / GS x followed by this many argument bytes.
_ESC_ARGS = {ord("!"): 1, ord("-"): 1, ord("2"): 0, ord("3"): 1, ord("@"): 0, ord("E"): 1,
             ord("G"): 1, ord("M"): 1, ord("R"): 1, ord("V"): 1, ord("a"): 1, ord("d"): 1,
             ord("t"): 1, ord("{"): 1, ord("J"): 1, ord("c"): 2, ord("="): 1}
_GS_ARGS = {ord("!"): 1, ord("B"): 1, ord("H"): 1, ord("L"): 2, ord("W"): 2, ord("b"): 1,
            ord("f"): 1, ord("h"): 1, ord("w"): 1, ord("a"): 1}


@dataclass(frozen=True)
class RasterImage:
    """A GS v 0 raster image: ``rows`` of ``width`` dots, 1 = black, and the number of text
    lines printed before it."""

    width: int
    height: int
    rows: tuple[bytes, ...]
    at_line: int

    def dot(self, x: int, y: int) -> bool:
        return bool(self.rows[y][x // 8] & (0x80 >> (x % 8)))


@dataclass
class Printout:
    """What a job printed, in order."""

    lines: list[str] = field(default_factory=list)
    barcodes: list[str] = field(default_factory=list)
    qr_codes: list[str] = field(default_factory=list)
    images: list[RasterImage] = field(default_factory=list)
    cuts: int = 0
    drawer_kicks: list[int] = field(default_factory=list)  # pin 2 or 5
    status_requests: list[int] = field(default_factory=list)  # DLE EOT n
    unknown: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class DecodeFault(ValueError):
    """The bytes end in the middle of a command."""


def decode(data: bytes) -> Printout:
    out = Printout()
    line = bytearray()
    codec = CODE_PAGES[0]
    qr_data = b""
    i, n = 0, len(data)

    def need(count: int) -> bytes:
        if i + count > n:
            raise DecodeFault(f"job ends inside a command at byte {i}")
        return data[i:i + count]

    def flush() -> None:
        out.lines.append(bytes(line).decode(codec, "replace"))
        line.clear()

    while i < n:
        byte = data[i]
        i += 1
        if byte == LF:
            flush()
        elif byte == ESC:
            command = need(1)[0]
            i += 1
            if command == ord("p"):  # drawer kick: ESC p m t1 t2
                pin = need(3)[0]
                i += 3
                out.drawer_kicks.append(5 if pin in (1, 0x31) else 2)
            elif command == ord("t"):
                page = need(1)[0]
                i += 1
                codec = CODE_PAGES.get(page, codec)
            elif command == ord("d"):  # print and feed n lines
                count = need(1)[0]
                i += 1
                if line:
                    flush()
                out.lines.extend([""] * max(0, count - 1))
            elif command in _ESC_ARGS:
                i += _ESC_ARGS[command]
            else:
                out.unknown.append(f"ESC {command:#04x}")
        elif byte == GS:
            command = need(1)[0]
            i += 1
            if command == ord("V"):  # cut: GS V m [n]
                mode = need(1)[0]
                i += 2 if mode in (65, 66) else 1
                out.cuts += 1
            elif command == ord("v") and need(1)[0] == ord("0"):  # GS v 0 m xL xH yL yH d...
                x_low, x_high, y_low, y_high = need(6)[2:]  # [1] is m, the dot density
                i += 6
                width_bytes, height = x_low + 256 * x_high, y_low + 256 * y_high
                body = need(width_bytes * height)
                i += width_bytes * height
                if line:
                    flush()
                out.images.append(RasterImage(
                    width=width_bytes * 8, height=height,
                    rows=tuple(body[r * width_bytes:(r + 1) * width_bytes]
                               for r in range(height)), at_line=len(out.lines)))
            elif command == ord("k"):  # barcode
                kind = need(1)[0]
                i += 1
                if kind <= 6:  # NUL-terminated form
                    end = data.index(0, i)
                    payload, i = data[i:end], end + 1
                else:
                    length = need(1)[0]
                    i += 1
                    payload = need(length)
                    i += length
                text = payload.decode("ascii", "replace")
                if text.startswith("{") and len(text) > 1:  # CODE128 code-set prefix
                    text = text[2:]
                out.barcodes.append(text)
            elif command == ord("(") and need(1)[0] == ord("k"):  # 2D code: GS ( k pL pH cn fn
                i += 1
                low, high = need(2)
                i += 2
                body = need(low + 256 * high)
                i += low + 256 * high
                if body[:2] == b"1P":  # store the data
                    qr_data = body[3:]
                elif body[:2] == b"1Q":  # print it
                    out.qr_codes.append(qr_data.decode("utf-8", "replace"))
            elif command in _GS_ARGS:
                i += _GS_ARGS[command]
            else:
                out.unknown.append(f"GS {command:#04x}")
        elif byte == DLE:
            if need(1)[0] == 0x04:  # DLE EOT n: real-time status request
                out.status_requests.append(need(2)[1])
                i += 2
            else:
                i += 1
        elif byte >= 0x20 or byte == 0x09:
            line.append(byte)
    if line:
        flush()
    return out
