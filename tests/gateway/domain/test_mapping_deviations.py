"""Partner deviations take effect in both directions: one test per deviation kind, plus Northwind's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from gateway.domain.canonical import (
    Direction,
    Extensions,
    PurchaseOrder,
    PurchaseOrderAck,
    SegmentExtension,
    ShipNotice,
)
from gateway.domain.mapping import MappingError
from gateway.domain.profiles import PartnerProfile
from tests.gateway.domain.test_mapping_support import envelope, fixture, mapper, profiles, read_x12


def partner(set_id: str, deviations: dict[str, Any], *, variant: str | None = None) -> PartnerProfile:
    """A minimal partner exchanging ``set_id`` both ways with ``deviations``."""
    mapping: dict[str, Any] = {"deviations": deviations}
    if variant is not None:
        mapping["variant"] = variant
    documents = [
        {"direction": direction, "type": set_id, "format": "x12", "version": "004010", "mapping": mapping}
        for direction in ("inbound", "outbound")
    ]
    return PartnerProfile.model_validate(
        {
            "partner_id": "test-partner", "name": "Test partner", "environment": "test",
            "identity": {"isa_qualifier": "ZZ", "isa_id": "TESTPARTNER"},
            "channels": {"webhook": {"inbound": {"secret": "env:TEST_PARTNER_SECRET"}}},
            "documents": documents,
        }
    )  # fmt: skip


def segs(extensions: Extensions) -> list[SegmentExtension]:
    return [e for e in extensions.get("x12", []) if isinstance(e, SegmentExtension)]


def one(data: bytes, profile: PartnerProfile | None) -> Any:
    [doc] = read_x12(data, profile)
    return doc


def outbound(doc: Any, profile: PartnerProfile, set_id: str) -> list[list[str]]:
    policy = profile.document_policy("outbound", set_id)
    ts = mapper().canonical_to_x12(doc, profile=profile, policy=policy, control_number="0001")
    return [[s.id, *s.elements] for s in ts.segments]


# --- Northwind Supply (partners/northwind-supply.yaml) ---------------------------------------------------


def test_northwind_856_deviations() -> None:
    northwind = profiles()["northwind-supply"]
    asn = one(fixture("northwind-856.x12"), northwind)
    assert isinstance(asn, ShipNotice)
    [order] = asn.shipment.orders
    assert order.po_number == "PO-4711"  # field_sources: REF*PO wins over PRF01 (NW-ORDER-1)
    assert [i.quantity_shipped.unit for i in asn.items()] == ["CA"]  # code_maps uom: their CS is our CA
    assert asn.structure_code == "0001"  # defaults: BSN05 left empty
    shipment = asn.shipment
    assert shipment.carrier is not None
    assert shipment.carrier.equipment == []
    refs = [(r.qualifier, r.value) for r in shipment.references]
    assert refs == [("BM", "BOL-77"), ("CN", "PRO-88"), ("ZZ", "LOAD-5")]  # keep_references; REF*IA ignored
    assert (shipment.carrier.bill_of_lading, shipment.carrier.pro_number) == ("BOL-77", "PRO-88")
    kept = [e.segment for e in segs(shipment.extensions)]
    assert "TD3" not in kept
    assert "REF" not in kept
    assert [p.role for p in shipment.parties] == ["SF", "ST"]  # party_roles: their BS is our ship-to


def test_same_856_without_deviations() -> None:
    asn = one(fixture("northwind-856.x12"), None)
    assert isinstance(asn, ShipNotice)
    assert asn.shipment.orders[0].po_number == "NW-ORDER-1"
    assert [i.quantity_shipped.unit for i in asn.items()] == ["CS"]
    assert asn.structure_code is None
    assert [p.role for p in asn.shipment.parties] == ["SF", "BS"]
    shipment = asn.shipment
    assert [(r.qualifier, r.value) for r in shipment.references] == [("IA", "OUR-VENDOR-NO")]
    assert shipment.carrier is not None
    assert len(shipment.carrier.equipment) == 1
    kept = [(e.segment, e.qualifier) for e in segs(shipment.extensions)]
    assert kept == [("REF", "ZZ")]


def test_northwind_855_po_number_from_ref_with_fallback() -> None:
    northwind = profiles()["northwind-supply"]
    ack = one(fixture("northwind-855.x12"), northwind)
    assert isinstance(ack, PurchaseOrderAck)
    assert ack.po_number == "PO-4711"
    [line] = ack.lines
    assert line.quantity_ordered is not None
    assert line.acks[0].quantity is not None
    assert (line.quantity_ordered.unit, line.acks[0].quantity.unit) == ("CA", "CA")
    without_ref = fixture("northwind-855.x12").replace(b"REF*PO*PO-4711~\n", b"").replace(b"SE*7*", b"SE*6*")
    again = one(without_ref, northwind)
    assert isinstance(again, PurchaseOrderAck)
    assert again.po_number == "NW-ORDER-1"


def test_northwind_outbound_850() -> None:
    northwind = profiles()["northwind-supply"]
    po = one(fixture("850-005010.x12"), None)
    assert isinstance(po, PurchaseOrder)
    po.lines[1].quantity_ordered.unit = "CA"
    segments = outbound(po, northwind, "850")
    assert ["REF", "PO", "PO-4711"] in segments  # field_sources: PO number also in REF*PO
    assert segments[1][:4] == ["BEG", "00", "SA", "PO-4711"]
    po1 = [s for s in segments if s[0] == "PO1"]
    assert po1[1][3] == "CS"  # code_maps uom {CS: CA} read backwards on the way out
    ts = mapper().canonical_to_x12(
        po, profile=northwind, policy=northwind.document_policy("outbound", "850"), control_number="0001"
    )
    back = one(envelope(ts, "005010"), None)
    assert back.po_number == "PO-4711"
    assert back.lines[1].quantity_ordered.unit == "CS"


# --- one test per deviation kind ---------------------------------------------------------------------------


def test_field_sources_element_location() -> None:
    profile = partner("850", {"field_sources": {"contract_number": "REF*CT", "release_number": "BEG06"}})
    data = fixture("850-004010.x12").replace(b"REF*DP*038", b"REF*CT*K-1")
    po = one(data, profile)
    assert (po.contract_number, po.release_number) == ("K-1", "CT-9")
    segments = outbound(po, profile, "850")
    assert segments[1] == ["BEG", "00", "SA", "PO-4711", "CT-9", "20250115", "CT-9"]
    assert segments.count(["REF", "CT", "K-1"]) == 1


def test_field_source_date_is_parsed_where_it_is_read() -> None:
    profile = partner("850", {"field_sources": {"po_date": "DTM*004"}})
    data = fixture("850-004010.x12").replace(b"DTM*002*20250301", b"DTM*004*2025013X")
    with pytest.raises(MappingError, match=r"DTM02 .*'2025013X' is not a date"):
        one(data, profile)


def test_party_roles() -> None:
    profile = partner("850", {"party_roles": {"MA": "mark_for", "SN": "ship_to"}})
    data = fixture("850-004010.x12").replace(b"N1*BY*", b"N1*MA*").replace(b"N1*ST*", b"N1*SN*")
    po = one(data, profile)
    assert [p.role for p in po.parties] == ["ST", "Z7"]
    segments = outbound(po, profile, "850")
    assert [s[1] for s in segments if s[0] == "N1"] == ["SN", "MA"]
    with pytest.raises(MappingError, match=r"party_roles\.MA: unknown role 'marked_for'"):
        one(data, partner("850", {"party_roles": {"MA": "marked_for"}}))


def test_code_maps() -> None:
    profile = partner("850", {"code_maps": {"uom": {"PC": "EA"}, "carrier": {"UPS": "UPSN"}}})
    data = fixture("850-004010.x12").replace(b"24*EA", b"24*PC").replace(b"TD5**2*UPSN", b"TD5**2*UPS")
    po = one(data, profile)
    assert po.lines[0].quantity_ordered.unit == "EA"
    assert po.carrier.scac == "UPSN"
    segments = outbound(po, profile, "850")
    assert ["TD5", "", "2", "UPS", "M", "UPS GROUND"] in segments
    assert next(s for s in segments if s[0] == "PO1")[3] == "PC"
    with pytest.raises(MappingError, match=r"code_maps\.colour: unknown code list"):
        one(data, partner("850", {"code_maps": {"colour": {"R": "RED"}}}))


def test_defaults() -> None:
    profile = partner("850", {"defaults": {"currency": "EUR", "order_type": "DS"}})
    data = fixture("850-004010.x12").replace(b"CUR*BY*USD~\n", b"").replace(b"SE*30*", b"SE*29*")
    po = one(data, profile)
    assert (po.currency, po.order_type) == ("EUR", "SA")  # BEG02 given, currency missing
    po.currency = None
    assert ["CUR", "BY", "EUR"] in outbound(po, profile, "850")


def test_ignore_segments() -> None:
    profile = partner("850", {"ignore_segments": ["SDQ", "REF*DP", "PER"]})
    po = one(fixture("850-004010.x12"), profile)
    assert [r.qualifier for r in po.references] == ["IA"]
    assert "x12" not in po.lines[0].extensions
    assert [e.segment for e in segs(po.extensions)] == ["REF"]
    plain = one(fixture("850-004010.x12"), None)
    segments = outbound(plain, profile, "850")
    assert not any(s[0] in ("SDQ", "PER") or s[:2] == ["REF", "DP"] for s in segments)


def test_keep_references() -> None:
    profile = partner("850", {"keep_references": ["ZZ"]})
    po = one(fixture("850-004010.x12"), profile)
    assert ("ZZ", "PROMO-SPRING") in [(r.qualifier, r.value) for r in po.references]
    assert [e.segment for e in segs(po.extensions)] == ["PER"]


def test_variant_and_profile_deviations_merge() -> None:
    profile = partner("850", {"keep_references": ["ZZ"]}, variant="vics-850")
    merged = mapper().deviations_for(profile, profile.document_policy("inbound", "850"))
    assert merged.keep_references == ["19", "ZZ"]
    data = fixture("850-004010.x12").replace(b"REF*DP*038", b"REF*19*DIV-3")
    po = one(data, profile)
    assert [(r.qualifier, r.value) for r in po.references][:2] == [("19", "DIV-3"), ("IA", "VEND-77")]


def test_unknown_variant_is_an_error() -> None:
    profile = partner("850", {}, variant="no-such-variant")
    with pytest.raises(MappingError, match="mapping variant 'no-such-variant' is not in mappings/"):
        one(fixture("850-004010.x12"), profile)


def test_amount_defaults_are_decimals() -> None:
    profile = partner("850", {"defaults": {"lines.unit_price.amount": "1.10"}})
    data = fixture("850-004010.x12").replace(b"PO1*2*10*CA*100*PE", b"PO1*2*10*CA**")
    po = one(data, profile)
    assert po.lines[1].unit_price.amount == Decimal("1.10")
    assert po.lines[0].unit_price.amount == Decimal("12.50")


def test_direction_selects_the_policy() -> None:
    northwind = profiles()["northwind-supply"]
    [ack] = read_x12(fixture("northwind-855.x12"), northwind, Direction.OUTBOUND)
    assert isinstance(ack, PurchaseOrderAck)
    assert ack.po_number == "NW-ORDER-1"  # Northwind has no outbound 855 policy: no deviations apply


def test_a_line_default_on_a_document_without_lines_is_not_an_error() -> None:
    profile = partner("855", {"defaults": {"lines.unit_price.amount": "1.10"}})
    segments = fixture("855-004010.x12").split(b"~\n")
    kept = [s for s in segments if not s.startswith((b"PO1", b"ACK", b"PID", b"CTT"))]
    in_set = [s for s in kept if s[:3] not in (b"ISA", b"GS*", b"GE*", b"IEA") and s.strip()]
    kept = [b"SE*%d*0001" % len(in_set) if s.startswith(b"SE*") else s for s in kept]
    ack = one(b"~\n".join(kept), profile)
    assert isinstance(ack, PurchaseOrderAck)
    assert ack.lines == []


# --- line-level field sources, and defaults blamed on the setting ---------------------------------------


def test_line_field_source_at_an_element_is_read_and_written_per_line() -> None:
    profile = partner("850", {"field_sources": {"lines.item.buyer_part": "PO109"}})  # the audit's crash
    po = one(fixture("850-004010.x12"), profile)
    assert [line.item.buyer_part for line in po.lines] == ["W-100", "INT-200"]  # PO109 of each line
    segments = outbound(po, profile, "850")
    assert [s[9] for s in segments if s[0] == "PO1"] == ["W-100", "INT-200"]


def test_line_field_source_in_a_qualified_segment_of_the_line() -> None:
    profile = partner("850", {"field_sources": {"lines.item.buyer_part": "REF*BP"}})
    data = fixture("850-004010.x12").replace(b"PID*F****RED GADGET~", b"PID*F****RED GADGET~\nREF*BP*B-200~")
    data = data.replace(b"SE*30*0001", b"SE*31*0001")
    po = one(data, profile)
    assert [line.item.buyer_part for line in po.lines] == ["B-100", "B-200"]
    segments = outbound(po, profile, "850")
    second = segments[[s[0] for s in segments].index("PO1", 20) :]
    assert ["REF", "BP", "B-200"] in second[: second.index(["CTT", "2", "34"])]
    too_long = r"REF02 \(buyer_part\) 'B{81}' must be 1-80 characters at segment 27 REF"
    with pytest.raises(MappingError, match=too_long):
        one(data.replace(b"REF*BP*B-200", b"REF*BP*" + b"B" * 81), profile)


def test_a_bad_default_is_blamed_on_the_setting_not_the_segment() -> None:
    data = fixture("850-004010.x12").replace(b"CUR*BY*USD~\n", b"").replace(b"SE*30*", b"SE*29*")
    profile = partner("850", {"defaults": {"currency": "usd"}})
    with pytest.raises(MappingError) as caught:
        one(data, profile)
    assert str(caught.value) == "defaults.currency 'usd': does not match ^[A-Z]{3}$"
    assert caught.value.field == "defaults.currency"
    assert caught.value.segment_id is None
    po = one(data, None)
    with pytest.raises(MappingError, match=r"^defaults.currency: String should match pattern"):
        outbound(po, profile, "850")
    assert one(data, partner("850", {"defaults": {"currency": "USD"}})).currency == "USD"


def test_nested_defaults_fill_every_line() -> None:
    data = fixture("850-004010.x12").replace(b"*12.50*PE*", b"*12.50**")
    po = one(data, partner("850", {"defaults": {"lines.unit_price.basis": "PE", "fob.location": "DOCK"}}))
    assert [line.unit_price.basis for line in po.lines if line.unit_price] == ["PE", "PE"]
    assert po.fob is not None
    assert po.fob.location == "FACTORY"  # only where there is none
