"""The readers being compared, each a function ``path -> Outcome``.

* edigate's streaming envelope walk (``read_summary`` without a validator),
  which is what ``edigate x12 inspect --envelope-only`` runs;
* edigate with full schema validation (``read_summary(path, validator=schema_validator)``),
  what plain ``edigate x12 inspect`` runs;
* pyx12's ``X12Reader``, iterated over every segment: it tokenises each segment
  and checks envelope pairing, counts and control numbers, the same job as the
  envelope walk;
* a bare tokeniser (split every segment and element, streaming by chunks), the
  floor any pure-Python reader is measured against.

Every contestant returns what it saw, so a run that silently did nothing (or
read invalid data) is caught by :func:`check` instead of looking fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edi.reader import SetValidator, read_summary
from edi.validator import schema_validator

__all__ = ["CONTESTANTS", "Contestant", "Outcome", "check"]

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one read of a file found: sets (or segments) and problems."""

    transactions: int
    segments: int
    problems: int  # findings (edigate), errors (pyx12); 0 for the tokeniser


Contestant = Callable[[Path], Outcome]


def _edigate(path: Path, validator: SetValidator | None) -> Outcome:
    summaries, findings = read_summary(path, validator=validator)
    sets = [t for ix in summaries for g in ix.groups for t in g.transactions]
    return Outcome(len(sets), sum(t.segments for t in sets), len(findings))


def edigate_envelope(path: Path) -> Outcome:
    return _edigate(path, None)


def edigate_full(path: Path) -> Outcome:
    return _edigate(path, schema_validator)  # what plain ``edigate x12 inspect`` runs


def pyx12_reader(path: Path) -> Outcome:
    import pyx12.x12file

    sets = segments = problems = 0
    with pyx12.x12file.X12Reader(str(path)) as reader:
        for seg in reader:
            segments += 1
            if seg.get_seg_id() == "ST":
                sets += 1
        reader.cleanup()
        problems = len(reader.pop_errors())
    return Outcome(sets, segments, problems)


def bare_tokeniser(path: Path) -> Outcome:
    """Split every segment and element, streaming by chunks: no envelope logic at all."""
    segments = elements = 0
    with open(path, "rb") as fh:
        head = fh.read(106)
        es, term = head[3:4], head[105:106]
        tail = head
        while chunk := fh.read(_CHUNK):
            parts = (tail + chunk).split(term)
            tail = parts.pop()
            for seg in parts:
                elements += len(seg.split(es))
            segments += len(parts)
        if tail.strip():
            segments += 1
    # Elements are not an outcome of the others; the count only keeps the split from being skipped.
    return Outcome(0, segments, 0 if elements else 1)


CONTESTANTS: dict[str, Contestant] = {
    "edigate-envelope": edigate_envelope,
    "edigate-full": edigate_full,
    "pyx12": pyx12_reader,
    "tokeniser": bare_tokeniser,
}


def check(name: str, outcome: Outcome, expected_sets: int) -> None:
    """Refuse a run that did not read every set of a valid file."""
    if outcome.problems:
        raise AssertionError(f"{name} reported {outcome.problems} problems: the data is not valid")
    if name != "tokeniser" and outcome.transactions != expected_sets:
        raise AssertionError(f"{name} saw {outcome.transactions} sets, expected {expected_sets}")
