"""How a setting is declared: default, help text and value checks, kept as dataclass metadata.

Settings are frozen dataclasses whose fields are declared with :func:`setting`. The loader
reads the metadata to check types, to apply environment overrides and to document every
setting (``docs/configuration.md`` is checked against these declarations by a test).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

# A check receives the parsed value and returns a problem description, or None when fine.
Check = Callable[[Any], str | None]

_MISSING: Any = dataclasses.MISSING


def setting(
    default: Any = _MISSING,
    *,
    help: str,
    check: Check | None = None,
    secret: bool = False,
    path: bool = False,
) -> Any:
    """Declare one setting.

    ``path=True`` marks a filesystem path (or a ``sqlite:///`` URL): relative values are
    resolved against the folder of the configuration file. ``secret=True`` keeps the value
    out of logs and ``--help`` output.
    """
    metadata = {"help": help, "check": check, "secret": secret, "path": path}
    if isinstance(default, dict | list):
        frozen_default = default
        return dataclasses.field(default_factory=lambda: type(frozen_default)(frozen_default),
                                 metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def is_required(field: dataclasses.Field[Any]) -> bool:
    """A setting without a default must be given in the file or the environment."""
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def help_of(field: dataclasses.Field[Any]) -> str:
    """The help text of a setting."""
    return str(field.metadata.get("help", ""))
