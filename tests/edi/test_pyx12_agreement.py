"""edigate and pyx12 (an independent X12 reader) agree on the envelopes of the valid corpus files.

For every corpus file whose ``SOURCES.tsv`` notes record no defect, pyx12's
:class:`pyx12.x12file.X12Reader` and :func:`edi.reader.read_summary` must find the
same interchanges (ISA13, ISA06 sender, ISA08 receiver), groups (GS06, GS02,
GS03) and sets (ST01, ST02 and the segment count, ST through SE).

pyx12 cannot read some valid files as they are: it knows only the ISA12 versions
00401 and 00501, and reads ASCII only, so a UTF-8 byte-order mark stops it. For
those files pyx12 reads an adapted copy instead: the BOM dropped, and each
fixed-width ISA12 rewritten to 00401 (or 00501 from 00501 on), which changes no
envelope value compared here. edigate always reads the original. The list of
files that need the copy is pinned with pyx12's own error, so a file pyx12
unexpectedly reads, or fails on for another reason, fails the test:

* ISA12 ``00400``: 850/blueseer__ACME_850.txt, 850/blueseer__ACME_850_to856.txt,
  850/blueseer__ACME_850_toDB.txt, 850/blueseer__UNKNOWN_850.txt,
  850/ediengine__850.Composite.SLN.OK.edi, 850/ediengine__850.OK.edi,
  850/node-x12__850.edi, 850/node-x12__850_2.edi, 850/node-x12__850_fat.edi,
  855/blueseer__ACME_855o.txt, 855/stupidedi__004010_PR855_pass_1.edi,
  856/x12-types-rs__004060_856.edi, 940/ediengine__940.OK.edi
* ISA12 ``00304``: 850/oboe__5-850.x12
* ISA12 ``00406``: 856/node-x12__856.edi
* a UTF-8 byte-order mark:
  997/stupidedi__005010_X230-FA997_pass_response-to-functional-group-containing-837s.edi,
  999/stupidedi__005010_X231A1-FA999_pass_response-to-functional-group-containing-3-837s.edi

No valid file is skipped.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

from edi.reader import read_summary

_V00400 = "Interchange Control Version Number is unknown: 00400"
_BOM = "'ascii' codec can't decode byte 0xef in position 0"

#: Valid corpus files pyx12 cannot read as they are -> the text pyx12's error must contain.
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

# interchanges -> groups -> sets:
# ((ISA13, ISA06, ISA08), [((GS06, GS02, GS03), [(ST01, ST02, segments)])])
Sets = list[tuple[str, str, int]]
Tree = list[tuple[tuple[str, str, str], list[tuple[tuple[str, str, str], Sets]]]]

#: An ISA and its element separator (any byte but ASCII letters, digits, space, CR and LF).
_ISA = re.compile(rb"ISA(?P<es>[^A-Za-z0-9 \r\n])")


def adapted_for_pyx12(data: bytes) -> bytes:
    """``data`` without a UTF-8 BOM and with every fixed-width ISA12 set to a version pyx12 knows."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    out = bytearray(data)
    for found in _ISA.finditer(data):
        at, es = found.start(), found.group("es")
        if data[at + 83 : at + 84] == es and data[at + 89 : at + 90] == es:  # ISA12 is bytes 84-88
            version = data[at + 84 : at + 89]
            out[at + 84 : at + 89] = b"00501" if version >= b"00501" else b"00401"
    return bytes(out)


class Pyx12CannotRead(Exception):
    pass


def pyx12_tree(data: bytes) -> Tree:
    """Walk pyx12's segment stream: a set runs from ST through SE inside a GS."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"pyx12(\..*)?$")
        import pyx12.errors
        import pyx12.x12file

        tree: Tree = []
        current: list[tuple[str, str, int]] | None = None
        sets: Sets = []
        try:
            # pyx12 reads text, and ASCII only (as when it opens a file itself).
            reader = pyx12.x12file.X12Reader(io.StringIO(data.decode("ascii"), newline=""))
            segments = [(s.get_seg_id(), s) for s in reader]
        except (pyx12.errors.X12Error, UnicodeDecodeError) as exc:
            raise Pyx12CannotRead(str(exc)) from exc
    for sid, seg in segments:
        if sid == "ISA":
            isa = (seg.get_value("ISA13"), seg.get_value("ISA06").rstrip(), seg.get_value("ISA08").rstrip())
            tree.append((isa, []))
            current = None
        elif sid == "GS":
            sets = []
            tree[-1][1].append(((seg.get_value("GS06"), seg.get_value("GS02"), seg.get_value("GS03")), sets))
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
            (ix.control_number, ix.sender, ix.receiver),
            [
                (
                    (g.control_number, g.sender, g.receiver),
                    [(t.set_id, t.control_number, t.segments) for t in g.transactions],
                )
                for g in ix.groups
            ],
        )
        for ix in summaries
    ]


def test_pyx12_and_edigate_agree_on_envelopes_and_counts(valid_corpus_file: str, corpus_dir: Path) -> None:
    path = corpus_dir / valid_corpus_file
    data = path.read_bytes()
    expected_failure = PYX12_CANNOT_READ.get(valid_corpus_file)
    failure: str | None = None
    try:
        theirs = pyx12_tree(data)
    except Pyx12CannotRead as exc:
        failure = str(exc)
    if failure is None:
        assert expected_failure is None, (
            f"pyx12 now reads {valid_corpus_file}: drop it from PYX12_CANNOT_READ"
        )
    else:
        assert expected_failure is not None, f"pyx12 unexpectedly cannot read {valid_corpus_file}: {failure}"
        assert expected_failure in failure
        theirs = pyx12_tree(adapted_for_pyx12(data))
    ours = edigate_tree(path)
    assert ours == theirs
    assert any(sets for _, groups in ours for _, sets in groups), "nothing to compare"


def test_the_adapted_copy_changes_only_the_bom_and_isa12() -> None:
    isa = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *240101*1200*U*00400*"
    isa += b"000000001*0*P*>~"
    later = isa.replace(b"*U*00400*", b"*^*00603*").replace(b"000000001", b"000000002")
    data = b"\xef\xbb\xbf" + isa + b"GS*PO*A*B~" + later
    assert adapted_for_pyx12(data) == isa.replace(b"00400", b"00401") + b"GS*PO*A*B~" + later.replace(
        b"00603", b"00501"
    )


def test_exclusions_name_valid_corpus_files(corpus_dir: Path, corpus_notes: dict[str, str]) -> None:
    for name in PYX12_CANNOT_READ:
        assert name in corpus_notes, name
        assert (corpus_dir / name).is_file(), name
        for marker in ("DELIBERATELY BROKEN", "envelope issues:", "SANITY-SCAN FAIL"):
            assert marker not in corpus_notes[name], name
