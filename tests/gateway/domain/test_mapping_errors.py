"""Every mapping error names the exact segment (ID and position) and element it came from.

Each element of each fixture segment is replaced in turn by a bad value; whatever the reader makes
of it, a failure must be a MappingError located at that very segment and element (or, for a rule
over a whole segment, at that segment). Plus the cases the issue audit found one by one.
"""

from __future__ import annotations

import pytest

from edi import UnreadableInput
from edi.errors import X12Error
from gateway.domain.mapping import MappingError
from tests.gateway.domain.test_mapping_support import fixture, profiles, read_x12

BAD_VALUES = ("@@", "", "X" * 90, "-1", "1.5", "ab", "a\x01b", "usd")
#: Problems of a whole segment (no element to blame) that a single bad element can cause there.
WHOLE_SEGMENT = ("has no item identifier and no description", "an item needs at least one identifier")


def _mutations(name: str) -> list[tuple[bytes, int, str, int, str]]:
    """(X12, position of the changed segment from ST = 1, its ID, element, bad value) for every change."""
    lines = fixture(name).decode().split("~\n")
    st = next(i for i, line in enumerate(lines) if line.startswith("ST*"))
    out = []
    for i, line in enumerate(lines):
        parts = line.split("*")
        if parts[0] in ("ISA", "GS", "GE", "IEA", "ST", "SE", ""):
            continue
        for element in range(1, len(parts)):
            for bad in BAD_VALUES:
                changed = [*parts[:element], bad, *parts[element + 1 :]]
                data = "~\n".join([*lines[:i], "*".join(changed), *lines[i + 1 :]]).encode()
                out.append((data, i - st + 1, parts[0], element, bad))
    return out


@pytest.mark.parametrize(
    "name", ["850-004010.x12", "855-004010.x12", "856-004010.x12", "810-004010.x12", "northwind-856.x12"]
)
def test_every_error_names_the_changed_segment_and_element(name: str) -> None:
    profile = profiles()["northwind-supply"] if name.startswith("northwind") else None
    failures, checked = [], 0
    for data, position, segment, element, bad in _mutations(name):
        try:
            read_x12(data, profile)
        except MappingError as exc:
            checked += 1
            problem = _misplaced(exc, segment, position, element)
            if problem is not None:
                failures.append(f"{segment}{element:02d}={bad!r} at {position}: {problem}")
        except (X12Error, UnreadableInput):
            continue  # the reader's concern (a bad envelope or control character), not the mapping's
    assert failures == []
    assert checked > 40


def _misplaced(exc: MappingError, segment: str, position: int, element: int) -> str | None:
    """None when ``exc`` names the changed segment and element (or the segment, for a whole-segment
    rule, or the child HL for a changed HL01), else the error text."""
    where = (exc.segment_id, exc.segment_position, exc.element)
    text = str(exc)
    if where == (segment, position, element):
        ok = f"{segment}{element:02d}" in text and f"at segment {position} {segment}" in text
        return None if ok else text
    if where == (segment, position, None) and any(w in text for w in WHOLE_SEGMENT):
        return None
    if (segment, element) == ("HL", 1) and "names no preceding HL" in text:
        return None  # the HL that named the changed ID as its parent is the one in error
    return text


@pytest.mark.parametrize(
    ("find", "replace", "where"),
    [
        (b"N1*ST*ACME STORE 12*92*0012", b"N1*ST*ACME STORE 12*ab*0012", ("N1", 3)),
        (b"N1*ST*ACME STORE 12*92*0012", b"N1*ST*ACME STORE 12*92*" + b"9" * 81, ("N1", 4)),
        (b"CUR*BY*USD", b"CUR*BY*usd", ("CUR", 2)),
        (b"PER*IC*DOCK MANAGER*TE*5550199", b"PER*IC*DOCK MANAGER*te*5550199", ("PER", 3)),
        (b"PER*IC*DOCK MANAGER*TE*5550199", b"PER*IC*DOCK MANAGER*TE*" + b"5" * 81, ("PER", 4)),
        (b"VP*W-100*BP*B-100", b"VP*W-100*bp*B-100", ("PO1", 10)),
    ],
)
def test_audited_850_cases(find: bytes, replace: bytes, where: tuple[str, int]) -> None:
    _fails_at(fixture("850-004010.x12"), find, replace, where)


@pytest.mark.parametrize(
    ("find", "replace", "where"),
    [
        (b"TD1*CTN25*3", b"TD1*ctn25*3", ("TD1", 1)),
        (b"REF*CN*PRO-2", b"REF*CN*" + b"P" * 81, ("REF", 2)),
        (b"LIN*1*UP*012345678905", b"LIN*@@*UP*012345678905", ("LIN", 1)),
        (b"LIN*1*UP*012345678905*VP*W-100", b"LIN*1*UP*012345678905*vp*W-100", ("LIN", 4)),
        (b"LIN*2*VP*W-200", b"LIN*2*VP*" + b"W" * 81, ("LIN", 3)),
    ],
)
def test_audited_856_cases(find: bytes, replace: bytes, where: tuple[str, int]) -> None:
    _fails_at(fixture("856-004010.x12"), find, replace, where)


def test_audited_810_iss_case() -> None:
    _fails_at(fixture("810-004010.x12"), b"ISS*34*EA", b"ISS*34*ea", ("ISS", 2))


def _fails_at(data: bytes, find: bytes, replace: bytes, where: tuple[str, int]) -> None:
    """Mapping ``data`` with ``find`` replaced fails at the changed segment's position and the element."""
    assert data.count(find) == 1
    lines = data.split(b"~\n")
    st = next(i for i, line in enumerate(lines) if line.startswith(b"ST*"))
    position = next(i for i, line in enumerate(lines) if find in line) - st + 1
    with pytest.raises(MappingError) as caught:
        read_x12(data.replace(find, replace))
    error = caught.value
    assert (error.segment_id, error.segment_position, error.element) == (where[0], position, where[1])
