"""How batches travel: over HTTPS to a head office with a private certificate authority, and
gzip-compressed; a corrupt compressed body is refused and changes nothing."""

from __future__ import annotations

import dataclasses
import gzip
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web

from backoffice.demo.processes import free_port
from server import create_app as create_server
from server.admin import enroll_store, init_database
from server.storage import Storage
from store_agent.clock import SystemClock
from store_agent.errors import HeadOfficeUnreachable
from store_agent.ledger import Ledger, sync_state
from store_agent.sync_client import push_pending
from sync import CONTENT_TYPE, PUSH_PATH
from tests.integration.agent_helpers import prepared_settings


@pytest.fixture
async def tls_head_office(server_settings: Any, tmp_path: Path
                          ) -> AsyncIterator[tuple[str, str, Path, str]]:
    """A real head office serving HTTPS with a certificate from a private CA."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    storage = Storage(server_settings.database.url)
    init = await init_database(storage)
    token = await enroll_store(storage, "S001", "Main", "Europe/Berlin")
    await storage.dispose()
    runner = web.AppRunner(create_server(server_settings))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    try:
        yield f"https://127.0.0.1:{port}", token, ca_file, str(init.admin_token)
    finally:
        await runner.cleanup()


async def _push(settings: Any) -> Any:
    ledger = Ledger(settings.ledger.path, settings.store.id)
    await ledger.open()
    try:
        result = await push_pending(ledger, settings, SystemClock())
        return result, await ledger.run(sync_state)
    finally:
        await ledger.close()


def _with_events(settings: Any, count: int) -> None:
    from store_agent.ledger import open_ledger, write_transaction
    from store_agent.ledger.projector import record

    db = open_ledger(settings.ledger.path, settings.store.id)
    with write_transaction(db):
        for n in range(count):
            record(db, settings.store.id, "time.punched",
                   {"punch_id": f"punch-{n:06d}", "employee_id": "E100",
                    "action": "in" if n % 2 == 0 else "out",
                    "state_before": "off" if n % 2 == 0 else "working",
                    "state_after": "working" if n % 2 == 0 else "off", "terminal_id": "T1",
                    "note": "x" * 200},
                   "2026-11-24T10:00:00.000000Z", "2026-11-24")
    db.close()


async def test_push_over_https_trusting_a_private_ca(
        tls_head_office: tuple[str, str, Path, str], agent_settings_factory: Any) -> None:
    url, token, ca_file, _ = tls_head_office
    settings = prepared_settings(agent_settings_factory(head_office_url=url, sync_token=token))
    _with_events(settings, 5)
    trusting = dataclasses.replace(settings, head_office=dataclasses.replace(
        settings.head_office, ca_file=ca_file))
    result, state = await _push(trusting)
    assert (result.pushed, state.acked_seq) == (5, 5)


async def test_an_untrusted_certificate_is_refused_and_nothing_is_acknowledged(
        tls_head_office: tuple[str, str, Path, str], agent_settings_factory: Any) -> None:
    url, token, _, _ = tls_head_office
    settings = prepared_settings(agent_settings_factory(head_office_url=url, sync_token=token))
    _with_events(settings, 2)
    with pytest.raises(HeadOfficeUnreachable) as caught:
        await _push(settings)
    assert "certificate" in str(caught.value).lower()


async def test_big_batches_travel_gzip_compressed(server_settings: Any, aiohttp_client: Any,
                                                  agent_settings_factory: Any) -> None:
    storage = Storage(server_settings.database.url)
    await init_database(storage)
    token = await enroll_store(storage, "S001", "Main", "Europe/Berlin")
    await storage.dispose()
    seen: list[str | None] = []

    @web.middleware
    async def spy(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == PUSH_PATH:
            seen.append(request.headers.get("Content-Encoding"))
        return await handler(request)

    app = create_server(server_settings)
    app.middlewares.insert(0, spy)
    server = await aiohttp_client(app)
    settings = prepared_settings(agent_settings_factory(
        head_office_url=str(server.make_url("")).rstrip("/"), sync_token=token))
    settings = dataclasses.replace(settings, sync=dataclasses.replace(
        settings.sync, compress_min_bytes=1, batch_max_events=50))
    _with_events(settings, 120)
    result, state = await _push(settings)
    assert (result.pushed, result.batches, state.acked_seq) == (120, 3, 120)
    assert seen == ["gzip"] * 3

    resp = await server.post(PUSH_PATH, data=gzip.compress(b"not msgpack")[:-4],
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": CONTENT_TYPE, "Content-Encoding": "gzip"})
    assert resp.status == 400 and resp.content_type == "application/problem+json"
    async with aiohttp.ClientSession() as session, session.get(
            str(server.make_url("/api/v1/stores/S001")),
            headers={"Authorization": "Bearer nope-nope-nope"}) as denied:
        assert denied.status == 401
