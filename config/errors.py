"""Errors raised while loading configuration: each names the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """Base class: the configuration cannot be used and the process must not start."""


class ConfigFileError(ConfigError, OSError):
    """The configuration file is missing, unreadable or not valid TOML."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class ConfigValueError(ConfigError, ValueError):
    """One setting is unknown, of the wrong type, out of range or missing."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: {key}: {problem}")
