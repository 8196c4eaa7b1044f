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

__all__ = ["SEPARATOR", "fast_predicate", "segment_pattern", "segment_predicates", "structure_pattern"]

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


#: Control characters, never valid in AN or ID values (see :mod:`edi.validation.elements`).
_CONTROL_CLASS = "\\x00-\\x1f\\x7f"


def _body(kind: str, low: int, high: int, forbidden: str, end: str) -> str:
    """Expression for one value of a type; ``end`` is what must follow it (for R's digit count)."""
    if kind in ("AN", "ID"):
        return f"[^{_CONTROL_CLASS}{forbidden}]{{{low},{high}}}"
    if kind == "R":
        whole = rf"(?=[0-9]{{{low},{high}}}{end})[0-9]+"
        dotted = rf"(?=[0-9.]{{{low + 1},{high + 1}}}{end})[0-9]*\.[0-9]*"
        return f"-?(?:{whole}|{dotted})"
    if kind[0] == "N":
        return f"-?[0-9]{{{low},{high}}}"
    if kind == "DT":
        lengths = [n for n in (6, 8) if low <= n <= high]
        years = {6: "[0-9]{2}", 8: "(?!0000)[0-9]{4}"}
        leap = {6: _LEAP_YY + "|00", 8: f"[0-9]{{2}}{_LEAP_YY}|{_LEAP_YY}00|0400"}
        dates = [f"{years[n]}{_DAYS}|(?:{leap[n]})0229" for n in lengths]
        return "(?:" + "|".join(dates) + ")" if dates else "(?!)"
    # TM: HHMM, HHMMSS, HHMMSSd, HHMMSSdd
    hhmm = "(?:[01][0-9]|2[0-3])[0-5][0-9]"
    forms = {4: hhmm, 6: hhmm + "[0-5][0-9]", 7: hhmm + "[0-5][0-9][0-9]", 8: hhmm + "[0-5][0-9][0-9]{2}"}
    alternatives = [forms[n] for n in (4, 6, 7, 8) if low <= n <= high]
    return "(?:" + "|".join(alternatives) + ")" if alternatives else "(?!)"


@lru_cache(maxsize=1024)
def _value_pattern(kind: str, low: int, high: int, forbidden: str, optional: bool) -> Callable[[str], object]:
    body = _body(kind, low, high, forbidden, r"\Z")
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


def _field(use: ElementUse, sep: str, forbidden: str) -> str | None:
    """One field of a whole-segment expression, or ``None`` if it needs a set of known values."""
    edef = use.element
    if edef is None or use.repeat > 1:
        return None
    if edef.codes is not None:
        body = "|".join(sorted(map(re.escape, edef.codes), key=lambda c: (-len(c), c)))
    else:
        body = _body(edef.type, edef.min_length, edef.max_length, forbidden, f"(?:{sep}|\\Z)")
    return f"(?:{body})(?={sep}|\\Z)"


def _rule_unit(kind: str, order: tuple[int, ...], fields: dict[int, str], sep: str) -> str | None:
    """The alternatives of a relational condition over adjacent positions, or ``None``."""
    pos = sorted(order)

    def opt(p: int) -> str:
        return f"(?:{fields[p]})?"

    if kind == "P":
        return sep.join(fields[p] for p in pos) + "|" + sep * (len(pos) - 1)
    if kind == "R":
        alternatives = [
            sep.join([""] * i + [fields[pos[i]]] + [opt(p) for p in pos[i + 1 :]]) for i in range(len(pos))
        ]
        return "|".join(alternatives)
    if kind == "C" and len(pos) == 2:
        low, high = pos
        if order[0] == low:  # if the first is present, the second must be
            return f"{fields[low]}{sep}{fields[high]}|{sep}{opt(high)}"
        return f"{fields[low]}{sep}{opt(high)}|{sep}"  # the later one needs the earlier one
    return None


def segment_pattern(
    segdef: SegmentDef, element_sep: str, component_sep: str, repetition_sep: str | None
) -> Callable[[str], object] | None:
    """One expression for a whole segment's elements (joined by ``element_sep``), or ``None``.

    It accepts only element lists with no finding at all: every value valid,
    mandatory elements present, nothing extra, and the relational conditions
    met. Conditions it cannot express (exclusions, list conditionals, rules
    over positions that are not adjacent or that overlap) and composite or
    repeating elements make it ``None``: such segments use the per-position
    predicates instead.
    """
    uses = segdef.elements
    if not uses:
        return None
    sep = re.escape(element_sep)
    forbidden = sep + re.escape(component_sep) + (re.escape(repetition_sep) if repetition_sep else "")
    fields: dict[int, str] = {}
    for use in uses:
        field = _field(use, sep, forbidden)
        if field is None:
            return None
        fields[use.position] = field
    units: dict[int, tuple[int, str]] = {}  # first position -> (last position, expression)
    covered: set[int] = set()
    for rule in segdef.syntax:
        pos = sorted(rule.positions)
        mandatory = any(uses[p - 1].mandatory for p in pos)
        if pos != list(range(pos[0], pos[-1] + 1)) or covered & set(pos) or mandatory:
            return None
        unit = _rule_unit(rule.kind, rule.positions, fields, sep)
        if unit is None:
            return None
        covered.update(pos)
        units[pos[0]] = (pos[-1], f"(?:{unit})")
    for use in uses:
        if use.position not in covered:
            field = fields[use.position]
            units[use.position] = (use.position, field if use.mandatory else f"(?:{field})?")
    ordered = [units[k] for k in sorted(units)]
    last_mandatory = max((u.position for u in uses if u.mandatory), default=0)
    split = next((i + 1 for i, (last, _) in enumerate(ordered) if last >= last_mandatory), 1)
    head = sep.join(expr for _, expr in ordered[:split])
    tail = ""
    for _, expr in reversed(ordered[split:]):
        tail = f"(?:{sep}{expr}{tail})?"
    return re.compile(head + tail).fullmatch


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
