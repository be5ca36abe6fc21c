"""The customer display and the scale on real pty pairs, driven by the agent: the display
follows its terminal (item and price as scanned, total and change, then the idle message)
and a display that is gone never fails a sale; the scale answers stable weights and refuses
unstable, over-capacity and under-zero ones, and a silent scale is a clear 503."""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal
from typing import Any

import pytest

from drivers.emulators import LineDisplayEmulator, ScaleEmulator
from drivers.scale import ScaleState, Weighing
from store_agent.app import create_app
from tests.integration.agent_helpers import call, open_till, prepared_settings, sale


async def _until(condition: Any, seconds: float = 5) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("protocol", ["cd5220", "escpos"])
async def test_the_display_follows_the_terminal(agent_settings_factory: Any, aiohttp_client: Any,
                                                protocol: str) -> None:
    display = LineDisplayEmulator()
    scanner_master, scanner_slave = os.openpty()
    try:
        settings = prepared_settings(agent_settings_factory(extra=(
            f'\n[display]\nurl = "{display.path}"\nprotocol = "{protocol}"\nidle_seconds = 1\n'
            'idle_message = "Welcome to Nord"\n'
            f'\n[scanner]\nurl = "{os.ttyname(scanner_slave)}"\n')))
        agent = await aiohttp_client(create_app(settings))
        await _until(lambda: display.lines == ["Welcome to Nord", ""])
        await open_till(agent)
        for _ in range(100):  # the scanner thread opens its port
            _, body = await call(agent, "GET", "/api/v1/status")
            if body["devices"]["scanner"]["state"] == "ready":
                break
            await asyncio.sleep(0.05)
        os.write(scanner_master, b"4006381333931\r")
        await _until(lambda: display.lines[0] == "Whole milk 1 l")
        assert display.lines[1].strip() == "1.29"
        status, sold = await call(agent, "POST", "/api/v1/sales", sale(
            {"sku": "1001"}, tenders=[{"type": "cash", "amount": "5.00"}]))
        assert status == 201
        await _until(lambda: display.lines[0].startswith("TOTAL"))
        assert display.lines[0].split()[-1] == sold["total"]
        assert display.lines[1].split()[-1] == sold["change_due"]
        await _until(lambda: display.lines[0] == "Welcome to Nord", 3)
        status, body = await call(agent, "GET", "/api/v1/status")
        assert body["devices"]["customer_display"]["state"] == "ready"
        # The display is unplugged: sales go on; status says so.
        display.close()
        status, _ = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1002"}))
        assert status == 201

        async def gone() -> bool:
            _, body = await call(agent, "GET", "/api/v1/status")
            return bool(body["devices"]["customer_display"]["state"] == "disconnected")

        for _ in range(60):
            if await gone():
                break
            await asyncio.sleep(0.05)
        _, body = await call(agent, "GET", "/api/v1/status")
        assert body["devices"]["customer_display"]["state"] == "disconnected"
        assert display.path in body["devices"]["customer_display"]["detail"]
    finally:
        display.close()
        os.close(scanner_master)
        os.close(scanner_slave)


@pytest.mark.parametrize("protocol", ["mt8217", "nci"])
async def test_the_scale(agent_settings_factory: Any, aiohttp_client: Any,
                         protocol: str) -> None:
    scale = ScaleEmulator(protocol)
    try:
        settings = prepared_settings(agent_settings_factory(extra=(
            f'\n[scale]\nurl = "{scale.path}"\nprotocol = "{protocol}"\n')))
        agent = await aiohttp_client(create_app(settings))
        scale.weighing = Weighing(ScaleState.STABLE, Decimal("1.234"))
        status, body = await call(agent, "GET", "/api/v1/scale")
        assert (status, body) == (200, {"state": "stable", "weight_kg": "1.234"})
        for state, words in ((ScaleState.IN_MOTION, "wait for a stable weight"),
                             (ScaleState.OVER_CAPACITY, "over capacity"),
                             (ScaleState.UNDER_ZERO, "under zero")):
            scale.weighing = Weighing(state)
            status, body = await call(agent, "GET", "/api/v1/scale")
            assert status == 409 and words in body["detail"] and body["state"] == state.value
        scale.silent = True
        status, body = await call(agent, "GET", "/api/v1/scale")
        assert status == 503 and "did not answer" in body["detail"]
        _, body = await call(agent, "GET", "/api/v1/status")
        assert body["devices"]["scale"]["state"] == "offline"
        scale.silent = False
        scale.weighing = Weighing(ScaleState.STABLE, Decimal("0.355"))
        status, body = await call(agent, "GET", "/api/v1/scale")
        assert (status, body["weight_kg"]) == (200, "0.355")
    finally:
        scale.close()


async def test_no_scale_configured_is_404(agent_settings_factory: Any,
                                          aiohttp_client: Any) -> None:
    agent = await aiohttp_client(create_app(prepared_settings(agent_settings_factory())))
    status, body = await call(agent, "GET", "/api/v1/scale")
    assert status == 404 and "no scale" in body["detail"]


async def test_idle_devices_are_checked_now_and_then(agent_settings_factory: Any,
                                                     aiohttp_client: Any) -> None:
    """A display unplugged or a scale gone silent while nobody uses them shows in status."""
    display, scale = LineDisplayEmulator(), ScaleEmulator()
    try:
        settings = prepared_settings(agent_settings_factory(extra=(
            f'\n[display]\nurl = "{display.path}"\nhealth_seconds = 1\n'
            f'\n[scale]\nurl = "{scale.path}"\nhealth_seconds = 1\ntimeout_seconds = 1\n')))
        agent = await aiohttp_client(create_app(settings))

        async def states() -> tuple[str, str]:
            _, body = await call(agent, "GET", "/api/v1/status")
            devices = body["devices"]
            return devices["customer_display"]["state"], devices["scale"]["state"]

        for _ in range(60):
            if await states() == ("ready", "stable"):
                break
            await asyncio.sleep(0.1)
        assert await states() == ("ready", "stable")
        display.close()
        scale.silent = True
        for _ in range(100):
            if await states() == ("disconnected", "offline"):
                break
            await asyncio.sleep(0.1)
        assert await states() == ("disconnected", "offline")
    finally:
        display.close()
        scale.close()
