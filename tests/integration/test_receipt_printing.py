"""Receipts printed from the ledger's queue on a network ESC/POS printer (the emulator on a
loopback port), read back with the ESC/POS decoder: what a sale prints, and that a printer
out of paper, with its cover open or unplugged never fails a sale — the fault shows in the
agent's status and event stream, and the receipts come out once it is fixed."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from PIL import Image

from config import ConfigValueError
from drivers.emulators import NetworkPrinter, preview_png
from drivers.status import PrinterState
from store_agent.app import create_app
from tests.integration.agent_helpers import call, open_till, prepared_settings, sale


async def _printed(printer: NetworkPrinter, count: int, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if len(printer.jobs) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(printer.jobs)} receipts printed, expected {count}")


async def _state(agent: Any, wanted: str, seconds: float = 10) -> dict[str, Any]:
    """The printer's status once it reports ``wanted`` (the worker retries every second)."""
    for _ in range(int(seconds / 0.05)):
        status = await _status(agent)
        if status["state"] == wanted:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"printer never reported {wanted}: {status}")


async def _status(agent: Any) -> dict[str, Any]:
    status, body = await call(agent, "GET", "/api/v1/status")
    assert status == 200
    return dict(body["devices"]["receipt_printer"])


async def test_receipts_print_and_survive_printer_faults(agent_settings_factory: Any,
                                                         aiohttp_client: Any) -> None:
    printer = await NetworkPrinter().start()
    settings = prepared_settings(agent_settings_factory(extra=(
        f'\n[printer]\nurl = "{printer.url}"\nwidth_mm = 58\nretry_seconds = 1\n'
        'header = "12 Harbour Road\\nVAT DE123456789"\nfooter = "Danke!"\n')),
        name="Café Nord")
    agent = await aiohttp_client(create_app(settings))
    try:
        session_id = await open_till(agent)
        status, cash_sale = await call(agent, "POST", "/api/v1/sales", sale(
            {"sku": "1001", "quantity": "2"}, {"sku": "3001"},
            tenders=[{"type": "cash", "amount": "20.00"}]))
        assert status == 201, cash_sale
        await _printed(printer, 1)
        receipt = printer.printed[0]
        assert receipt.lines[0] == "Café Nord"  # non-ASCII through the code page
        assert receipt.lines[1:3] == ["12 Harbour Road", "VAT DE123456789"]
        assert all(len(line) <= 32 for line in receipt.lines)  # 58 mm paper
        text = receipt.text
        assert f"Receipt {cash_sale['receipt_number']}" in text
        total_line = next(line for line in receipt.lines if line.startswith("TOTAL"))
        assert total_line.split()[-1] == cash_sale["total"]
        change = next(line for line in receipt.lines if line.startswith("Change"))
        assert Decimal(change.split()[-1]) == Decimal(cash_sale["change_due"])
        assert receipt.barcodes == [cash_sale["receipt_number"]]
        assert receipt.cuts == 1 and receipt.drawer_kicks == [2]  # cash: the drawer opens
        assert "Danke!" in receipt.lines
        await _state(agent, "ready")

        # Paper out: the sale goes through at once; the receipt waits; status says why.
        printer.state = PrinterState.PAPER_OUT
        status, card_sale = await call(agent, "POST", "/api/v1/sales", sale(
            {"sku": "2001"}, tenders=[{"type": "card", "amount": "2.37",
                                       "reference": "****4242"}]))
        assert status == 201, card_sale
        printer_status = await _state(agent, "paper_out")
        assert printer_status["queued"] == 1
        assert "paper out" in printer_status["last_error"]
        assert len(printer.jobs) == 1
        # Cover opened while the paper is changed; then closed: it prints by itself.
        printer.state = PrinterState.COVER_OPEN
        await _state(agent, "cover_open")
        printer.state = PrinterState.READY
        await _printed(printer, 2)
        assert printer.printed[1].barcodes == [card_sale["receipt_number"]]
        assert printer.printed[1].drawer_kicks == []  # card only: the drawer stays shut
        assert (await _status(agent))["queued"] == 0

        # The cover is opened in the middle of a receipt: it did not come out whole, so it
        # stays queued and prints again, whole, once the cover is shut.
        printer.fault_after_bytes = 60
        status, torn = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1001"}))
        assert status == 201
        printer_status = await _state(agent, "cover_open")
        assert "during the receipt" in printer_status["last_error"]
        assert printer_status["queued"] == 1 and len(printer.jobs) == 2
        printer.state = PrinterState.READY
        await _printed(printer, 3)
        assert printer.printed[2].barcodes == [torn["receipt_number"]]

        # Unplugged: sales go on, receipts wait, and come out in order once it is back.
        await printer.stop()
        sold = []
        for _ in range(3):
            status, body = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1002"}))
            assert status == 201
            sold.append(body["receipt_number"])
        await _state(agent, "offline")
        await printer.start()
        await _printed(printer, 6)
        assert [p.barcodes[0] for p in printer.printed[3:]] == sold

        # A reprint: marked as a copy, and it does not open the drawer again.
        status, body = await call(agent, "POST",
                                  f"/api/v1/sales/{cash_sale['sale_id']}/reprint")
        assert status == 202, body
        await _printed(printer, 7)
        copy = printer.printed[6]
        assert "*** COPY ***" in copy.lines and copy.drawer_kicks == []
        assert copy.barcodes == [cash_sale["receipt_number"]]
        status, body = await call(agent, "POST", "/api/v1/sales/no-such-sale/reprint")
        assert status == 404

        # An audited no-sale opening kicks the drawer through the printer, nothing printed.
        status, body = await call(agent, "POST", f"/api/v1/cash-sessions/{session_id}/no-sale",
                                  {"movement_id": "no-sale-0001", "employee": "E100",
                                   "reason": "check a note"})
        assert status == 201, body
        await _printed(printer, 8)
        kick = printer.printed[7]
        assert (kick.drawer_kicks, kick.lines, kick.cuts) == ([2], [], 0)
    finally:
        await printer.stop()


async def test_without_a_printer_receipts_wait_in_the_queue(agent_settings_factory: Any,
                                                            aiohttp_client: Any) -> None:
    settings = prepared_settings(agent_settings_factory())
    agent = await aiohttp_client(create_app(settings))
    await open_till(agent)
    status, _ = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1001"}))
    assert status == 201
    printer_status = await _status(agent)
    assert (printer_status["state"], printer_status["queued"]) == ("not_configured", 1)


async def test_x_and_z_reports_print_on_the_till(agent_settings_factory: Any,
                                                 aiohttp_client: Any) -> None:
    printer = await NetworkPrinter().start()
    try:
        settings = prepared_settings(agent_settings_factory(extra=(
            f'\n[printer]\nurl = "{printer.url}"\nretry_seconds = 1\n')))
        agent = await aiohttp_client(create_app(settings))
        session_id = await open_till(agent, float_="150.00")
        status, sold = await call(agent, "POST", "/api/v1/sales", sale(
            {"sku": "3001"}, tenders=[{"type": "cash", "amount": "20.00"}]))
        assert status == 201
        await _printed(printer, 1)
        assert printer.drawer_open  # the cash sale's receipt kicked it open
        status, body = await call(agent, "POST",
                                  f"/api/v1/cash-sessions/{session_id}/x-report/print")
        assert status == 202, body
        await _printed(printer, 2)
        # The printer reports the drawer's sensor (DLE EOT 1) when asked before each job.
        _, agent_status = await call(agent, "GET", "/api/v1/status")
        assert agent_status["devices"]["cash_drawer"]["state"] == "open"
        printer.close_drawer()
        x_report = printer.printed[1]
        assert "X REPORT" in x_report.lines and x_report.drawer_kicks == []
        assert any(line.startswith("Sales (1)") and line.endswith(sold["total"])
                   for line in x_report.lines)
        status, z = await call(agent, "POST", f"/api/v1/cash-sessions/{session_id}/close", {
            "employee": "E100", "counted": {"cash": "160.00"}})
        assert status == 201, z
        await _printed(printer, 3)
        _, agent_status = await call(agent, "GET", "/api/v1/status")
        assert agent_status["devices"]["cash_drawer"]["state"] == "closed"
        z_report = printer.printed[2]
        assert "Z REPORT" in z_report.lines and z_report.cuts == 1
        expected_cash = next(line for line in z_report.lines
                             if line.startswith("Expected cash"))
        assert expected_cash.split()[-1] == z["expected"]["cash"]
        over_short = next(line for line in z_report.lines if line.startswith("Over/short cash"))
        assert over_short.split()[-1] == z["over_short"]["cash"]
        status, body = await call(agent, "POST", "/api/v1/cash-sessions/nope-nope-nope/"
                                                 "x-report/print")
        assert status == 404
    finally:
        await printer.stop()


async def test_the_store_logo_prints_above_the_name(agent_settings_factory: Any,
                                                    aiohttp_client: Any, tmp_path: Any) -> None:
    # A 1000 x 300 logo, black on its left half: too wide for 58 mm paper and too tall.
    logo = Image.new("RGB", (1000, 300), "white")
    logo.paste((0, 0, 0), (0, 0, 500, 300))
    logo.save(tmp_path / "logo.png")
    printer = await NetworkPrinter().start()
    settings = prepared_settings(agent_settings_factory(extra=(
        f'\n[printer]\nurl = "{printer.url}"\nwidth_mm = 58\nlogo = "{tmp_path / "logo.png"}"\n'
    )), name="Café Nord")
    agent = await aiohttp_client(create_app(settings))
    try:
        await open_till(agent)
        status, _ = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1001"}))
        assert status == 201
        await _printed(printer, 1)
        receipt = printer.printed[0]
        [image] = receipt.images
        assert image.at_line == 0 and receipt.lines[0] == "Café Nord"
        assert image.width == 384 and image.height == 115  # scaled to 384 dots, ratio kept
        assert image.dot(10, 50) and image.dot(180, 100)  # the black half
        assert not image.dot(200, 50) and not image.dot(380, 100)  # the white half
        # The emulator's preview shows it on paper: black where the logo's left half is.
        with Image.open(preview_png(receipt, tmp_path / "receipt.png", 32)) as paper:
            left = (paper.width - 384) // 2
            assert paper.getpixel((left + 10, 14 + 50)) == 0
            assert paper.getpixel((left + 300, 14 + 50)) == 255
    finally:
        await printer.stop()


def test_a_logo_that_is_not_an_image_stops_the_agent_at_start(agent_settings_factory: Any,
                                                              tmp_path: Any) -> None:
    (tmp_path / "logo.png").write_text("not a picture")
    with pytest.raises(ConfigValueError, match=r"printer\.logo"):
        agent_settings_factory(extra=f'\n[printer]\nlogo = "{tmp_path / "logo.png"}"\n')
