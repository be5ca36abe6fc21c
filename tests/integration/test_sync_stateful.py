"""A hypothesis state machine that interleaves sales, syncs, link faults and restarts of both
sides against a model (the set of sales rung up): at every quiet point — faults stopped, a
sync run to the end — head office holds exactly the store's sales, each once."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from config import load_agent_settings, load_server_settings
from server import create_app as create_server
from server.admin import enroll_store, init_database
from server.storage import Storage
from server.storage.tables import sales as central_sales
from server.storage.tables import store_events
from store_agent.app import store_context
from store_agent.cash import open_session
from store_agent.clock import SystemClock
from store_agent.errors import SyncError
from store_agent.ledger import Ledger, sync_state
from store_agent.sales import record_sale
from store_agent.sync_client import push_pending
from tests.conftest import write_server_config, write_store_config
from tests.faults import FaultProxy
from tests.integration.agent_helpers import prepared_settings


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="sync-machine-"))
        self.model: set[str] = set()
        self.server: TestServer | None = None
        self.ledger: Ledger | None = None
        self.proxy: FaultProxy | None = None

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    @initialize(seed=st.integers(0, 2**16))
    def start(self, seed: int) -> None:
        server_config = write_server_config(self.folder, "sqlite:///central.db")
        self.server_settings = load_server_settings(server_config, env={})

        async def setup() -> str:
            storage = Storage(self.server_settings.database.url)
            await init_database(storage)
            token = await enroll_store(storage, "S001", "Main", "Europe/Berlin")
            await storage.dispose()
            return token

        token = self.run(setup())
        self.run(self._start_server())
        assert self.server is not None and self.server.port is not None
        self.proxy = FaultProxy(self.server.port, seed=seed, fault_rate=0.0)
        self.run(self.proxy.start())
        self.settings = prepared_settings(load_agent_settings(write_store_config(
            self.folder / "store", head_office_url=f"http://127.0.0.1:{self.proxy.port}",
            sync_token=token), env={}))
        self.run(self._open_ledger())
        self.run(self._write(lambda db: open_session(
            db, store_context(self.settings), "T1",
            {"session_id": "machine-session", "employee": "E100", "float": "0.00"},
            datetime.now(UTC))))

    async def _start_server(self) -> None:
        port = self.proxy.target_port if self.proxy else None
        self.server = TestServer(create_server(self.server_settings), port=port)
        await self.server.start_server()

    async def _open_ledger(self) -> None:
        self.ledger = Ledger(self.settings.ledger.path, "S001")
        await self.ledger.open()

    async def _write(self, work: Any) -> Any:
        assert self.ledger is not None
        return await self.ledger.run(work)

    @rule(count=st.integers(1, 6))
    def ring_up(self, count: int) -> None:
        store = store_context(self.settings)
        for _ in range(count):
            sale_id = str(uuid.uuid4())
            self.run(self._write(lambda db, sid=sale_id: record_sale(db, store, "T1", {
                "sale_id": sid, "cashier": "E100", "lines": [{"sku": "1001", "quantity": 1}],
                "tenders": [{"type": "cash", "amount": "5.00"}]}, datetime.now(UTC))))
            self.model.add(sale_id)

    @rule(rate=st.sampled_from([0.0, 0.5, 1.0]))
    def set_link_faults(self, rate: float) -> None:
        assert self.proxy is not None
        self.proxy.fault_rate = rate

    @rule()
    def sync_once(self) -> None:
        assert self.ledger is not None
        # The link or head office may fail: then the events wait in the ledger.
        with contextlib.suppress(SyncError):
            self.run(push_pending(self.ledger, self.settings, SystemClock()))

    @rule()
    def restart_head_office(self) -> None:
        assert self.server is not None
        self.run(self.server.close())
        self.run(self._start_server())

    @rule()
    def restart_agent(self) -> None:
        assert self.ledger is not None
        self.run(self.ledger.close())
        self.run(self._open_ledger())

    @rule()
    def quiet_point(self) -> None:
        """Faults stop, a sync runs to the end: head office equals the store."""
        assert self.proxy is not None and self.ledger is not None
        self.proxy.calm()
        self.run(push_pending(self.ledger, self.settings, SystemClock()))
        state = self.run(self._write(sync_state))
        assert state.pending == 0
        held, events = self.run(self._central())
        assert sorted(held) == sorted(self.model), "head office differs from the store"
        assert events == state.last_seq

    async def _central(self) -> tuple[list[str], int]:
        storage = Storage(self.server_settings.database.url)
        try:
            async with storage.read() as conn:
                held = [r[0] for r in await conn.execute(sa.select(central_sales.c.sale_id))]
                events = (await conn.execute(sa.select(sa.func.count()).select_from(
                    store_events))).scalar_one()
            return held, int(events)
        finally:
            await storage.dispose()

    @invariant()
    def acknowledged_never_exceeds_recorded(self) -> None:
        if self.ledger is not None:
            state = self.run(self._write(sync_state))
            assert 0 <= state.acked_seq <= state.last_seq

    def teardown(self) -> None:
        async def close() -> None:
            if self.proxy is not None:
                await self.proxy.stop()
            if self.ledger is not None:
                await self.ledger.close()
            if self.server is not None:
                await self.server.close()

        self.run(close())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)


SyncMachine.TestCase.settings = settings(
    max_examples=12, stateful_step_count=14, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_sync_state_machine = SyncMachine.TestCase
