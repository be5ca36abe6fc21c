"""``backoffice devices test`` against every emulator: the printer on a loopback port, the
display and the scale on pty pairs, the scanner's port on a pty."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from backoffice.demo.processes import run_command
from drivers.emulators import DrawerEmulator, LineDisplayEmulator, NetworkPrinter, ScaleEmulator
from drivers.scale import ScaleState, Weighing
from drivers.status import PrinterState
from tests.conftest import write_store_config


async def test_devices_test_exercises_each_device_and_reports_faults(tmp_path: Path) -> None:
    printer = await NetworkPrinter().start()
    display, scale = LineDisplayEmulator(), ScaleEmulator("nci")
    scale.weighing = Weighing(ScaleState.STABLE, Decimal("0.250"))
    scanner_master, scanner_slave = os.openpty()
    try:
        config = write_store_config(tmp_path, extra=(
            f'\n[printer]\nurl = "{printer.url}"\nwidth_mm = 58\n'
            f'\n[display]\nurl = "{display.path}"\n'
            f'\n[scale]\nurl = "{scale.path}"\nprotocol = "nci"\nparity = "N"\nbytesize = 8\n'
            f'\n[scanner]\nurl = "{os.ttyname(scanner_slave)}"\n'))
        status, output = await run_command(["devices", "test", "--config", str(config)])
        assert status == 0, output
        flat = " ".join(output.split())
        for words in ("test page printed", "drawer kicked", "message shown",
                      "weighed 0.250 kg", "port opened"):
            assert words in flat, (words, output)
        [page] = printer.printed
        assert "S001 printer test" in page.lines
        assert "Crème brûlée, Smørrebrød, Ærø" in page.lines
        assert page.barcodes == ["TEST-000000"] and page.cuts == 1
        assert page.drawer_kicks == [2]
        assert display.lines == ["backoffice test", "display OK"]

        printer.state = PrinterState.PAPER_OUT
        scale.silent = True
        status, output = await run_command(["devices", "test", "--config", str(config)])
        assert status == 1, output
        flat = " ".join(output.split())
        assert "paper_out" in flat and "paper out" in flat
        assert "did not answer" in flat
        await printer.stop()
        status, output = await run_command(["devices", "test", "--config", str(config)])
        assert status == 1 and "offline" in output, output
    finally:
        await printer.stop()
        display.close()
        scale.close()
        os.close(scanner_master)
        os.close(scanner_slave)

    bare = write_store_config(tmp_path / "bare")
    status, output = await run_command(["devices", "test", "--config", str(bare)])
    assert status == 0 and "not configured" in output, output


async def test_devices_test_kicks_a_serial_drawer_and_reads_it_back(tmp_path: Path) -> None:
    drawer = DrawerEmulator()
    try:
        config = write_store_config(tmp_path, extra=(
            f'\n[drawer]\nurl = "{drawer.path}"\nstatus = "query"\n'))
        status, output = await run_command(["devices", "test", "--config", str(config)])
        assert status == 0, output
        flat = " ".join(output.split())
        assert "cash drawer" in flat and "closed before the test" in flat, output
        assert drawer.openings == 1 and drawer.is_open
        drawer.silent = True
        status, output = await run_command(["devices", "test", "--config", str(config)])
        assert status == 1 and "did not answer" in " ".join(output.split()), output
    finally:
        drawer.close()
