"""What a scanned code means: a GTIN to look up, or a variable-measure EAN-13 from a scale label
that carries its own price or weight. Pure; check digits through python-stdnum.

Variable-measure EAN-13 (GS1 prefixes 20-29, in-store use) are laid out here as
``PP IIIII VVVVV C``: a 2-digit prefix, a 5-digit item reference, a 5-digit value and the
check digit. Prefixes 20-24 carry a price in minor units, 25-29 a weight in grams. The item is
found through its 7-digit ``PPIIIII`` code, which the catalog lists among the product's
barcodes. (Layouts differ by country; this is the common one and the one documented.)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from stdnum import ean

PRICE_PREFIXES = frozenset({"20", "21", "22", "23", "24"})
WEIGHT_PREFIXES = frozenset({"25", "26", "27", "28", "29"})


class InvalidBarcode(ValueError):
    def __init__(self, code: str, problem: str) -> None:
        self.code = code
        super().__init__(f"barcode {code!r}: {problem}")


@dataclass(frozen=True, slots=True)
class ScannedCode:
    """A code to look up (``lookup``) and, for scale labels, the price or weight it carries."""

    lookup: str
    embedded_price_minor: int | None = None
    embedded_weight_kg: Decimal | None = None


def interpret(code: str) -> ScannedCode:
    """Validate a scanned numeric code and split scale labels into item and value.

    Codes that are not all digits (internal codes, QR payloads) are passed through unchecked;
    8, 12, 13 and 14-digit codes must carry a valid GS1 check digit.
    """
    code = code.strip()
    if not code.isdigit():
        return ScannedCode(lookup=code)
    if len(code) in (8, 12, 13, 14) and not ean.is_valid(code):
        raise InvalidBarcode(code, "wrong check digit (a misread or a mistyped code)")
    if len(code) == 13 and code[:2] in PRICE_PREFIXES:
        return ScannedCode(lookup=code[:7], embedded_price_minor=int(code[7:12]))
    if len(code) == 13 and code[:2] in WEIGHT_PREFIXES:
        return ScannedCode(lookup=code[:7], embedded_weight_kg=Decimal(int(code[7:12])) / 1000)
    return ScannedCode(lookup=code)


def variable_measure_label(prefix: str, item: str, value: int) -> str:
    """Build a scale label (as a scale prints it): for tests, emulators and the demo."""
    if prefix not in PRICE_PREFIXES | WEIGHT_PREFIXES or len(item) != 5 or not 0 <= value < 10**5:
        raise ValueError("prefix 20-29, a 5-digit item and a value below 100000")
    body = f"{prefix}{item}{value:05d}"
    return body + ean.calc_check_digit(body)
