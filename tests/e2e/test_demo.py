"""``backoffice demo`` end to end: it reconciles, and it fails loudly on a wrong sync token."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from backoffice.demo.processes import run_command


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
    checker = shutil.which("bean-check") or str(Path(sys.executable).parent / "bean-check")
    process = await asyncio.create_subprocess_exec(
        checker, str(tmp_path / "books.beancount"), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    checked, _ = await process.communicate()
    assert process.returncode == 0, checked.decode()


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
