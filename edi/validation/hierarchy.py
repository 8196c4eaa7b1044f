"""HL hierarchy checks (856 and other hierarchical sets).

For each HL segment, in order:

* HL01 must be unique in the set, and greater than the previous HL01 when
  both are numeric (X12 numbers HL segments 1, 2, 3, ...);
* HL02, when present, must name an earlier HL01 (a parent seen before);
* when HL02 is absent the HL must be a top level: the first HL, or one whose
  level ranks like the first HL's (a second shipment, say);
* when the parent's and the child's HL03 level codes are both ranked in the
  schema (VICS pick/pack: S > O > T > P > Q > I), the child ranks deeper.

Unranked level codes are accepted in any order: partners use many
industry-specific levels, and only the ranked ones have a standard order.
"""

from __future__ import annotations

from typing import NamedTuple

from edi.findings import Code
from edi.model import Segment
from edi.schemas.model import Hierarchy

__all__ = ["HierarchyChecker", "HierarchyIssue"]


class HierarchyIssue(NamedTuple):
    code: Code  # HL_ID, HL_PARENT, HL_PARENT_MISSING or HL_LEVEL
    element: int  # 1-based position in the HL segment
    ref: str  # data element reference number
    message: str
    bad_value: str | None


class HierarchyChecker:
    """Stateful checker for the HL segments of one transaction set, fed in order."""

    __slots__ = ("_first_rank", "_last", "_levels", "_seen")

    def __init__(self, rules: Hierarchy) -> None:
        self._levels = rules.levels
        self._seen: dict[str, str] = {}  # HL01 -> HL03
        self._last: int | None = None
        self._first_rank: int | None = None

    def check(self, hl: Segment) -> list[HierarchyIssue]:
        issues: list[HierarchyIssue] = []
        hl_id, parent, level = hl.get(1), hl.get(2), hl.get(3)
        rank = self._levels.get(level)
        first = not self._seen
        if hl_id in self._seen:
            issues.append(
                HierarchyIssue(Code.HL_ID, 1, "628", f"HL01 {hl_id!r} is not unique in the set", hl_id)
            )
        elif hl_id.isdigit() and self._last is not None and int(hl_id) <= self._last:
            issues.append(
                HierarchyIssue(
                    Code.HL_ID,
                    1,
                    "628",
                    f"HL01 {hl_id!r} does not increase (previous was {self._last})",
                    hl_id,
                )
            )
        if parent:
            parent_level = self._seen.get(parent)
            if parent_level is None:
                issues.append(
                    HierarchyIssue(Code.HL_PARENT, 2, "734", f"HL02 {parent!r} names no earlier HL01", parent)
                )
            else:
                parent_rank = self._levels.get(parent_level)
                if rank is not None and parent_rank is not None and rank <= parent_rank:
                    issues.append(
                        HierarchyIssue(
                            Code.HL_LEVEL,
                            3,
                            "735",
                            f"level {level!r} cannot be a child of level {parent_level!r} (HL {parent})",
                            level,
                        )
                    )
        elif not first and rank is not None and self._first_rank is not None and rank != self._first_rank:
            issues.append(
                HierarchyIssue(
                    Code.HL_PARENT_MISSING,
                    2,
                    "734",
                    f"HL {hl_id!r} of level {level!r} has no parent (HL02)",
                    None,
                )
            )
        if first:
            self._first_rank = rank
        if hl_id and hl_id not in self._seen:
            self._seen[hl_id] = level
            if hl_id.isdigit():
                self._last = int(hl_id)
        return issues
