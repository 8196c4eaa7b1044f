"""The schema validator over the real-world corpus (../shared/corpus/x12).

Every 810/850/855/856/997/999 sample whose SOURCES.tsv note says "envelope
looks valid" and whose GS08 resolves to 004010 or 005010 is validated. No
standard segment may be reported unrecognised, and the samples that do get
error findings are pinned below with the reason, checked by hand against the
X12 standard: each is sample data that breaks the standard, not a false alarm.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from edi.findings import Code, Finding
from edi.lexer import Lexer
from edi.model import Segment
from edi.schemas import load_schema
from edi.validator import validate_transaction

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "x12"
SETS = {"810", "850", "855", "856", "997", "999"}

#: Samples with error findings, the codes they raise, and why the sample is wrong.
EXPECTED_ERRORS: dict[str, tuple[set[Code], str]] = {
    "810/stupidedi__004010_IN810_pass_1.edi": (
        {Code.SEGMENT_HAS_ELEMENT_ERRORS, Code.ELEMENT_CONDITIONAL_MISSING},
        "IT1||4||70: IT102 without IT103 breaks IT1 syntax note P020304",
    ),
    "850/vscode-edi-support__850-lineBreak-LF.x12": (
        {Code.SEGMENT_MISSING},
        "a header-only 850: no PO1 loop",
    ),
    "850/vscode-edi-support__850-lineBreak.x12": ({Code.SEGMENT_MISSING}, "a header-only 850: no PO1 loop"),
    "850/vscode-edi-support__850.x12": ({Code.SEGMENT_MISSING}, "a header-only 850: no PO1 loop"),
    "850/vscode-edi-support__850-loop.edi": (
        {Code.SEGMENT_HAS_ELEMENT_ERRORS, Code.ELEMENT_CONDITIONAL_MISSING},
        "SAC*A***100.00: the amount sits in SAC04 (agency code) without SAC03; no SAC02 or SAC03 (R0203)",
    ),
    "850/vscode-edi-support__x12.minify.edi": (
        {Code.SEGMENT_HAS_ELEMENT_ERRORS, Code.ELEMENT_CONDITIONAL_MISSING},
        "the same SAC*A***100.00 as 850-loop.edi",
    ),
    "855/stupidedi__004010_X358-SC855_pass_po-ack-minor-changes.edi": (
        {Code.SEGMENT_HAS_ELEMENT_ERRORS, Code.ELEMENT_CONDITIONAL_MISSING},
        "ACK*IQ*20: a quantity without its unit (ACK syntax note P0203)",
    ),
    "997/staedi__empty997.edi": ({Code.SEGMENT_MISSING}, "ST/SE only: the mandatory AK1 and AK9 are absent"),
    "mixed/vscode-edi-support__X12-interchanges.x12": ({Code.SEGMENT_MISSING}, "850s without a PO1 loop"),
}


def _candidates() -> list[str]:
    with open(CORPUS / "SOURCES.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    out = []
    for row in rows:
        sets = set(row["transaction_sets"].split(","))
        if "envelope looks valid" in row["notes"] and sets & SETS:
            out.append(row["saved_path"])
    return sorted(out)


def _validated(path: Path) -> Iterator[tuple[str, list[Finding]]]:
    """(ST01, findings) of every set in ``path`` that has a schema, sets sliced ST..SE by hand."""
    lexer = Lexer(path)
    version = ""
    current: list[Segment] | None = None
    ix = group = number = -1
    for text in lexer:
        assert lexer.delimiters is not None
        seg = Segment.parse(text, lexer.delimiters.element)
        if seg.id == "ISA":
            ix, group = ix + 1, -1
        elif seg.id == "GS":
            version, group, number = seg.get(8), group + 1, -1
        elif seg.id == "ST":
            current, number = [seg], number + 1
        elif current is not None:
            current.append(seg)
            if seg.id == "SE":
                schema = load_schema(current[0].get(1), version)
                if schema is not None:
                    found = validate_transaction(
                        current, lexer.delimiters, schema, interchange=ix, group=group, transaction=number
                    )
                    yield current[0].get(1), found
                current = None


CANDIDATES = _candidates()


def test_the_corpus_is_there() -> None:
    assert len(CANDIDATES) >= 30
    assert set(EXPECTED_ERRORS) <= set(CANDIDATES)


@pytest.mark.parametrize("name", CANDIDATES)
def test_corpus_sample(name: str) -> None:
    results = list(_validated(CORPUS / name))
    findings = [f for _, found in results for f in found]
    unrecognised = [f for f in findings if f.code is Code.SEGMENT_UNRECOGNIZED]
    assert unrecognised == [], f"standard segments reported unrecognised: {unrecognised}"
    errors = {f.code for f in findings if f.is_error}
    expected, _why = EXPECTED_ERRORS.get(name, (set(), ""))
    assert errors == expected


def test_versions_without_schema_are_skipped() -> None:
    # 004060 (and 003040) groups have no schema: nothing is validated, nothing is reported.
    assert list(_validated(CORPUS / "856" / "node-x12__856.edi")) == []
    assert list(_validated(CORPUS / "850" / "oboe__5-850.x12")) == []


def test_sets_with_schemas_were_really_checked() -> None:
    checked = {name: [s for s, _ in _validated(CORPUS / name)] for name in CANDIDATES}
    kinds = {s for sets in checked.values() for s in sets}
    assert kinds == SETS
    assert sum(map(len, checked.values())) >= 50
