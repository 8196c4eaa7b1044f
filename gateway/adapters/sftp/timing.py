"""The schedule slots of a poll-mode partner, from its profile's :class:`Schedule` (pure, no I/O).

A schedule cuts time into *slots*; each slot is polled at most once, by one gateway
instance (the poller claims the slot in the store). Slot boundaries are the same on
every instance, so instances agree on which slot they are competing for:

* ``interval_seconds: N``: boundaries at whole multiples of N seconds since the Unix
  epoch (UTC). The slot that contains the start-up moment is polled at once, unless
  another instance already polled it.
* ``cron``: boundaries at the minutes the expression matches, evaluated in UTC like
  classic cron. The first slot polled is the next matching minute after start-up.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from gateway.domain.profiles.schedule import CronExpression, Schedule

__all__ = ["first_slot", "next_cron_minute", "slot_after", "upcoming_slot"]

_HORIZON = timedelta(days=366 * 5)  # long enough for "29 2 * *" (leap days)


def _interval_floor(seconds: int, moment: datetime) -> datetime:
    return datetime.fromtimestamp(math.floor(moment.timestamp() / seconds) * seconds, UTC)


def slot_after(schedule: Schedule, boundary: datetime) -> datetime:
    """The boundary that follows ``boundary`` (the end of the slot that starts there)."""
    if schedule.interval_seconds is not None:
        return _interval_floor(schedule.interval_seconds, boundary) + timedelta(
            seconds=schedule.interval_seconds
        )
    cron = schedule.cron_expression
    assert cron is not None  # the Schedule model guarantees exactly one of the two
    return next_cron_minute(cron, boundary)


def first_slot(schedule: Schedule, now: datetime) -> datetime:
    """The first slot an instance starting at ``now`` competes for (at or after ``now`` for cron)."""
    if schedule.interval_seconds is not None:
        return _interval_floor(schedule.interval_seconds, now)
    return slot_after(schedule, now)


def upcoming_slot(schedule: Schedule, previous: datetime, now: datetime) -> datetime:
    """The slot to compete for after the one starting at ``previous``, once that one was handled at ``now``.

    Normally the next slot. When a run overran whole slots, those are skipped: for an
    interval the slot containing ``now`` is next (polled at once), for cron the next
    matching minute after ``now``.
    """
    following = slot_after(schedule, previous)
    if slot_after(schedule, following) > now:
        return following
    return first_slot(schedule, now)


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
