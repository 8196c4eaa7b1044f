"""The segment-by-segment walk of :mod:`edi.validator`: exact findings for one set.

A small state machine: a stack of open loops, each remembering the child it
is at and how often that child has been used. For each segment the walk looks
the ID up in the open loops (innermost first, through the precomputed
:attr:`~edi.schemas.model.LoopDef.nexts` tables), closes the loops it
leaves, reports skipped mandatory segments, counts uses and loop repeats, and
then checks the elements. Nothing recurses per segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edi.delimiters import Delimiters
from edi.findings import Code, Finding, Location, Severity
from edi.model import Segment
from edi.schemas.model import LoopDef, SegmentUse, TransactionSetSchema
from edi.validation.cache import KNOWN_CAP, PATTERN_CAP, SegmentCache, caches
from edi.validation.elements import ElementIssue, check_presence, check_use
from edi.validation.hierarchy import HierarchyChecker

__all__ = ["walk_transaction"]


class _Walk:
    """Finding factory for one transaction set."""

    __slots__ = ("findings", "group", "interchange", "transaction")

    def __init__(self, interchange: int, group: int, transaction: int) -> None:
        self.findings: list[Finding] = []
        self.interchange = interchange
        self.group = group
        self.transaction = transaction

    def segment(self, code: Code, message: str, position: int, seg_id: str, loop_id: str | None) -> None:
        loc = Location(self.interchange, self.group, self.transaction, position, seg_id, loop_id=loop_id)
        self.findings.append(Finding(code, message, loc))

    def close(self, loop: LoopDef, after: int, position: int, is_root: bool) -> None:
        """Report the mandatory children of ``loop`` after child ``after`` as missing."""
        for i in loop.mandatory_after[after + 1]:
            child = loop.children[i]
            if not (is_root and isinstance(child, SegmentUse) and child.id == "SE"):
                self.missing(child, loop, position, is_root)

    def move(self, frame: list[Any], target: int, position: int, is_root: bool) -> None:
        """Advance ``frame`` to child ``target``, reporting mandatory children skipped on the way."""
        loop: LoopDef = frame[0]
        for i in loop.mandatory_after[frame[1] + 1]:
            if i >= target:
                break
            self.missing(loop.children[i], loop, position, is_root)
        frame[1] = target
        frame[2] = 1

    def repeat(self, frame: list[Any], sid: str, position: int, is_root: bool, counted: bool = False) -> None:
        """Count one more use of the frame's current child (unless ``counted``) and check its maximum."""
        if not counted:
            frame[2] += 1
        loop: LoopDef = frame[0]
        node = loop.children[frame[1]]
        if isinstance(node, LoopDef):
            if frame[2] > node.repeat:
                self.segment(
                    Code.LOOP_MAX_EXCEEDED,
                    f"loop {node.id} repeats {frame[2]} times, at most {node.repeat} allowed",
                    position,
                    sid,
                    node.id,
                )
        elif frame[2] > node.max_use:
            self.segment(
                Code.SEGMENT_MAX_EXCEEDED,
                f"{sid} is used {frame[2]} times here, at most {node.max_use} allowed",
                position,
                sid,
                None if is_root else loop.id,
            )

    def place(self, stack: list[list[Any]], sid: str, position: int) -> tuple[LoopDef, int] | None:
        """The general case of finding where ``sid`` goes; ``None`` when it fits nowhere ahead.

        Pops the loops it leaves and updates the counts. Tried in order: another
        use of the current child, a later child of the innermost loop, the
        current child over its maximum use (reported, and kept there), then
        the enclosing loops, innermost first.
        """
        depth = len(stack) - 1
        top = stack[depth]
        loop: LoopDef = top[0]
        pos: int = top[1]
        target = loop.nexts[pos + 1].get(sid)
        current = loop.children[pos] if pos >= 0 else None
        if target == pos and current is not None:
            if isinstance(current, LoopDef) or top[2] < current.max_use:
                self.repeat(top, sid, position, depth == 0)
                return loop, pos
            target = loop.nexts[pos + 2].get(sid)
            if target is not None:
                self.move(top, target, position, depth == 0)
                return loop, target
        if isinstance(current, SegmentUse) and current.id == sid and (pos > 0 or depth == 0):
            self.repeat(top, sid, position, depth == 0)  # over its maximum use
            return loop, pos
        for d in range(depth - 1, -1, -1):
            frame = stack[d]
            target = frame[0].nexts[frame[1] + 1].get(sid)
            if target is None:
                continue
            while len(stack) - 1 > d:
                closed = stack.pop()
                self.close(closed[0], closed[1], position, False)
            if target == frame[1]:
                self.repeat(frame, sid, position, d == 0)
            else:
                self.move(frame, target, position, d == 0)
            return frame[0], target
        return None

    def missing(self, child: SegmentUse | LoopDef, loop: LoopDef, position: int, is_root: bool) -> None:
        if isinstance(child, LoopDef):
            self.segment(
                Code.SEGMENT_MISSING,
                f"mandatory loop {child.id} (segment {child.trigger}) is missing",
                position,
                child.trigger,
                child.id,
            )
        else:
            self.segment(
                Code.SEGMENT_MISSING,
                f"mandatory segment {child.id} is missing",
                position,
                child.id,
                None if is_root else loop.id,
            )

    def elements(
        self, seg: Segment, issues: Sequence[ElementIssue], position: int, loop_id: str | None
    ) -> None:
        if any(not i.warning for i in issues):
            self.segment(
                Code.SEGMENT_HAS_ELEMENT_ERRORS,
                f"{seg.id} has data element errors",
                position,
                seg.id,
                loop_id,
            )
        for issue in sorted(issues, key=lambda i: (i.element, i.component or 0, i.repetition or 0)):
            bad = issue.bad_value
            if bad is None and issue.code is Code.ELEMENT_TOO_MANY:
                bad = seg.get(issue.element)
            loc = Location(
                self.interchange,
                self.group,
                self.transaction,
                position,
                seg.id,
                issue.element,
                issue.component,
                issue.repetition,
                loop_id,
                issue.ref,
            )
            severity = Severity.WARNING if issue.warning else Severity.ERROR
            self.findings.append(Finding(issue.code, issue.message, loc, severity, bad))

    def misplaced(
        self, schema: TransactionSetSchema, stack: list[list[Any]], seg: Segment, position: int
    ) -> None:
        sid = seg.id
        top: LoopDef = stack[-1][0]
        loop_id = top.id if len(stack) > 1 else None
        if sid in schema.segments:
            earlier = any(min(fr[0].index.get(sid, (fr[1] + 1,))) <= fr[1] for fr in stack)
            if earlier:
                code, why = Code.SEGMENT_SEQUENCE, "is out of order (its place is earlier in the set)"
            else:
                code, why = Code.SEGMENT_UNEXPECTED, "is not expected here"
        elif sid in schema.known_ids:
            code, why = Code.SEGMENT_NOT_IN_SET, f"is not part of transaction set {schema.set_id}"
        else:
            code, why = Code.SEGMENT_UNRECOGNIZED, "is not a recognised segment ID"
        self.segment(code, f"segment {sid!r} {why}", position, sid, loop_id)


def walk_transaction(
    segments: Sequence[Segment],
    delimiters: Delimiters,
    schema: TransactionSetSchema,
    interchange: int,
    group: int,
    transaction: int,
) -> list[Finding]:
    """All segment- and element-level findings of ``segments`` (ST..SE), in segment order."""
    segment_caches = caches(schema.version, delimiters)
    walk = _Walk(interchange, group, transaction)
    root = schema.root
    hier = schema.hierarchy
    hl_seg = hier.segment if hier is not None else None
    hl_check = HierarchyChecker(hier) if hier is not None else None
    comp, rep = delimiters.component, delimiters.repetition
    # A frame is [loop, index of the current child, uses/repeats of that child].
    stack: list[list[Any]] = [[root, -1, 0]]
    position = 0
    for position, seg in enumerate(segments, 1):
        sid = seg.id
        frame = stack[-1]
        loop: LoopDef = frame[0]
        pos = frame[1]
        target = loop.nexts[pos + 1].get(sid)
        if target is None and len(stack) > 1 and (pos == 0 or loop.children[pos].id != sid):
            # The common way out of a loop: the segment belongs to an enclosing loop.
            d = len(stack) - 2
            while d >= 0:
                frame = stack[d]
                target = frame[0].nexts[frame[1] + 1].get(sid)
                if target is not None:
                    while len(stack) - 1 > d:
                        closed = stack.pop()
                        if closed[0].mandatory_after[closed[1] + 1]:
                            walk.close(closed[0], closed[1], position, False)
                    loop = frame[0]
                    if target == frame[1]:  # the trigger of the loop just left: one more iteration
                        frame[2] += 1
                        if frame[2] > loop.children[target].repeat:
                            walk.repeat(frame, sid, position, d == 0, counted=True)
                    else:
                        walk.move(frame, target, position, d == 0)
                    break
                d -= 1
            if target is None:
                walk.misplaced(schema, stack, seg, position)
                continue
        elif target is None or target == pos:
            placed = walk.place(stack, sid, position)
            if placed is None:
                walk.misplaced(schema, stack, seg, position)
                continue
            loop, target = placed
        elif loop.mandatory_after[pos + 1] and loop.mandatory_after[pos + 1][0] < target:
            walk.move(frame, target, position, len(stack) == 1)
        else:  # the common case: a later child of the innermost loop
            frame[1] = target
            frame[2] = 1
        node = loop.children[target]
        if isinstance(node, LoopDef):
            stack.append([node, 0, 1])
            loop_id: str | None = node.id
            segdef = node.children[0].segment  # type: ignore[union-attr]
        else:
            loop_id = loop.id if len(stack) > 1 else None
            segdef = node.segment
        hierarchy: list[ElementIssue] = []
        if sid == hl_seg and hl_check is not None:
            # Element-level findings on HL01/HL02/HL03: one AK4/IK4 each, under the HL's AK3/IK3.
            hierarchy = [
                ElementIssue(hl.code, hl.message, hl.element, ref=hl.ref, bad_value=hl.bad_value)
                for hl in hl_check.check(seg)
            ]
        if segdef.elements is None:
            if hierarchy:
                walk.elements(seg, hierarchy, position, loop_id)
            continue
        cache = segment_caches.get(sid)
        if cache is None:
            cache = segment_caches[sid] = SegmentCache(segdef, delimiters)
        els = seg.elements
        filled: object = tuple(map(bool, els)) if "" in els else len(els)
        issues = cache.patterns.get(filled)
        if issues is None:
            issues = check_presence(segdef, filled if isinstance(filled, tuple) else (True,) * len(els))
            if len(cache.patterns) < PATTERN_CAP:
                cache.patterns[filled] = issues
        bad: list[ElementIssue] | None = None
        for known, value, use in zip(cache.known, els, segdef.elements, strict=False):
            if value and value not in known:
                found = check_use(use, value, comp, rep)
                if found:
                    bad = found if bad is None else bad + found
                elif len(known) < KNOWN_CAP:
                    known.add(value)
        if issues or bad or hierarchy:
            walk.elements(seg, [*issues, *(bad or ()), *hierarchy], position, loop_id)
    while len(stack) > 1:
        closed = stack.pop()
        walk.close(closed[0], closed[1], position, False)
    walk.close(root, stack[0][1], position, True)
    return walk.findings
