"""The fast path of :mod:`edi.validator`: prove a transaction set clean at C speed.

Most sets are valid, so the validator first tries to *prove* that cheaply and
only walks the set segment by segment (to say exactly what is wrong) when the
proof fails:

* structure: the schema is compiled into one regular expression over the
  segment IDs (``"ST,BEG,CUR,...,SE,"``). Every optional item is possessive
  (``{0,n}+``) and every loop is a possessive group, so the expression parses
  greedily without backtracking, exactly like the walker, and bounds come
  straight from max use and loop repeat;
* elements: every segment position gets one predicate that is true only for
  values that are certainly valid there, run for all positions at once with
  ``all(map(...))``: a compiled pattern for AN/ID/N/R/DT/TM values, or a set
  of known-valid values for code lists and composites. A segment with
  relational conditions also has its pattern of filled positions checked
  against the patterns already known to be clean.

A false negative only costs time (the walker then runs); a predicate never
accepts a value that the full checks in :mod:`edi.validation.elements` reject.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from edi.schemas.model import UNBOUNDED, ElementUse, LoopDef, SegmentDef, SegmentUse

__all__ = ["SEPARATOR", "fast_predicate", "structure_pattern"]

#: Joins segment IDs for the structure expression; not a character of any valid segment ID.
SEPARATOR = ","

_DAYS = (
    r"(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)"
    r"|02(?:0[1-9]|1[0-9]|2[0-8]))"
)
_LEAP_YY = "(?:0[48]|[2468][048]|[13579][26])"  # two-digit years divisible by 4


def _quantified(body: str, low: int, high: int) -> str:
    if high >= UNBOUNDED:
        return f"(?:{body}){{{low},}}+"
    return f"(?:{body}){{{low},{high}}}+"


def _loop_body(loop: LoopDef, is_root: bool) -> str:
    parts = []
    for i, child in enumerate(loop.children):
        if isinstance(child, SegmentUse):
            token = re.escape(child.id) + SEPARATOR
            if i == 0 and not is_root:
                parts.append(token)  # a loop's trigger starts every iteration, exactly once
            else:
                parts.append(_quantified(token, 1 if child.mandatory else 0, child.max_use))
        else:
            parts.append(_quantified(_loop_body(child, False), 1 if child.mandatory else 0, child.repeat))
    return "".join(parts)


def structure_pattern(root: LoopDef) -> re.Pattern[str]:
    """The expression that fully matches the joined segment IDs of every structurally valid set."""
    return re.compile(_loop_body(root, True))


@lru_cache(maxsize=1024)
def _value_pattern(kind: str, low: int, high: int, forbidden: str, optional: bool) -> Callable[[str], object]:
    if kind in ("AN", "ID"):
        body = f"[^{forbidden}]{{{low},{high}}}" if forbidden else f"(?s:.){{{low},{high}}}"
    elif kind == "R":
        body = rf"-?(?:(?=[0-9]{{{low},{high}}}\Z)[0-9]+|(?=[0-9.]{{{low + 1},{high + 1}}}\Z)[0-9]*\.[0-9]*)"
    elif kind[0] == "N":
        body = f"-?[0-9]{{{low},{high}}}"
    elif kind == "DT":
        lengths = [n for n in (6, 8) if low <= n <= high]
        years = {6: "[0-9]{2}", 8: "(?!0000)[0-9]{4}"}
        leap = {6: _LEAP_YY + "|00", 8: f"[0-9]{{2}}{_LEAP_YY}|{_LEAP_YY}00|0400"}
        dates = [f"{years[n]}{_DAYS}|(?:{leap[n]})0229" for n in lengths]
        body = "(?:" + "|".join(dates) + ")" if dates else "(?!)"
    else:  # TM: HHMM, HHMMSS, HHMMSSd, HHMMSSdd
        hhmm = "(?:[01][0-9]|2[0-3])[0-5][0-9]"
        forms = {4: hhmm, 6: hhmm + "[0-5][0-9]", 7: hhmm + "[0-5][0-9][0-9]", 8: hhmm + "[0-5][0-9][0-9]{2}"}
        alternatives = [forms[n] for n in (4, 6, 7, 8) if low <= n <= high]
        body = "(?:" + "|".join(alternatives) + ")" if alternatives else "(?!)"
    if optional:
        body = f"(?:{body})?"
    return re.compile(body).fullmatch


def fast_predicate(
    use: ElementUse, component_sep: str, repetition_sep: str | None, known: set[str]
) -> Callable[[str], object]:
    """A predicate true only for values certainly valid at ``use``'s position.

    The empty value passes unless the element is mandatory. Code lists,
    composites and repeatable elements use ``known`` (seeded with the codes of
    a list, then filled by the validator with values the full checks passed).
    """
    edef = use.element
    if edef is None or use.repeat > 1 or edef.codes is not None:
        if edef is not None and edef.codes is not None:
            known.update(edef.codes)
        if not use.mandatory:
            known.add("")
        return known.__contains__
    forbidden = re.escape(component_sep) + (re.escape(repetition_sep) if repetition_sep else "")
    return _value_pattern(edef.type, edef.min_length, edef.max_length, forbidden, not use.mandatory)


def segment_predicates(
    segdef: SegmentDef, component_sep: str, repetition_sep: str | None
) -> tuple[tuple[Callable[[str], object], ...], tuple[set[str], ...]]:
    """Per-position predicates of ``segdef`` and the known-value sets behind the set-based ones."""
    uses = segdef.elements or ()
    sets: tuple[set[str], ...] = tuple(set() for _ in uses)
    preds = tuple(
        fast_predicate(u, component_sep, repetition_sep, s) for u, s in zip(uses, sets, strict=True)
    )
    return preds, sets
