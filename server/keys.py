"""Typed keys for the server app's shared state (aiohttp ``AppKey``)."""

from __future__ import annotations

from aiohttp import web

from config import ServerSettings
from server.accounting.posting import Accounting
from server.storage import Storage

SETTINGS = web.AppKey("settings", ServerSettings)
STORAGE = web.AppKey("storage", Storage)
ACCOUNTING = web.AppKey("accounting", Accounting)
