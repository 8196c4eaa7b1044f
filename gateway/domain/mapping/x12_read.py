"""The segment handlers the X12 document readers share (N1 loops, REF, DTM, NTE/N9, FOB, ITD,
TD5/TD3/TD1, SAC, TXI, PO4, PID) on top of the walk in :mod:`.x12_walk`.

What has no canonical field is never dropped: a whole segment goes to the target's
``extensions`` (namespace ``x12``); the unmapped elements of a structural segment (BEG,
PO1, N1 ...) go there as an *overlay*: the same segment ID with only those positions
filled, which the writer merges back into the segment it emits. Overlays live in the
``x12.elements`` namespace, whole segments in ``x12``.
"""

from __future__ import annotations

from decimal import Decimal

from edi.model import Segment
from gateway.domain.canonical import DateRef, ItemIdentifiers, LineStatus, Measurement, PackInfo
from gateway.domain.mapping.construct import CODE, Invalid, build, make, maker
from gateway.domain.mapping.x12_values import SegmentRef
from gateway.domain.mapping.x12_walk import ITEM_FIELDS, Doc, WalkerBase

__all__ = ["CARRIER_REFS", "Walker"]

#: REF qualifiers that fill carrier fields where the target has a carrier.
CARRIER_REFS = {"BM": "bill_of_lading", "CN": "pro_number", "2I": "tracking_numbers"}
_LINE_STATUSES = frozenset(s.value for s in LineStatus)
_make_item = maker(ItemIdentifiers)
_REF = frozenset({1, 2, 3})
_DTM = frozenset({1, 2, 3, 4})
_N1 = frozenset({1, 2, 3, 4})
_N4 = frozenset({1, 2, 3, 4})
_FOB = frozenset({1, 2, 3, 5})
_ITD = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 12})
_TD5 = frozenset({2, 3, 4, 5, 12})
_TD3 = frozenset({1, 2, 3, 9})
_TD1 = frozenset({1, 2, 6, 7, 8, 9, 10})
_SAC = frozenset({1, 2, 5, 7, 8, 9, 10, 12, 15})
_TXI = frozenset({1, 2, 3, 5, 6})
_PO4 = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 14})
_NTE = frozenset({1, 2})
_N9 = frozenset({1, 2})
_MSG = frozenset({1})
_PER = frozenset({1, 2, 3, 4, 5, 6, 7, 8})
_ID_AT = {"qualifier": 3, "value": 4}
#: Where a segment's product ID pairs start.
_PAIRS_FROM = {"PO1": 6, "IT1": 6, "ACK": 7, "LIN": 2}


class Walker(WalkerBase):
    """The walk with the shared segment handlers; subclasses add the document's own and finish."""

    # --- shared handlers --------------------------------------------------------------------------------

    def n1(self, ref: SegmentRef) -> None:
        party: Doc = {"role": self.rules.role(ref.get(1))}
        if name := ref.opt(2):
            party["name"] = name
        if (qualifier := ref.opt(3)) and (value := ref.opt(4)):
            party["identifiers"] = [self.note({"qualifier": qualifier, "value": value}, ref, _ID_AT)]
        self.note(party, ref, {"role": 1, "name": 2, "identifiers": 4})
        self.overlay(ref, party, _N1 if ref.get(3) and ref.get(4) else frozenset({1, 2}), "N1")
        self.target.setdefault("parties", []).append(party)
        self.party = party

    def n2(self, ref: SegmentRef) -> None:
        if self.party is None or self.unclean(ref, frozenset({1, 2})):
            return self.keep(ref)
        names = self.party.setdefault("additional_names", [])
        given = ((1, ref.opt(1)), (2, ref.opt(2)))
        names.extend(ref.ident(n, "additional_names", v, 1000) for n, v in given if v)
        return None

    def _address(self, ref: SegmentRef) -> Doc:
        assert self.party is not None
        address: Doc = self.party.setdefault("address", {})
        return address

    def n3(self, ref: SegmentRef) -> None:
        if self.party is None or self.unclean(ref, frozenset({1, 2})):
            return self.keep(ref)
        lines = self._address(ref).setdefault("lines", [])
        lines.extend(ref.ident(n, "lines", v, 1000) for n, v in ((1, ref.opt(1)), (2, ref.opt(2))) if v)
        return None

    def n4(self, ref: SegmentRef) -> None:
        if self.party is None or "city" in self._address(ref) or "postal_code" in self._address(ref):
            return self.keep(ref)
        address = self._address(ref)
        for name, n in (("city", 1), ("state", 2), ("postal_code", 3)):
            if value := ref.opt(n):
                address[name] = value
        if country := ref.opt(4):
            address["country"] = self.rules.code("country", country)
        self.note(address, ref, {"city": 1, "state": 2, "postal_code": 3, "country": 4})
        self.overlay(ref, self.party, _N4, "N1")
        return None

    def per(self, ref: SegmentRef) -> None:
        if self.party is None or self.unclean(ref, _PER) or not ref.get(1):
            return self.keep(ref)
        contact: Doc = {"function": ref.get(1)}
        if name := ref.opt(2):
            contact["name"] = name
        if any(bool(ref.opt(n)) != bool(ref.opt(n + 1)) for n in (3, 5, 7)):
            return self.keep(ref)
        channels = [
            self.note(
                {"qualifier": ref.get(n), "value": ref.get(n + 1)}, ref, {"qualifier": n, "value": n + 1}
            )
            for n in (3, 5, 7)
            if ref.get(n)
        ]
        if channels:
            contact["channels"] = channels
        self.note(contact, ref, {"function": 1, "name": 2, "channels": 4})
        self.party.setdefault("contacts", []).append(contact)
        return None

    def ref(self, ref: SegmentRef) -> None:
        qualifier, value, description = ref.get(1), ref.opt(2), ref.opt(3)
        if not qualifier or (value is None and description is None) or self.unclean(ref, _REF):
            return self.keep(ref)
        qualifier = self.rules.code("reference_qualifier", qualifier)
        if self.party is not None:
            self.party.setdefault("references", []).append(
                self._reference(ref, qualifier, value, description)
            )
            return None
        carrier_field = CARRIER_REFS.get(qualifier)
        used = False
        if carrier_field is not None and "carrier" in self.caps and value and description is None:
            carrier = self.target.setdefault("carrier", {})
            if carrier_field == "tracking_numbers":
                carrier.setdefault("tracking_numbers", []).append(value)
                used = True
            elif carrier_field not in carrier:
                carrier[carrier_field] = value
                used = True
            if used and carrier_field not in (self.field_origins.get(id(carrier)) or {}):
                self.note(carrier, ref, {carrier_field: 2})
        if qualifier in self.rules.references or (carrier_field is not None and "carrier" not in self.caps):
            self.target.setdefault("references", []).append(
                self._reference(ref, qualifier, value, description)
            )
        elif not used:
            self.keep(ref)
        return None

    def _reference(self, ref: SegmentRef, qualifier: str, value: str | None, description: str | None) -> Doc:
        data: Doc = {"qualifier": qualifier}
        if value is not None:
            data["value"] = value
        if description is not None:
            data["description"] = description
        return self.note(data, ref, {"qualifier": 1, "value": 2, "description": 3})

    def dtm(self, ref: SegmentRef) -> None:
        if "dates" not in self.caps:
            return self.keep(ref)
        if ref.get(5) == "RD8" and not ref.get(2) and not self.unclean(ref, frozenset({1, 5, 6})):
            start, _, end = ref.get(6).partition("-")
            probe = SegmentRef(Segment("DTM", [ref.get(1), start, "", "", "", end]), ref.pos)
            first, last = probe.date(2, "date"), probe.date(6, "end_date")
            if first is None or last is None:
                raise ref.fail(6, "date", "is not a CCYYMMDD-CCYYMMDD range", ref.get(6))
            if last < first:
                raise ref.fail(6, "end_date", "ends before it starts", ref.get(6))
            data: Doc = {"date": first, "end_date": last}
        elif not ref.get(2) or not ref.get(1) or self.unclean(ref, _DTM) or (ref.get(4) and not ref.get(3)):
            return self.keep(ref)
        else:
            data = {"date": ref.date(2, "date")}
            if ref.get(3):
                data["time"] = ref.time(3, "time")
            if zone := ref.opt(4):
                data["time_zone"] = ref.code(4, "time_zone", zone)
        data["qualifier"] = ref.code(1, "qualifier", self.rules.code("date_qualifier", ref.get(1)))
        self.target.setdefault("dates", []).append(make(DateRef, data))
        return None

    def nte(self, ref: SegmentRef) -> None:
        if "notes" not in self.caps or not ref.get(2) or self.unclean(ref, _NTE):
            return self.keep(ref)
        note: Doc = {"text": ref.get(2)}
        if code := ref.opt(1):
            note["code"] = code
        self.target.setdefault("notes", []).append(self.note(note, ref, {"code": 1, "text": 2}))
        return None

    def n9(self, ref: SegmentRef) -> None:
        """``N9*L1*code`` opening MSG segments: notes (the 850/855 have no NTE). Any other N9, or one
        not followed by a MSG, is kept whole, and so are its MSGs."""
        code = ref.get(2)
        following = self.segments[ref.pos] if ref.pos < len(self.segments) else None
        if (
            "notes" not in self.caps
            or ref.get(1) != "L1"
            or CODE.match(code) is None
            or self.unclean(ref, _N9)
            or following is None
            or following.id != "MSG"
        ):
            self.note_code = None
            return self.keep(ref)
        self.note_code, self.note_at = code, ref.pos
        return None

    def msg(self, ref: SegmentRef) -> None:
        code = self.note_code
        if code is None or ref.pos != self.note_at + 1 or not ref.get(1) or self.unclean(ref, _MSG):
            self.note_code = None
            return self.keep(ref)
        self.note_at = ref.pos
        note = self.note({"code": code, "text": ref.get(1)}, ref, {"text": 1})
        self.target.setdefault("notes", []).append(note)
        return None

    def fob(self, ref: SegmentRef) -> None:
        if "fob" not in self.caps or "fob" in self.target or not ref.get(1) or self.unclean(ref, _FOB):
            return self.keep(ref)
        fob: Doc = {"payment_method": self.rules.code("payment_method", ref.get(1))}
        for name, n in (("location_qualifier", 2), ("location", 3), ("transportation_terms", 5)):
            if value := ref.opt(n):
                fob[name] = value
        self.target["fob"] = self.note(
            fob, ref, {"payment_method": 1, "location_qualifier": 2, "location": 3, "transportation_terms": 5}
        )
        return None

    def itd(self, ref: SegmentRef) -> None:
        if "terms" not in self.caps or self.unclean(ref, _ITD) or not any(ref.seg.elements):
            return self.keep(ref)
        terms: Doc = {}
        for name, n in (("type_code", 1), ("basis_date_code", 2), ("description", 12)):
            if value := ref.opt(n):
                terms[name] = value
        for name, n in (("discount_due_date", 4), ("net_due_date", 6)):
            if ref.get(n):
                terms[name] = ref.date(n, name)
        for name, n in (("discount_days", 5), ("net_days", 7)):
            if ref.get(n):
                terms[name] = ref.integer(n, name)
        if ref.get(3):
            terms["discount_percent"] = ref.dec(3, "discount_percent")
        if ref.get(8):
            terms["discount_amount"] = {"amount": ref.implied(8, "discount_amount")}
        fields = {
            "type_code": 1,
            "basis_date_code": 2,
            "discount_percent": 3,
            "discount_due_date": 4,
            "discount_days": 5,
            "net_due_date": 6,
            "net_days": 7,
            "discount_amount": 8,
            "description": 12,
        }
        self.target.setdefault("terms", []).append(self.note(terms, ref, fields))
        return None

    def td5(self, ref: SegmentRef) -> None:
        scac = ref.get(3)
        if (
            "carrier" not in self.caps
            or id(self.target) in self.td5_done
            or self.unclean(ref, _TD5)
            or ref.get(2) not in ("2", "")
            or bool(ref.get(2)) != bool(scac)
            or (scac and not (scac.isalpha() and scac.isupper() and 2 <= len(scac) <= 4))
        ):
            return self.keep(ref)
        self.td5_done.add(id(self.target))
        carrier = self.target.setdefault("carrier", {})
        if scac:
            carrier["scac"] = self.rules.code("carrier", scac)
        if mode := ref.opt(4):
            carrier["mode"] = self.rules.code("transport_mode", mode)
        if routing := ref.opt(5):
            carrier["routing"] = routing
        if level := ref.opt(12):
            carrier["service_level"] = level
        self.note(carrier, ref, {"scac": 3, "mode": 4, "routing": 5, "service_level": 12})
        return None

    def td3(self, ref: SegmentRef) -> None:
        if "carrier" not in self.caps or self.unclean(ref, _TD3) or not any(ref.seg.elements):
            return self.keep(ref)
        equipment: Doc = {}
        for name, n in (("type_code", 1), ("initial", 2), ("number", 3)):
            if value := ref.opt(n):
                equipment[name] = value
        if seal := ref.opt(9):
            equipment["seal_numbers"] = [seal]
        self.note(equipment, ref, {"type_code": 1, "initial": 2, "number": 3, "seal_numbers": 9})
        self.target.setdefault("carrier", {}).setdefault("equipment", []).append(equipment)
        return None

    def td1(self, ref: SegmentRef) -> None:
        totals = self.target.get("totals") or {}
        if (
            "td1" not in self.caps
            or self.unclean(ref, _TD1)
            or any(k in totals for k in ("package_count", "packaging_code", "weight", "volume"))
            or bool(ref.get(7)) != bool(ref.get(8))
            or bool(ref.get(9)) != bool(ref.get(10))
            or (ref.get(6) and not ref.get(7))
        ):
            return self.keep(ref)
        totals = self.target.setdefault("totals", {})
        if code := ref.opt(1):
            totals["packaging_code"] = code
        if ref.get(2):
            totals["package_count"] = ref.integer(2, "package_count")
        if ref.get(7):
            weight: Doc = {"value": ref.dec(7, "weight"), "unit": self.rules.code("uom", ref.get(8))}
            if qualifier := ref.opt(6):
                weight["qualifier"] = qualifier
            totals["weight"] = self.note(weight, ref, {"value": 7, "unit": 8, "qualifier": 6})
        if ref.get(9):
            volume = {"value": ref.dec(9, "volume"), "unit": self.rules.code("uom", ref.get(10))}
            totals["volume"] = self.note(volume, ref, {"value": 9, "unit": 10})
        self.note(totals, ref, {"packaging_code": 1, "package_count": 2})
        return None

    def sac(self, ref: SegmentRef) -> None:
        indicator = {"A": "allowance", "C": "charge", "N": "none", "P": "promotion"}.get(ref.get(1))
        if (
            "allowances_charges" not in self.caps
            or indicator is None
            or self.unclean(ref, _SAC)
            or not (ref.get(2) or ref.get(15))
            or (ref.get(10) and not ref.get(9))
        ):
            return self.keep(ref)
        charge: Doc = {"indicator": indicator}
        for name, n in (("code", 2), ("handling", 12), ("description", 15)):
            if value := ref.opt(n):
                charge[name] = value
        if ref.get(5):
            charge["amount"] = ref.implied(5, "amount")
        for name, n in (("percent", 7), ("rate", 8)):
            if ref.get(n):
                charge[name] = ref.dec(n, name)
        if ref.get(10):
            charge["quantity"] = {
                "value": ref.dec(10, "quantity"),
                "unit": self.rules.code("uom", ref.get(9)),
            }
        fields = {"indicator": 1, "code": 2, "amount": 5, "percent": 7, "rate": 8, "quantity": 10,
                  "handling": 12, "description": 15}  # fmt: skip
        self.target.setdefault("allowances_charges", []).append(self.note(charge, ref, fields))
        return None

    def txi(self, ref: SegmentRef) -> None:
        if "taxes" not in self.caps or not ref.get(1) or self.unclean(ref, _TXI):
            return self.keep(ref)
        if not (ref.get(2) or ref.get(3) or ref.get(6)):
            return self.keep(ref)
        tax: Doc = {"type_code": ref.get(1)}
        for name, n in (("amount", 2), ("percent", 3)):
            if ref.get(n):
                tax[name] = ref.dec(n, name)
        for name, n in (("jurisdiction", 5), ("exempt_code", 6)):
            if value := ref.opt(n):
                tax[name] = value
        fields = {"type_code": 1, "amount": 2, "percent": 3, "jurisdiction": 5, "exempt_code": 6}
        self.target.setdefault("taxes", []).append(self.note(tax, ref, fields))
        return None

    def po4(self, ref: SegmentRef) -> None:
        v = ref.padded(9)
        if (
            "pack" not in self.caps
            or "pack" in self.target
            or self.unclean(ref, _PO4)
            or not any(v)
            or bool(v[5]) != bool(v[6])
            or bool(v[7]) != bool(v[8])
            or (v[4] and not v[5])
            or (v[2] and not v[1])
        ):
            return self.keep(ref)
        pack: Doc = {}
        for name, n in (("pack", 1), ("inner_pack", 14)):
            if ref.get(n):
                count = ref.integer(n, name)
                if count is not None and count < 1:
                    raise ref.fail(n, name, "must be at least 1", ref.get(n))
                pack[name] = count
        if ref.get(2):
            pack["size"] = ref.dec(2, "size")
        if unit := ref.opt(3):
            pack["size_unit"] = ref.code(3, "size_unit", self.rules.code("uom", unit))
        if code := ref.opt(4):
            pack["packaging_code"] = ref.code(4, "packaging_code", code)
        for name, n in (("gross_weight", 6), ("gross_volume", 8)):
            if ref.get(n):
                measure: Doc = {"value": self.measure(ref, n, name)}
                measure["unit"] = ref.code(n + 1, "unit", self.rules.code("uom", ref.get(n + 1)))
                if name == "gross_weight" and (qualifier := ref.opt(5)):
                    measure["qualifier"] = ref.code(5, "qualifier", qualifier)
                pack[name] = make(Measurement, measure)
        self.target["pack"] = make(PackInfo, pack)
        return None

    @staticmethod
    def measure(ref: SegmentRef, n: int, name: str) -> Decimal:
        value = ref.dec(n, name)
        if value is None or value < 0:
            raise ref.fail(n, name, "must be a number of at least 0", ref.get(n))
        return value

    def _item_model(self, item: Doc, ref: SegmentRef) -> ItemIdentifiers:
        """An item whose values were not all checked where they were read (other IDs, a field source):
        check the segment's ID pairs where they sit, then build it with every check."""
        self.check_pairs(ref, _PAIRS_FROM.get(ref.id, 6))
        if not item:
            raise ref.fail(None, "item", "has no item identifier and no description")
        try:
            return build(ItemIdentifiers, item)  # type: ignore[no-any-return]
        except Invalid as exc:
            raise self.explain(exc) from None

    @staticmethod
    def check_pairs(ref: SegmentRef, start: int) -> None:
        """Each complete qualifier/value pair from element ``start`` is a code and a single-line value."""
        for n in range(start, len(ref.v) + 1, 2):
            qualifier, value = ref.get(n), ref.get(n + 1)
            if qualifier and value:
                ref.code(n, "qualifier", qualifier)
                ref.ident(n + 1, ITEM_FIELDS.get(qualifier, "value"), value)

    def pid(self, ref: SegmentRef) -> None:
        item = self.target.get("item")
        v = ref.v
        if (
            item is None
            or "description" in item
            or len(v) != 5
            or v[0] != "F"
            or not v[4]
            or v[1]
            or v[2]
            or v[3]
        ):
            return self.keep(ref)
        item["description"] = ref.ident(5, "description", v[4], 1000)
        self.descriptions[id(item)] = ref.pos
        return None

    def line_status(self, code: str) -> str | None:
        """ACK01 after code mapping, or None when it is not a canonical line status."""
        value = self.rules.code("line_status", code)
        return value if value in _LINE_STATUSES else None


Walker.handlers = {
    "N1": Walker.n1, "N2": Walker.n2, "N3": Walker.n3, "N4": Walker.n4, "PER": Walker.per, "REF": Walker.ref,
    "DTM": Walker.dtm, "NTE": Walker.nte, "FOB": Walker.fob, "ITD": Walker.itd, "TD5": Walker.td5,
    "TD3": Walker.td3, "TD1": Walker.td1, "SAC": Walker.sac, "TXI": Walker.txi, "PO4": Walker.po4,
    "PID": Walker.pid, "N9": Walker.n9, "MSG": Walker.msg,
}  # fmt: skip
