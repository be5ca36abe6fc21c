"""The head-office API against its own OpenAPI document: every route is documented (and every
documented route is served), and schemathesis drives a real ``backoffice server run`` process
from the document — no answer is a 5xx, every answer's status, content type and body match
what the document says."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backoffice.demo.processes import free_port
from tests.conftest import write_server_config

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def _backoffice(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "backoffice", *args], capture_output=True,
                          text=True, timeout=120, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def head_office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real server process on a loopback port with some data, and an admin token."""
    folder = tmp_path_factory.mktemp("head-office")
    port = free_port()
    config = write_server_config(folder, f"sqlite:///{folder / 'central.db'}", port)
    token = next(line.strip() for line in _backoffice("server", "init", "--config",
                                                       str(config)).splitlines()
                 if line.strip().startswith("boa_"))
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "backoffice", "server", "run",
                                "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, (folder / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        auth = {"Authorization": f"Bearer {token}"}
        seed = [("POST", "/api/v1/stores", {"store_id": "S001", "name": "Main",
                                            "timezone": "Europe/Berlin"}),
                ("PUT", "/api/v1/products/1001", {"name": "Milk", "price": "1.29",
                                                  "tax_rate": "7", "cost": "0.80",
                                                  "reorder_level": "10"}),
                ("PUT", "/api/v1/tax-rates/STD", {"rate": "7", "name": "Standard"}),
                ("PUT", "/api/v1/employees/E1", {"name": "Ann", "role": "cashier",
                                                 "pin": "1234"})]
        for method, path, body in seed:
            assert requests.request(method, url + path, json=body, headers=auth,
                                    timeout=10).status_code in (200, 201)
        yield url, token
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_every_route_is_documented_and_every_documented_route_served(
        head_office: tuple[str, str]) -> None:
    url, token = head_office
    document = requests.get(f"{url}/api/v1/openapi.json", timeout=10).json()  # no token
    documented = {f"{m.upper()} {p}" for p, methods in document["paths"].items()
                  for m in methods}
    from server.api.openapi import OPERATIONS, UNSECURED
    assert set(OPERATIONS) | set(UNSECURED) == documented
    for key, operation in ((k, document["paths"][k.split()[1]][k.split()[0].lower()])
                           for k in OPERATIONS):
        assert operation["x-roles"], key
        assert "401" in operation["responses"] and "403" in operation["responses"], key
    page = requests.get(f"{url}/api/v1/docs", timeout=10)
    assert page.status_code == 200 and "openapi.json" in page.text
    # Routes that are served but undocumented would be refused by the role check anyway;
    # an unknown path is a 404 problem, not a 403.
    resp = requests.get(f"{url}/api/v1/nothing-here", headers={
        "Authorization": f"Bearer {token}"}, timeout=10)
    assert resp.status_code == 404


def _document() -> dict[str, Any]:
    """The document as the server builds it (building the app touches no database)."""
    import tempfile

    from config import load_server_settings
    from server import create_app
    from server.api.openapi import document

    with tempfile.TemporaryDirectory() as folder:
        config = write_server_config(Path(folder), f"sqlite:///{folder}/unused.db", 0)
        return document(create_app(load_server_settings(config, env={})))


# Revoking tokens would revoke the very token this test drives the API with (the integration
# tests cover it); metrics, health and the docs page are not JSON operations.
schema = schemathesis.openapi.from_dict(_document()) \
    .exclude(method="DELETE", path="/api/v1/api-tokens/{token_id}") \
    .exclude(path_regex="^/(metrics|healthz|readyz)$|/docs$")


@schema.parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_the_api_keeps_its_document(case: Any, head_office: tuple[str, str]) -> None:
    url, token = head_office
    # call_and_validate raises on any failed check (a 5xx, an undocumented status or content
    # type, a body that does not match its schema); the status is asserted here as well.
    response = case.call_and_validate(base_url=url,
                                      headers={"Authorization": f"Bearer {token}"},
                                      checks=CHECKS)
    assert response.status_code < 500
