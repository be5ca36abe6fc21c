"""The print queue's consumer: receipts are queued in the ledger in the sale's own transaction,
and this worker prints them in order, in the background, through the configured printer.

A printer that is off, out of paper or has its cover open never fails nor slows a sale: the
job stays queued, the printer's state shows in the agent's status and event stream, and the
job is retried every ``printer.retry_seconds`` (and at once when a new receipt is queued), so
receipts come out as soon as the paper is changed. Reprints are queued the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from escpos.printer import Dummy
from sqlite_utils import Database

from config import AgentSettings
from drivers.escpos_receipt import ReceiptLayout, logo_bytes, report_bytes, sale_bytes
from drivers.printer import PrinterAddress, PrinterNotReady, print_job
from drivers.status import PrinterState
from store_agent.clock import Clock, utc_text
from store_agent.ledger import Ledger, write_transaction
from store_agent.stream import EventBroker

log = logging.getLogger(__name__)
HEALTH_CHECK_SECONDS = 30


@dataclass(frozen=True, slots=True)
class PrintJob:
    job_id: int
    seq: int
    kind: str
    data: bytes


def layout_of(settings: AgentSettings) -> ReceiptLayout:
    printer = settings.printer
    return ReceiptLayout(width_mm=printer.width_mm,
                         logo=logo_bytes(printer.logo, printer.width_mm) if printer.logo else b"",
                         header=tuple(filter(None, printer.header.splitlines())),
                         footer=tuple(filter(None, printer.footer.splitlines())),
                         number_as=printer.number_as, drawer_pin=printer.drawer_pin or None)


def next_job(db: Database, layout: ReceiptLayout, store_name: str) -> PrintJob | None:
    """The oldest queued job, laid out as ESC/POS bytes from its sale event."""
    row = db.execute("SELECT job_id, seq, kind, document FROM print_queue "
                     "WHERE status = 'pending' ORDER BY job_id LIMIT 1").fetchone()
    if row is None:
        return None
    job_id, seq, kind, document = row
    if kind == "drawer_kick":  # a no-sale opening: just the pulse, on the printer's pin
        kick = Dummy()
        if layout.drawer_pin:
            kick.cashdraw(layout.drawer_pin)
        return PrintJob(job_id=job_id, seq=seq, kind=kind, data=bytes(kick.output))
    if kind in ("x_report", "z_report"):
        return PrintJob(job_id=job_id, seq=seq, kind=kind,
                        data=report_bytes(json.loads(document), layout, store_name))
    payload, business_date = db.execute("SELECT payload, business_date FROM events "
                                        "WHERE seq = ?", [seq]).fetchone()
    sale = json.loads(payload)
    if kind == "reprint":  # a copy: say so, and never open the drawer again
        layout = dataclasses.replace(layout, header=("*** COPY ***", *layout.header),
                                     drawer_pin=None)
    return PrintJob(job_id=job_id, seq=seq, kind=kind,
                    data=sale_bytes(sale, business_date, layout, store_name))


def mark_printed(db: Database, job_id: int) -> None:
    with write_transaction(db):
        db.execute("UPDATE print_queue SET status = 'printed', attempts = attempts + 1, "
                   "last_error = NULL WHERE job_id = ?", [job_id])


def mark_failed(db: Database, job_id: int, error: str) -> None:
    with write_transaction(db):
        db.execute("UPDATE print_queue SET attempts = attempts + 1, last_error = ? "
                   "WHERE job_id = ?", [error, job_id])


def queued(db: Database) -> int:
    return int(db.execute("SELECT COUNT(*) FROM print_queue WHERE status = 'pending'")
               .fetchone()[0])


class PrintWorker:
    """Prints queued receipts in the background; never raises into the sale path."""

    def __init__(self, ledger: Ledger, settings: AgentSettings, clock: Clock,
                 events: EventBroker) -> None:
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self._events = events
        self._layout = layout_of(settings)
        self._address = PrinterAddress(settings.printer.url, settings.printer.timeout_seconds)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.state = PrinterState.UNKNOWN
        self.drawer_state = "unknown"
        self._next_check = 0.0
        self.last_error: str | None = None
        self.last_printed_at: str | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="print-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def nudge(self) -> None:
        """A receipt was queued: try now."""
        self._wake.set()

    async def status(self) -> dict[str, Any]:
        return {"type": "receipt_printer", "url": self._settings.printer.url,
                "state": self.state.value, "queued": await self._ledger.run(queued),
                "last_error": self.last_error, "last_printed_at": self.last_printed_at}

    async def _run(self) -> None:
        while True:
            try:
                await self._drain()
            except Exception:  # the worker must outlive any surprise; the job stays queued
                log.exception("print worker: unexpected error; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.printer.retry_seconds)
            self._wake.clear()

    async def _drain(self) -> None:
        store_name = self._settings.store.name
        while True:
            job = await self._ledger.run(lambda db: next_job(db, self._layout, store_name))
            if job is None:
                # Idle: a health check now and then, so status shows a printer that ran out
                # of paper or was unplugged before the next sale needs it.
                now = asyncio.get_running_loop().time()
                if self.state == PrinterState.UNKNOWN or now >= self._next_check:
                    self._next_check = now + HEALTH_CHECK_SECONDS
                    state = await self._ask()
                    self._set(state, self.last_error if not state.can_print else None)
                return
            try:
                status = await asyncio.to_thread(print_job, self._address, job.data)
            except PrinterNotReady as exc:
                await self._ledger.run(partial(mark_failed, job_id=job.job_id, error=str(exc)))
                self._set(exc.state, str(exc))
                return
            await self._ledger.run(partial(mark_printed, job_id=job.job_id))
            self.last_printed_at = utc_text(self._clock.now())
            self._set(status.state, None)
            self._drawer(status.drawer_open)

    async def _ask(self) -> PrinterState:
        try:
            status = await asyncio.to_thread(print_job, self._address, b"")
        except PrinterNotReady as exc:
            self.last_error = str(exc)
            return exc.state
        self._drawer(status.drawer_open)
        return status.state

    def _drawer(self, is_open: bool | None) -> None:
        """The drawer's sensor as the printer reports it (DLE EOT 1), published on change."""
        state = "unknown" if is_open is None else ("open" if is_open else "closed")
        if state != self.drawer_state:
            self.drawer_state = state
            self._events.publish({"type": "device", "device": "cash_drawer", "state": state,
                                  "detail": None})

    def drawer_status(self) -> dict[str, Any]:
        return {"type": "cash_drawer", "via": "receipt_printer",
                "pin": self._settings.printer.drawer_pin, "state": self.drawer_state}

    def _set(self, state: PrinterState, error: str | None) -> None:
        changed = state != self.state
        self.state, self.last_error = state, error
        if changed:
            self._events.publish({"type": "device", "device": "receipt_printer",
                                  "state": state.value, "detail": error})
