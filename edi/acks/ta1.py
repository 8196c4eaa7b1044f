"""TA1 interchange acknowledgements.

A TA1 answers one interchange: TA101 its ISA13, TA102/TA103 its ISA09/ISA10,
TA104 ``A``/``E``/``R`` and TA105 the note code of the first interchange-level
finding that rejects, else of the first one reported (``000`` when there is
none). A damaged ISA is reported twice, as not being 106 bytes (``022``) and by
the field that broke it (say ``005`` for a one-letter sender qualifier): the TA1
names the field, the more specific of the two. It is due when ISA14 asks for it
or when the interchange itself is in error (see :func:`needs_ta1`).
"""

from __future__ import annotations

from collections.abc import Sequence

from edi.acks.codes import AckStatus
from edi.acks.generate import clean
from edi.acks.policy import DEFAULT_POLICY, AckPolicy, ack_code
from edi.delimiters import Delimiters
from edi.findings import Code, Finding, Level
from edi.model import Segment
from edi.summary import InterchangeSummary

__all__ = ["NO_ERROR", "build_ta1", "needs_ta1", "ta1_status"]

#: TA105 when nothing is wrong.
NO_ERROR = "000"


def _interchange_findings(findings: Sequence[Finding], policy: AckPolicy) -> list[Finding]:
    """The reported interchange-level findings, the generic "ISA is not 106 bytes" last."""
    reported = policy.reported(findings, Level.INTERCHANGE)
    return sorted(reported, key=lambda f: f.code is Code.ISA_LENGTH)


def ta1_status(findings: Sequence[Finding], policy: AckPolicy = DEFAULT_POLICY) -> tuple[AckStatus, str]:
    """TA104 and TA105 for an interchange with these findings (its own findings only)."""
    reported = _interchange_findings(findings, policy)
    rejecting = [f for f in reported if policy.rejects(f)]
    if rejecting:
        return AckStatus.REJECTED, ack_code(rejecting[0].code, "TA1") or NO_ERROR
    if reported:
        return AckStatus.ACCEPTED_WITH_ERRORS, ack_code(reported[0].code, "TA1") or NO_ERROR
    return AckStatus.ACCEPTED, NO_ERROR


def needs_ta1(
    summary: InterchangeSummary, findings: Sequence[Finding], policy: AckPolicy = DEFAULT_POLICY
) -> bool:
    """ISA14 is ``1``, or the interchange envelope itself is in error.

    Interchange-level *warnings* (say, no terminator after the last segment)
    do not call for a TA1 on their own; when one is sent anyway they make it ``E``.
    """
    return summary.ack_requested or any(f.is_error for f in _interchange_findings(findings, policy))


def build_ta1(
    summary: InterchangeSummary,
    findings: Sequence[Finding],
    *,
    delimiters: Delimiters | None = None,
    policy: AckPolicy = DEFAULT_POLICY,
) -> Segment:
    """The TA1 segment for ``summary``, given that interchange's findings."""
    delimiters = delimiters or summary.delimiters
    status, note = ta1_status(findings, policy)
    return Segment(
        "TA1",
        [
            clean(summary.control_number, delimiters),
            clean(summary.date, delimiters),
            clean(summary.time, delimiters),
            status.value,
            note,
        ],
    )
