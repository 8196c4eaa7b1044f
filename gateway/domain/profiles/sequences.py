"""Control-number sequence settings for the envelopes we send a partner (ISA13, GS06, ST02).

Only the settings live here; the runtime stores and advances the counters. Widths follow
X12: ISA13 is exactly nine digits, GS06 is one to nine, ST02 is four to nine. ST02 is
zero-padded to its width (in acks too); GS06 is written without leading zeros, so the group
width only bounds ``max``.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from gateway.domain.profiles.common import FieldProblems, Loc, StrictModel

__all__ = ["ControlNumbers", "Sequence"]


class Sequence(StrictModel):
    """One counter: first value, last value before it wraps (or, without wrap, refuses), width."""

    start: int = Field(default=1, ge=1)
    max: int = Field(default=999_999_999, ge=1)
    width: int = Field(default=9, ge=1, le=9)
    wrap: bool = Field(default=True, description="restart at start after max; false: refuse to send")

    @model_validator(mode="after")
    def _fits(self) -> Sequence:
        problems: list[tuple[Loc, str]] = []
        if self.max < self.start:
            problems.append((("max",), f"max {self.max} is below start {self.start}"))
        if len(str(self.max)) > self.width:
            problems.append((("max",), f"max {self.max} does not fit in width {self.width}"))
        FieldProblems.raise_if_any(problems)
        return self

    def format(self, number: int) -> str:
        """``number`` zero-padded to the width; raise ``ValueError`` outside ``start..max``."""
        if not self.start <= number <= self.max:
            raise ValueError(f"control number {number} is outside {self.start}..{self.max}")
        return str(number).zfill(self.width)

    def after(self, number: int) -> int | None:
        """The number following ``number``: wraps to ``start`` or, without wrap, ``None`` when exhausted.

        The rule the store applies atomically when it allocates (``NumberRequest.wrap``)."""
        if number < self.max:
            return max(number + 1, self.start)
        return self.start if self.wrap else None


class ControlNumbers(StrictModel):
    interchange: Sequence = Field(default_factory=Sequence)
    group: Sequence = Field(default_factory=Sequence)
    transaction: Sequence = Field(default_factory=lambda: Sequence(start=1, max=9999, width=4))

    @model_validator(mode="after")
    def _x12_widths(self) -> ControlNumbers:
        problems: list[tuple[Loc, str]] = []
        if self.interchange.width != 9:
            problems.append((("interchange", "width"), "ISA13 is fixed width: width must be 9"))
        if self.transaction.width < 4:
            problems.append((("transaction", "width"), "ST02 is 4-9 characters: width must be at least 4"))
        FieldProblems.raise_if_any(problems)
        return self
