"""Per-segment validation caches, shared by the fast path and the walker.

One :class:`SegmentCache` exists per segment ID, release and delimiters (the
predicates and the known-valid values depend on the component and repetition
separators). Everything in it is bounded.
"""

from __future__ import annotations

from collections.abc import Callable

from edi.delimiters import Delimiters
from edi.schemas.model import SegmentDef
from edi.validation.elements import ElementIssue
from edi.validation.fastpath import segment_pattern, segment_predicates

__all__ = ["KNOWN_CAP", "PATTERN_CAP", "SEEN_CAP", "SegmentCache", "caches"]

#: At most this many known-valid values are remembered per segment position.
KNOWN_CAP = 4096
#: At most this many presence patterns are remembered per segment.
PATTERN_CAP = 512
#: Whole segments (element tuples) remembered as clean per segment; the set starts over when full.
SEEN_CAP = 4096
#: At most this many (release, delimiters) cache sets are kept.
_CONTEXT_CAP = 32

_contexts: dict[tuple[str, str, str, str | None], dict[str, SegmentCache]] = {}


class SegmentCache:
    """What the validator remembers about one segment definition."""

    __slots__ = (
        "clean",
        "known",
        "min_filled",
        "patterns",
        "predicates",
        "rules",
        "seen",
        "segdef",
        "whole",
        "width",
    )

    def __init__(self, segdef: SegmentDef, delimiters: Delimiters) -> None:
        self.segdef = segdef
        uses = segdef.elements or ()
        self.width = len(uses)
        #: Elements the segment must have for every mandatory one to be present.
        self.min_filled = max((u.position for u in uses if u.mandatory), default=0)
        self.rules = bool(segdef.syntax)
        #: Presence pattern (or element count when every element is filled) -> issues.
        self.patterns: dict[object, tuple[ElementIssue, ...]] = {}
        #: Presence patterns known to satisfy the relational conditions.
        self.clean: set[tuple[bool, ...]] = set()
        #: Element tuples of segments proven clean (segments repeat a lot: PID, PO4, N4, DTM...).
        self.seen: set[object] = set()  # raw segment text, or element tuples for built segments
        self.predicates: tuple[Callable[[str], object], ...]
        self.known: tuple[set[str], ...]
        self.predicates, self.known = segment_predicates(segdef, delimiters.component, delimiters.repetition)
        #: One expression for the whole element list (joined by the element separator), if expressible.
        self.whole = segment_pattern(segdef, delimiters.element, delimiters.component, delimiters.repetition)


def caches(version: str, delimiters: Delimiters) -> dict[str, SegmentCache]:
    """The segment caches (by segment ID) of one release and set of delimiters."""
    key = (version, delimiters.element, delimiters.component, delimiters.repetition)
    found = _contexts.get(key)
    if found is None:
        if len(_contexts) >= _CONTEXT_CAP:
            _contexts.clear()
        found = _contexts[key] = {}
    return found
