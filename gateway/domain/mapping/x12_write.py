"""Canonical -> X12 segments: the shared emitters (N1 loops, REF, DTM, SAC ...) and extension replay.

Writers mirror the readers in :mod:`.x12_read`: every value a reader maps is written to the
element it is read from, so ``read(write(doc)) == doc``. Segments go into the open
:class:`~.x12_scope.Scope` (one loop instance), which puts them in the set's table order
when it closes. Extensions are replayed: a whole segment goes into the scope it was read
in, at its table place; an *overlay* (same ID as a segment the writer emits, e.g. ``BEG``
or ``PO1``) fills that segment's unmapped elements back in. Element values are written for
the default delimiters (``*`` element, ``:`` component, ``~`` segment, ``^`` repetition);
a value holding one of them is a :class:`MappingError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
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
from gateway.domain.mapping.rules import FieldSource, Rules
from gateway.domain.mapping.x12_read import CARRIER_REFS
from gateway.domain.mapping.x12_scope import Scope, Table
from gateway.domain.mapping.x12_values import COMPONENT, fmt_date, fmt_decimal, fmt_implied, fmt_time
from gateway.domain.mapping.x12_walk import OVERLAY_NAMESPACE

__all__ = ["NOTE_CODE", "Emitter"]

_FORBIDDEN = ("*", "~", "^")
#: N902 written for a note without a code (``GEN``: the entire transaction set).
NOTE_CODE = "GEN"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return fmt_decimal(value)
    return str(value)


class Emitter:
    """Collects the body segments of one transaction set, one loop instance (scope) at a time."""

    def __init__(self, rules: Rules, table: Table) -> None:
        self.rules = rules
        self.scopes = [Scope(table)]

    # --- plumbing ---------------------------------------------------------------------------------------

    @property
    def scope(self) -> Scope:
        return self.scopes[-1]

    def seg(self, sid: str, *elements: object) -> Segment:
        values = [_text(e) for e in elements]
        while values and not values[-1]:
            values.pop()
        for n, value in enumerate(values, start=1):
            if any(ch in value for ch in _FORBIDDEN):
                raise MappingError.at(sid, None, n, "holds an X12 delimiter (* ~ ^)", value=value)
        segment = Segment(sid, values)
        self.scopes[-1].add(segment)
        return segment

    @contextmanager
    def loop(self, loop_id: str) -> Iterator[Scope]:
        """A nested loop instance (``N1``, ``PO1``, ``HL`` ...) of the open scope."""
        parent = self.scopes[-1]
        scope = Scope(parent.table.sub(loop_id))
        self.scopes.append(scope)
        try:
            yield scope
        finally:
            self.scopes.pop()
        parent.add_loop(loop_id, scope.close())

    def body(self) -> list[Segment]:
        """The whole set body (ST..SE excluded) in table order."""
        assert len(self.scopes) == 1, "a loop is still open"
        return self.scopes[0].close()

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
        """Replay whole segments into the open scope; a kept loop trigger (``N9``, ``SAC`` ...) and the
        segments after it that can only belong to that loop go back as one loop instance."""
        parent = self.scopes[-1]
        table = parent.table
        open_loop: tuple[str, Scope] | None = None
        for ext in wholes:
            segment = Segment(ext.segment, self.ext_elements(ext))
            if open_loop is not None:
                loop_id, scope = open_loop
                if _continues(scope, table, loop_id, segment.id):
                    scope.add(segment)
                    continue
                parent.add_loop(loop_id, scope.close())
                open_loop = None
            loop = table.loops.get(segment.id)
            if loop is not None and loop.trigger == segment.id:
                open_loop = (segment.id, Scope(Table.of(loop)))
                open_loop[1].add(segment)
            else:
                parent.add(segment)
        if open_loop is not None:
            parent.add_loop(open_loop[0], open_loop[1].close())

    def structural(self, sid: str, overlays: dict[str, list[SegmentExtension]], *elements: object) -> Segment:
        segment = self.seg(sid, *elements)
        self.overlay(segment, overlays)
        return segment

    def place(self, src: FieldSource, value: str) -> None:
        """Write ``value`` where a ``field_sources`` location says the partner reads it, in the open scope
        (an element location overwrites what the standard mapping put there)."""
        existing = self.scopes[-1].direct
        if src.qualifier is not None:
            if not any(
                s.id == src.segment and s.get(1) == src.qualifier and s.get(2) == value for s in existing
            ):
                self.seg(src.segment, src.qualifier, value)
            return
        assert src.element is not None
        target = next((s for s in existing if s.id == src.segment), None)
        if target is None:
            target = self.seg(src.segment)
        elements = target.elements
        if len(elements) < src.element:
            elements.extend([""] * (src.element - len(elements)))
        if src.component is None:
            new = value
        else:  # the partner's location wins over the standard one (the field source says where they read it)
            current = elements[src.element - 1]
            parts = current.split(COMPONENT) if current else []
            parts.extend([""] * (src.component - len(parts)))
            parts[src.component - 1] = value
            new = COMPONENT.join(parts)
        elements[src.element - 1] = new

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
        """NTE segments (the 810 heading)."""
        for note in notes:
            self.seg("NTE", note.code, note.text)

    def messages(self, notes: Sequence[Note]) -> None:
        """Notes as N9 loops (``N9*L1*code`` + one ``MSG`` per note), where the set has no NTE
        (850 and 855); consecutive notes with the same code share one N9."""
        index = 0
        while index < len(notes):
            code = notes[index].code or NOTE_CODE
            with self.loop("N9"):
                self.seg("N9", "L1", code)
                while index < len(notes) and (notes[index].code or NOTE_CODE) == code:
                    self.seg("MSG", notes[index].text)
                    index += 1

    def fob(self, fob: FobTerms | None) -> None:
        if fob is not None:
            method = self.rules.code_to_partner("payment_method", fob.payment_method)
            self.seg("FOB", method, fob.location_qualifier, fob.location, "", fob.transportation_terms)

    def terms(self, terms: Iterable[TermsOfSale]) -> None:
        for t in terms:
            discount = (
                self.implied("ITD08", "discount_amount", t.discount_amount.amount)
                if t.discount_amount
                else ""
            )
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
            self.seg("SAC", c.indicator.x12, c.code, "", "", self.implied("SAC05", "amount", c.amount), "",
                     c.percent, c.rate, self.uom(qty.unit) if qty else "", qty.value if qty else "", "",
                     c.handling, "", "", c.description)  # fmt: skip

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
            with self.loop("N1"):
                self._party(party)

    def _party(self, party: Party) -> None:
        overlays, wholes = self.split(party.extensions, ("N1", "N4"))
        first = party.identifiers[0] if party.identifiers else None
        if party.name is None and first is None and not overlays.get("N1"):
            raise MappingError(
                f"party {party.role}: N1 needs a name (N102) or an identifier (N103/N104)",
                segment_id="N1", element=2, field="parties.name",
            )  # fmt: skip
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

    @staticmethod
    def implied(where: str, name: str, value: Decimal | None, places: int = 2) -> str:
        """``value`` as an N2 (implied decimals) element; a MappingError naming ``where`` when it has more
        decimals than the element can hold (amounts are never rounded on the way out)."""
        try:
            return fmt_implied(value, places)
        except ValueError:
            raise MappingError(
                f"{where} ({name}) {fmt_decimal(value)} has more than {places} decimal places, "
                f"which the element cannot carry (amounts are not rounded)",
                segment_id=where[:-2], element=int(where[-2:]), field=name,
            ) from None  # fmt: skip


def _continues(scope: Scope, parent: Table, loop_id: str, segment_id: str) -> bool:
    """Whether a kept segment after a kept ``loop_id`` trigger belongs to that loop instance."""
    rank = scope.table.ranks.get(segment_id)
    if rank is None or rank == 0 or rank < scope.last:
        return False
    outer = parent.ranks.get(segment_id)
    return outer is None or outer <= parent.ranks[loop_id]
