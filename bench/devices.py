"""Device benchmark: a scanner read from its last byte on the serial line to the event at a
terminal, through a real ``backoffice agent run`` process (the scanner on a pty pair, the
terminal an SSE client); and the time to lay out a receipt as ESC/POS bytes.

    python -m bench.devices            # 1,000 scans, 2,000 receipts
    python -m bench.devices --quick    # 100 scans, 200 receipts

Baselines in the same run: the pty itself (a byte written on one end, read on the other) and
the receipt as plain text lines (no ESC/POS).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import aiohttp
from rich.console import Console

from backoffice.demo.processes import free_port, run_command, start_service, stop_service
from bench.agent_sales import Figures, percentile, print_figures, write_catalog
from drivers.escpos_receipt import ReceiptLayout, sale_bytes
from store_agent.documents import sale_receipt_lines

TOKEN = "bench-terminal-token-1"


def _pty_floor(samples: int) -> list[float]:
    master, slave = os.openpty()
    try:
        import tty

        tty.setraw(slave)
        out = []
        for _ in range(samples):
            started = time.perf_counter()
            os.write(master, b"4006381333931\r")
            got = b""
            while not got.endswith(b"\r"):
                got += os.read(slave, 64)
            out.append((time.perf_counter() - started) * 1000)
        return out
    finally:
        os.close(master)
        os.close(slave)


async def _scans(folder: Path, count: int) -> list[float]:
    master, slave = os.openpty()
    port = free_port()
    config = folder / "store.toml"
    config.write_text(f'[store]\nid = "B001"\ntimezone = "UTC"\n\n[head_office]\n'
                      f'url = "http://127.0.0.1:9"\nsync_token = "bos_{"x" * 40}"\n\n'
                      f'[terminals]\nT1 = "{TOKEN}"\n\n[http]\nport = {port}\n\n'
                      f'[sync]\nenabled = false\n\n[scanner]\nurl = "{os.ttyname(slave)}"\n\n'
                      f'[logging]\nlevel = "warning"\n', encoding="utf-8")
    write_catalog(folder / "catalog.csv", 300)
    await run_command(["agent", "init", "--config", str(config)])
    await run_command(["agent", "import-catalog", str(folder / "catalog.csv"), "--config",
                       str(config)])
    agent = await start_service("agent", ["agent", "run", "--config", str(config)],
                                f"http://127.0.0.1:{port}", folder / "agent.log")
    latencies: list[float] = []
    try:
        async with aiohttp.ClientSession() as session, session.get(
                f"http://127.0.0.1:{port}/api/v1/events",
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=aiohttp.ClientTimeout(total=None)) as stream:
            await asyncio.sleep(1.0)  # the scanner thread has opened its port
            codes = [line.split(",")[-1].encode()
                     for line in (folder / "catalog.csv").read_text().splitlines()[1:]]
            for n in range(count):
                code = codes[n % len(codes)]
                os.write(master, code[:-3])  # the frame arrives in two pieces
                await asyncio.sleep(0.002)
                sent = time.perf_counter()
                os.write(master, code[-3:] + b"\r")
                while True:
                    line = await stream.content.readline()
                    if line.startswith(b"data: ") and b'"type":"scan"' in line:
                        assert json.loads(line[6:])["code"] == code.decode()
                        break
                latencies.append((time.perf_counter() - sent) * 1000)
    finally:
        await stop_service(agent)
        os.close(master)
        os.close(slave)
    return latencies


def _receipts(count: int) -> tuple[float, float]:
    payload = {
        "sale_id": "x", "terminal_id": "T1", "receipt_no": 42, "cashier": "E100",
        "currency": "EUR", "store_name": "Café Nord", "prices_include_tax": False,
        "lines": [{"name": f"Product {n} Crème", "quantity": "2", "unit_price": 129,
                   "amount": 258, "discount": 0} for n in range(5)],
        "taxes": [{"rate": "7", "taxable": 1290, "tax": 90}], "subtotal": 1290, "tax": 90,
        "total": 1380, "discount": 0,
        "tenders": [{"type": "cash", "amount": 2000}], "change_due": 620}
    layout = ReceiptLayout()
    started = time.perf_counter()
    for _ in range(count):
        sale_bytes(payload, "2026-11-29", layout)
    escpos = (time.perf_counter() - started) / count * 1e6
    started = time.perf_counter()
    for _ in range(count):
        sale_receipt_lines(payload, "2026-11-29")
    text = (time.perf_counter() - started) / count * 1e6
    return escpos, text


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--receipts", type=int, default=2000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.scans, args.receipts = 100, 200
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-devices-") as tmp:
        scans = await _scans(Path(tmp), args.scans)
    floor = _pty_floor(args.scans)
    escpos_us, text_us = _receipts(args.receipts)
    figures: Figures = {
        "scans": len(scans), "scan_to_event_p50_ms": round(percentile(scans, 50), 3),
        "scan_to_event_p99_ms": round(percentile(scans, 99), 3),
        "scan_to_event_max_ms": round(max(scans), 3),
        "pty_floor_p50_ms": round(percentile(floor, 50), 3),
        "pty_floor_p99_ms": round(percentile(floor, 99), 3),
        "target_scan_p99_ms": 20, "target_met": percentile(scans, 99) <= 20,
        "receipt_escpos_us": round(escpos_us, 1), "receipt_text_lines_us": round(text_us, 1),
        "escpos_vs_text": round(escpos_us / text_us, 2)}
    print_figures(console, "devices: scanner to terminal, receipt bytes", figures)


if __name__ == "__main__":
    asyncio.run(main())
