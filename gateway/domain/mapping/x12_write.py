"""Canonical -> X12 segments: the shared emitters (N1 loops, REF, DTM, SAC ...) and extension replay.

Writers mirror the readers in :mod:`.x12_read`: every value a reader maps is written to the
element it is read from, so ``read(write(doc)) == doc``. Extensions are replayed: a whole
segment is emitted where its scope's segments end; an *overlay* (same ID as a segment the
writer emits, e.g. ``BEG`` or ``PO1``) fills that segment's unmapped elements back in.
Element values are written for the default delimiters (``*`` element, ``:`` component,
``~`` segment, ``^`` repetition); a value holding one of them is a :class:`MappingError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from edi.model import Segment
from gateway.domain.canonical import (
    AllowanceCharge,
    CarrierDetails,
    DateRef,
    Extensions,
    FobTerms,
    ItemIdentifiers,
    Note,
    PackInfo,
    Party,
    Reference,
    SegmentExtension,
    Tax,
    TermsOfSale,
    Totals,
)
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.rules import Rules
from gateway.domain.mapping.x12_read import CARRIER_REFS, OVERLAY_NAMESPACE
from gateway.domain.mapping.x12_values import COMPONENT, fmt_date, fmt_decimal, fmt_implied, fmt_time

__all__ = ["Emitter"]

_FORBIDDEN = ("*", "~", "^")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return fmt_decimal(value)
    return str(value)


class Emitter:
    """Collects the body segments of one transaction set."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.out: list[Segment] = []

    # --- plumbing ---------------------------------------------------------------------------------------

    def seg(self, sid: str, *elements: object) -> Segment:
        values = [_text(e) for e in elements]
        while values and not values[-1]:
            values.pop()
        for n, value in enumerate(values, start=1):
            if any(ch in value for ch in _FORBIDDEN):
                raise MappingError.at(sid, None, n, "holds an X12 delimiter (* ~ ^)", value=value)
        segment = Segment(sid, values)
        self.out.append(segment)
        return segment

    @staticmethod
    def ext_elements(ext: SegmentExtension) -> list[str]:
        return [e if isinstance(e, str) else COMPONENT.join(e) for e in ext.elements]

    @staticmethod
    def split(extensions: Extensions, overlay_ids: Iterable[str], loops: Sequence[str | None] | None = None
              ) -> tuple[dict[str, list[SegmentExtension]], list[SegmentExtension]]:  # fmt: skip
        """X12 extensions as (overlays by segment ID, whole segments), optionally of some loops only."""
        overlays: dict[str, list[SegmentExtension]] = {}
        wholes: list[SegmentExtension] = []
        ids = set(overlay_ids)
        for ext in extensions.get(OVERLAY_NAMESPACE, []):
            if isinstance(ext, SegmentExtension) and ext.segment in ids:
                overlays.setdefault(ext.segment, []).append(ext)
        for ext in extensions.get("x12", []):
            if isinstance(ext, SegmentExtension) and (loops is None or ext.loop in loops):
                wholes.append(ext)
        return overlays, wholes

    def overlay(self, segment: Segment, overlays: dict[str, list[SegmentExtension]]) -> None:
        pending = overlays.get(segment.id)
        if not pending:
            return
        elements = self.ext_elements(pending.pop(0))
        values = segment.elements
        if len(values) < len(elements):
            values.extend([""] * (len(elements) - len(values)))
        for i, value in enumerate(elements):
            if value:
                values[i] = value

    def wholes(self, wholes: Iterable[SegmentExtension]) -> None:
        for ext in wholes:
            self.out.append(Segment(ext.segment, self.ext_elements(ext)))

    def structural(self, sid: str, overlays: dict[str, list[SegmentExtension]], *elements: object) -> Segment:
        segment = self.seg(sid, *elements)
        self.overlay(segment, overlays)
        return segment

    # --- shared emitters --------------------------------------------------------------------------------

    def uom(self, unit: str | None) -> str:
        return "" if unit is None else self.rules.code_to_partner("uom", unit)

    def item_pairs(self, item: ItemIdentifiers) -> list[str]:
        return [v for pair in item.qualified() for v in pair]

    def references(self, refs: Iterable[Reference], carrier: CarrierDetails | None = None) -> None:
        written: set[tuple[str, str | None]] = set()
        for ref in refs:
            qualifier = self.rules.code_to_partner("reference_qualifier", ref.qualifier)
            self.seg("REF", qualifier, ref.value, ref.description)
            written.add((ref.qualifier, ref.value))
        if carrier is None:
            return
        for qualifier, name in CARRIER_REFS.items():
            value = getattr(carrier, name)
            for v in value if isinstance(value, list) else [value]:
                if v is not None and (qualifier, v) not in written:
                    self.seg("REF", qualifier, v)

    def dates(self, dates: Iterable[DateRef]) -> None:
        for d in dates:
            qualifier = self.rules.code_to_partner("date_qualifier", d.qualifier)
            if d.end_date is not None:
                self.seg("DTM", qualifier, "", "", "", "RD8", f"{fmt_date(d.date)}-{fmt_date(d.end_date)}")
            else:
                self.seg("DTM", qualifier, fmt_date(d.date), fmt_time(d.time), d.time_zone)

    def notes(self, notes: Iterable[Note]) -> None:
        for note in notes:
            self.seg("NTE", note.code, note.text)

    def fob(self, fob: FobTerms | None) -> None:
        if fob is not None:
            method = self.rules.code_to_partner("payment_method", fob.payment_method)
            self.seg("FOB", method, fob.location_qualifier, fob.location, "", fob.transportation_terms)

    def terms(self, terms: Iterable[TermsOfSale]) -> None:
        for t in terms:
            discount = fmt_implied(t.discount_amount.amount) if t.discount_amount is not None else ""
            self.seg(
                "ITD", t.type_code, t.basis_date_code, t.discount_percent, fmt_date(t.discount_due_date),
                t.discount_days, fmt_date(t.net_due_date), t.net_days, discount, "", "", "", t.description,
            )  # fmt: skip

    def carrier(self, carrier: CarrierDetails | None) -> None:
        """TD5 and TD3 (references are written with :meth:`references`)."""
        if carrier is None:
            return
        if carrier.scac or carrier.mode or carrier.routing or carrier.service_level:
            scac = self.rules.code_to_partner("carrier", carrier.scac) if carrier.scac else ""
            mode = self.rules.code_to_partner("transport_mode", carrier.mode) if carrier.mode else ""
            self.seg(
                "TD5", "", "2" if scac else "", scac, mode, carrier.routing, *[""] * 6, carrier.service_level
            )
        for eq in carrier.equipment:
            seal = eq.seal_numbers[0] if eq.seal_numbers else ""
            self.seg("TD3", eq.type_code, eq.initial, eq.number, *[""] * 5, seal)

    def td1(self, totals: Totals | None) -> None:
        if totals is None:
            return
        if (
            totals.package_count is None
            and totals.packaging_code is None
            and totals.weight is None
            and (totals.volume is None)
        ):
            return
        w, v = totals.weight, totals.volume
        self.seg(
            "TD1", totals.packaging_code, totals.package_count, "", "", "",
            w.qualifier if w else "", w.value if w else "", self.uom(w.unit) if w else "",
            v.value if v else "", self.uom(v.unit) if v else "",
        )  # fmt: skip

    def allowances(self, charges: Iterable[AllowanceCharge]) -> None:
        for c in charges:
            qty = c.quantity
            self.seg("SAC", c.indicator.x12, c.code, "", "", fmt_implied(c.amount), "", c.percent, c.rate,
                     self.uom(qty.unit) if qty else "", qty.value if qty else "", "", c.handling, "", "",
                     c.description)  # fmt: skip

    def taxes(self, taxes: Iterable[Tax]) -> None:
        for t in taxes:
            self.seg("TXI", t.type_code, t.amount, t.percent, "", t.jurisdiction, t.exempt_code)

    def pack(self, pack: PackInfo | None) -> None:
        if pack is None:
            return
        gw, gv = pack.gross_weight, pack.gross_volume
        self.seg(
            "PO4", pack.pack, pack.size, self.uom(pack.size_unit), pack.packaging_code,
            gw.qualifier if gw else "", gw.value if gw else "", self.uom(gw.unit) if gw else "",
            gv.value if gv else "", self.uom(gv.unit) if gv else "", "", "", "", "", pack.inner_pack,
        )  # fmt: skip

    def description(self, item: ItemIdentifiers) -> None:
        if item.description is not None:
            self.seg("PID", "F", "", "", "", item.description)

    def parties(self, parties: Iterable[Party]) -> None:
        for party in parties:
            overlays, wholes = self.split(party.extensions, ("N1", "N4"))
            first = party.identifiers[0] if party.identifiers else None
            self.structural("N1", overlays, self.rules.role_to_partner(party.role), party.name,
                            first.qualifier if first else "", first.value if first else "")  # fmt: skip
            names = party.additional_names
            for i in range(0, len(names), 2):
                self.seg("N2", *names[i : i + 2])
            address = party.address
            if address is not None:
                for i in range(0, len(address.lines), 2):
                    self.seg("N3", *address.lines[i : i + 2])
                country = self.rules.code_to_partner("country", address.country) if address.country else ""
                if address.city or address.state or address.postal_code or country or overlays.get("N4"):
                    self.structural("N4", overlays, address.city, address.state, address.postal_code, country)
            elif overlays.get("N4"):
                self.structural("N4", overlays)
            for ident in party.identifiers[1:]:
                self.seg("REF", ident.qualifier, ident.value)
            self.references(party.references)
            for contact in party.contacts:
                channels = [v for c in contact.channels for v in (c.qualifier, c.value)]
                self.seg("PER", contact.function, contact.name, *channels)
            self.wholes(wholes)
