"""The customer display, the scale and a serial cash drawer in the agent.

The display follows its terminal: each scanned item with its price, the total and change when
a sale is recorded, then the idle message. Every write happens in a background task, so a
display that is gone never slows or fails a sale — it shows as ``disconnected`` in status.

The scale is asked on demand (``GET /api/v1/scale``) from a worker thread, one question at a
time.

A cash drawer on its own serial port opens on the ``drawer`` notices the agent publishes when a
cash sale or an audited no-sale is recorded at its terminal (so every opening is tied to one);
its open/closed state is read after each opening and now and then while idle.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from config import AgentSettings
from drivers.display import DisplayGone, LineDisplay
from drivers.drawer import DrawerConfig, DrawerGone, SerialDrawer, parse_hex
from drivers.scale import Scale, ScaleFault, Weighing
from store_agent.stream import EventBroker


class DeviceState:
    """A device's state and its reason, published on the event stream when either changes."""

    def __init__(self, events: EventBroker, device: str) -> None:
        self._events = events
        self._device = device
        self.state = "unknown"
        self.detail: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background, kept until it is done (and cancelled on stop)."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _set(self, state: str, detail: str | None) -> None:
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail = state, detail
            self._events.publish({"type": "device", "device": self._device, "state": state,
                                  "detail": detail})


class DisplayService(DeviceState):
    def __init__(self, settings: AgentSettings, events: EventBroker) -> None:
        super().__init__(events, "customer_display")
        config = settings.display
        self.terminal = config.terminal
        self._driver = LineDisplay(config.url, config.protocol)
        self._idle_message = config.idle_message
        self._idle_seconds = config.idle_seconds
        self._health_seconds = config.health_seconds
        self._health: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._idle_task: asyncio.Task[None] | None = None
        self.lines: tuple[str, str] = ("", "")

    def status(self) -> dict[str, Any]:
        return {"type": "customer_display", "url": self._driver.url, "terminal": self.terminal,
                "state": self.state, "detail": self.detail, "showing": list(self.lines)}

    def show(self, upper: str, lower: str = "", *, then_idle: bool = False) -> None:
        """Put two lines on the display in the background."""
        self._spawn(self._show(upper, lower))
        if self._idle_task is not None:
            self._idle_task.cancel()
            self._idle_task = None
        if then_idle:
            self._idle_task = asyncio.create_task(self._idle_later())

    def start(self) -> None:
        self._health = asyncio.create_task(self._check_now_and_then())

    async def _check_now_and_then(self) -> None:
        """Rewrite the screen now and then, so a display unplugged while idle shows in status
        before the next customer."""
        while True:
            await asyncio.sleep(self._health_seconds)
            if not self._lock.locked():
                await self._show(*self.lines)

    async def stop(self) -> None:
        for task in (self._health, self._idle_task):
            if task is not None:
                self._tasks.add(task)
        await self._cancel_tasks()

    async def _idle_later(self) -> None:
        await asyncio.sleep(self._idle_seconds)
        await self._show(self._idle_message, "")

    async def _show(self, upper: str, lower: str) -> None:
        async with self._lock:
            try:
                await asyncio.to_thread(self._driver.show, upper, lower)
            except DisplayGone as exc:
                self._set("disconnected", str(exc))
                return
            self.lines = (upper[:20], lower[:20])
            self._set("ready", None)

    def on_notice(self, notice: dict[str, Any]) -> None:
        """Follow the event stream: scans at this terminal, sales recorded on it."""
        if notice.get("type") == "scan" and notice.get("terminal_id") == self.terminal:
            product = notice.get("product")
            if product:
                self.show(product["name"], f"{product['price']:>20}")
            elif notice.get("valid") is False:
                self.show("Please scan again", "")
        elif notice.get("type") == "sale" and notice.get("terminal_id") == self.terminal:
            change = notice.get("change_due")
            self.show(f"TOTAL {notice['total']:>14}",
                      f"CHANGE {change:>13}" if change and change != "0.00" else "Thank you",
                      then_idle=True)


class ScaleService(DeviceState):
    def __init__(self, settings: AgentSettings, events: EventBroker) -> None:
        super().__init__(events, "scale")
        config = settings.scale
        self._driver = Scale(config.url, config.protocol, config.baudrate, config.parity,
                             config.bytesize, config.timeout_seconds)
        self._lock = asyncio.Lock()
        self._health_seconds = config.health_seconds
        self._health: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._health = asyncio.create_task(self._check_now_and_then())

    async def _check_now_and_then(self) -> None:
        while True:
            with contextlib.suppress(ScaleFault):
                await self.weigh()
            await asyncio.sleep(self._health_seconds)

    def status(self) -> dict[str, Any]:
        return {"type": "scale", "url": self._driver.url, "protocol": self._driver.protocol,
                "state": self.state, "detail": self.detail}

    async def weigh(self) -> Weighing:
        async with self._lock:
            try:
                weighing = await asyncio.to_thread(self._driver.weigh)
            except ScaleFault as exc:
                self._set(exc.state.value, str(exc))
                raise
        self._set(weighing.state.value, None)
        return weighing

    async def stop(self) -> None:
        if self._health is not None:
            self._health.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health
        await asyncio.to_thread(self._driver.close)



def serial_drawer(settings: AgentSettings) -> SerialDrawer:
    """The driver for the drawer in ``[drawer]``."""
    config = settings.drawer
    return SerialDrawer(DrawerConfig(
        url=config.url, baudrate=config.baudrate, open_command=parse_hex(config.open_command),
        status=config.status, status_command=parse_hex(config.status_command),
        closed_bit=config.closed_bit, line_high_when=config.line_high_when,
        timeout=config.timeout_seconds))


class DrawerService(DeviceState):
    def __init__(self, settings: AgentSettings, events: EventBroker) -> None:
        super().__init__(events, "cash_drawer")
        config = settings.drawer
        self.terminal = config.terminal
        self._driver = serial_drawer(settings)
        self._health_seconds = config.health_seconds
        self._lock = asyncio.Lock()
        self.openings = 0
        self.last_opened_for: str | None = None

    def start(self) -> None:
        self._spawn(self._check_now_and_then())

    def status(self) -> dict[str, Any]:
        return {"type": "cash_drawer", "via": "serial", "url": self._driver.url,
                "terminal": self.terminal, "state": self.state, "detail": self.detail,
                "openings": self.openings, "last_opened_for": self.last_opened_for}

    def on_notice(self, notice: dict[str, Any]) -> None:
        """Open for a cash sale or a no-sale recorded at this drawer's terminal."""
        if notice.get("type") == "drawer" and notice.get("terminal_id") == self.terminal:
            self._spawn(self.kick(f"{notice['reason']} (event {notice['seq']})"))

    async def kick(self, reason: str) -> None:
        async with self._lock:
            try:
                await asyncio.to_thread(self._driver.kick)
            except DrawerGone as exc:
                self._set("disconnected", str(exc))
                return
            self.openings += 1
            self.last_opened_for = reason
            await self._read_state(assume="open")

    async def read(self) -> None:
        async with self._lock:
            await self._read_state(assume="ready")

    async def _read_state(self, assume: str) -> None:
        try:
            is_open = await asyncio.to_thread(self._driver.is_open)
        except DrawerGone as exc:
            self._set("disconnected", str(exc))
            return
        self._set(assume if is_open is None else ("open" if is_open else "closed"), None)

    async def _check_now_and_then(self) -> None:
        while True:
            await self.read()
            await asyncio.sleep(self._health_seconds)

    async def stop(self) -> None:
        await self._cancel_tasks()
        await asyncio.to_thread(self._driver.close)
