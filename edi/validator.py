"""Schema validation of one transaction set (ST..SE) against its compiled schema.

:func:`validate_transaction` reports segment- and element-level findings as
data, each with an exact location: ``segment_position`` counts from ST
(AK302), ``element``/``component``/``repetition`` are 1-based (AK401), and
``element_reference`` is the data element dictionary number (AK403/IK4). A
segment with element errors also gets one ``SEGMENT_HAS_ELEMENT_ERRORS``
finding, placed before its element findings, so that a 997 can write its AK3
with AK304=8. Control numbers and counts (ST02/SE02, SE01) are the envelope's
business (:mod:`edi.reader`), and transaction-set results (AK5) are derived by
the caller from these findings.

Two passes, for speed:

1. the fast path (:mod:`edi.validation.fastpath`) tries to prove the set clean
   with one regular expression over the segment IDs and C-level predicates
   over the element values; most sets stop here;
2. otherwise the walk (:mod:`edi.validation.walker`) goes segment by segment
   and says exactly what is wrong and where.

Sets with an HL hierarchy (856) always take the walk, which runs the HL
parent/child checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter, call

from edi.delimiters import Delimiters
from edi.findings import Finding
from edi.model import Segment
from edi.schemas import TransactionSetSchema, load_schema
from edi.validation.cache import PATTERN_CAP, SEEN_CAP, SegmentCache, caches
from edi.validation.elements import check_presence
from edi.validation.fastpath import SEPARATOR, structure_pattern
from edi.validation.walker import walk_transaction

__all__ = ["schema_validator", "validate_transaction"]

_ID = attrgetter("id")
_structures: dict[TransactionSetSchema, object] = {}
#: Segment-ID sequences (joined) known to match each schema's structure, at most this many per schema.
_SHAPE_CAP = 1024
_shapes: dict[TransactionSetSchema, set[str]] = {}


def _structure(schema: TransactionSetSchema) -> object:
    found = _structures.get(schema)
    if found is None:
        if len(_structures) >= 64:
            _structures.clear()
        found = _structures[schema] = structure_pattern(schema.root).fullmatch
    return found


def _clean(segments: Sequence[Segment], delimiters: Delimiters, schema: TransactionSetSchema) -> bool:
    """True only if the set certainly has no segment or element finding."""
    text = SEPARATOR.join(map(_ID, segments)) + SEPARATOR
    shapes = _shapes.setdefault(schema, set())
    if text not in shapes:  # sets of one partner mostly share a few shapes: match each shape once
        if text.count(SEPARATOR) != len(segments) or _structure(schema)(text) is None:  # type: ignore[operator]
            return False
        if len(shapes) >= _SHAPE_CAP:
            shapes.clear()
        shapes.add(text)
    segment_caches = caches(schema.version, delimiters)
    defs = schema.segments
    sep = delimiters.element
    for seg in segments:
        cache = segment_caches.get(seg.id)
        if cache is None:
            segdef = defs[seg.id]  # the structure matched, so the ID is one of the set's
            if segdef.elements is None:
                continue
            cache = segment_caches[seg.id] = SegmentCache(segdef, delimiters)
        raw = seg.raw  # the text as read: matched whole, without splitting it
        whole: object = raw if raw is not None else tuple(seg.elements)
        seen = cache.seen
        if whole in seen:
            continue
        if cache.whole is None or cache.whole(raw if raw is not None else sep.join(seg.elements)) is None:
            els = seg.elements
            # Not expressible as one pattern, or not matched: per-position predicates, then conditions.
            if (
                len(els) > cache.width
                or len(els) < cache.min_filled
                or not all(map(call, cache.predicates, els))
            ):
                return False
            if cache.rules:
                filled = tuple(map(bool, els))
                if filled not in cache.clean:
                    if check_presence(cache.segdef, filled):
                        return False
                    if len(cache.clean) < PATTERN_CAP:
                        cache.clean.add(filled)
        if len(seen) >= SEEN_CAP:
            seen.clear()
        seen.add(whole)
    return True


def validate_transaction(
    segments: Sequence[Segment],
    delimiters: Delimiters,
    schema: TransactionSetSchema,
    *,
    interchange: int,
    group: int,
    transaction: int,
) -> list[Finding]:
    """Validate ``segments`` (ST through SE inclusive) against ``schema``.

    Returns segment- and element-level findings, in segment order; an empty
    list for a valid set.
    """
    if schema.hierarchy is None and _clean(segments, delimiters, schema):
        return []
    return walk_transaction(segments, delimiters, schema, interchange, group, transaction)


def schema_validator(
    segments: list[Segment],
    delimiters: Delimiters,
    version: str,
    interchange: int,
    group: int,
    transaction: int,
) -> list[Finding] | None:
    """:data:`edi.reader.SetValidator` over the shipped schemas: ``None`` when the set has none."""
    if not segments:
        return None
    schema = load_schema(segments[0].get(1), version)
    if schema is None:
        return None
    return validate_transaction(
        segments, delimiters, schema, interchange=interchange, group=group, transaction=transaction
    )
