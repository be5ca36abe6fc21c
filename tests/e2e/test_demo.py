"""``backoffice demo`` end to end: it reconciles, and it fails loudly on a wrong sync token."""

from __future__ import annotations

from pathlib import Path

from backoffice.demo.processes import run_command
from tests.integration.helpers import bean_check


async def test_demo_reconciles_every_store(tmp_path: Path) -> None:
    status, output = await run_command(["demo", "--stores", "2", "--sales", "8", "--workdir",
                                        str(tmp_path)])
    assert status == 0, output
    assert "every store ledger reconciles with head office" in output
    assert "head office is unreachable" in output  # S002 was offline in the morning
    assert output.count(" ok") >= 2
    flat = " ".join(output.split())
    assert "(balanced)" in flat and "books verify:" in flat and "agrees with the events" in flat
    # The demo's books, exported, pass beancount's own checker.
    await bean_check(tmp_path / "books.beancount")


async def test_demo_with_a_wrong_token_names_the_store_and_exits_1() -> None:
    status, output = await run_command(["demo", "--stores", "2", "--sales", "4",
                                        "--wrong-token", "S002"])
    assert status == 1, output
    flat = " ".join(output.split())
    assert "store S002 did not reconcile" in flat
    assert "refused store S002's sync token" in flat
    assert "MISMATCH" in output


async def test_demo_rejects_an_unknown_store_for_wrong_token() -> None:
    status, output = await run_command(["demo", "--stores", "2", "--wrong-token", "S009"])
    assert status == 2
    assert "S009" in output
