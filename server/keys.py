"""Typed keys for the server app's shared state (aiohttp ``AppKey``)."""

from __future__ import annotations

from aiohttp import web

from config import ServerSettings
from server.accounting.posting import Accounting
from server.payroll.bank import BankVault
from server.payroll.runs import PayrollContext
from server.storage import Storage

SETTINGS = web.AppKey("settings", ServerSettings)
STORAGE = web.AppKey("storage", Storage)
ACCOUNTING = web.AppKey("accounting", Accounting)
PAYROLL = web.AppKey("payroll", PayrollContext)
BANK_VAULT = web.AppKey("bank_vault", BankVault)
