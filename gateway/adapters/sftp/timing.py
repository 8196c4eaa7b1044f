"""When a poll-mode partner is next due, from its profile's :class:`Schedule` (pure, no I/O).

Intervals count from the start of the previous run; the first run is immediate.
Cron expressions are evaluated in UTC, to the minute, like classic cron.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.domain.profiles.schedule import CronExpression, Schedule

__all__ = ["next_cron_minute", "next_run"]

_HORIZON = timedelta(days=366 * 5)  # long enough for "29 2 * *" (leap days)


def next_run(schedule: Schedule, previous: datetime | None, now: datetime) -> datetime:
    """The next moment the poller should run, at or after ``now``."""
    if schedule.interval_seconds is not None:
        if previous is None:
            return now
        return max(now, previous + timedelta(seconds=schedule.interval_seconds))
    cron = schedule.cron_expression
    assert cron is not None  # the Schedule model guarantees exactly one of the two
    after = now if previous is None else max(now, previous)
    return next_cron_minute(cron, after)


def _day_ok(cron: CronExpression, moment: datetime) -> bool:
    day_ok = moment.day in cron.days
    weekday_ok = (moment.isoweekday() % 7) in cron.weekdays
    if cron.day_restricted and cron.weekday_restricted:
        return day_ok or weekday_ok
    return day_ok and weekday_ok


def next_cron_minute(cron: CronExpression, after: datetime) -> datetime:
    """The first minute strictly after ``after`` (UTC) that the expression matches."""
    moment = after.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    limit = moment + _HORIZON
    while moment <= limit:
        if moment.month not in cron.months:
            year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
            moment = moment.replace(year=year, month=month, day=1, hour=0, minute=0)
        elif not _day_ok(cron, moment):
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
        elif moment.hour not in cron.hours:
            moment = (moment + timedelta(hours=1)).replace(minute=0)
        elif moment.minute not in cron.minutes:
            moment += timedelta(minutes=1)
        else:
            return moment
    raise ValueError("the cron expression never matches (e.g. 30 February)")
