"""A year's federal payroll tax figures, read from ``config/payroll/federal/YEAR.toml``.

Dollar figures in the file are decimal strings; here they are integer cents, and percentages
stay :class:`~decimal.Decimal`. A year without a file is refused by name: payroll never
guesses a year's tables. Pure apart from reading the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

TAX_DIR = Path(__file__).resolve().parents[2] / "config" / "payroll" / "federal"
FILING_STATUSES = ("single", "married_jointly", "head_of_household")
FREQUENCIES = ("weekly", "biweekly", "semimonthly", "monthly")


class TaxYearError(ValueError):
    """No usable tables for the year; the message says which file and entry."""


@dataclass(frozen=True, slots=True)
class Bracket:
    """One row of an annual percentage-method table: wages at least ``floor_cents`` take
    ``base_cents`` plus ``percent`` of the excess over the floor."""

    floor_cents: int
    base_cents: int
    percent: Decimal


@dataclass(frozen=True, slots=True)
class TaxYear:
    year: int
    line_1g_cents: dict[str, int]
    pay_periods: dict[str, int]
    standard: dict[str, tuple[Bracket, ...]]
    step2_checkbox: dict[str, tuple[Bracket, ...]]
    social_security_percent: Decimal
    social_security_wage_base_cents: int
    medicare_percent: Decimal
    additional_medicare_percent: Decimal
    additional_medicare_threshold_cents: int
    futa_percent: Decimal
    futa_wage_base_cents: int
    elective_deferral_limit_cents: int
    supplemental_percent: Decimal  # optional flat rate on supplemental wages
    supplemental_mandatory_percent: Decimal  # on supplemental wages past the threshold
    supplemental_mandatory_over_cents: int  # in the year
    garnishment_percent: Decimal  # of disposable earnings, at most (CCPA, ordinary)
    garnishment_support_percent: Decimal  # of disposable earnings, at most (support orders)
    garnishment_floor_cents: dict[str, int]  # per pay frequency: disposable pay left alone


def cents(text: Any, where: str) -> int:
    """A dollar amount ("1240", "206583.50") as integer cents; fractions of a cent refused."""
    try:
        value = Decimal(str(text)) * 100
    except InvalidOperation:
        raise TaxYearError(f"{where}: {text!r} is not an amount") from None
    if value != value.to_integral_value() or value < 0:
        raise TaxYearError(f"{where}: {text!r} is not a whole number of cents >= 0")
    return int(value)


def _percent(text: Any, where: str) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise TaxYearError(f"{where}: {text!r} is not a percentage") from None
    if not 0 <= value <= 100:
        raise TaxYearError(f"{where}: {text!r} is not between 0 and 100")
    return value


def _table(rows: Any, where: str) -> tuple[Bracket, ...]:
    if not isinstance(rows, list) or not rows:
        raise TaxYearError(f"{where}: a list of [at least, tentative amount, percent] rows")
    out: list[Bracket] = []
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 3:
            raise TaxYearError(f"{where}[{index}]: [at least, tentative amount, percent]")
        bracket = Bracket(cents(row[0], f"{where}[{index}]"), cents(row[1], f"{where}[{index}]"),
                          _percent(row[2], f"{where}[{index}]"))
        if out and bracket.floor_cents <= out[-1].floor_cents:
            raise TaxYearError(f"{where}[{index}]: rows must rise")
        out.append(bracket)
    if out[0].floor_cents != 0:
        raise TaxYearError(f"{where}: the first row must start at 0")
    return tuple(out)


def _section(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    section = data.get(name)
    if not isinstance(section, dict):
        raise TaxYearError(f"{path.name}: missing [{name}]")
    return section


def load_tax_year(year: int, directory: Path = TAX_DIR) -> TaxYear:
    path = directory / f"{year}.toml"
    if not path.is_file():
        raise TaxYearError(f"no federal tax tables for {year}: add {path.name} to {directory}")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise TaxYearError(f"{path.name}: {exc}") from None
    if data.get("year") != year:
        raise TaxYearError(f"{path.name}: says year = {data.get('year')!r}, not {year}")
    withholding = _section(data, "withholding", path)
    try:
        line_1g = {s: cents(withholding["line_1g"][s], f"line_1g.{s}") for s in FILING_STATUSES}
        periods = {f: int(withholding["pay_periods"][f]) for f in FREQUENCIES}
        standard = {s: _table(withholding["standard"][s], f"standard.{s}")
                    for s in FILING_STATUSES}
        checkbox = {s: _table(withholding["step2_checkbox"][s], f"step2_checkbox.{s}")
                    for s in FILING_STATUSES}
    except (KeyError, TypeError) as exc:
        raise TaxYearError(f"{path.name}: [withholding] lacks {exc}") from None
    social, medicare = _section(data, "social_security", path), _section(data, "medicare", path)
    futa, limits = _section(data, "futa", path), _section(data, "limits", path)
    garnishment = _section(data, "garnishment", path)
    supplemental = _section(data, "supplemental", path)
    try:
        wage = Decimal(cents(garnishment["federal_minimum_wage"], "federal_minimum_wage"))
        floors = {f: int(wage * Decimal(str(garnishment["minimum_wage_hours"][f])))
                  for f in FREQUENCIES}
    except (KeyError, TypeError, InvalidOperation) as exc:
        raise TaxYearError(f"{path.name}: [garnishment] lacks or garbles {exc}") from None
    try:
        return TaxYear(
            year=year, line_1g_cents=line_1g, pay_periods=periods, standard=standard,
            step2_checkbox=checkbox,
            social_security_percent=_percent(social["rate"], "social_security.rate"),
            social_security_wage_base_cents=cents(social["wage_base"], "wage_base"),
            medicare_percent=_percent(medicare["rate"], "medicare.rate"),
            additional_medicare_percent=_percent(medicare["additional_rate"],
                                                 "medicare.additional_rate"),
            additional_medicare_threshold_cents=cents(medicare["additional_threshold"],
                                                      "medicare.additional_threshold"),
            futa_percent=_percent(futa["net_rate"], "futa.net_rate"),
            futa_wage_base_cents=cents(futa["wage_base"], "futa.wage_base"),
            elective_deferral_limit_cents=cents(limits["elective_deferral"],
                                                "limits.elective_deferral"),
            supplemental_percent=_percent(supplemental["flat_rate"], "supplemental.flat_rate"),
            supplemental_mandatory_percent=_percent(supplemental["mandatory_rate"],
                                                    "supplemental.mandatory_rate"),
            supplemental_mandatory_over_cents=cents(supplemental["mandatory_over"],
                                                    "supplemental.mandatory_over"),
            garnishment_percent=_percent(garnishment["percent"], "garnishment.percent"),
            garnishment_support_percent=_percent(garnishment["support_percent"],
                                                 "garnishment.support_percent"),
            garnishment_floor_cents=floors)
    except KeyError as exc:
        raise TaxYearError(f"{path.name}: missing {exc}") from None
