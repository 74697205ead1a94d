"""The clock, injectable so tests and demos can move time forward."""

from datetime import UTC, date, datetime, timedelta


class SystemClock:
    adjustable = False

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


class AdjustableClock(SystemClock):
    """Runs with real time from a point that can be set (for tests and simulated demos)."""

    adjustable = True

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        self.offset = moment - datetime.now(UTC)
