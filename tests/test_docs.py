"""Docs that cannot drift: every setting and every CLI command is documented."""

from __future__ import annotations

from pathlib import Path

import click

from backoffice.cli import cli
from config import AGENT_ENV_PREFIX, SERVER_ENV_PREFIX, AgentSettings, ServerSettings, describe
from config.reference import BEGIN, END, render

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_configuration_md() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for cls, prefix in ((ServerSettings, SERVER_ENV_PREFIX), (AgentSettings, AGENT_ENV_PREFIX)):
        for spec in describe(cls, prefix):
            assert f"`{spec.key}`" in text, f"{spec.key} is not in docs/configuration.md"
            assert spec.env in text, f"{spec.env} is not in docs/configuration.md"
            assert spec.help, f"{spec.key} has no help text"


def test_configuration_md_reference_is_current() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == render(), \
        "docs/configuration.md is stale: run " \
        "python -m config.reference --write docs/configuration.md"


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[str]:
    paths = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        if isinstance(command, click.Group):
            paths += _command_paths(command, path)
        else:
            paths.append(" ".join(path))
    return paths


def test_every_command_is_documented() -> None:
    text = "\n".join(p.read_text(encoding="utf-8")
                     for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    missing = [p for p in _command_paths(cli) if f"backoffice {p}" not in text]
    assert not missing, f"commands not documented in README.md or docs/: {missing}"


def test_readme_quick_start_has_exactly_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    commands = [line for line in block.splitlines()[1:] if line.strip()]
    assert len(commands) == 2, commands
    assert "backoffice demo" in commands[0] and "pytest" in commands[1]
