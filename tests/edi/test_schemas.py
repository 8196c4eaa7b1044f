"""Transaction-set schemas: version resolution, loading, and the integrity of the JSON data."""

from __future__ import annotations

import importlib.resources
import xml.etree.ElementTree as ET

import pytest

import edi.schemas
from edi.delimiters import Delimiters
from edi.errors import SchemaNotFound
from edi.findings import Code, Severity
from edi.model import Segment
from edi.schemas import (
    SUPPORTED_SETS,
    UNBOUNDED,
    LoopDef,
    SegmentUse,
    TransactionSetSchema,
    load_schema,
    require_schema,
    resolve_version,
)
from edi.schemas.loader import dictionary
from edi.validator import validate_transaction

ALL_PAIRS = [(s, v) for s in ("810", "850", "855", "856", "997") for v in ("004010", "005010")] + [
    ("999", "005010")
]


def _walk(loop: LoopDef) -> list[SegmentUse | LoopDef]:
    out: list[SegmentUse | LoopDef] = []
    for child in loop.children:
        out.append(child)
        if isinstance(child, LoopDef):
            out.extend(_walk(child))
    return out


def test_public_api_is_pinned() -> None:
    assert sorted(edi.schemas.__all__) == sorted(
        [
            "SUPPORTED_SETS",
            "SUPPORTED_VERSIONS",
            "UNBOUNDED",
            "CompositeDef",
            "ElementDef",
            "ElementUse",
            "Hierarchy",
            "LoopDef",
            "SegmentDef",
            "SegmentUse",
            "SyntaxRule",
            "TransactionSetSchema",
            "load_schema",
            "require_schema",
            "resolve_version",
        ]
    )


@pytest.mark.parametrize(
    ("gs08", "base"),
    [
        ("004010", "004010"),
        ("004010VICS", "004010"),
        ("004010X357", "004010"),
        ("004010UCS", "004010"),
        ("005010", "005010"),
        ("005010X231A1", "005010"),
        ("005010X230", "005010"),
        (" 005010X222A1 ", "005010"),
        ("003040", None),
        ("004060", None),
        ("003010", None),
        ("00401", None),
        ("", None),
    ],
)
def test_resolve_version(gs08: str, base: str | None) -> None:
    assert resolve_version(gs08) == base


@pytest.mark.parametrize(("set_id", "version"), ALL_PAIRS)
def test_every_shipped_pair_loads(set_id: str, version: str) -> None:
    schema = load_schema(set_id, version)
    assert isinstance(schema, TransactionSetSchema)
    assert (schema.set_id, schema.version) == (set_id, version)
    first, last = schema.root.children[0], schema.root.children[-1]
    assert isinstance(first, SegmentUse)
    assert first.id == "ST"
    assert first.mandatory
    assert isinstance(last, SegmentUse)
    assert last.id == "SE"
    assert last.mandatory
    for node in _walk(schema.root):
        if isinstance(node, LoopDef):
            assert isinstance(node.children[0], SegmentUse), f"loop {node.id} starts with its trigger"
            assert node.trigger == node.children[0].id
            assert 0 not in [i for ids in node.index.values() for i in ids], (
                "a trigger is not in its own index"
            )


def test_variants_share_the_cached_base_schema() -> None:
    base = load_schema("850", "004010")
    assert load_schema("850", "004010VICS") is base
    assert load_schema("850", "004010X357") is base
    assert load_schema("999", "005010X231A1") is load_schema("999", "005010")
    assert load_schema("850", "005010") is not base


def test_no_schema_for_other_versions_or_sets() -> None:
    assert load_schema("850", "003040") is None
    assert load_schema("856", "004060") is None
    assert load_schema("940", "004010") is None
    assert load_schema("../850", "004010") is None


def test_999_does_not_exist_before_005010() -> None:
    assert load_schema("999", "004010") is None
    assert load_schema("999", "004010VICS") is None
    with pytest.raises(SchemaNotFound, match=r"'999'.*'004010'.*shipped for 005010"):
        require_schema("999", "004010")


def test_require_schema() -> None:
    assert require_schema("856", "005010") is load_schema("856", "005010")
    with pytest.raises(SchemaNotFound, match="'850' version '004060'"):
        require_schema("850", "004060")
    with pytest.raises(SchemaNotFound, match="'940'"):
        require_schema("940", "004010")


def test_850_structure_facts() -> None:
    schema = require_schema("850", "004010")
    loops = {n.id: n for n in schema.root.children if isinstance(n, LoopDef)}
    po1 = loops["PO1"]
    assert po1.mandatory
    assert po1.repeat == 100000
    assert loops["N1"].repeat == 200
    assert not loops["N1"].mandatory
    assert loops["CTT"].repeat == 1
    inner = {n.id for n in po1.children if isinstance(n, LoopDef)}
    assert {"PID", "SAC", "SCH", "N1", "SLN", "N9"} <= inner
    beg = schema.segments["BEG"]
    assert [u.ref for u in beg.elements or ()][:5] == ["353", "92", "324", "328", "373"]
    assert beg.required == (1, 2, 3, 5)
    ref = schema.segments["REF"]
    assert ref.elements is not None
    assert ref.elements[3].composite is not None
    assert [c.ref for c in ref.elements[3].composite.components] == ["128", "127", "128", "127", "128", "127"]
    assert [str(r) for r in ref.syntax] == ["R0203"]


def test_856_hierarchy_rules() -> None:
    schema = require_schema("856", "004010")
    assert schema.hierarchy is not None
    levels = schema.hierarchy.levels
    assert levels["S"] < levels["O"] < levels["T"] < levels["P"] < levels["I"]
    hl = next(n for n in schema.root.children if isinstance(n, LoopDef))
    assert hl.id == "HL"
    assert hl.mandatory
    assert hl.repeat == 200000


def test_release_differences() -> None:
    old, new = require_schema("997", "004010"), require_schema("997", "005010")
    assert len(old.segments["AK1"].elements or ()) == 2
    assert len(new.segments["AK1"].elements or ()) == 3
    c030_old = (old.segments["AK4"].elements or ())[0].composite
    c030_new = (new.segments["AK4"].elements or ())[0].composite
    assert c030_old is not None
    assert c030_new is not None
    assert [c.ref for c in c030_old.components] == ["722", "1528"]
    assert [c.ref for c in c030_new.components] == ["722", "1528", "1686"]
    assert dictionary("004010").elements["127"].max_length == 30
    assert dictionary("005010").elements["127"].max_length == 50
    ik4 = require_schema("999", "005010").segments["IK4"]
    assert [u.ref for u in ik4.elements or ()] == ["C030", "725", "621", "724"]


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_code_lists_fit_their_elements(version: str) -> None:
    for ref, element in dictionary(version).elements.items():
        for code in element.codes or ():
            assert element.min_length <= len(code) <= element.max_length, f"{ref}: code {code!r}"
            assert element.type == "ID", f"{ref} has codes but is {element.type}"


def test_qualifiers_the_mappings_rely_on_are_listed() -> None:
    elements = dictionary("004010").elements
    expected = {
        "353": {"00", "01", "05", "06"},
        "92": {"SA", "NE", "RL", "BK"},
        "128": {"DP", "IA", "VR", "PD", "CO", "IV", "BM"},
        "98": {"ST", "BT", "BY", "SF", "SU", "VN", "RI"},
        "374": {"002", "010", "011", "017", "037", "038"},
        "355": {"EA", "CA", "CS", "LB", "DZ"},
        "235": {"UP", "EN", "VN", "BP", "IN", "SK", "VP", "UK"},
        "587": {"AC", "AD", "AK", "RJ"},
        "668": {"IA", "IB", "IR", "AC", "R2"},
        "735": {"S", "O", "P", "T", "I"},
        "717": {"A", "E", "R"},
        "715": {"A", "E", "P", "R"},
    }
    for ref, codes in expected.items():
        listed = elements[ref].codes
        assert listed is not None, ref
        assert codes <= listed, ref
    assert elements["715"].codes_open is False
    assert elements["128"].codes_open is True


#: Qualifier positions the gateway's X12 mappings read or write (gateway/domain/mapping), with
#: codes the mappings, the bench generator and the corpus use there.
MAPPED_QUALIFIERS = {
    ("MAN", 1): {"GM", "CP", "UC", "SM"},
    ("N1", 1): {"ST", "BT", "BY", "SF", "SU", "VN"},
    ("N1", 3): {"1", "9", "91", "92", "UL", "ZZ"},
    ("PER", 1): {"BD", "IC", "CN", "RE", "SU"},
    ("PER", 3): {"TE", "EM", "FX"},
    ("PER", 5): {"TE", "EM", "FX", "EX"},
    ("QTY", 1): {"01", "02", "39", "T5"},
    ("AMT", 1): {"1", "TT", "N", "BAP"},
    ("ITD", 1): {"01", "05", "14"},
    ("ITD", 2): {"2", "3", "4", "ZZ"},
    ("TD5", 1): {"A", "B", "O"},
    ("TD5", 2): {"2", "92"},
    ("TD5", 4): {"M", "A", "O", "L", "SR", "U", "R"},
    ("FOB", 1): {"PP", "CC", "DF", "DE"},
    ("FOB", 2): {"OR", "DE", "ZZ", "AC"},
    ("FOB", 5): {"EXW", "FOB", "DDP"},
    ("MEA", 1): {"PD", "WT", "CT"},
    ("MEA", 2): {"G", "N", "WT", "HT", "LN", "WD"},
    ("TD1", 6): {"G", "N", "A3"},
    ("PO4", 5): {"G", "N", "X"},
    ("TD3", 1): {"TL", "TF"},
    ("TXI", 1): {"ST", "FD", "TX"},
    ("NTE", 1): {"GEN", "SPH", "ADD", "WHI"},
    ("DTM", 1): {"002", "010", "011", "017", "037", "038"},
    ("REF", 1): {"DP", "IA", "BM", "CN", "2I", "LT"},
}


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_qualifier_positions_the_mappings_read_have_code_lists(version: str) -> None:
    segments = dictionary(version).segments
    for (seg_id, position), codes in MAPPED_QUALIFIERS.items():
        uses = segments[seg_id].elements
        assert uses is not None, seg_id
        element = uses[position - 1].element
        assert element is not None, f"{seg_id}{position:02d}"
        assert element.codes is not None, f"{seg_id}{position:02d} ({element.ref}) has no code list"
        assert codes <= element.codes, f"{seg_id}{position:02d}: {sorted(codes - element.codes)}"
        # Open lists: the standard lists are long and grow every release, so an unknown code warns.
        assert element.codes_open, f"{seg_id}{position:02d}"


@pytest.mark.parametrize("version", ["004010", "005010"])
@pytest.mark.parametrize(
    ("segment", "position", "ref"),
    [
        ("MAN*QQ*00000123456789012345", 1, "88"),
        ("TD5**2*UPSN*QQ", 4, "91"),
        ("TD1*CTN25*2****Q*10*LB", 6, "187"),
    ],
)
def test_an_unknown_qualifier_is_a_warning(version: str, segment: str, position: int, ref: str) -> None:
    schema = require_schema("856", version)
    text = (
        "ST*856*0001~BSN*00*SH1*20240101*1200~HL*1**S~"
        + (segment + "~" if not segment.startswith("MAN") else "")
        + "HL*2*1*O~HL*3*2*P~"
        + (segment + "~" if segment.startswith("MAN") else "")
        + "CTT*3~SE*8*0001~"
    )
    delimiters = Delimiters("*", ":", "~", "^" if version == "005010" else None)
    segs = [Segment.parse(t, "*") for t in text.split("~") if t]
    found = validate_transaction(segs, delimiters, schema, interchange=0, group=0, transaction=0)
    assert [
        (f.code, f.severity, f.location.element, f.location.element_reference, f.bad_value) for f in found
    ] == [(Code.ELEMENT_INVALID_CODE, Severity.WARNING, position, ref, "QQ" if ref != "187" else "Q")]
    good = text.replace("*QQ", "*GM" if ref == "88" else "*M").replace("*Q*", "*G*")
    assert (
        validate_transaction(
            [Segment.parse(t, "*") for t in good.split("~") if t],
            delimiters,
            schema,
            interchange=0,
            group=0,
            transaction=0,
        )
        == []
    )


@pytest.mark.parametrize(("set_id", "version"), ALL_PAIRS)
def test_unbounded_marks_only_big_limits(set_id: str, version: str) -> None:
    for node in _walk(require_schema(set_id, version).root):
        limit = node.repeat if isinstance(node, LoopDef) else node.max_use
        assert limit >= 1
        assert limit == UNBOUNDED or limit <= 1_000_000


def test_element_dictionary_agrees_with_pyx12() -> None:
    """An independent dictionary (pyx12's 005010 ``dataele.xml``) agrees on type and length."""
    root = ET.fromstring(importlib.resources.files("pyx12").joinpath("map", "dataele.xml").read_bytes())
    mine = dictionary("005010").elements
    # pyx12 keeps the 004010 length of AK302/IK302 (1/6); 005010 widened it to 1/10.
    known_differences = {"719"}
    compared = 0
    for node in root.iter("data_ele"):
        ref = node.get("ele_num")
        if ref is None or ref not in mine or ref in known_differences:
            continue
        compared += 1
        element = mine[ref]
        theirs = (node.get("data_type"), int(node.get("min_len", "0")), int(node.get("max_len", "0")))
        assert (element.type, element.min_length, element.max_length) == theirs, ref
    assert compared > 100


def test_shipped_sets_are_the_documented_ones() -> None:
    assert SUPPORTED_SETS == ("810", "850", "855", "856", "997", "999")
