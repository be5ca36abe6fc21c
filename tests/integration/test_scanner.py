"""A serial scanner on a real pty pair (and, for unplugging, pyserial's socket:// transport):
codes split across reads are reassembled, AIM identifiers read, check digits validated, scale
labels decoded, garbage dropped and reported as a likely baud-rate mismatch, an unplugged
scanner reconnects — and every read reaches the terminals on the event stream, looked up."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import ClientResponse

from drivers.emulators import ScannerEmulator
from store_agent.app import create_app
from store_agent.barcodes import variable_measure_label
from tests.integration.agent_helpers import auth, call, prepared_settings


async def _events(stream: ClientResponse) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    kind = ""
    while True:
        line = (await asyncio.wait_for(stream.content.readline(), 10)).decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[len("event: "):]
        elif line.startswith("data: "):
            yield kind, json.loads(line[len("data: "):])


async def _next(events: AsyncIterator[tuple[str, dict[str, Any]]], kind: str,
                **match: Any) -> dict[str, Any]:
    async for got_kind, data in events:
        if got_kind == kind and all(data.get(k) == v for k, v in match.items()):
            return data
    raise AssertionError("stream ended")


async def test_scanner_reads_reach_the_terminal(agent_settings_factory: Any,
                                               aiohttp_client: Any) -> None:
    scanner = ScannerEmulator(suffix=b"\r\n", aim="]E0")
    try:
        settings = prepared_settings(agent_settings_factory(extra=(
            f'\n[scanner]\nurl = "{scanner.path}"\nsuffix = "CRLF"\naim = true\n'
            'terminal = "T2"\n')))
        agent = await aiohttp_client(create_app(settings))
        stream = await agent.get("/api/v1/events", headers=auth("T1"))
        events = _events(stream)
        for _ in range(20):  # the scanner thread opens the port
            _, body = await call(agent, "GET", "/api/v1/status")
            if body["devices"].get("scanner", {}).get("state") == "ready":
                break
            await asyncio.sleep(0.05)
        assert body["devices"]["scanner"]["state"] == "ready", body

        # A code split across reads, with its AIM identifier.
        scanner.scan("4006381333931", pieces=3)
        scan = await _next(events, "scan")
        assert (scan["code"], scan["symbology"], scan["terminal_id"]) == (
            "4006381333931", "ean/upc", "T2")
        assert scan["valid"] is True and scan["product"]["sku"] == "1001"
        assert scan["product"]["price"] == "1.29"

        # A scale label carries its price; a misread check digit is flagged, not looked up.
        label = variable_measure_label("20", "54321", 349)
        scanner.send(f"]E0{label}\r\n]E04006381333932\r\n".encode())
        scan = await _next(events, "scan", code=label)
        assert (scan["product"]["sku"], scan["embedded_price"]) == ("9002", "3.49")
        scan = await _next(events, "scan", code="4006381333932")
        assert scan["valid"] is False and "check digit" in scan["problem"]

        # Garbage (what a wrong baud rate looks like) is dropped, and named as such.
        scanner.send(b"\xe6\x9f\x80\r\n" * 3 + b"\x00" * 200)
        device = await _next(events, "device", device="scanner", state="misconfigured")
        assert "baud rate" in device["detail"] and scanner.path in device["detail"]
        assert "9600 baud" in device["detail"]
        scanner.send(b"]E04006381333931\r\n")
        await _next(events, "device", device="scanner", state="ready")
        scan = await _next(events, "scan")
        assert scan["code"] == "4006381333931"
        stream.close()
    finally:
        scanner.close()


async def test_an_unplugged_scanner_reconnects(agent_settings_factory: Any,
                                               aiohttp_client: Any) -> None:
    connections: list[asyncio.StreamWriter] = []

    async def scanner(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(scanner, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = prepared_settings(agent_settings_factory(extra=(
        f'\n[scanner]\nurl = "socket://127.0.0.1:{port}"\n')))
    agent = await aiohttp_client(create_app(settings))
    stream = await agent.get("/api/v1/events", headers=auth("T1"))
    events = _events(stream)
    try:
        for _ in range(50):
            if connections:
                break
            await asyncio.sleep(0.05)
        connections[-1].write(b"4006381333931\r")
        assert (await _next(events, "scan"))["product"]["sku"] == "1001"
        # Unplugged mid-frame: half a code, then the connection drops and nothing answers.
        connections[-1].write(b"400638")
        await asyncio.sleep(0.2)
        server.close()
        connections[-1].close()
        await server.wait_closed()
        device = await _next(events, "device", device="scanner", state="disconnected")
        assert f"127.0.0.1:{port}" in device["detail"]
        _, body = await call(agent, "GET", "/api/v1/status")
        assert body["devices"]["scanner"]["state"] == "disconnected"
        # Plugged back in: it reconnects by itself and reads again.
        server = await asyncio.start_server(scanner, "127.0.0.1", port)
        await _next(events, "device", device="scanner", state="ready")
        for _ in range(50):
            if len(connections) >= 2:
                break
            await asyncio.sleep(0.05)
        connections[-1].write(b"4012345000016\r")
        scan = await _next(events, "scan")
        # The half code from before the unplugging was dropped, not glued to this one.
        assert scan["code"] == "4012345000016" and scan["product"]["sku"] == "1002"
    finally:
        stream.close()
        server.close()
        for writer in connections:
            writer.close()
