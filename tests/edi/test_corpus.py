"""Every real-world sample in ../shared/corpus/x12 through ``edigate x12 inspect`` and ``validate``.

Expected results come from two independent sources, never from edigate's own reader:

* the ``SOURCES.tsv`` notes ("ISA xN, GS xN, ST xN", "envelope issues: ...",
  "SANITY-SCAN FAIL: ..."), each noted defect mapped to the finding code it must raise;
* :func:`reference_tree`, a deliberately naive splitter (split the bytes on the
  terminator the ISA declares, then walk ISA/GS/ST/SE/GE/IEA).

Where edigate and a note disagree, the bytes decided; the verdicts are in
:data:`NOTE_DISAGREEMENTS` and :data:`VALID_BY_NOTES_BUT_FLAGGED`, and the tests
pin them so a change in behaviour forces a second look.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import x12 as x12_cli
from gateway.cli.main import main

# --- what the notes say, as finding codes -------------------------------------------------------------

UNREADABLE = "unreadable"
#: Noted issue (regex on one note clause) -> finding code it must raise; ``None`` for issues only a
#: transaction-set schema can see; UNREADABLE for input that must be refused with exit code 2.
ISSUE_CODES: tuple[tuple[str, str | None], ...] = (
    (r"^SE01=\d+ but \d+ segs$", "se-count"),
    (r"^SE02 != ST02$", "se-control-mismatch"),
    (r"^GE01=\d+ but \d+ ST$", "ge-count"),
    (r"^GE02 != GS06$", "ge-control-mismatch"),
    (r"^IEA01=\d+ but \d+ GS$", "iea-count"),
    (r"^IEA02 != ISA13$", "iea-control-mismatch"),
    (r"^ISA not fixed-width at offset \d+", "isa-length"),
    # The ISA line is cut short (hard-wrapped): edigate reads on across the break, so the ISA is not
    # 106 bytes (isa-length), and each misplaced field gets its own code (isa-time, isa-sender, ...).
    (r"^ISA has \d+ elements$", "isa-length"),
    (r"^segment \w+ outside transaction set$", "segment-outside-envelope"),
    (r"^ST outside functional group$", "segment-outside-envelope"),
    (r"^unterminated ST$", "se-missing"),
    (r"^unterminated ISA$", "iea-missing"),
    (r"^no IEA found for interchange", "iea-missing"),
    (r"^segment terminator looks like a multi-byte UTF-8 character", UNREADABLE),
    (r"^implausible segment terminator", UNREADABLE),
    (r"^\d+ segment\(s\) with implausible segment IDs", None),
)

#: Noted issues edigate does not report, with what the bytes show. The tests assert the code stays absent.
NOTE_DISAGREEMENTS: dict[str, dict[str, str]] = {
    "850/indice-edinet__x12.850.issue135.edi": {
        "GE02 != GS06": "ISA16 is missing ('*T*~' + LF): the note read LF as terminator so every value "
        "kept a stray '~' ('GE*2*1~'); edigate takes '~' as terminator (isa-component-separator) and "
        "GE02=1=GS06. It reports se-count instead: 'DTM*038*20190309' (line 23) lacks its '~'.",
        "IEA02 != ISA13": "same stray '~': IEA*1*000000001~ matches ISA13 000000001 once '~' terminates.",
    },
    "other/gozer__x12.wrong.GS.txt": {
        "GE01=1 but 2 ST": "the group header is 'XX*SH*...', not GS, so there is no group to count: "
        "edigate reports 'GE without a matching GS' and the two STs as outside a group.",
    },
    "855/stupidedi__004010_PR855_fail_2.edi": {
        "segment 5 outside transaction set": "the ISA is hard-wrapped after ISA10 '213' / '5*U*...'; "
        "edigate counts 16 separators across the break (isa-length, isa-time, ...) instead of "
        "reading '5*U*00401*...' as a stray segment. The file is still reported broken.",
    },
    "997/staedi__optionalInterchangeServices.edi": {
        "segment ISB outside transaction set": "ISB/ISE are X12 interchange service segments, allowed "
        "between ISA and the first GS; they are not data outside a set.",
        "segment ISE outside transaction set": "see ISB.",
    },
}

#: Files the notes call valid where edigate reports envelope errors, and why edigate is right.
VALID_BY_NOTES_BUT_FLAGGED: dict[str, tuple[str, str]] = {
    "850/node-x12__850_fat.edi": (
        "isa-duplicate",
        "both interchanges carry ISA13=000003438: a duplicate interchange control number (TA105 025)",
    ),
}

#: Segment terminator for the reference splitter where the ISA's declared one is wrong.
REFERENCE_TERMINATOR: dict[str, bytes] = {
    # ISA16 is missing: '*T*~' + LF. The '~' after ISA15 terminates every segment.
    "850/indice-edinet__x12.850.issue135.edi": b"~",
}

# --- the reference splitter ---------------------------------------------------------------------------


@dataclass
class RefSet:
    set_id: str
    control_number: str
    segments: int = 1


@dataclass
class RefGroup:
    control_number: str
    sets: list[RefSet] = field(default_factory=list)


@dataclass
class RefInterchange:
    control_number: str
    groups: list[RefGroup] = field(default_factory=list)


@dataclass
class RefTree:
    interchanges: list[RefInterchange]
    raw_counts: tuple[int, int, int]  # ISA, GS and ST segments wherever they are
    orphan_sets: int  # STs outside any GS


def reference_tree(data: bytes, terminator: bytes | None = None) -> RefTree:
    """Split on the terminator after ISA16 (one set of delimiters per file), then walk the envelopes.

    A set is counted from ST through SE inside an open GS; an ST outside a GS is an orphan and
    not a set; a set without SE runs to the next envelope segment or the end of input.
    """
    data = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    assert data.startswith(b"ISA"), "the reference splitter needs the file to start with ISA"
    es = data[3:4]
    at = 0
    for _ in range(16):  # ISA16 follows the 16th element separator; the terminator follows ISA16
        at = data.index(es, at + 1)
    term = terminator or data[at + 2 : at + 3]
    # The first ISA ends at ISA16 even when a line break inside it looks like a terminator.
    head = data[: at + 2] if terminator is None else b""
    texts = [head, *(t.strip(b" \t\r\n\x1a") for t in data[len(head) :].split(term))]
    tree = RefTree([], (0, 0, 0), 0)
    group: RefGroup | None = None
    current: RefSet | None = None
    raw = {b"ISA": 0, b"GS": 0, b"ST": 0}
    for text in filter(None, texts):
        elements = [e.decode("utf-8", "surrogateescape") for e in text.split(es)]
        sid = text.split(es, 1)[0]
        if sid in raw:
            raw[sid] += 1
        if sid == b"ISA":
            assert text[3:4] == es, "the reference splitter needs one element separator per file"
            tree.interchanges.append(RefInterchange(elements[13]))
            group, current = None, None
        elif sid == b"GS":
            group, current = RefGroup(elements[6]), None
            tree.interchanges[-1].groups.append(group)
        elif sid == b"ST":
            current = None
            if group is None:
                tree.orphan_sets += 1
                continue
            current = RefSet(elements[1], elements[2])
            group.sets.append(current)
        elif sid in (b"GE", b"IEA"):
            group, current = None, None
        elif current is not None:
            current.segments += 1
            if sid == b"SE":
                current = None
    tree.raw_counts = (raw[b"ISA"], raw[b"GS"], raw[b"ST"])
    return tree


def edigate_tree(document: dict[str, Any]) -> list[RefInterchange]:
    return [
        RefInterchange(
            ix["control_number"],
            [
                RefGroup(
                    g["control_number"],
                    [RefSet(t["set_id"], t["control_number"], t["segments"]) for t in g["transactions"]],
                )
                for g in ix["groups"]
            ],
        )
        for ix in document["interchanges"]
    ]


# --- notes ---------------------------------------------------------------------------------------------


def noted_issues(notes: str) -> list[str]:
    """The defect clauses of a note: after "SANITY-SCAN FAIL:" and after "envelope issues:"."""
    clauses: list[str] = []
    for marker in ("SANITY-SCAN FAIL:", "envelope issues:"):
        if marker in notes:
            section = notes.split(marker, 1)[1].split("envelope issues:", 1)[0]
            clauses += [re.sub(r"^interchange \d+: ", "", c.strip()) for c in section.split(";") if c.strip()]
    return clauses


def issue_code(clause: str) -> str | None:
    for pattern, code in ISSUE_CODES:
        if re.search(pattern, clause):
            return code
    raise AssertionError(f"noted issue {clause!r} has no entry in ISSUE_CODES")


def noted_counts(notes: str) -> tuple[int, int, int] | None:
    found = re.search(r"ISA x(\d+), GS x(\d+), ST x(\d+)", notes)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def expects_unreadable(notes: str) -> bool:
    return any(issue_code(c) == UNREADABLE for c in noted_issues(notes))


# --- running the CLI in-process -------------------------------------------------------------------------


_RUNS: dict[tuple[str, ...], tuple[int, str, str]] = {}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``edigate`` in-process: (exit code, stdout, stderr). Each command line runs once per session."""
    if argv not in _RUNS:
        code = main(list(argv))
        captured = capsys.readouterr()
        _RUNS[argv] = (code, captured.out, captured.err)
    return _RUNS[argv]


def inspect_json(capsys: pytest.CaptureFixture[str], path: Path, *options: str) -> dict[str, Any]:
    code, out, err = run(capsys, "x12", "inspect", str(path), "--format", "json", *options)
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def readable_or_skip(corpus_file: str, notes: str) -> None:
    if expects_unreadable(notes):
        pytest.skip(f"{corpus_file} is unreadable by design ({'; '.join(noted_issues(notes))})")


# --- tests ---------------------------------------------------------------------------------------------


def test_every_file_is_described_in_sources(corpus_dir: Path, corpus_notes: dict[str, str]) -> None:
    on_disk = {p.relative_to(corpus_dir).as_posix() for p in corpus_dir.rglob("*") if p.is_file()}
    assert sorted(corpus_notes) == sorted(on_disk - {"README.md", "SOURCES.tsv"})


def test_inspect_and_validate_run_cleanly(
    corpus_file: str, corpus_dir: Path, corpus_notes: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = corpus_dir / corpus_file
    notes = corpus_notes[corpus_file]
    for argv in (("inspect", "--format", "json"), ("inspect", "--format", "text"), ("validate",)):
        code, out, err = run(capsys, "x12", argv[0], str(path), *argv[1:])
        if expects_unreadable(notes):
            assert code == 2
            assert out == ""
            assert len(err.splitlines()) == 1
            assert str(path) in err
            assert "Traceback" not in err
        else:
            assert code in ((0,) if argv[0] == "inspect" else (0, 1)), err
            assert "Traceback" not in err
    if expects_unreadable(notes):
        return
    document = inspect_json(capsys, path)
    code, out, _ = run(capsys, "x12", "validate", str(path))
    problems = [f for f in document["findings"] if f["severity"] in ("error", "warning")]
    assert code == (1 if problems else 0)
    assert len(out.splitlines()) == len(document["findings"])
    errors = [f for f in document["findings"] if f["severity"] == "error"]
    code, out, _ = run(capsys, "x12", "validate", str(path), "--errors-only")
    assert (code, len(out.splitlines())) == (1 if errors else 0, len(errors))


def test_counts_match_reference_splitter_and_notes(
    corpus_file: str, corpus_dir: Path, corpus_notes: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    notes = corpus_notes[corpus_file]
    readable_or_skip(corpus_file, notes)
    path = corpus_dir / corpus_file
    reference = reference_tree(path.read_bytes(), REFERENCE_TERMINATOR.get(corpus_file))
    expected = noted_counts(notes)
    assert expected is not None, f"no 'ISA xN, GS xN, ST xN' in the notes of {corpus_file}"
    assert reference.raw_counts == expected, "the reference splitter disagrees with SOURCES.tsv"

    document = inspect_json(capsys, path, "--envelope-only")
    tree = edigate_tree(document)
    assert tree == reference.interchanges
    groups = [g for ix in tree for g in ix.groups]
    n_isa, n_gs, n_st = expected
    assert (len(tree), len(groups)) == (n_isa, n_gs)
    assert sum(len(g.sets) for g in groups) == n_st - reference.orphan_sets


def test_noted_defects_are_reported(
    corpus_file: str, corpus_dir: Path, corpus_notes: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    notes = corpus_notes[corpus_file]
    readable_or_skip(corpus_file, notes)
    document = inspect_json(capsys, corpus_dir / corpus_file)
    codes = {f["code"] for f in document["findings"] if f["severity"] == "error"}
    disagreements = NOTE_DISAGREEMENTS.get(corpus_file, {})
    for clause in noted_issues(notes):
        code = issue_code(clause)
        if code is None:
            continue
        if clause in disagreements:
            assert code not in codes, f"edigate now reports {code}: revisit NOTE_DISAGREEMENTS ({clause})"
        else:
            assert code in codes, f"{clause!r} should give {code}; edigate found {sorted(codes)}"
    assert set(disagreements) <= set(noted_issues(notes))
    if "DELIBERATELY BROKEN" in notes and not codes:
        schema_level_defect_is_reported(corpus_file, document)


def schema_level_defect_is_reported(corpus_file: str, document: dict[str, Any]) -> None:
    """A broken file with clean envelopes: only transaction-set schema validation can catch it."""
    if x12_cli.SCHEMA_VALIDATOR is None:
        pytest.skip(f"{corpus_file}: its defect is schema-level and schema validation is not wired in yet")
    unsupported = [f for f in document["findings"] if f["code"] == "set-unsupported"]
    if unsupported:
        pytest.skip(f"{corpus_file}: no schema ships for it ({unsupported[0]['message']})")
    raise AssertionError(f"{corpus_file} is deliberately broken but edigate reports no error")


def test_files_noted_valid_have_clean_envelopes(
    valid_corpus_file: str, corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "x12", "validate", str(corpus_dir / valid_corpus_file), "--envelope-only", "--errors-only"
    )
    flagged = VALID_BY_NOTES_BUT_FLAGGED.get(valid_corpus_file)
    errors = {line.split(": ")[1].split()[1] for line in out.splitlines() if ": error " in line}
    if flagged is None:
        assert (code, errors) == (0, set()), out
        assert ": valid; " in err
    else:
        assert (code, errors) == (1, {flagged[0]}), flagged[1]


def test_set_validity_matches_findings(
    corpus_file: str, corpus_dir: Path, corpus_notes: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    readable_or_skip(corpus_file, corpus_notes[corpus_file])
    document = inspect_json(capsys, corpus_dir / corpus_file)
    in_error = {
        (loc["interchange"], loc["group"], loc["transaction"])
        for f in document["findings"]
        if f["severity"] == "error" and "transaction" in (loc := f["location"])
    }
    for i, ix in enumerate(document["interchanges"]):
        for g, group in enumerate(ix["groups"]):
            for t, ts in enumerate(group["transactions"]):
                assert ts["valid"] is ((i, g, t) not in in_error), (i, g, t, ts)
