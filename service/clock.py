"""The service's one clock: every "now" and "today" the HTTP layer and its stores use comes from here.

Tests and training sessions set it (``create_app({"CLOCK": Clock.starting_at(...)})``, or
``DISPOSISI_CLOCK_START=2030-01-15T09:00:00+07:00`` for a ``disposisi serve`` process); it then
runs on from that moment, so SLA deadlines, "decided today" and undo behave as on that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from .sla import LOCAL_TZ


class Clock:
    """Wall-clock time shifted by a fixed offset (zero for the real clock)."""

    def __init__(self, offset: timedelta = timedelta(0)):
        self.offset = offset

    @classmethod
    def starting_at(cls, moment: datetime | str) -> Clock:
        """A clock that reads ``moment`` now and runs on from there (naive times are WIB)."""
        if isinstance(moment, str):
            try:
                moment = datetime.fromisoformat(moment)
            except ValueError:
                raise ValueError(
                    f"not an ISO date or time: {moment!r} (for example 2030-01-15T09:00:00+07:00)"
                ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=LOCAL_TZ)
        return cls(moment - datetime.now(UTC))

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC) + self.offset

    def today(self) -> date:
        """The admin's calendar day (WIB)."""
        return self.now().astimezone(LOCAL_TZ).date()
