"""The scanner in the agent: reads from the serial scanner thread are interpreted (GS1 check
digits, scale labels with their embedded price or weight), looked up in the catalog, and
published on the event stream for the scanner's terminal — ``{"type": "scan", ...}`` — with
the product when the code is known. Scanner state changes are published too."""

from __future__ import annotations

import asyncio
from typing import Any

from config import AgentSettings
from drivers.scanner import ScannerConfig, ScanRead, SerialScanner
from store_agent.catalog import find_by_barcode, product_view
from store_agent.clock import Clock, utc_text
from store_agent.context import StoreContext
from store_agent.errors import InvalidSale, UnknownProduct
from store_agent.ledger import Ledger
from store_agent.stream import EventBroker
from sync.money import format_minor


class ScannerService:
    def __init__(self, settings: AgentSettings, ledger: Ledger, store: StoreContext,
                 clock: Clock, events: EventBroker) -> None:
        scanner = settings.scanner
        self._terminal = scanner.terminal
        self._ledger, self._store, self._clock, self._events = ledger, store, clock, events
        self._loop = asyncio.get_running_loop()
        self.reads = 0
        self._driver = SerialScanner(
            ScannerConfig(url=scanner.url, baudrate=scanner.baudrate, parity=scanner.parity,
                          suffix=scanner.suffix, prefix=scanner.prefix, aim=scanner.aim),
            on_read=self._from_thread_read, on_state=self._from_thread_state)

    def start(self) -> None:
        self._driver.start()

    async def stop(self) -> None:
        await asyncio.to_thread(self._driver.stop)

    def status(self) -> dict[str, Any]:
        return {"type": "scanner", "url": self._driver.config.url, "terminal": self._terminal,
                "state": self._driver.state, "detail": self._driver.detail,
                "reads": self.reads}

    def _from_thread_read(self, read: ScanRead) -> None:
        self._loop.call_soon_threadsafe(lambda: self._loop.create_task(self._publish(read)))

    def _from_thread_state(self, state: str, detail: str | None) -> None:
        self._loop.call_soon_threadsafe(self._events.publish, {
            "type": "device", "device": "scanner", "state": state, "detail": detail})

    async def _publish(self, read: ScanRead) -> None:
        self.reads += 1
        notice: dict[str, Any] = {"type": "scan", "terminal_id": self._terminal,
                                  "code": read.code, "symbology": read.symbology}
        now, exponent = utc_text(self._clock.now()), self._store.exponent

        def look_up(db: Any) -> dict[str, Any]:
            try:
                scanned = find_by_barcode(db, read.code, "code", now, self._store.labels)
            except InvalidSale as exc:  # a wrong GS1 check digit: a misread
                return {"valid": False, "problem": str(exc)}
            except UnknownProduct:
                return {"valid": True, "product": None}
            out: dict[str, Any] = {"valid": True,
                                   "product": product_view(db, scanned.product, exponent)}
            if scanned.embedded_price_minor is not None:
                out["embedded_price"] = format_minor(scanned.embedded_price_minor, exponent)
            if scanned.embedded_weight_kg is not None:
                out["embedded_weight_kg"] = str(scanned.embedded_weight_kg)
            return out

        notice.update(await self._ledger.run(look_up))
        self._events.publish(notice)
