"""Loading settings from TOML plus environment overrides: defaults, precedence, path resolution
against the config file's folder, and every refusal naming the file or variable and the key."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

import config
from config import (
    AgentSettings,
    ConfigError,
    ConfigFileError,
    ConfigValueError,
    ServerSettings,
    load_agent_settings,
    load_server_settings,
)

TOKEN = "bos_" + "x" * 40
STORE_SECTIONS = {
    "store": 'id = "S001"\ntimezone = "Europe/Berlin"',
    "head_office": f'url = "http://127.0.0.1:9"\nsync_token = "{TOKEN}"',
    "terminals": 'T1 = "terminal-one-test-token"\nT2 = "terminal-two-test-token"',
}


def server_file(folder: Path, text: str = "") -> Path:
    path = folder / "server.toml"
    path.write_text(text, encoding="utf-8")
    return path


def store_file(folder: Path, extra: str = "", top: str = "", **sections: str | None) -> Path:
    """A valid store.toml; a section given as None is left out, a string replaces its body;
    ``top`` goes before the first table, ``extra`` after the last."""
    merged: dict[str, str | None] = {**STORE_SECTIONS, **sections}
    body = "".join(f"[{name}]\n{content}\n\n" for name, content in merged.items()
                   if content is not None)
    path = folder / "store.toml"
    path.write_text(top + body + extra, encoding="utf-8")
    return path


def refused(load: object, path: Path, env: dict[str, str] | None = None) -> ConfigValueError:
    with pytest.raises(ConfigValueError) as caught:
        load(path, env={} if env is None else env)  # type: ignore[operator]
    return caught.value


# --- defaults and values -------------------------------------------------------------------


def test_an_empty_server_file_gives_every_default(tmp_path: Path) -> None:
    settings = load_server_settings(server_file(tmp_path), env={})
    assert isinstance(settings, ServerSettings)
    assert (settings.http.host, settings.http.port) == ("127.0.0.1", 8080)
    assert settings.http.max_body_bytes == 4 * 1024 * 1024
    assert settings.http.tls_cert_file is None and settings.http.tls_key_file is None
    assert settings.chain.currency == "USD"
    assert settings.sync.max_batch_events == 5000
    assert settings.logging.level == "info"
    # The default sqlite:///central.db is relative, so it lives next to the config file.
    assert settings.database.url == f"sqlite:///{tmp_path.resolve() / 'central.db'}"


def test_server_values_come_from_the_file(tmp_path: Path) -> None:
    path = server_file(tmp_path, '[http]\nhost = "0.0.0.0"\nport = 9100\nmax_body_bytes = 10\n'
                                 '[chain]\ncurrency = "JPY"\n[sync]\nmax_batch_events = 7\n'
                                 '[logging]\nlevel = "debug"\n'
                                 '[database]\nurl = "postgresql://u@db:5432/bo"\n')
    settings = load_server_settings(path, env={})
    assert (settings.http.host, settings.http.port, settings.http.max_body_bytes) == \
        ("0.0.0.0", 9100, 10)
    assert settings.chain.currency == "JPY"
    assert settings.sync.max_batch_events == 7
    assert settings.logging.level == "debug"
    assert settings.database.url == "postgresql://u@db:5432/bo"


def test_agent_defaults_and_required_values(tmp_path: Path) -> None:
    settings = load_agent_settings(store_file(tmp_path), env={})
    assert isinstance(settings, AgentSettings)
    assert (settings.store.id, settings.store.timezone) == ("S001", "Europe/Berlin")
    assert settings.store.day_cutoff == "04:00"
    assert settings.head_office.sync_token == TOKEN
    assert settings.head_office.timeout_seconds == 30
    assert dict(settings.terminals) == {"T1": "terminal-one-test-token",
                                        "T2": "terminal-two-test-token"}
    assert settings.http.port == 8081  # the agent's own default, not the server's 8080
    assert settings.sync.enabled is True
    assert settings.ledger.path == tmp_path.resolve() / "ledger.db"


# --- environment overrides -----------------------------------------------------------------


def test_server_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = server_file(tmp_path, '[http]\nport = 8000\n[logging]\nlevel = "info"\n')
    settings = load_server_settings(path, env={"BACKOFFICE_SERVER_HTTP_PORT": "9000",
                                               "BACKOFFICE_SERVER_LOGGING_LEVEL": "error"})
    assert settings.http.port == 9000
    assert settings.logging.level == "error"


def test_agent_environment_wins_over_the_file(tmp_path: Path) -> None:
    env = {
        "BACKOFFICE_AGENT_HEAD_OFFICE_SYNC_TOKEN": "bos_from-the-environment",
        "BACKOFFICE_AGENT_SYNC_ENABLED": "off",
        "BACKOFFICE_AGENT_TERMINALS": "T7=seventh-terminal-token, T8=eighth-terminal-token",
        "BACKOFFICE_AGENT_STORE_PRICES_INCLUDE_TAX": "yes",
    }
    settings = load_agent_settings(store_file(tmp_path), env=env)
    assert settings.head_office.sync_token == "bos_from-the-environment"
    assert settings.sync.enabled is False
    assert settings.store.prices_include_tax is True
    assert dict(settings.terminals) == {"T7": "seventh-terminal-token",
                                        "T8": "eighth-terminal-token"}


def test_a_required_value_may_come_from_the_environment_only(tmp_path: Path) -> None:
    path = store_file(tmp_path, store='timezone = "Europe/Berlin"')
    settings = load_agent_settings(path, env={"BACKOFFICE_AGENT_STORE_ID": "S777"})
    assert settings.store.id == "S777"


def test_env_none_reads_the_process_environment(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKOFFICE_SERVER_HTTP_PORT", "9123")
    assert load_server_settings(server_file(tmp_path)).http.port == 9123
    monkeypatch.setenv("BACKOFFICE_SERVER_NOPE", "1")
    with pytest.raises(ConfigValueError):
        load_server_settings(server_file(tmp_path))


@pytest.mark.parametrize("text", ["abc", "", "8080.0", "0x1F90"])
def test_a_bad_integer_in_the_environment_names_the_variable(tmp_path: Path, text: str) -> None:
    error = refused(load_server_settings, server_file(tmp_path),
                    {"BACKOFFICE_SERVER_HTTP_PORT": text})
    assert error.source == "BACKOFFICE_SERVER_HTTP_PORT"
    assert "BACKOFFICE_SERVER_HTTP_PORT" in str(error)
    assert "integer" in error.problem


def test_a_bad_boolean_in_the_environment_names_the_variable(tmp_path: Path) -> None:
    error = refused(load_agent_settings, store_file(tmp_path),
                    {"BACKOFFICE_AGENT_SYNC_ENABLED": "maybe"})
    assert error.source == "BACKOFFICE_AGENT_SYNC_ENABLED"
    assert "true or false" in error.problem


def test_an_environment_value_is_checked_like_a_file_value(tmp_path: Path) -> None:
    error = refused(load_server_settings, server_file(tmp_path),
                    {"BACKOFFICE_SERVER_HTTP_PORT": "70000"})
    assert (error.source, error.key) == ("BACKOFFICE_SERVER_HTTP_PORT", "http.port")


def test_terminal_pairs_without_equals_sign_are_refused(tmp_path: Path) -> None:
    error = refused(load_agent_settings, store_file(tmp_path),
                    {"BACKOFFICE_AGENT_TERMINALS": "T1=terminal-one-test-token,T2"})
    assert error.source == "BACKOFFICE_AGENT_TERMINALS"
    assert "'T2'" in error.problem


def test_an_unknown_environment_variable_is_refused(tmp_path: Path) -> None:
    error = refused(load_server_settings, server_file(tmp_path),
                    {"BACKOFFICE_SERVER_NOPE": "1"})
    assert error.source == "BACKOFFICE_SERVER_NOPE"
    assert "unknown setting" in error.problem


def test_variables_of_the_other_kind_and_the_config_variable_are_not_settings(
        tmp_path: Path) -> None:
    env = {"BACKOFFICE_SERVER_CONFIG": "/elsewhere/server.toml",
           "BACKOFFICE_AGENT_STORE_ID": "S002", "HOME": "/root"}
    assert load_server_settings(server_file(tmp_path), env=env).http.port == 8080
    # ...but the server's prefix is not a free-for-all for the agent either.
    with pytest.raises(ConfigValueError):
        load_agent_settings(store_file(tmp_path), env={"BACKOFFICE_AGENT_SERVER_PORT": "1"})


def test_an_empty_environment_value_for_a_required_path_is_refused(tmp_path: Path) -> None:
    error = refused(load_agent_settings, store_file(tmp_path),
                    {"BACKOFFICE_AGENT_LEDGER_PATH": ""})
    assert error.source == "BACKOFFICE_AGENT_LEDGER_PATH"


def test_an_empty_environment_value_clears_an_optional_path(tmp_path: Path) -> None:
    path = server_file(tmp_path, '[http]\ntls_cert_file = "cert.pem"\n')
    assert load_server_settings(path, env={}).http.tls_cert_file == tmp_path.resolve() / \
        "cert.pem"
    settings = load_server_settings(path, env={"BACKOFFICE_SERVER_HTTP_TLS_CERT_FILE": ""})
    assert settings.http.tls_cert_file is None


# --- refusals from the file ----------------------------------------------------------------


def test_an_unknown_section_is_refused(tmp_path: Path) -> None:
    path = server_file(tmp_path, "[bogus]\nx = 1\n")
    error = refused(load_server_settings, path)
    assert (error.source, error.key) == (str(path), "bogus")
    assert "unknown section" in error.problem


def test_an_unknown_key_names_the_file_and_the_dotted_key(tmp_path: Path) -> None:
    path = server_file(tmp_path, "[http]\nbogus = 1\n")
    error = refused(load_server_settings, path)
    assert str(path) in str(error)
    assert "http.bogus" in str(error)
    assert error.key == "http.bogus"


def test_a_section_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    error = refused(load_server_settings, server_file(tmp_path, "http = 5\n"))
    assert error.key == "http"
    assert "table" in error.problem


@pytest.mark.parametrize(("body", "key", "got"), [
    ('[http]\nport = "abc"\n', "http.port", "str"),
    ("[http]\nport = true\n", "http.port", "bool"),
    ("[http]\nport = 80.5\n", "http.port", "float"),
    ("[http]\nhost = 1\n", "http.host", "int"),
    ("[logging]\nlevel = []\n", "logging.level", "list"),
    ('[database]\nurl = ""\n', "database.url", None),
])
def test_a_value_of_the_wrong_type_is_refused(tmp_path: Path, body: str, key: str,
                                              got: str | None) -> None:
    path = server_file(tmp_path, body)
    error = refused(load_server_settings, path)
    assert (error.source, error.key) == (str(path), key)
    if got is not None:
        assert f"got {got}" in error.problem


@pytest.mark.parametrize(("body", "key"), [
    ('[sync]\nenabled = "yes"\n', "sync.enabled"),
    ("[terminals]\nT1 = 5\n", "terminals"),
    ("[ledger]\npath = 3\n", "ledger.path"),
    ('[ledger]\npath = ""\n', "ledger.path"),
])
def test_agent_values_of_the_wrong_type_are_refused(tmp_path: Path, body: str, key: str) -> None:
    sections = {"terminals": None} if body.startswith("[terminals]") else {}
    path = store_file(tmp_path, extra=body, **sections)
    assert refused(load_agent_settings, path).key == key


def test_terminals_given_as_a_plain_string_is_refused(tmp_path: Path) -> None:
    path = store_file(tmp_path, top='terminals = "T1"\n', terminals=None)
    error = refused(load_agent_settings, path)
    assert error.key == "terminals"
    assert "table of strings" in error.problem


@pytest.mark.parametrize(("sections", "key"), [
    ({"store": 'timezone = "Europe/Berlin"'}, "store.id"),
    ({"store": 'id = "S001"'}, "store.timezone"),
    ({"head_office": 'url = "http://127.0.0.1:9"'}, "head_office.sync_token"),
    ({"head_office": None}, "head_office.url"),
    ({"terminals": None}, "terminals"),
])
def test_a_missing_required_value_says_missing(tmp_path: Path, sections: dict[str, str | None],
                                               key: str) -> None:
    path = store_file(tmp_path, **sections)
    error = refused(load_agent_settings, path)
    assert error.key == key
    assert "missing" in error.problem
    assert str(path) in str(error)


def test_a_missing_value_message_names_the_environment_variable(tmp_path: Path) -> None:
    path = store_file(tmp_path, head_office='url = "http://127.0.0.1:9"')
    error = refused(load_agent_settings, path)
    assert "BACKOFFICE_AGENT_HEAD_OFFICE_SYNC_TOKEN" in error.problem


def test_the_token_length_boundary(tmp_path: Path) -> None:
    for token, ok in (("t" * 15, False), ("t" * 16, True)):
        path = store_file(tmp_path,
                          head_office=f'url = "http://h"\nsync_token = "{token}"')
        if ok:
            assert load_agent_settings(path, env={}).head_office.sync_token == token
        else:
            error = refused(load_agent_settings, path)
            assert error.key == "head_office.sync_token"
            assert "too short" in error.problem
    empty = store_file(tmp_path, head_office='url = "http://h"\nsync_token = ""')
    assert "missing" in refused(load_agent_settings, empty).problem


@pytest.mark.parametrize(("terminals", "fragment"), [
    ("", "at least one terminal"),
    ('T1 = "same-token-for-both"\nT2 = "same-token-for-both"', "share a token"),
    ('T1 = "short"', "too short"),
    ('"T 1" = "terminal-one-test-token"', "'T 1'"),
])
def test_bad_terminals_are_refused(tmp_path: Path, terminals: str, fragment: str) -> None:
    error = refused(load_agent_settings, store_file(tmp_path, terminals=terminals))
    assert error.key == "terminals"
    assert fragment in error.problem


@pytest.mark.parametrize(("store", "key"), [
    ('id = "S001"\ntimezone = "Mars/Olympus_Mons"', "store.timezone"),
    ('id = "S001"\ntimezone = ""', "store.timezone"),
    ('id = "S001"\ntimezone = "../../etc/passwd"', "store.timezone"),
    ('id = "S001"\ntimezone = "UTC"\nday_cutoff = "24:00"', "store.day_cutoff"),
    ('id = "S001"\ntimezone = "UTC"\nday_cutoff = "4:00"', "store.day_cutoff"),
    ('id = "S001"\ntimezone = "UTC"\nday_cutoff = "04:60"', "store.day_cutoff"),
    ('id = "S001"\ntimezone = "UTC"\nday_cutoff = "0400"', "store.day_cutoff"),
    ('id = "S001"\ntimezone = "UTC"\ncurrency = "usd"', "store.currency"),
    ('id = "S001"\ntimezone = "UTC"\ncurrency = "XYZ"', "store.currency"),
    ('id = "S001"\ntimezone = "UTC"\ndiscount_limit_percent = 101', "store.discount_limit_percent"),
    ('id = "-S001"\ntimezone = "UTC"', "store.id"),
    (f'id = "{"S" * 33}"\ntimezone = "UTC"', "store.id"),
])
def test_bad_store_values_are_refused(tmp_path: Path, store: str, key: str) -> None:
    path = store_file(tmp_path, store=store)
    error = refused(load_agent_settings, path)
    assert (error.source, error.key) == (str(path), key)


def test_cutoff_and_store_id_boundaries_are_accepted(tmp_path: Path) -> None:
    path = store_file(tmp_path, store=f'id = "{"S" * 32}"\ntimezone = "UTC"\n'
                                      'day_cutoff = "23:59"\ncurrency = "KWD"')
    settings = load_agent_settings(path, env={})
    assert (settings.store.day_cutoff, settings.store.currency) == ("23:59", "KWD")


def test_a_time_zone_folder_is_not_a_time_zone(tmp_path: Path) -> None:
    error = refused(load_agent_settings, store_file(tmp_path,
                                                    store='id = "S001"\ntimezone = "America"'))
    assert error.key == "store.timezone"


@pytest.mark.parametrize("store", ['id = "S001\\n"\ntimezone = "UTC"',
                                   'id = "S001"\ntimezone = "UTC"\nday_cutoff = "04:00\\n"'])
def test_a_trailing_newline_is_not_part_of_a_valid_value(tmp_path: Path, store: str) -> None:
    refused(load_agent_settings, store_file(tmp_path, store=store))


@pytest.mark.parametrize("url", ["mysql://u@h/db", "sqlite://relative.db", "central.db",
                                 "postgresql+asyncpg//x"])
def test_a_bad_database_url_is_refused(tmp_path: Path, url: str) -> None:
    error = refused(load_server_settings, server_file(tmp_path, f'[database]\nurl = "{url}"\n'))
    assert error.key == "database.url"


@pytest.mark.parametrize(("body", "ok"), [
    ("[http]\nport = -1\n", False), ("[http]\nport = 65536\n", False),
    ("[http]\nport = 0\n", True), ("[http]\nport = 65535\n", True),
    ("[http]\nmax_body_bytes = 0\n", False), ("[sync]\nmax_batch_events = 0\n", False),
    ('[logging]\nlevel = "trace"\n', False), ('[chain]\ncurrency = ""\n', False),
])
def test_range_checks_on_server_values(tmp_path: Path, body: str, ok: bool) -> None:
    path = server_file(tmp_path, body)
    if ok:
        assert load_server_settings(path, env={}).http.port in (0, 65535)
    else:
        refused(load_server_settings, path)


def test_a_bad_head_office_url_is_refused(tmp_path: Path) -> None:
    path = store_file(tmp_path, head_office=f'url = "ftp://hq"\nsync_token = "{TOKEN}"')
    assert refused(load_agent_settings, path).key == "head_office.url"


# --- unreadable files ----------------------------------------------------------------------


def _file_error(path: Path) -> ConfigFileError:
    with pytest.raises(ConfigFileError) as caught:
        load_server_settings(path, env={})
    error = caught.value
    assert str(path) in str(error)
    assert error.path == path
    assert isinstance(error, ConfigError) and isinstance(error, OSError)
    return error


def test_a_missing_file(tmp_path: Path) -> None:
    assert "no such file" in _file_error(tmp_path / "absent.toml").problem


def test_a_directory_instead_of_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "server.toml"
    folder.mkdir()
    assert "directory" in _file_error(folder).problem


def test_invalid_toml(tmp_path: Path) -> None:
    assert "not valid TOML" in _file_error(server_file(tmp_path, "[http\nport = 1\n")).problem


def test_a_duplicate_key_is_invalid_toml(tmp_path: Path) -> None:
    path = server_file(tmp_path, "[http]\nport = 1\nport = 2\n")
    assert "not valid TOML" in _file_error(path).problem


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_bytes(b'[http]\nhost = "\xff\xfe"\n')
    assert "UTF-8" in _file_error(path).problem


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file(tmp_path: Path) -> None:
    path = server_file(tmp_path)
    path.chmod(0)
    assert "permission" in _file_error(path).problem


def test_the_environment_is_not_consulted_when_the_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError):
        load_server_settings(tmp_path / "absent.toml", env={"BACKOFFICE_SERVER_NOPE": "1"})


# --- paths relative to the config file -----------------------------------------------------


def test_relative_paths_are_resolved_against_the_config_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "etc" / "store"
    folder.mkdir(parents=True)
    store_file(folder, extra='[ledger]\npath = "data/ledger.db"\n')
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    settings = load_agent_settings(Path("etc/store/store.toml"), env={})
    assert settings.ledger.path == folder.resolve() / "data" / "ledger.db"
    assert settings.ledger.path.is_absolute()


def test_the_default_ledger_path_is_next_to_the_config_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    store_file(folder)
    monkeypatch.chdir(tmp_path)
    settings = load_agent_settings(Path("cfg/store.toml"), env={})
    assert settings.ledger.path == folder.resolve() / "ledger.db"


def test_an_absolute_ledger_path_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "ledger.db"
    settings = load_agent_settings(store_file(tmp_path, extra=f'[ledger]\npath = "{target}"\n'),
                                   env={})
    assert settings.ledger.path == target


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///rel/central.db", "sqlite:///{folder}/rel/central.db"),
    ("sqlite:////abs/central.db", "sqlite:////abs/central.db"),
    ("sqlite:///:memory:", "sqlite:///:memory:"),
    ("postgresql://u@h:5432/db", "postgresql://u@h:5432/db"),
])
def test_sqlite_urls_are_resolved_against_the_config_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, expected: str) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    server_file(folder, f'[database]\nurl = "{url}"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_server_settings(Path("conf/server.toml"), env={})
    assert settings.database.url == expected.format(folder=folder.resolve())


def test_a_relative_sqlite_url_from_the_environment_is_resolved_too(tmp_path: Path) -> None:
    settings = load_server_settings(server_file(tmp_path),
                                    env={"BACKOFFICE_SERVER_DATABASE_URL": "sqlite:///x.db"})
    assert settings.database.url == f"sqlite:///{tmp_path.resolve() / 'x.db'}"


# --- immutability and the shipped examples -------------------------------------------------


def test_settings_are_frozen(tmp_path: Path) -> None:
    server = load_server_settings(server_file(tmp_path), env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        server.http.port = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        server.http = server.http  # type: ignore[misc]
    agent = load_agent_settings(store_file(tmp_path), env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        agent.store.id = "S999"  # type: ignore[misc]
    with pytest.raises(TypeError):
        agent.terminals["T3"] = "sneaked-in-terminal-token"  # type: ignore[index]
    assert "T3" not in agent.terminals


EXAMPLES = Path(config.__file__).parent / "examples"


def test_the_example_server_file_loads_cleanly() -> None:
    settings = load_server_settings(EXAMPLES / "server.toml", env={})
    assert settings.http.port == 8080
    assert settings.database.url == f"sqlite:///{EXAMPLES.resolve() / 'central.db'}"


def test_the_example_store_file_loads_cleanly() -> None:
    settings = load_agent_settings(EXAMPLES / "store.toml", env={})
    assert (settings.store.id, settings.store.timezone) == ("S001", "America/New_York")
    assert set(settings.terminals) == {"T1", "T2"}
    assert settings.ledger.path == EXAMPLES.resolve() / "ledger.db"
