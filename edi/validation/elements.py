"""Element-level checks: one value against its definition, and a segment's presence pattern.

Two kinds of check, split so that both can be memoised by the validator:

* :func:`check_use` looks at one element value (simple, composite or
  repeated) with the interchange's delimiters: type, length, code list,
  date and time validity, stray component or repetition separators;
* :func:`check_presence` looks only at which positions of a segment are
  filled: missing mandatory elements, too many elements, and the relational
  conditions (paired, required, exclusion, conditional, list conditional).
  Its result depends on nothing else, so it is cached per pattern.
"""

from __future__ import annotations

import re
from datetime import date
from typing import NamedTuple

from edi.findings import Code
from edi.schemas.model import ElementDef, ElementUse, SegmentDef

__all__ = ["ElementIssue", "check_presence", "check_use", "check_value"]


class ElementIssue(NamedTuple):
    """One element problem, positioned within its segment (all positions 1-based)."""

    code: Code
    message: str
    element: int
    component: int | None = None
    repetition: int | None = None
    ref: str | None = None
    bad_value: str | None = None
    warning: bool = False


#: Control characters are in neither the X12 basic nor the extended character set. Other
#: characters (lowercase, extended punctuation, non-ASCII text) are accepted: the extended
#: set and partners' UTF-8 data use them.
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def check_value(edef: ElementDef, value: str) -> tuple[Code, str, bool] | None:
    """Check a non-empty simple value; return ``(code, message, warning_only)`` or ``None``."""
    kind = edef.type
    if kind == "AN" or kind == "ID":
        if (bad := _CONTROL.search(value)) is not None:
            return (
                Code.ELEMENT_INVALID_CHARACTER,
                f"{value!r} holds the control character {bad.group()!r}, outside the X12 character set",
                False,
            )
        length = len(value)
    elif kind == "R" or kind[0] == "N":
        body = value[1:] if value[:1] == "-" else value
        if kind == "R" and "." in body:
            whole, _, frac = body.partition(".")
            body = whole + frac
        if not body or not _is_digits(body):
            what = (
                "a decimal number" if kind == "R" else "an integer" if kind == "N0" else f"numeric ({kind})"
            )
            return Code.ELEMENT_INVALID_CHARACTER, f"{value!r} is not {what}", False
        length = len(body)
    elif kind == "DT":
        length = len(value)
        if not _is_digits(value):
            return Code.ELEMENT_INVALID_DATE, f"date {value!r} is not all digits", False
        if length in (6, 8) and edef.min_length <= length <= edef.max_length:
            year = int(value[:4]) if length == 8 else 2000 + int(value[:2])
            try:
                date(year, int(value[-4:-2]), int(value[-2:]))
            except ValueError:
                return Code.ELEMENT_INVALID_DATE, f"{value!r} is not a calendar date", False
            return None
        if edef.min_length <= length <= edef.max_length:
            return Code.ELEMENT_INVALID_DATE, f"{value!r} is neither CCYYMMDD nor YYMMDD", False
    else:  # TM
        length = len(value)
        if not _is_digits(value):
            return Code.ELEMENT_INVALID_TIME, f"time {value!r} is not all digits", False
        if length == 5 or (length >= 4 and (int(value[:2]) > 23 or int(value[2:4]) > 59)):
            return Code.ELEMENT_INVALID_TIME, f"{value!r} is not a valid HHMM[SS[d..]] time", False
        if length >= 6 and int(value[4:6]) > 59:
            return Code.ELEMENT_INVALID_TIME, f"{value!r} has invalid seconds", False
    if length < edef.min_length:
        return Code.ELEMENT_TOO_SHORT, f"{value!r} is shorter than the minimum {edef.min_length}", False
    if length > edef.max_length:
        return Code.ELEMENT_TOO_LONG, f"{value!r} is longer than the maximum {edef.max_length}", False
    codes = edef.codes
    if codes is not None and value not in codes:
        return (
            Code.ELEMENT_INVALID_CODE,
            f"{value!r} is not a known code for element {edef.ref}",
            edef.codes_open,
        )
    return None


def _simple(
    use: ElementUse,
    value: str,
    component_sep: str | None,
    position: int,
    component: int | None,
    repetition: int | None,
) -> list[ElementIssue]:
    edef = use.element
    assert edef is not None
    if component_sep is not None and component_sep in value:
        return [
            ElementIssue(
                Code.ELEMENT_TOO_MANY_COMPONENTS,
                f"simple element {edef.ref} contains the component separator {component_sep!r}",
                position,
                component,
                repetition,
                edef.ref,
                value,
            )
        ]
    result = check_value(edef, value)
    if result is None:
        return []
    code, message, warning = result
    return [ElementIssue(code, message, position, component, repetition, edef.ref, value, warning)]


def _composite(use: ElementUse, value: str, component_sep: str, repetition: int | None) -> list[ElementIssue]:
    comp = use.composite
    assert comp is not None
    parts = value.split(component_sep)
    if len(parts) > len(comp.components):
        extra = len(comp.components) + 1
        return [
            ElementIssue(
                Code.ELEMENT_TOO_MANY_COMPONENTS,
                f"{comp.ref} has {len(parts)} components, at most {len(comp.components)} allowed",
                use.position,
                extra,
                repetition,
                comp.ref,
                parts[extra - 1],
            )
        ]
    issues: list[ElementIssue] = []
    for cuse in comp.components:
        part = parts[cuse.position - 1] if cuse.position <= len(parts) else ""
        if part:
            issues.extend(_simple(cuse, part, None, use.position, cuse.position, repetition))
        elif cuse.mandatory:
            issues.append(
                ElementIssue(
                    Code.ELEMENT_MISSING,
                    f"mandatory component {comp.ref}-{cuse.position:02d} ({cuse.ref}) is missing",
                    use.position,
                    cuse.position,
                    repetition,
                    cuse.ref,
                )
            )
    return issues


def check_use(
    use: ElementUse, value: str, component_sep: str, repetition_sep: str | None
) -> list[ElementIssue]:
    """All problems of one non-empty element value at its segment position."""
    parts = [value]
    if repetition_sep is not None and repetition_sep in value:
        parts = value.split(repetition_sep)
        if len(parts) > use.repeat:
            ref = use.ref
            return [
                ElementIssue(
                    Code.ELEMENT_TOO_MANY_REPETITIONS,
                    f"element {ref} repeats {len(parts)} times, at most {use.repeat} allowed",
                    use.position,
                    None,
                    use.repeat + 1,
                    ref,
                    value,
                )
            ]
    issues: list[ElementIssue] = []
    for k, part in enumerate(parts, 1):
        rep = k if len(parts) > 1 else None
        if not part:
            continue
        if use.composite is not None:
            issues.extend(_composite(use, part, component_sep, rep))
        else:
            issues.extend(_simple(use, part, component_sep, use.position, None, rep))
    return issues


def check_presence(segdef: SegmentDef, filled: tuple[bool, ...]) -> tuple[ElementIssue, ...]:
    """Problems that depend only on which positions are filled (``filled[i]`` is XX(i+1))."""
    uses = segdef.elements
    assert uses is not None
    n = len(filled)

    def present(pos: int) -> bool:
        return pos <= n and filled[pos - 1]

    issues: list[ElementIssue] = []
    for i in range(len(uses), n):
        if filled[i]:
            issues.append(
                ElementIssue(
                    Code.ELEMENT_TOO_MANY,
                    f"{segdef.id} has at most {len(uses)} elements; {segdef.id}{i + 1:02d} is extra",
                    i + 1,
                )
            )
            break
    reported: set[int] = set()
    for use in uses:
        if use.mandatory and not present(use.position):
            reported.add(use.position)
            issues.append(
                ElementIssue(
                    Code.ELEMENT_MISSING,
                    f"mandatory element {segdef.id}{use.position:02d} ({use.ref}) is missing",
                    use.position,
                    ref=use.ref,
                )
            )
    for rule in segdef.syntax:
        pos = rule.positions
        have = [p for p in pos if present(p)]
        if rule.kind == "E":
            if len(have) > 1:
                bad = have[1]
                issues.append(
                    ElementIssue(
                        Code.ELEMENT_EXCLUSION,
                        f"{segdef.id} {rule}: only one of the elements may be used",
                        bad,
                        ref=uses[bad - 1].ref,
                    )
                )
            continue
        if rule.kind == "P":
            missing = [p for p in pos if not present(p)] if have else []
        elif rule.kind == "R":
            missing = [] if have else [pos[0]]
        elif rule.kind == "C":
            missing = [p for p in pos[1:] if not present(p)] if present(pos[0]) else []
        else:  # L
            missing = [pos[1]] if present(pos[0]) and not any(present(p) for p in pos[1:]) else []
        for p in missing[:1]:
            if p not in reported:
                reported.add(p)
                issues.append(
                    ElementIssue(
                        Code.ELEMENT_CONDITIONAL_MISSING,
                        f"{segdef.id} {rule}: {segdef.id}{p:02d} is required by the condition",
                        p,
                        ref=uses[p - 1].ref,
                    )
                )
    return tuple(sorted(issues, key=lambda i: i.element))
