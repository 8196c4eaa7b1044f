"""Functional and interchange acknowledgements (X12 997, 999, TA1) as results per control number.

Each result carries both a canonical ``status`` (what consumers act on) and the
raw X12 ``status_code`` (AK501/IK501, AK901, TA104) for faithful re-emission;
the two must agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from gateway.domain.canonical.header import DocumentBase, Gs06, Isa13, St02, X12Version
from gateway.domain.canonical.primitives import CanonicalModel, Code, LocalTime

__all__ = [
    "AckStatus",
    "ElementError",
    "FunctionalAck",
    "GroupResult",
    "InterchangeResult",
    "SegmentError",
    "SetResult",
]


class AckStatus(StrEnum):
    ACCEPTED = "accepted"
    ACCEPTED_WITH_ERRORS = "accepted_with_errors"
    PARTIALLY_ACCEPTED = "partially_accepted"
    """Group level only: some sets accepted, some rejected (AK901 ``P``)."""
    REJECTED = "rejected"

    @classmethod
    def from_x12(cls, code: str) -> AckStatus:
        """AK501/IK501/AK901/TA104 code -> status (``M``, ``W``, ``X`` are rejections)."""
        try:
            return _STATUS_CODES[code]
        except KeyError:
            raise ValueError(f"{code!r} is not an acknowledgement status code") from None


_STATUS_CODES = {
    "A": AckStatus.ACCEPTED,
    "E": AckStatus.ACCEPTED_WITH_ERRORS,
    "P": AckStatus.PARTIALLY_ACCEPTED,
    "R": AckStatus.REJECTED,
    "M": AckStatus.REJECTED,
    "W": AckStatus.REJECTED,
    "X": AckStatus.REJECTED,
}

SetStatusCode = Literal["A", "E", "M", "R", "W", "X"]
GroupStatusCode = Literal["A", "E", "M", "P", "R", "W", "X"]
InterchangeStatusCode = Literal["A", "E", "R"]
SetId = Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]
BadValue = Annotated[str, StringConstraints(min_length=1, max_length=99)]


class _Result(CanonicalModel):
    status: AckStatus
    status_code: str

    @model_validator(mode="after")
    def _status_agrees(self) -> _Result:
        if AckStatus.from_x12(self.status_code) is not self.status:
            raise ValueError(f"status {self.status.value!r} does not match status code {self.status_code!r}")
        return self


class ElementError(CanonicalModel):
    """AK4/IK4: an element in error."""

    position: int = Field(ge=1)
    """Element position in the segment (AK401-1)."""
    component: int | None = Field(default=None, ge=1)
    repetition: int | None = Field(default=None, ge=1)
    reference: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,4}$")] | None = None
    """Data element reference number (AK402), e.g. ``324``."""
    error_code: Code
    """AK403/IK403 error code."""
    bad_value: BadValue | None = None
    """AK404/IK404 copy of the bad data."""


class SegmentError(CanonicalModel):
    """AK3/IK3: a segment in error and its element errors."""

    segment_id: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{1,2}$")]
    position: int = Field(ge=1)
    """Segment position counted from ST = 1 (AK302)."""
    loop_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,6}$")] | None = None
    error_code: Code | None = None
    """AK304/IK304 error code."""
    elements: list[ElementError] = Field(default_factory=list)


class SetResult(_Result):
    """AK2..AK5 / IK5: the result for one transaction set."""

    set_id: SetId
    """Acknowledged set's ST01, e.g. ``850``."""
    control_number: St02
    """Acknowledged set's ST02."""
    status_code: SetStatusCode
    implementation_reference: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,35}$")] | None = None
    """AK203 implementation convention reference (999)."""
    error_codes: list[Code] = Field(default_factory=list, max_length=5)
    """AK502-AK506 / IK502-IK506."""
    segment_errors: list[SegmentError] = Field(default_factory=list)


class GroupResult(_Result):
    """AK1 + AK9: the result for one functional group."""

    functional_id: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    """Acknowledged group's GS01, e.g. ``PO``."""
    control_number: Gs06
    """Acknowledged group's GS06."""
    version: X12Version | None = None
    """AK103 (999 and 005010 997s)."""
    status_code: GroupStatusCode
    sets_included: int = Field(ge=0)
    """AK902: sets the group said it had."""
    sets_received: int = Field(ge=0)
    sets_accepted: int = Field(ge=0)
    error_codes: list[Code] = Field(default_factory=list, max_length=5)
    """AK905-AK909."""
    sets: list[SetResult] = Field(default_factory=list)

    @model_validator(mode="after")
    def _counts(self) -> GroupResult:
        if self.sets_accepted > self.sets_received:
            raise ValueError(f"{self.sets_accepted} sets accepted but only {self.sets_received} received")
        return self


class InterchangeResult(_Result):
    """TA1: the result for one interchange."""

    control_number: Isa13
    """Acknowledged interchange's ISA13."""
    date: dt.date
    """Acknowledged interchange's date (TA102)."""
    time: LocalTime
    """Acknowledged interchange's time (TA103)."""
    status_code: InterchangeStatusCode
    note_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]
    """TA105 interchange note code, ``000`` when there is no error."""


class FunctionalAck(DocumentBase):
    """A 997/999 (group and set results) or TA1 (interchange result)."""

    type: Literal["functional_ack"] = "functional_ack"
    schema_version: Literal["1.0"] = "1.0"
    ack_kind: Literal["997", "999", "TA1"]
    interchanges: list[InterchangeResult] = Field(default_factory=list)
    """TA1 results; only for ``TA1``."""
    groups: list[GroupResult] = Field(default_factory=list)
    """Group results; only for ``997``/``999``."""

    @model_validator(mode="after")
    def _shape(self) -> FunctionalAck:
        if self.ack_kind == "TA1":
            if not self.interchanges or self.groups:
                raise ValueError("a TA1 carries interchange results and no group results")
        elif not self.groups or self.interchanges:
            raise ValueError(f"a {self.ack_kind} carries group results and no interchange results")
        return self

    def set_results(self) -> Iterator[tuple[GroupResult, SetResult]]:
        """Every set result with its group."""
        for group in self.groups:
            for result in group.sets:
                yield group, result
