"""Overtime as data: a workweek's worked minutes per workday split into straight time and
the premium tiers of a rule set (``config/payroll/overtime.toml``). Pure.

Every worked minute lands in exactly one tier, so regular + overtime minutes always equal
the minutes worked. Daily (or seventh-day) tiers are applied first, day by day; then the
weekly threshold converts the week's straight-time minutes past it, in day order, to the
weekly tier — minutes already paid at a premium never count towards it again.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

OVERTIME_FILE = Path(__file__).resolve().parents[2] / "config" / "payroll" / "overtime.toml"
STRAIGHT = Decimal(1)


@dataclass(frozen=True, slots=True)
class Tier:
    over_minutes: int
    multiplier: Decimal


@dataclass(frozen=True, slots=True)
class RuleSet:
    code: str
    name: str
    daily: tuple[Tier, ...] = ()
    weekly: tuple[Tier, ...] = ()
    seventh_day: tuple[Tier, ...] = ()


@dataclass(frozen=True, slots=True)
class OvertimeRules:
    rule_sets: dict[str, RuleSet]
    locations: dict[str, str]
    default: str

    def for_location(self, state: str | None) -> RuleSet:
        return self.rule_sets[self.locations.get((state or "").upper(), self.default)]


def _tiers(rows: object, where: str) -> tuple[Tier, ...]:
    if not isinstance(rows, list):
        raise ValueError(f"{where}: a list of {{over_hours, multiplier}}")
    tiers = []
    for row in rows:
        over = Decimal(str(row["over_hours"])) * 60
        if over != over.to_integral_value() or over < 0:
            raise ValueError(f"{where}: over_hours must be whole minutes >= 0")
        multiplier = Decimal(str(row["multiplier"]))
        if multiplier < 1:
            raise ValueError(f"{where}: a multiplier below 1 is not overtime")
        tiers.append(Tier(int(over), multiplier))
    if [t.over_minutes for t in tiers] != sorted({t.over_minutes for t in tiers}):
        raise ValueError(f"{where}: thresholds must rise")
    return tuple(tiers)


def load_overtime_rules(path: Path = OVERTIME_FILE) -> OvertimeRules:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    sets = {code: RuleSet(code, str(spec.get("name", code)),
                          _tiers(spec.get("daily", []), f"{code}.daily"),
                          _tiers(spec.get("weekly", []), f"{code}.weekly"),
                          _tiers(spec.get("seventh_day", []), f"{code}.seventh_day"))
            for code, spec in data.get("rule_sets", {}).items()}
    default = str(data.get("default", ""))
    locations = {str(k).upper(): str(v) for k, v in data.get("locations", {}).items()}
    for name in [default, *locations.values()]:
        if name not in sets:
            raise ValueError(f"{path.name}: no rule set {name!r}")
    return OvertimeRules(sets, locations, default)


def _split(minutes: int, tiers: tuple[Tier, ...]) -> dict[Decimal, int]:
    """``minutes`` of one day over the tiers: below the first threshold is straight time."""
    out: dict[Decimal, int] = {}
    bounds = [(0, STRAIGHT)] + [(t.over_minutes, t.multiplier) for t in tiers]
    for index, (start, multiplier) in enumerate(bounds):
        end = bounds[index + 1][0] if index + 1 < len(bounds) else None
        part = max(min(minutes, end) - start, 0) if end is not None else max(minutes - start, 0)
        if part:
            out[multiplier] = out.get(multiplier, 0) + part
    return out


@dataclass(frozen=True, slots=True)
class WorkweekSplit:
    """Minutes per multiplier for the week, and per workday (for the stub and audits)."""

    by_multiplier: dict[Decimal, int]
    by_day: dict[date, dict[Decimal, int]]

    @property
    def worked(self) -> int:
        return sum(self.by_multiplier.values())


def split_workweek(days: dict[date, int], rules: RuleSet) -> WorkweekSplit:
    """``days``: minutes worked per workday of one workweek (at most seven days)."""
    if len(days) > 7:
        raise ValueError("a workweek has seven days")
    if any(m < 0 for m in days.values()):
        raise ValueError("worked minutes cannot be negative")
    ordered = sorted(days)
    worked_days = [d for d in ordered if days[d] > 0]
    seventh = worked_days[-1] if len(worked_days) == 7 else None
    by_day: dict[date, dict[Decimal, int]] = {}
    for day in ordered:
        tiers = rules.seventh_day if day == seventh and rules.seventh_day else rules.daily
        by_day[day] = _split(days[day], tiers)
    if rules.weekly:
        straight_so_far = 0
        for day in ordered:
            straight = by_day[day].get(STRAIGHT, 0)
            for tier in reversed(rules.weekly):  # the highest tier the week reaches first
                past = max(straight_so_far + straight - tier.over_minutes, 0)
                moved = min(past, straight)
                if moved:
                    split = by_day[day]
                    split[STRAIGHT] -= moved
                    # a weekly tier never lowers a day's premium: only straight time moves
                    split[tier.multiplier] = split.get(tier.multiplier, 0) + moved
                    straight -= moved
            straight_so_far += by_day[day].get(STRAIGHT, 0)
            if not by_day[day].get(STRAIGHT, 1):
                by_day[day].pop(STRAIGHT)
    total: dict[Decimal, int] = {}
    for split in by_day.values():
        for multiplier, minutes in split.items():
            total[multiplier] = total.get(multiplier, 0) + minutes
    return WorkweekSplit(total, by_day)
