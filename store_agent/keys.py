"""Typed keys for the agent app's shared state (aiohttp ``AppKey``)."""

from __future__ import annotations

from aiohttp import web

from config import AgentSettings
from store_agent.clock import Clock
from store_agent.context import StoreContext
from store_agent.devices import DisplayService, DrawerService, ScaleService
from store_agent.ledger import Ledger
from store_agent.printing import PrintWorker
from store_agent.scanning import ScannerService
from store_agent.stream import EventBroker
from store_agent.sync_loop import SyncLoop

SETTINGS = web.AppKey("settings", AgentSettings)
LEDGER = web.AppKey("ledger", Ledger)
CLOCK = web.AppKey("clock", Clock)
STORE = web.AppKey("store", StoreContext)
EVENTS = web.AppKey("events", EventBroker)
SYNC = web.AppKey("sync", SyncLoop)
PRINTER = web.AppKey("printer", PrintWorker)
SCANNER = web.AppKey("scanner", ScannerService)
DISPLAY = web.AppKey("display", DisplayService)
SCALE = web.AppKey("scale", ScaleService)
DRAWER = web.AppKey("drawer", DrawerService)
# terminal token -> terminal id
TERMINALS = web.AppKey("terminals", dict)
