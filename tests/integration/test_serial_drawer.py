"""A cash drawer on its own serial port (a real pty pair, the drawer emulator at the far end):
it opens for a cash sale and for an audited no-sale at its terminal, never for a card sale or
another terminal's sale; its open/closed state shows in status; a drawer that is gone or
silent never fails a sale and shows as disconnected with the port named."""

from __future__ import annotations

import asyncio
from typing import Any

from drivers.emulators import DrawerEmulator
from store_agent.app import create_app
from tests.integration.agent_helpers import call, new_id, open_till, prepared_settings, sale


async def _drawer_status(agent: Any, want: str, seconds: float = 5) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(int(seconds / 0.05)):
        _, body = await call(agent, "GET", "/api/v1/status")
        if body["devices"]["cash_drawer"]["state"] == want:
            return dict(body["devices"]["cash_drawer"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"drawer never became {want}: {body['devices']['cash_drawer']}")


def _settings(factory: Any, drawer: DrawerEmulator, status: str = "query") -> Any:
    return prepared_settings(factory(extra=(
        f'\n[printer]\ndrawer_pin = 0\n[drawer]\nurl = "{drawer.path}"\nstatus = "{status}"\n'
        'health_seconds = 1\ntimeout_seconds = 1\n')))


async def test_cash_sales_and_no_sales_open_the_drawer(agent_settings_factory: Any,
                                                       aiohttp_client: Any) -> None:
    drawer = DrawerEmulator()
    try:
        agent = await aiohttp_client(create_app(_settings(agent_settings_factory, drawer)))
        await _drawer_status(agent, "closed")
        session = await open_till(agent)
        await open_till(agent, terminal="T2")

        status, _ = await call(agent, "POST", "/api/v1/sales", sale(
            {"sku": "1002", "quantity": "2"},
            tenders=[{"type": "card", "amount": "5.33", "reference": "****4242"}]))
        assert status == 201
        status, _ = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1001"}),
                               terminal="T2")  # another terminal's till
        assert status == 201
        await asyncio.sleep(0.3)
        assert drawer.openings == 0

        status, _ = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1001"}))
        assert status == 201
        state = await _drawer_status(agent, "open")
        assert drawer.openings == 1 and "cash sale" in state["last_opened_for"]

        drawer.close_drawer()  # the cashier pushes it shut; the next health read sees it
        await _drawer_status(agent, "closed")

        status, body = await call(agent, "POST", f"/api/v1/cash-sessions/{session}/no-sale",
                                  {"movement_id": new_id(), "employee": "E100",
                                   "reason": "change for a customer"})
        assert status == 201, body
        state = await _drawer_status(agent, "open")
        assert drawer.openings == 2
        assert state["last_opened_for"].startswith("no-sale: change for a customer")
    finally:
        drawer.close()


async def test_a_gone_or_silent_drawer_never_fails_a_sale(agent_settings_factory: Any,
                                                          aiohttp_client: Any) -> None:
    drawer = DrawerEmulator()
    try:
        agent = await aiohttp_client(create_app(_settings(agent_settings_factory, drawer)))
        await _drawer_status(agent, "closed")
        await open_till(agent)
        drawer.silent = True  # it takes the open command but stops answering status requests
        status, _ = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1001"}))
        assert status == 201
        state = await _drawer_status(agent, "disconnected")
        assert drawer.path in state["detail"] and "did not answer" in state["detail"]
        assert drawer.openings == 1

        drawer.close()  # unplugged
        status, _ = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1002"}))
        assert status == 201
        await asyncio.sleep(0.5)
        state = await _drawer_status(agent, "disconnected")
        assert drawer.path in state["detail"]
    finally:
        drawer.close()


async def test_a_drawer_that_cannot_report_shows_its_last_opening(agent_settings_factory: Any,
                                                                  aiohttp_client: Any) -> None:
    drawer = DrawerEmulator()
    try:
        agent = await aiohttp_client(create_app(_settings(agent_settings_factory, drawer,
                                                          status="none")))
        await _drawer_status(agent, "ready")
        await open_till(agent)
        status, _ = await call(agent, "POST", "/api/v1/sales", sale({"sku": "1001"}))
        assert status == 201
        state = await _drawer_status(agent, "open")  # kicked; it cannot say when it shuts
        assert state["openings"] == 1
        # With no status to read back, "open" means the kick was written, not yet that the
        # drawer's thread has read it off the pty: give it the time a busy machine needs.
        for _ in range(100):
            if drawer.openings:
                break
            await asyncio.sleep(0.05)
        assert drawer.openings == 1
    finally:
        drawer.close()
