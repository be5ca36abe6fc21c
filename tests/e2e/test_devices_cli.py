"""``backoffice devices test`` against the printer emulator on a loopback port."""

from __future__ import annotations

from pathlib import Path

from backoffice.demo.processes import run_command
from drivers.emulators import NetworkPrinter
from drivers.status import PrinterState
from tests.conftest import write_store_config


async def test_devices_test_prints_a_page_and_reports_faults(tmp_path: Path) -> None:
    printer = await NetworkPrinter().start()
    try:
        config = write_store_config(tmp_path, extra=f'\n[printer]\nurl = "{printer.url}"\n'
                                                    'width_mm = 58\n')
        status, output = await run_command(["devices", "test", "--config", str(config)])
        assert status == 0, output
        assert "test page printed" in output and "ready" in output
        [page] = printer.printed
        assert "S001 printer test" in page.lines
        assert "Crème brûlée, Smørrebrød, Ærø" in page.lines
        assert page.barcodes == ["TEST-000000"] and page.cuts == 1

        printer.state = PrinterState.PAPER_OUT
        status, output = await run_command(["devices", "test", "--config", str(config)])
        assert status == 1, output
        assert "paper_out" in output and "paper out" in output
        await printer.stop()
        status, output = await run_command(["devices", "test", "--config", str(config)])
        assert status == 1 and "offline" in output, output
    finally:
        await printer.stop()

    bare = write_store_config(tmp_path / "bare")
    status, output = await run_command(["devices", "test", "--config", str(bare)])
    assert status == 0 and "not configured" in output, output
