"""Which trading day an instant belongs to, in the store's time zone with a day cut-off."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def business_date(instant: datetime, timezone: str, cutoff: str) -> date:
    """The store-local business date of ``instant``.

    With a cut-off of 04:00, anything before 04:00 local time belongs to the previous
    calendar day. The cut-off is compared in local wall-clock time, so DST changes move
    nothing: 03:30 on a spring-forward night is still before a 04:00 cut-off.
    """
    local = instant.astimezone(ZoneInfo(timezone))
    hours, minutes = (int(part) for part in cutoff.split(":"))
    if local.time() < time(hours, minutes):
        return local.date() - timedelta(days=1)
    return local.date()
