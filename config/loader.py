"""Load settings once from a TOML file plus ``BACKOFFICE_<KIND>_<SECTION>_<KEY>`` overrides.

Every problem raises a :class:`config.errors.ConfigError` that names the file (or the
environment variable), the key and what is wrong; callers print it and exit non-zero before
doing anything else.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from config.errors import ConfigFileError, ConfigValueError
from config.fields import is_required
from config.settings import AgentSettings, ServerSettings

T = TypeVar("T")

SERVER_ENV_PREFIX = "BACKOFFICE_SERVER_"
AGENT_ENV_PREFIX = "BACKOFFICE_AGENT_"
# Environment variables with the prefix that are not settings (they name the file itself).
_NOT_SETTINGS = {"CONFIG"}


@dataclasses.dataclass(frozen=True, slots=True)
class SettingSpec:
    """One setting as documented: dotted key, environment variable, type, default, help."""

    key: str
    env: str
    type_name: str
    default: str
    required: bool
    help: str


def load_server_settings(path: Path, env: Mapping[str, str] | None = None) -> ServerSettings:
    """Read the central server's settings from ``path`` and the environment."""
    return _load(ServerSettings, path, SERVER_ENV_PREFIX, os.environ if env is None else env)


def load_agent_settings(path: Path, env: Mapping[str, str] | None = None) -> AgentSettings:
    """Read a store agent's settings from ``path`` and the environment."""
    return _load(AgentSettings, path, AGENT_ENV_PREFIX, os.environ if env is None else env)


def describe(cls: type[Any], prefix: str) -> list[SettingSpec]:
    """Every setting of a settings class, for docs and ``--help``."""
    return [
        SettingSpec(
            key=key, env=_env_name(prefix, key), type_name=_type_name(hint),
            default="" if required else _format_default(default), required=required,
            help=str(field.metadata.get("help", "")),
        )
        for key, field, hint, default, required in _walk(cls)
    ]


def _walk(cls: type[Any]) -> Iterator[tuple[str, dataclasses.Field[Any], Any, Any, bool]]:
    hints = typing.get_type_hints(cls)
    for top in dataclasses.fields(cls):
        hint = hints[top.name]
        if dataclasses.is_dataclass(hint):
            section_default = None if is_required(top) else top.default
            section_hints = typing.get_type_hints(hint)
            for field in dataclasses.fields(hint):
                if section_default is not None:
                    default = getattr(section_default, field.name)
                else:
                    default = None if is_required(field) else _field_default(field)
                yield (f"{top.name}.{field.name}", field, section_hints[field.name], default,
                       section_default is None and is_required(field))
        else:
            yield (top.name, top, hint, None if is_required(top) else _field_default(top),
                   is_required(top))


def _field_default(field: dataclasses.Field[Any]) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def _load(cls: type[T], path: Path, prefix: str, env: Mapping[str, str]) -> T:
    source = str(path)
    raw = _read_toml(path)
    base_dir = path.resolve().parent
    _reject_unknown_env(cls, prefix, env)
    hints = typing.get_type_hints(cls)
    top_names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in raw:
        if key not in top_names:
            raise ConfigValueError(source, key, f"unknown section; known sections are "
                                                f"{', '.join(sorted(top_names))}")
    values: dict[str, Any] = {}
    for top in dataclasses.fields(cls):  # type: ignore[arg-type]
        hint = hints[top.name]
        if dataclasses.is_dataclass(hint):
            table = raw.get(top.name, {})
            if not isinstance(table, dict):
                raise ConfigValueError(source, top.name, "expected a table ([" + top.name + "])")
            values[top.name] = _load_section(
                hint, top, table, source, base_dir, prefix, env)  # type: ignore[arg-type]
        else:
            values[top.name] = _load_value(top.name, top, hint, raw, top.name, source, base_dir,
                                           prefix, env, None if is_required(top) else
                                           _field_default(top))
    return cls(**values)


def _load_section(section_cls: type[Any], top: dataclasses.Field[Any], table: dict[str, Any],
                  source: str, base_dir: Path, prefix: str, env: Mapping[str, str]) -> Any:
    hints = typing.get_type_hints(section_cls)
    names = {f.name for f in dataclasses.fields(section_cls)}
    for key in table:
        if key not in names:
            raise ConfigValueError(source, f"{top.name}.{key}",
                                   f"unknown setting; [{top.name}] knows "
                                   f"{', '.join(sorted(names))}")
    section_default = None if is_required(top) else top.default
    values = {}
    for field in dataclasses.fields(section_cls):
        if section_default is not None:
            default = getattr(section_default, field.name)
        else:
            default = None if is_required(field) else _field_default(field)
        values[field.name] = _load_value(
            f"{top.name}.{field.name}", field, hints[field.name], table, field.name, source,
            base_dir, prefix, env, default)
    return section_cls(**values)


def _load_value(key: str, field: dataclasses.Field[Any], hint: Any, table: Mapping[str, Any],
                name: str, source: str, base_dir: Path, prefix: str, env: Mapping[str, str],
                default: Any) -> Any:
    env_name = _env_name(prefix, key)
    if env_name in env:
        where, value = env_name, _parse_env(env_name, env[env_name], hint)
    elif name in table:
        where, value = source, _coerce(source, key, table[name], hint)
    elif default is None and is_required(field):
        raise ConfigValueError(source, key, f"missing; set it in the file or in {env_name}. "
                                            f"{field.metadata.get('help', '')}")
    else:
        return _resolve_path(default, base_dir) if field.metadata.get("path") else default
    if field.metadata.get("path"):
        value = _resolve_path(value, base_dir)
    check = field.metadata.get("check")
    problem = check(value) if check else None
    if problem:
        raise ConfigValueError(where, key, problem)
    return value


def _coerce(source: str, key: str, value: Any, hint: Any) -> Any:
    accepted = (
        (hint is bool and isinstance(value, bool))
        or (hint is int and isinstance(value, int) and not isinstance(value, bool))
        or (hint is str and isinstance(value, str))
    )
    if accepted:
        return value
    if hint in (Path, OptionalPath) and isinstance(value, str) and value:
        return Path(value)
    if _is_str_map(hint) and isinstance(value, dict) and \
            all(isinstance(v, str) for v in value.values()):
        return types.MappingProxyType(dict(value))
    raise ConfigValueError(source, key, f"expected {_type_name(hint)}, got "
                                        f"{type(value).__name__} {value!r}")


def _parse_env(env_name: str, text: str, hint: Any) -> Any:
    if hint is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigValueError(env_name, env_name, f"expected an integer, got {text!r}") \
                from None
    if hint is bool:
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigValueError(env_name, env_name, f"expected true or false, got {text!r}")
    if hint in (Path, OptionalPath):
        if not text and hint is Path:
            raise ConfigValueError(env_name, env_name, "must name a file; it is required")
        return Path(text) if text else None
    if _is_str_map(hint):
        pairs: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, sep, value = item.partition("=")
            if not sep:
                raise ConfigValueError(env_name, env_name,
                                       f"expected ID=TOKEN pairs separated by commas, got {item!r}")
            pairs[name.strip()] = value.strip()
        return types.MappingProxyType(pairs)
    return text


OptionalPath = Path | None


def _resolve_path(value: Any, base_dir: Path) -> Any:
    if isinstance(value, Path):
        return value if value.is_absolute() else (base_dir / value)
    if value is None:
        return None
    rest = value[len("sqlite:///"):] if isinstance(value, str) else ""
    if value.startswith("sqlite:///") and rest not in ("", ":memory:") and rest[0] != "/":
        return "sqlite:///" + str(base_dir / rest)
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigFileError(path, "no such file; pass --config PATH or create it from "
                                    "config/examples/") from None
    except PermissionError:
        raise ConfigFileError(path, "not readable (permission denied)") from None
    except IsADirectoryError:
        raise ConfigFileError(path, "is a directory, not a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(path, f"not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigFileError(path, "not valid UTF-8 text") from None


def _reject_unknown_env(cls: type[Any], prefix: str, env: Mapping[str, str]) -> None:
    known = {_env_name(prefix, key) for key, *_ in _walk(cls)}
    known |= {prefix + name for name in _NOT_SETTINGS}
    for name in env:
        if name.startswith(prefix) and name not in known:
            raise ConfigValueError(name, name, "unknown setting in the environment; known: "
                                               + ", ".join(sorted(known)))


def _env_name(prefix: str, key: str) -> str:
    return prefix + key.replace(".", "_").upper()


def _is_str_map(hint: Any) -> bool:
    return typing.get_origin(hint) in (Mapping, dict, typing.Mapping) and \
        typing.get_args(hint) == (str, str)


def _type_name(hint: Any) -> str:
    if _is_str_map(hint):
        return "table of strings"
    if hint == OptionalPath:
        return "path (optional)"
    return {int: "integer", str: "string", bool: "boolean", Path: "path"}.get(hint, str(hint))


def _format_default(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {v!r}" for k, v in value.items()) + "}"
    return repr(value) if isinstance(value, str) else str(value)
