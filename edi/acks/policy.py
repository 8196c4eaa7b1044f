"""The acknowledgement policy: which findings an ack reports, and which reject.

The policy, in one place:

* a finding of severity ``ERROR`` **rejects** what it belongs to (the set:
  AK501/IK501 ``R``; the group: AK901 ``R``; the interchange: TA104 ``R``);
* a finding of severity ``WARNING`` is **reported** (AK3/AK4/AK5 codes, AK905,
  TA105) but accepts with errors (``E``);
* ``INFO`` findings are never reported (for example "no schema for this set:
  envelope checked only" accepts the set);
* a partner may *tolerate* some error codes: an error whose code is in
  :attr:`AckPolicy.tolerated` is treated as a warning (reported, ``E``).

Only codes with an ack code in :mod:`edi.findings` can be reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from edi.findings import Code, Finding, Level, Severity

__all__ = ["DEFAULT_POLICY", "AckFlavor", "AckPolicy", "ack_code"]

#: Which functional acknowledgement a group gets.
AckFlavor = Literal["997", "999"]


def ack_code(code: Code, flavor: AckFlavor | Literal["TA1"] = "997") -> str | None:
    """The code ``code`` becomes in a 997 (AK304/AK403/AK502/AK905), 999 (IK...) or TA1."""
    spec = code.spec
    if flavor == "999" and spec.ik_code is not None:
        return spec.ik_code
    return spec.ack_code


@dataclass(frozen=True, slots=True)
class AckPolicy:
    """Errors reject, warnings accept with errors, info is silent; ``tolerated`` errors act as warnings."""

    tolerated: frozenset[Code] = field(default_factory=frozenset)

    def reports(self, finding: Finding) -> bool:
        """Does the ack mention this finding at all?"""
        return finding.severity is not Severity.INFO and finding.code.spec.ack_code is not None

    def rejects(self, finding: Finding) -> bool:
        """Does this finding reject the set, group or interchange it belongs to?"""
        return self.reports(finding) and finding.is_error and finding.code not in self.tolerated

    def reported(self, findings: Iterable[Finding], *levels: Level) -> list[Finding]:
        """The reportable findings at ``levels``, in input order."""
        return [f for f in findings if f.code.spec.level in levels and self.reports(f)]


DEFAULT_POLICY = AckPolicy()
