"""``agent sync`` with a rich progress bar: events left, rate and time remaining."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from config import AgentSettings
from store_agent.clock import clock_from_setting
from store_agent.ledger import Ledger
from store_agent.sync_client import SyncResult, push_pending
from store_agent.sync_lock import sync_lock


class EventRateColumn(ProgressColumn):
    """Events per second, as the bar fills."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- ev/s" if speed is None else f"{speed:,.0f} ev/s")


async def run_sync(settings: AgentSettings, console: Console) -> SyncResult:
    """Drain the ledger to head office now, holding the ledger's sync lock (waiting up to a
    minute for the agent's background sync to finish, if one is running)."""
    with sync_lock(settings.ledger.path, wait_seconds=60):
        return await _drain(settings, console)


async def _drain(settings: AgentSettings, console: Console) -> SyncResult:
    ledger = Ledger(settings.ledger.path, settings.store.id)
    await ledger.open()
    try:
        with Progress(TextColumn("[bold]sync[/] {task.description}"), BarColumn(),
                      MofNCompleteColumn(), EventRateColumn(), TimeRemainingColumn(),
                      console=console, transient=True,
                      disable=not console.is_terminal) as progress:
            task = progress.add_task(f"store {settings.store.id}", total=None)

            def report(sent: int, pending: int) -> None:
                progress.update(task, completed=sent, total=pending)

            return await push_pending(ledger, settings, clock_from_setting(
                settings.store.clock_start), progress=report)
    finally:
        await ledger.close()
