"""Configuration: typed, frozen settings loaded from TOML with environment overrides."""

from config.errors import ConfigError, ConfigFileError, ConfigValueError
from config.loader import (
    AGENT_ENV_PREFIX,
    SERVER_ENV_PREFIX,
    SettingSpec,
    describe,
    load_agent_settings,
    load_server_settings,
)
from config.settings import AgentSettings, ServerSettings

__all__ = [
    "AGENT_ENV_PREFIX",
    "SERVER_ENV_PREFIX",
    "AgentSettings",
    "ConfigError",
    "ConfigFileError",
    "ConfigValueError",
    "ServerSettings",
    "SettingSpec",
    "describe",
    "load_agent_settings",
    "load_server_settings",
]
