"""The ``backoffice`` command as an operator meets it: --help everywhere, and a bad config file
stops every command with one line naming the file and key, before anything happens."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from backoffice.cli import cli
from backoffice.demo.processes import run_command
from tests.conftest import write_store_config


def all_commands() -> list[list[str]]:
    found: list[list[str]] = []

    def walk(command: click.Command, path: list[str]) -> None:
        found.append(path)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])

    walk(cli, [])
    return found


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "backoffice")
def test_every_command_has_help(path: list[str]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert command.help, f"backoffice {' '.join(path)} has no help text"


def test_the_commands_the_foundation_promises_exist() -> None:
    names = {" ".join(p) for p in all_commands()}
    assert {"server init", "server run", "server enroll-store", "agent init", "agent run",
            "agent sync", "agent status", "demo"} <= names


@pytest.mark.parametrize("args", [["server", "run"], ["server", "init"],
                                  ["server", "enroll-store", "S9", "--name", "x",
                                   "--timezone", "UTC"]])
async def test_bad_server_config_exits_2_naming_file_and_key(tmp_path: Path,
                                                             args: list[str]) -> None:
    config = tmp_path / "server.toml"
    config.write_text('[http]\nport = "eighty"\n')
    status, output = await run_command([*args, "--config", str(config)])
    assert status == 2, output
    assert str(config) in output.replace("\n", "") and "http.port" in output
    assert not (tmp_path / "central.db").exists()


@pytest.mark.parametrize("args", [["agent", "run"], ["agent", "init"], ["agent", "sync"],
                                  ["agent", "status"]])
async def test_agent_config_without_token_exits_2(tmp_path: Path, args: list[str]) -> None:
    config = write_store_config(tmp_path, sync_token="")
    status, output = await run_command([*args, "--config", str(config)])
    assert status == 2, output
    assert "head_office.sync_token" in output and "missing token" in output
    assert not (tmp_path / "ledger.db").exists()


async def test_missing_config_file_is_named(tmp_path: Path) -> None:
    status, output = await run_command(["agent", "status", "--config",
                                        str(tmp_path / "nope.toml")])
    assert status == 2
    assert "nope.toml" in output and "no such file" in output


async def test_agent_refuses_a_ledger_of_another_store(tmp_path: Path) -> None:
    config = write_store_config(tmp_path, store_id="S001")
    status, output = await run_command(["agent", "init", "--config", str(config)])
    assert status == 0, output
    config.write_text(config.read_text().replace('id = "S001"', 'id = "S002"'))
    status, output = await run_command(["agent", "status", "--config", str(config)])
    assert status == 1
    assert "belongs to store S001" in output


async def test_enrolling_a_store_twice_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text('[database]\nurl = "sqlite:///c.db"\n')
    assert (await run_command(["server", "init", "--config", str(config)]))[0] == 0
    args = ["server", "enroll-store", "S001", "--name", "A", "--timezone", "Europe/Paris",
            "--config", str(config)]
    assert (await run_command(args))[0] == 0
    status, output = await run_command(args)
    assert status == 1 and "already enrolled" in output
    status, output = await run_command(["server", "enroll-store", "S002", "--name", "B",
                                        "--timezone", "Mars/Olympus", "--config", str(config)])
    assert status == 1 and "IANA time zone" in output


async def test_server_run_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text('[http]\nport = 0\n[database]\nurl = "sqlite:///c.db"\n')
    status, output = await run_command(["server", "run", "--config", str(config)])
    assert status == 1, output
    assert "backoffice server init" in output


async def test_rotating_and_revoking_a_store_token(tmp_path: Path) -> None:
    import re

    from sync import CONTENT_TYPE, PUSH_PATH

    config = tmp_path / "server.toml"
    config.write_text('[database]\nurl = "sqlite:///c.db"\n')
    assert (await run_command(["server", "init", "--config", str(config)]))[0] == 0
    _, output = await run_command(["server", "enroll-store", "S001", "--name", "A",
                                   "--timezone", "Europe/Paris", "--config", str(config)])
    first = re.findall(r"bos_\S+", output)[0]
    status, output = await run_command(["server", "rotate-store-token", "S001", "--config",
                                        str(config)])
    assert status == 0, output
    second = re.findall(r"bos_\S+", output)[0]
    assert second != first
    status, output = await run_command(["server", "revoke-store-token", "S404", "--config",
                                        str(config)])
    assert status == 1 and "no store 'S404'" in output
    assert (await run_command(["server", "revoke-store-token", "S001", "--config",
                               str(config)]))[0] == 0

    from aiohttp.test_utils import TestClient, TestServer

    from config import load_server_settings
    from server import create_app

    async with TestClient(TestServer(create_app(load_server_settings(config, env={})))) as client:
        for token, expected in ((first, "not recognised"), (second, "revoked")):
            resp = await client.post(PUSH_PATH, data=b"\x80", headers={
                "Authorization": f"Bearer {token}", "Content-Type": CONTENT_TYPE})
            assert resp.status == 401 and expected in (await resp.json())["detail"]


async def test_imports_are_all_or_nothing_and_verify_reports(tmp_path: Path) -> None:
    config = write_store_config(tmp_path)
    assert (await run_command(["agent", "init", "--config", str(config)]))[0] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,price,tax_rate,barcodes\n1,Milk,1.29,7,\n2,Bread,two,7,\n"
                   "3,,1.00,7,\n")
    status, output = await run_command(["agent", "import-catalog", str(bad), "--config",
                                        str(config)])
    assert status == 1
    assert "bad.csv:3" in output and "bad.csv:4" in output and "nothing changed" in output
    staff = tmp_path / "staff.csv"
    staff.write_text("employee_id,name,role,pin\nE1,Ann,cashier,12\n")
    status, output = await run_command(["agent", "import-employees", str(staff), "--config",
                                        str(config)])
    assert status == 1 and "pin must be 4-8 digits" in output
    status, output = await run_command(["agent", "verify", "--config", str(config)])
    assert status == 0 and "is sound: 0 events" in output.replace("\n", " ")
    status, output = await run_command(["agent", "status", "--config", str(config)])
    assert status == 0 and re.search(r"events recorded\s*│\s*0", output)
