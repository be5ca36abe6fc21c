"""Variable-measure label rules as data: the default layouts, other countries' layouts, and
rule sets that are refused with a reason."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from stdnum import ean

from config import ConfigValueError, load_agent_settings
from store_agent.barcodes import LabelRules, interpret, variable_measure_label


def test_prefix_02_is_a_price_with_a_price_check_digit_that_is_not_read() -> None:
    # 02 12345 7 0349 C: the digit after the item is the price check digit, skipped.
    body = "021234570349"
    scanned = interpret(body + ean.calc_check_digit(body))
    assert (scanned.lookup, scanned.embedded_price_minor) == ("0212345", 349)


def test_a_twelve_digit_upc_a_rule_reads_a_us_random_weight_label() -> None:
    rules = LabelRules.parse({"2": "price PIIIIIXVVVVC"})
    body = "24321001299"  # 2 43210 0 1299
    scanned = interpret(body + ean.calc_check_digit(body), rules)
    assert (scanned.lookup, scanned.embedded_price_minor) == ("243210", 1299)
    # The default 13-digit rules do not apply to a 12-digit code, and vice versa.
    assert interpret(body + ean.calc_check_digit(body)).embedded_price_minor is None


def test_a_four_digit_item_and_six_digit_weight_layout() -> None:
    rules = LabelRules.parse({"28": "weight PPIIIIVVVVVVC"})
    label = variable_measure_label("28", "0042", 12500, rules)
    scanned = interpret(label, rules)
    assert (scanned.lookup, scanned.embedded_weight_kg) == ("280042", Decimal("12.5"))
    # A prefix the store did not configure is an ordinary GTIN.
    assert interpret(variable_measure_label("25", "12345", 1), rules).embedded_weight_kg is None


@pytest.mark.parametrize(("spec", "problem"), [
    ({"20": "price PPIIIIIVVVVV"}, "must be 12 or 13 letters"),
    ({"20": "price PIIIIIIVVVVVC"}, "1 P digits for a 2-digit prefix"),
    ({"20": "volume PPIIIIIVVVVVC"}, "'price LAYOUT' or 'weight LAYOUT'"),
    ({"2a": "price PPIIIIIVVVVVC"}, "1 to 3 digits"),
    ({"20": "price PPVVVVVVVVVVC"}, "needs item digits"),
    ({"2": "price PIIIIIIVVVVVC", "20": "weight PPIIIIIVVVVVC"}, "overlap"),
])
def test_bad_rules_are_refused_with_the_reason(spec: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        LabelRules.parse(spec)


def _store_toml(tmp_path: Path, labels: str) -> Path:
    path = tmp_path / "store.toml"
    path.write_text(f"""
[store]
id = "S001"
timezone = "America/New_York"
[head_office]
url = "http://127.0.0.1:1"
sync_token = "{"t" * 32}"
[terminals]
T1 = "{"a" * 32}"
{labels}
""", encoding="utf-8")
    return path


def test_the_store_file_sets_the_label_rules(tmp_path: Path) -> None:
    settings = load_agent_settings(_store_toml(tmp_path, '[labels.prefixes]\n'
                                                         '"2" = "price PIIIIIXVVVVC"\n'), env={})
    assert dict(settings.labels.prefixes) == {"2": "price PIIIIIXVVVVC"}
    assert len(load_agent_settings(_store_toml(tmp_path, ""), env={}).labels.prefixes) == 11


def test_a_bad_layout_in_the_store_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigValueError, match=r"labels\.prefixes.*layout 'PPIII'"):
        load_agent_settings(_store_toml(tmp_path, '[labels.prefixes]\n"20" = "price PPIII"\n'),
                            env={})
