"""Real-world samples (../shared/corpus/x12): every 850/855/856/810/997/999 set maps, or fails with a
MappingError that names a segment; mapped ones are valid canonical documents and survive X12 -> canonical
-> X12 -> canonical, and the X12 written passes the schema validation. A few files are pinned to their
exact outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from edi import Delimiters, FunctionalGroup, Interchange, TransactionSet, UnreadableInput
from edi.errors import X12Error
from edi.schemas import load_schema
from edi.validator import validate_transaction
from gateway.domain.canonical import (
    X12_DOCUMENT_TYPES,
    CanonicalDocument,
    Invoice,
    PurchaseOrder,
    PurchaseOrderAck,
    SegmentExtension,
    ShipNotice,
)
from gateway.domain.mapping import MappingError
from tests.gateway.domain.test_mapping_support import (
    CORPUS,
    assert_valid,
    envelope,
    header,
    mapper,
    plain,
    profiles,
    read_x12,
    sets,
)

MAPPED = ("850", "855", "856", "810", "997", "999")
FILES = sorted(
    p for folder in ("850", "855", "856", "810", "997", "999", "mixed") for p in (CORPUS / folder).glob("*")
) if CORPUS.is_dir() else []  # fmt: skip

pytestmark = pytest.mark.skipif(not FILES, reason="corpus not present")


def _sets(path: Path) -> list[tuple[Interchange, FunctionalGroup, TransactionSet]]:
    try:
        return [s for s in sets(path.read_bytes()) if s[2].set_id in MAPPED]
    except (UnreadableInput, X12Error):
        pytest.skip("not readable X12 (the reader's concern)")


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_file_maps_or_names_the_segment(path: Path) -> None:
    found = _sets(path)
    if not found:
        pytest.skip("no 850/855/856/810/997/999 set")
    for ix, group, ts in found:
        doc_type = X12_DOCUMENT_TYPES[ts.set_id]
        outcome: CanonicalDocument | MappingError
        try:
            outcome = mapper().x12_to_canonical(
                ts, interchange=ix, group=group, profile=None, header=header(doc_type)
            )
        except MappingError as exc:
            outcome = exc
        if isinstance(outcome, MappingError):
            assert outcome.segment_id is not None, str(outcome)
            assert outcome.segment_id in str(outcome)
            continue
        doc = outcome
        assert_valid(doc)
        if ts.set_id in ("997", "999"):
            continue
        written: TransactionSet | MappingError
        try:
            written = mapper().canonical_to_x12(
                doc, profile=profiles()["acme-retail"], policy=None, control_number="0001"
            )
        except MappingError as exc:
            written = exc
        if isinstance(written, MappingError):
            # Only a set that is itself invalid, or text holding ':' (the component separator of the
            # interchanges we write), may be refused; the refusal names where.
            assert _source_errors(ix, group, ts) or "component separator ':'" in str(written), str(written)
            assert written.segment_id is not None, str(written)
            assert written.element is not None, str(written)
            continue
        assert not _source_errors(ix, group, written, Delimiters())  # as the runtime writes it
        [again] = read_x12(envelope(written, "005010"))
        assert _joined(plain(again)) == _joined(plain(doc))


def _source_errors(
    ix: Interchange, group: FunctionalGroup, ts: TransactionSet, delimiters: Delimiters | None = None
) -> list[str]:
    schema = load_schema(ts.set_id, group.version or "004010") or load_schema(ts.set_id, "004010")
    assert schema is not None
    findings = validate_transaction(
        ts.segments, delimiters or ix.delimiters, schema, interchange=1, group=1, transaction=1
    )
    return [f.message for f in findings if f.is_error]


def _joined(value: object) -> object:
    """Composite extension elements joined: a ':' inside a sample's text reads back as a composite."""
    if isinstance(value, dict):
        if value.get("kind") == "segment":
            value = {
                **value,
                "elements": [":".join(e) if isinstance(e, list) else e for e in value["elements"]],
            }
        return {k: _joined(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_joined(v) for v in value]
    return value


def _one(name: str) -> object:
    [(ix, group, ts)] = sets((CORPUS / name).read_bytes())
    return mapper().x12_to_canonical(
        ts, interchange=ix, group=group, profile=None, header=header(X12_DOCUMENT_TYPES[ts.set_id])
    )


def test_vics_850_from_gozer() -> None:
    po = _one("850/gozer__po850.txt")
    assert isinstance(po, PurchaseOrder)
    assert (po.po_number, po.order_type, po.contract_number) == ("08292233294", "SA", "610385385")
    assert [(line.line_number, str(line.quantity_ordered.value)) for line in po.lines] == [
        ("5", "72"),
        ("6", "696"),
    ]
    assert po.lines[1].item.description == "NO BLUE"
    assert po.lines[1].item.vendor_part is None
    assert [(o.qualifier, o.value) for o in po.lines[0].item.other] == [
        ("CB", "065374-118"), ("PR", "RO"), ("VN", "RV0524"),
    ]  # fmt: skip
    # TD5*A*92*P3 (routing sequence, buyer code) has no canonical home: kept whole.
    assert [e.segment for e in po.extensions["x12"] if isinstance(e, SegmentExtension)].count("TD5") == 1


def test_crossdock_856_hierarchy() -> None:
    asn = _one("856/ediengine__856.Crossdock.OK.edi")
    assert isinstance(asn, ShipNotice)
    assert [o.po_number for o in asn.shipment.orders] == ["POREF00", "POREF01"]
    assert [len(o.packs) for o in asn.shipment.orders] == [4, 1]
    assert asn.shipment.carrier is not None
    assert asn.shipment.carrier.scac == "OVNT"
    assert len(asn.items()) == 5


def test_stedi_855() -> None:
    ack = _one("855/stedi-bootstrap__inbound.edi")
    assert isinstance(ack, PurchaseOrderAck)
    assert (ack.ack_type.value, ack.po_number) == ("AD", "365465413")
    assert [line.item.sku for line in ack.lines] == ["ACM/8900-400", "ACM/1100-001"]


def test_staedi_810() -> None:
    [(ix, group, ts), *_] = sets((CORPUS / "810/staedi__simple810.edi").read_bytes())
    invoice = mapper().x12_to_canonical(
        ts, interchange=ix, group=group, profile=None, header=header(X12_DOCUMENT_TYPES["810"])
    )
    assert isinstance(invoice, Invoice)
    assert invoice.invoice_number == "00001"
    assert len(invoice.lines) == 7


@pytest.mark.parametrize(
    "name",
    [
        "855/stupidedi__004010_PR855_pass_1.edi",
        "855/stupidedi__004010_X358-SC855_pass_po-ack-ship-details.edi",
        "855/node-x12__855.edi",
    ],
)
def test_855_lines_without_ack_segments_map(name: str) -> None:
    ack = _one(name)
    assert isinstance(ack, PurchaseOrderAck)
    assert ack.lines
    assert any(not line.acks for line in ack.lines)
    assert_valid(ack)


@pytest.mark.parametrize(
    ("name", "segment", "message"),
    [
        ("856/stupidedi__004010_SH856_fail_2.edi", "HL", "HL02 (hl.parent_id) '2' names no preceding HL"),
        ("850/indice-edinet__x12.850a.edi", "N4", "N402 (state) 'State' does not match"),
        ("810/indice-edinet__x12.810a.edi", "ITD", "ITD03 (discount_percent) '-5' must be at least 0"),
    ],
)
def test_pinned_failures(name: str, segment: str, message: str) -> None:
    with pytest.raises(MappingError) as caught:
        _one(name)
    assert caught.value.segment_id == segment
    assert message in str(caught.value)
