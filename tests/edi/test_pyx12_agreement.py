"""edigate and pyx12 (an independent X12 reader) agree on the envelopes of the valid corpus files.

For every corpus file whose ``SOURCES.tsv`` notes record no defect, pyx12's
:class:`pyx12.x12file.X12Reader` and :func:`edi.reader.read_summary` must find the
same interchanges, groups and sets, with the same ISA13, GS06, ST01/ST02 and
the same segment count (ST through SE) for every set.

pyx12 cannot read every valid file. Those are skipped with pyx12's own error
as the reason, and the list below is pinned: a file pyx12 unexpectedly reads,
or fails on for another reason, fails the test.

* ISA12 ``00400`` (pyx12 only knows 00401 and 00501):
  850/blueseer__ACME_850.txt, 850/blueseer__ACME_850_to856.txt,
  850/blueseer__ACME_850_toDB.txt, 850/blueseer__UNKNOWN_850.txt,
  850/ediengine__850.Composite.SLN.OK.edi, 850/ediengine__850.OK.edi,
  850/node-x12__850.edi, 850/node-x12__850_2.edi, 850/node-x12__850_fat.edi,
  855/blueseer__ACME_855o.txt, 855/stupidedi__004010_PR855_pass_1.edi,
  856/x12-types-rs__004060_856.edi, 940/ediengine__940.OK.edi
* ISA12 ``00304``: 850/oboe__5-850.x12
* ISA12 ``00406``: 856/node-x12__856.edi
* a UTF-8 byte-order mark (pyx12 reads ASCII only):
  997/stupidedi__005010_X230-FA997_pass_response-to-functional-group-containing-837s.edi,
  999/stupidedi__005010_X231A1-FA999_pass_response-to-functional-group-containing-3-837s.edi
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from edi.reader import read_summary

_V00400 = "Interchange Control Version Number is unknown: 00400"
_BOM = "'ascii' codec can't decode byte 0xef in position 0"

#: Valid corpus files pyx12 cannot read -> the text pyx12's error must contain.
PYX12_CANNOT_READ: dict[str, str] = {
    "850/blueseer__ACME_850.txt": _V00400,
    "850/blueseer__ACME_850_to856.txt": _V00400,
    "850/blueseer__ACME_850_toDB.txt": _V00400,
    "850/blueseer__UNKNOWN_850.txt": _V00400,
    "850/ediengine__850.Composite.SLN.OK.edi": _V00400,
    "850/ediengine__850.OK.edi": _V00400,
    "850/node-x12__850.edi": _V00400,
    "850/node-x12__850_2.edi": _V00400,
    "850/node-x12__850_fat.edi": _V00400,
    "855/blueseer__ACME_855o.txt": _V00400,
    "855/stupidedi__004010_PR855_pass_1.edi": _V00400,
    "856/x12-types-rs__004060_856.edi": _V00400,
    "940/ediengine__940.OK.edi": _V00400,
    "850/oboe__5-850.x12": "Interchange Control Version Number is unknown: 00304",
    "856/node-x12__856.edi": "Interchange Control Version Number is unknown: 00406",
    "997/stupidedi__005010_X230-FA997_pass_response-to-functional-group-containing-837s.edi": _BOM,
    "999/stupidedi__005010_X231A1-FA999_pass_response-to-functional-group-containing-3-837s.edi": _BOM,
}

# interchanges -> groups -> sets; (control number, [(control number, [(ST01, ST02, segments)])])
Tree = list[tuple[str, list[tuple[str, list[tuple[str, str, int]]]]]]


class Pyx12CannotRead(Exception):
    pass


def pyx12_tree(path: Path) -> Tree:
    """Walk pyx12's segment stream: a set runs from ST through SE inside a GS."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"pyx12(\..*)?$")
        import pyx12.errors
        import pyx12.x12file

        tree: Tree = []
        current: list[tuple[str, str, int]] | None = None
        sets: list[tuple[str, str, int]] = []
        # Open the file as pyx12 itself would (ASCII text), but close it ourselves even when pyx12 raises.
        with path.open(encoding="ascii") as fh:
            try:
                reader = pyx12.x12file.X12Reader(fh)
                segments = [(s.get_seg_id(), s) for s in reader]
            except (pyx12.errors.X12Error, UnicodeDecodeError) as exc:
                raise Pyx12CannotRead(str(exc)) from exc
    for sid, seg in segments:
        if sid == "ISA":
            tree.append((seg.get_value("ISA13"), []))
            current = None
        elif sid == "GS":
            sets = []
            tree[-1][1].append((seg.get_value("GS06"), sets))
            current = None
        elif sid == "ST":
            current = [(seg.get_value("ST01"), seg.get_value("ST02"), 1)]
        elif current is not None:
            set_id, control, count = current[0]
            current[0] = (set_id, control, count + 1)
            if sid == "SE":
                sets.append(current[0])
                current = None
    return tree


def edigate_tree(path: Path) -> Tree:
    summaries, _ = read_summary(path)
    return [
        (
            ix.control_number,
            [
                (g.control_number, [(t.set_id, t.control_number, t.segments) for t in g.transactions])
                for g in ix.groups
            ],
        )
        for ix in summaries
    ]


def test_pyx12_and_edigate_agree_on_envelopes_and_counts(valid_corpus_file: str, corpus_dir: Path) -> None:
    path = corpus_dir / valid_corpus_file
    expected_failure = PYX12_CANNOT_READ.get(valid_corpus_file)
    theirs: Tree = []
    failure: str | None = None
    try:
        theirs = pyx12_tree(path)
    except Pyx12CannotRead as exc:
        failure = str(exc)
    if failure is not None:
        assert expected_failure is not None, f"pyx12 unexpectedly cannot read {valid_corpus_file}: {failure}"
        assert expected_failure in failure
        pytest.skip(f"pyx12 cannot read {valid_corpus_file}: {failure.split(' for ISA')[0]}")
    assert expected_failure is None, f"pyx12 now reads {valid_corpus_file}: drop it from PYX12_CANNOT_READ"
    ours = edigate_tree(path)
    assert ours == theirs
    assert any(sets for _, groups in ours for _, sets in groups), "nothing to compare"


def test_exclusions_name_valid_corpus_files(corpus_dir: Path, corpus_notes: dict[str, str]) -> None:
    for name in PYX12_CANNOT_READ:
        assert name in corpus_notes, name
        assert (corpus_dir / name).is_file(), name
        for marker in ("DELIBERATELY BROKEN", "envelope issues:", "SANITY-SCAN FAIL"):
            assert marker not in corpus_notes[name], name
