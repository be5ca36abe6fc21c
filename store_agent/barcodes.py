"""What a scanned code means: a GTIN to look up, or a variable-measure label from a scale that
carries its own price or weight. Pure; check digits through python-stdnum.

Variable-measure codes (GS1 prefixes 02 and 20-29, for in-store use) differ by country, so
their layout is data: a :class:`LabelRules` maps each prefix to what the value is (a price in
minor units or a weight in grams) and a layout, one letter per digit:

- ``P`` the prefix, ``I`` the item reference, ``V`` the value,
- ``X`` a digit the layout carries but that is not read (e.g. a price check digit; the
  code's own check digit already guards every digit),
- ``C`` the GS1 check digit (last).

The item is found through its ``prefix + item`` digits (``2012345`` for
``20 12345 00349 C``), which the catalog lists among the product's barcodes. The default
rules are the common ones: ``20``-``24`` price and ``25``-``29`` weight as
``PP IIIII VVVVV C``, and ``02`` price as ``PP IIIII X VVVV C`` (the EAN-13 form of a
US/Canadian random-weight UPC-A). A layout may also be 12 digits long (a UPC-A as the
scanner sends it, e.g. ``P IIIII X VVVV C`` for prefix ``2``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from stdnum import ean

_LAYOUT = re.compile(r"^(P+)([IVX]+)C$")
PRICE, WEIGHT = "price", "weight"

DEFAULT_LABEL_RULES: Mapping[str, str] = {
    "02": "price PPIIIIIXVVVVC",
    **{str(p): "price PPIIIIIVVVVVC" for p in range(20, 25)},
    **{str(p): "weight PPIIIIIVVVVVC" for p in range(25, 30)},
}


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


@dataclass(frozen=True, slots=True)
class LabelRule:
    """One prefix's layout: ``measure`` is price or weight; ``layout`` one letter per digit."""

    prefix: str
    measure: str
    layout: str

    def split(self, code: str) -> ScannedCode:
        item = "".join(d for d, role in zip(code, self.layout, strict=True) if role in "PI")
        value = int("".join(d for d, role in zip(code, self.layout, strict=True) if role == "V"))
        if self.measure == PRICE:
            return ScannedCode(lookup=item, embedded_price_minor=value)
        return ScannedCode(lookup=item, embedded_weight_kg=Decimal(value) / 1000)


@dataclass(frozen=True, slots=True)
class LabelRules:
    """The store's variable-measure label rules, by code length and prefix."""

    rules: tuple[LabelRule, ...]

    @classmethod
    def parse(cls, spec: Mapping[str, str]) -> LabelRules:
        """Rules from ``{prefix: "price LAYOUT" | "weight LAYOUT"}``; ValueError names the
        first problem."""
        rules = tuple(_rule(prefix, text) for prefix, text in spec.items())
        for a in rules:
            for b in rules:
                if a is not b and len(a.layout) == len(b.layout) and \
                        b.prefix.startswith(a.prefix):
                    raise ValueError(f"prefixes {a.prefix!r} and {b.prefix!r} overlap for "
                                     f"{len(a.layout)}-digit codes; a code must match one rule")
        return cls(rules)

    def rule_for(self, code: str) -> LabelRule | None:
        for rule in self.rules:
            if len(rule.layout) == len(code) and code.startswith(rule.prefix):
                return rule
        return None


def _rule(prefix: str, text: str) -> LabelRule:
    measure, _, layout = text.strip().partition(" ")
    layout = layout.replace(" ", "").upper()
    where = f"label prefix {prefix!r}"
    if not prefix.isdigit() or not 1 <= len(prefix) <= 3:
        raise ValueError(f"{where}: a prefix is 1 to 3 digits, e.g. '20'")
    if measure not in (PRICE, WEIGHT):
        raise ValueError(f"{where}: say 'price LAYOUT' or 'weight LAYOUT', got {text!r}")
    shape = _LAYOUT.fullmatch(layout)
    if len(layout) not in (12, 13) or shape is None:
        raise ValueError(f"{where}: layout {layout!r} must be 12 or 13 letters: P for the "
                         "prefix first, then I (item), V (value), X (not read), C last")
    if len(shape.group(1)) != len(prefix):
        raise ValueError(f"{where}: the layout has {len(shape.group(1))} P digits for a "
                         f"{len(prefix)}-digit prefix")
    body = shape.group(2)
    if "I" not in body or not 1 <= body.count("V") <= 6:
        raise ValueError(f"{where}: a layout needs item digits (I) and 1 to 6 value digits (V)")
    return LabelRule(prefix=prefix, measure=measure, layout=layout)


DEFAULT_LABELS = LabelRules.parse(DEFAULT_LABEL_RULES)


def interpret(code: str, labels: LabelRules = DEFAULT_LABELS) -> ScannedCode:
    """Validate a scanned numeric code and split scale labels into item and value.

    Codes that are not all digits (internal codes, QR payloads) are passed through unchecked;
    8, 12, 13 and 14-digit codes must carry a valid GS1 check digit.
    """
    code = code.strip()
    if not code.isdigit():
        return ScannedCode(lookup=code)
    if len(code) in (8, 12, 13, 14) and not ean.is_valid(code):
        raise InvalidBarcode(code, "wrong check digit (a misread or a mistyped code)")
    rule = labels.rule_for(code)
    return rule.split(code) if rule is not None else ScannedCode(lookup=code)


def variable_measure_label(prefix: str, item: str, value: int,
                           labels: LabelRules = DEFAULT_LABELS) -> str:
    """Build a scale label (as a scale prints it) by the prefix's rule: for tests, emulators
    and the demo. ``X`` digits are printed as 0."""
    rule = next((r for r in labels.rules if r.prefix == prefix), None)
    if rule is None:
        raise ValueError(f"no label rule for prefix {prefix!r}")
    values = str(value).rjust(rule.layout.count("V"), "0")
    if len(item) != rule.layout.count("I") or not item.isdigit() or \
            len(values) != rule.layout.count("V") or value < 0:
        raise ValueError(f"prefix {prefix}: a {rule.layout.count('I')}-digit item and a value "
                         f"of at most {rule.layout.count('V')} digits")
    parts = {"P": iter(prefix), "I": iter(item), "V": iter(values), "X": iter("0" * 13)}
    body = "".join(next(parts[role]) for role in rule.layout[:-1])
    return body + ean.calc_check_digit(body)
