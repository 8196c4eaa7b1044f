"""When a poller runs: a fixed interval, or a simple five-field cron expression.

Cron support is deliberately small: each field is ``*``, ``*/N``, a number, a range
``A-B`` (optionally ``A-B/N``) or a comma list of those. Names (``MON``, ``JAN``) and the
``L``/``W``/``#`` extensions are not accepted. Day-of-week runs 0-6 with Sunday as 0 (7
is also Sunday). As in classic cron, when both day fields are restricted a day matches if
either does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import Field, field_validator, model_validator

from gateway.domain.profiles.common import FieldProblems, StrictModel

__all__ = ["CronExpression", "Schedule"]

_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)


@dataclass(frozen=True, slots=True)
class CronExpression:
    """A parsed cron expression: the allowed values of each of the five fields."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    day_restricted: bool
    weekday_restricted: bool

    @classmethod
    def parse(cls, text: str) -> CronExpression:
        parts = text.split()
        if len(parts) != 5:
            raise ValueError(f"cron needs 5 fields (minute hour day month weekday), got {len(parts)}")
        sets = [
            _parse_field(part, name, low, high)
            for part, (name, low, high) in zip(parts, _FIELDS, strict=True)
        ]
        weekdays = frozenset(0 if day == 7 else day for day in sets[4])
        return cls(sets[0], sets[1], sets[2], sets[3], weekdays, parts[2] != "*", parts[4] != "*")

    def matches(self, moment: datetime) -> bool:
        """Whether the poller is due in the minute containing ``moment``."""
        if (
            moment.minute not in self.minutes
            or moment.hour not in self.hours
            or moment.month not in self.months
        ):
            return False
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if self.day_restricted and self.weekday_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok


def _parse_field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        span, _, step_text = item.partition("/")
        step = _number(step_text, name) if step_text else 1
        if step < 1:
            raise ValueError(f"cron {name}: step must be at least 1")
        if span == "*":
            start, end = low, high
        elif "-" in span:
            first, _, last = span.partition("-")
            start, end = _number(first, name), _number(last, name)
        else:
            start = _number(span, name)
            end = high if step_text else start
        if not low <= start <= end <= high:
            raise ValueError(f"cron {name}: '{item}' is outside {low}-{high} or reversed")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _number(text: str, name: str) -> int:
    if not text.isdigit():
        raise ValueError(f"cron {name}: '{text}' is not a number")
    return int(text)


class Schedule(StrictModel):
    """Exactly one of ``interval_seconds`` or ``cron``."""

    interval_seconds: int | None = Field(default=None, ge=10, le=7 * 86_400)
    cron: str | None = None

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            CronExpression.parse(value)
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Schedule:
        if (self.interval_seconds is None) == (self.cron is None):
            raise FieldProblems([((), "give exactly one of interval_seconds or cron")])
        return self

    @property
    def cron_expression(self) -> CronExpression | None:
        return CronExpression.parse(self.cron) if self.cron is not None else None
