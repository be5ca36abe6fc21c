"""Device states as every driver reports them, and the ESC/POS real-time status bytes
(DLE EOT n) that carry a printer's."""

from __future__ import annotations

from enum import StrEnum


class PrinterState(StrEnum):
    READY = "ready"
    PAPER_LOW = "paper_low"  # prints, but the roll is near its end
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"  # does not answer (unplugged, switched off, wrong address)
    UNKNOWN = "unknown"  # not asked yet, or a transport that cannot answer (a file)

    @property
    def can_print(self) -> bool:
        return self in (PrinterState.READY, PrinterState.PAPER_LOW, PrinterState.UNKNOWN)


# DLE EOT n answers: bits 1 and 4 are always set (0x12).
BASE = 0x12
DRAWER_BIT = 0x04  # n = 1: the drawer kick-out connector's pin 3 (the drawer's sensor) is high
ONLINE_OFFLINE_BIT = 0x08  # n = 1: the printer is offline
COVER_OPEN_BIT = 0x04  # n = 2: the cover is open
PAPER_STOP_BIT = 0x20  # n = 2: printing stopped for lack of paper
PAPER_NEAR_END_BITS = 0x0C  # n = 4
PAPER_END_BITS = 0x60  # n = 4


def status_byte(request: int, state: PrinterState, drawer_open: bool = False) -> int:
    """What a printer in ``state`` answers to DLE EOT ``request`` (with its drawer's sensor
    high when ``drawer_open``)."""
    value = BASE
    if request == 1 and drawer_open:
        value |= DRAWER_BIT
    if request == 1 and state in (PrinterState.PAPER_OUT, PrinterState.COVER_OPEN):
        value |= ONLINE_OFFLINE_BIT
    elif request == 2:
        if state == PrinterState.COVER_OPEN:
            value |= COVER_OPEN_BIT
        if state == PrinterState.PAPER_OUT:
            value |= PAPER_STOP_BIT
    elif request == 4:
        if state == PrinterState.PAPER_OUT:
            value |= PAPER_END_BITS
        elif state == PrinterState.PAPER_LOW:
            value |= PAPER_NEAR_END_BITS
    return value


def state_from(online: int, offline_cause: int, paper: int) -> PrinterState:
    """A printer's state from its answers to DLE EOT 1, 2 and 4."""
    if offline_cause & COVER_OPEN_BIT:
        return PrinterState.COVER_OPEN
    if paper & PAPER_END_BITS == PAPER_END_BITS or offline_cause & PAPER_STOP_BIT:
        return PrinterState.PAPER_OUT
    if online & ONLINE_OFFLINE_BIT:
        return PrinterState.OFFLINE
    if paper & PAPER_NEAR_END_BITS == PAPER_NEAR_END_BITS:
        return PrinterState.PAPER_LOW
    return PrinterState.READY


def drawer_open_from(online: int) -> bool:
    """The drawer's state from the answer to DLE EOT 1: its sensor (pin 3) high means open on
    the common drawers; the few wired the other way report the opposite."""
    return bool(online & DRAWER_BIT)
