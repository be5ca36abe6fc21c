"""The receipt, laid out in ESC/POS through python-escpos: logo, header, lines with quantities and
discounts, totals, the tax summary, tenders, change, the receipt number as a CODE128 barcode
or a QR code (for returns), and the footer — for 58 mm (32 columns) or 80 mm (48 columns)
paper. Non-ASCII names are printed through python-escpos's code-page selection (ESC t).

Pure layout: it writes commands to any python-escpos printer object (``Dummy`` collects the
bytes), so a print job is made once, as bytes, and sent by whatever transport the store has.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from escpos.escpos import Escpos
from escpos.printer import Dummy
from PIL import Image, UnidentifiedImageError

from sync.money import exponent_of, format_minor

COLUMNS = {58: 32, 80: 48}
DOTS = {58: 384, 80: 576}  # printable dots across at 203 dpi
LOGO_MAX_HEIGHT = 240  # dots (30 mm): a logo, not a poster


class LogoError(ValueError):
    """The logo file cannot be read as an image."""


def logo_bytes(path: Path, width_mm: int) -> bytes:
    """The store's logo as one ESC/POS raster image (GS v 0), centred: converted to black and
    white (dithered), scaled down to fit the paper and at most 30 mm high. Made once at
    start, so printing a receipt costs nothing extra."""
    try:
        with Image.open(path) as source:
            image = source.convert("RGBA")
    except (OSError, UnidentifiedImageError) as exc:
        raise LogoError(f"{path}: not an image Pillow can read ({exc})") from exc
    flat = Image.new("RGBA", image.size, "white")
    flat.alpha_composite(image)
    image = flat.convert("L")
    image.thumbnail((DOTS[width_mm], LOGO_MAX_HEIGHT))
    printer = Dummy()
    printer.set(align="center")
    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos notes the profile's width
        printer.image(image.convert("1"), impl="bitImageRaster", center=False)
    printer.set(align="left")
    return bytes(printer.output)


@dataclass(frozen=True, slots=True)
class ReceiptLayout:
    """How this store's receipts look (from ``[printer]`` in store.toml)."""

    width_mm: int = 80
    header: tuple[str, ...] = ()
    footer: tuple[str, ...] = ("Thank you for shopping with us",)
    number_as: str = "barcode"  # or "qr"
    drawer_pin: int | None = 2  # kick the drawer for cash sales through the printer (2 or 5)
    logo: bytes = b""  # ESC/POS raster bytes from logo_bytes(), printed above the store name
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def columns(self) -> int:
        return COLUMNS[self.width_mm]


def _pair(left: str, right: str, columns: int) -> str:
    room = columns - len(right) - 1
    return f"{left[:room]:<{room}} {right}"


def receipt_number(payload: dict[str, Any]) -> str:
    return f"{payload['terminal_id']}-{payload['receipt_no']:06d}"


def render_sale(printer: Escpos, payload: dict[str, Any], business_date: str,
                layout: ReceiptLayout, store_name: str = "") -> None:
    """Write a sale's receipt (a ``sale.completed`` payload) to ``printer``."""
    columns = layout.columns
    exponent = exponent_of(payload["currency"])

    def money(minor: int) -> str:
        return format_minor(minor, exponent)

    printer.hw("INIT")
    if layout.logo:
        printer._raw(layout.logo)
    printer.set(align="center", bold=True, double_height=True, double_width=True)
    printer.textln(store_name or payload.get("store_name") or "")
    printer.set(align="center", normal_textsize=True)
    for line in layout.header:
        printer.textln(line[:columns])
    printer.set(align="left", normal_textsize=True)
    printer.textln(_pair(f"Receipt {receipt_number(payload)}", business_date, columns))
    printer.textln(_pair(f"Cashier {payload['cashier']}", payload["currency"], columns))
    printer.textln("-" * columns)
    for line in payload["lines"]:
        printer.textln(_pair(line["name"], money(line["amount"]), columns))
        if line["quantity"] != "1":
            printer.textln(f"  {line['quantity']} x {money(line['unit_price'])}")
        if line.get("discount"):
            reason = f"  discount {line.get('discount_reason', '')}".rstrip()
            printer.textln(_pair(reason, "-" + money(line["discount"]), columns))
    printer.textln("-" * columns)
    if payload.get("discount"):
        printer.textln(_pair("Discounts", "-" + money(payload["discount"]), columns))
    printer.textln(_pair("Subtotal", money(payload["subtotal"]), columns))
    label = "incl. tax" if payload.get("prices_include_tax") else "Tax"
    for tax in payload["taxes"]:
        printer.textln(_pair(f"{label} {tax['rate']}% on {money(tax['taxable'])}",
                             money(tax["tax"]), columns))
    printer.set(bold=True, double_height=True)
    printer.textln(_pair("TOTAL", money(payload["total"]), columns))
    printer.set(normal_textsize=True, bold=False)
    for tender in payload["tenders"]:
        ref = f" {tender['reference']}" if tender.get("reference") else ""
        printer.textln(_pair(f"{tender['type'].replace('_', ' ')}{ref}",
                             money(tender["amount"]), columns))
    if payload.get("change_due"):
        printer.textln(_pair("Change", money(payload["change_due"]), columns))
    printer.ln()
    _number(printer, receipt_number(payload), layout)
    printer.set(align="center")
    for line in layout.footer:
        printer.textln(line[:columns])
    printer.cut()
    if layout.drawer_pin and any(t["type"] == "cash" for t in payload["tenders"]):
        printer.cashdraw(layout.drawer_pin)


def _number(printer: Escpos, number: str, layout: ReceiptLayout) -> None:
    """The receipt number, scannable at the till for a return."""
    printer.set(align="center")
    if layout.number_as == "qr":
        printer.qr(number, native=True, size=4)
    else:
        with contextlib.redirect_stdout(io.StringIO()):  # python-escpos prints a notice
            printer.barcode("{B" + number, "CODE128", function_type="B", height=60, width=2,
                            pos="BELOW")


def render_report(printer: Escpos, report: dict[str, Any], layout: ReceiptLayout,
                  store_name: str = "") -> None:
    """An X (mid-shift) or Z (closing) report of a cash session: sales, movements by kind and
    tender, expected against counted per tender, over/short. Money arrives formatted."""
    columns = layout.columns
    printer.hw("INIT")
    printer.set(align="center", bold=True, double_height=True)
    printer.textln(f"{report['report']} REPORT")
    printer.set(align="center", normal_textsize=True)
    if store_name:
        printer.textln(store_name[:columns])
    printer.set(align="left", normal_textsize=True)
    for label, value in (("Session", report["session_id"]), ("Drawer", report["drawer_id"]),
                         ("Business date", report["business_date"]),
                         ("Opened by", report["opened_by"]),
                         ("Closed by", report.get("closed_by") or "-")):
        printer.textln(_pair(label, str(value), columns))
    printer.textln("-" * columns)
    printer.textln(_pair(f"Sales ({report['sales']['count']})", report["sales"]["total"],
                         columns))
    printer.textln(_pair("Float", report["float"], columns))
    for movement in report["movements"]:
        label = f"{movement['kind'].replace('_', ' ')} {movement['tender']} ({movement['count']})"
        printer.textln(_pair(label, movement["amount"], columns))
    printer.textln("-" * columns)
    for tender, amount in sorted(report["expected"].items()):
        printer.textln(_pair(f"Expected {tender.replace('_', ' ')}", amount, columns))
        if "counted" in report:
            printer.textln(_pair(f"Counted {tender.replace('_', ' ')}",
                                 report["counted"].get(tender, "0"), columns))
            printer.set(bold=True)
            printer.textln(_pair(f"Over/short {tender.replace('_', ' ')}",
                                 report["over_short"].get(tender, "0"), columns))
            printer.set(bold=False)
    printer.cut()


def report_bytes(report: dict[str, Any], layout: ReceiptLayout, store_name: str = "") -> bytes:
    printer = Dummy()
    render_report(printer, report, layout, store_name)
    return bytes(printer.output)


def render_check_page(printer: Escpos, layout: ReceiptLayout, store_name: str) -> None:
    """``backoffice devices test``: a page that shows the printer works end to end."""
    printer.hw("INIT")
    if layout.logo:
        printer._raw(layout.logo)
    printer.set(align="center", bold=True)
    printer.textln(f"{store_name} printer test")
    printer.set(align="left", normal_textsize=True)
    printer.textln(f"{layout.width_mm} mm paper, {layout.columns} columns")
    printer.textln("0123456789" * (layout.columns // 10))
    printer.textln("Crème brûlée, Smørrebrød, Ærø")
    _number(printer, "TEST-000000", layout)
    printer.cut()


def sale_bytes(payload: dict[str, Any], business_date: str, layout: ReceiptLayout,
               store_name: str = "") -> bytes:
    """A sale's receipt as the ESC/POS bytes a printer is sent."""
    printer = Dummy()
    render_sale(printer, payload, business_date, layout, store_name)
    return bytes(printer.output)


def check_page_bytes(layout: ReceiptLayout, store_name: str) -> bytes:
    printer = Dummy()
    render_check_page(printer, layout, store_name)
    return bytes(printer.output)
