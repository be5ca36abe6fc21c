"""The agent's background sync, on APScheduler 3.11's ``AsyncIOScheduler``.

Every ``interval_seconds`` while online; ``debounce_seconds`` after a sale when nothing is due
sooner; exponential backoff with jitter while head office is unreachable; never two syncs at
once (an in-process lock, and the cross-process file lock shared with ``agent sync``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from config import AgentSettings
from store_agent.clock import Clock
from store_agent.errors import HeadOfficeBusy, SyncError
from store_agent.ledger import Ledger
from store_agent.reconcile import Reconciliation, reconcile
from store_agent.stream import EventBroker
from store_agent.sync_client import SyncResult, push_pending
from store_agent.sync_lock import SyncBusy, sync_lock

log = logging.getLogger(__name__)
JOB_ID = "sync"
NIGHTLY_ID = "nightly"


def backoff_seconds(failures: int, interval: int, ceiling: int, rng: random.Random) -> float:
    """Doubling from interval/8 per consecutive failure, capped, with ±50 % jitter so that a
    chain's stores do not all return at the same instant after an outage."""
    base = min(float(ceiling), max(1.0, interval / 8) * 2 ** (failures - 1))
    return float(base * rng.uniform(0.5, 1.5))


class SyncLoop:
    def __init__(self, ledger: Ledger, settings: AgentSettings, clock: Clock,
                 events: EventBroker, rng: random.Random | None = None) -> None:
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self._events = events
        self._rng = rng or random.Random()
        self._lock = asyncio.Lock()
        self._scheduler: AsyncIOScheduler | None = None
        self._session: aiohttp.ClientSession | None = None
        self.failures = 0
        self.last_result: SyncResult | None = None

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self._settings.head_office.timeout_seconds)
        self._session = aiohttp.ClientSession(timeout=timeout)
        self._scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone="UTC")
        self._scheduler.add_job(self.run_once, "interval", id=JOB_ID,
                                seconds=self._settings.sync.interval_seconds, max_instances=1,
                                coalesce=True, next_run_time=self._wall() + timedelta(seconds=1))
        hour, minute = (int(x) for x in self._settings.sync.nightly_at.split(":"))
        # A cron trigger in the store's own zone: once per local day, DST changes included.
        self._scheduler.add_job(self.nightly, CronTrigger(
            hour=hour, minute=minute, timezone=ZoneInfo(self._settings.store.timezone)),
            id=NIGHTLY_ID, max_instances=1, coalesce=True, misfire_grace_time=3600)
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        async with self._lock:  # let a sync in flight finish its transaction
            if self._session is not None:
                await self._session.close()
                self._session = None

    def nudge(self) -> None:
        """Something was recorded: sync soon, unless backing off or due sooner anyway."""
        if self._scheduler is None or self.failures:
            return
        job = self._scheduler.get_job(JOB_ID)
        soon = self._wall() + timedelta(seconds=self._settings.sync.debounce_seconds)
        if job is not None and job.next_run_time is not None and job.next_run_time > soon:
            job.modify(next_run_time=soon)

    async def run_once(self) -> SyncResult | None:
        """One sync; None when another sync (here or in another process) holds the ledger."""
        if self._lock.locked():
            return None
        async with self._lock:
            try:
                with sync_lock(self._settings.ledger.path):
                    result = await push_pending(self._ledger, self._settings, self._clock,
                                                session=self._session)
            except SyncBusy:
                return None
            except HeadOfficeBusy as exc:
                # Head office is up but full: come back when it says (with jitter, so the
                # stores it turned away do not all return at once), not after a long backoff.
                delay = (exc.retry_after * self._rng.uniform(1.0, 1.5) if exc.retry_after
                         else backoff_seconds(self.failures + 1,
                                              self._settings.sync.interval_seconds,
                                              self._settings.sync.max_backoff_seconds,
                                              self._rng))
                log.info("head office busy (%s); next attempt in %.1f s", exc, delay)
                self._reschedule(delay)
                self._events.publish({"type": "sync", "ok": False, "error": str(exc),
                                      "retry_in_seconds": round(delay)})
                return None
            except SyncError as exc:
                self.failures += 1
                delay = backoff_seconds(self.failures, self._settings.sync.interval_seconds,
                                        self._settings.sync.max_backoff_seconds, self._rng)
                log.warning("sync failed (%s); next attempt in %.0f s", exc, delay)
                self._reschedule(delay)
                self._events.publish({"type": "sync", "ok": False, "error": str(exc),
                                      "retry_in_seconds": round(delay)})
                return None
            if self.failures:
                self.failures = 0
                self._reschedule(self._settings.sync.interval_seconds)
            self.last_result = result
            self._events.publish({"type": "sync", "ok": True, "pushed": result.pushed,
                                  "high_water": result.high_water})
            return result

    async def nightly(self) -> Reconciliation | None:
        """Full sync, then compare digests with head office (skipped if a sync is running)."""
        if self._lock.locked():
            return None
        async with self._lock:
            try:
                with sync_lock(self._settings.ledger.path, wait_seconds=60):
                    result = await reconcile(self._ledger, self._settings, self._clock,
                                             self._session)
            except (SyncBusy, SyncError) as exc:
                log.warning("nightly reconciliation could not run: %s", exc)
                return None
        self._events.publish({"type": "reconciliation", "matches": result.matches,
                              "through_seq": result.through_seq})
        return result

    def status(self) -> dict[str, Any]:
        job = self._scheduler.get_job(JOB_ID) if self._scheduler else None
        next_run = job.next_run_time.isoformat() if job and job.next_run_time else None
        nightly = self._scheduler.get_job(NIGHTLY_ID) if self._scheduler else None
        return {"background": self._scheduler is not None, "consecutive_failures": self.failures,
                "next_attempt_at": next_run, "running": self._lock.locked(),
                "next_reconciliation_at": nightly.next_run_time.isoformat()
                if nightly and nightly.next_run_time else None}

    def _reschedule(self, delay: float) -> None:
        if self._scheduler is not None and self._scheduler.get_job(JOB_ID) is not None:
            self._scheduler.modify_job(JOB_ID, next_run_time=self._wall() +
                                       timedelta(seconds=delay))

    @staticmethod
    def _wall() -> datetime:
        # The scheduler runs on the real clock, whatever the agent's business clock says.
        return datetime.now().astimezone()
