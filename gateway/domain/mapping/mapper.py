"""The mapping engine's facade: named variants + partner deviations, X12/JSON in, X12/JSON out.

:meth:`Mapper.load` reads ``mappings/*.yaml``; each call picks the partner's policy for the
document, merges the named variant with the profile's own deviations
(:meth:`Mapper.deviations_for`) and compiles them once into :class:`Rules` (cached per
profile and policy).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from edi.model import FunctionalGroup, Interchange, TransactionSet
from gateway.domain.canonical import (
    X12_DOCUMENT_TYPES,
    CanonicalDocument,
    DocumentHeader,
    DocumentType,
    Invoice,
    PurchaseOrder,
    PurchaseOrderAck,
    ShipmentConfirmation,
    ShipNotice,
)
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.json_docs import JSON_DOCUMENT_TYPES, read_json
from gateway.domain.mapping.json_out import write_json
from gateway.domain.mapping.json_shapes import CANONICAL_JSON, JSON_TYPES
from gateway.domain.mapping.rules import EMPTY_RULES, Rules
from gateway.domain.mapping.variants import Variant, load_variants
from gateway.domain.mapping.x12_fa import read_functional_ack, read_ta1
from gateway.domain.mapping.x12_orders import read_order
from gateway.domain.mapping.x12_out import to_x12
from gateway.domain.mapping.x12_ship import read_ship_notice
from gateway.domain.profiles import (
    Direction,
    DocumentFormat,
    DocumentPolicy,
    MappingDeviations,
    PartnerProfile,
    merge,
)

__all__ = ["Mapper", "functional_id_for", "set_id_for"]

_SET_IDS = {
    DocumentType.PURCHASE_ORDER: "850",
    DocumentType.PURCHASE_ORDER_ACK: "855",
    DocumentType.SHIP_NOTICE: "856",
    DocumentType.INVOICE: "810",
}
_FUNCTIONAL_IDS = {"850": "PO", "855": "PR", "856": "SH", "810": "IN", "997": "FA", "999": "FA"}


def set_id_for(document_type: str) -> str:
    """X12 set ID for a canonical type (``purchase_order`` -> ``850``) or a set ID itself."""
    if document_type in _FUNCTIONAL_IDS:
        return document_type
    try:
        return _SET_IDS[DocumentType(document_type)]
    except (ValueError, KeyError):
        raise MappingError(
            f"no X12 transaction set for document type {document_type!r}", field="type"
        ) from None


def functional_id_for(set_id: str) -> str:
    """GS01 functional identifier for a set ID: 850 PO, 855 PR, 856 SH, 810 IN, 997/999 FA."""
    try:
        return _FUNCTIONAL_IDS[set_id]
    except KeyError:
        raise MappingError(f"no functional group for transaction set {set_id!r}", segment_id="ST") from None


class Mapper:
    """Maps documents for partners; holds the named variants."""

    def __init__(self, variants: dict[str, Variant] | None = None) -> None:
        self.variants: dict[str, Variant] = dict(variants or {})
        self._rules: dict[tuple[int, int], tuple[object, object, Rules]] = {}
        self._policies: dict[tuple[int, str, str], tuple[PartnerProfile, DocumentPolicy | None]] = {}

    @classmethod
    def load(cls, mappings_dir: Path) -> Mapper:
        """Load every variant in ``mappings_dir``; a bad file raises :class:`MappingError` naming it."""
        return cls(load_variants(Path(mappings_dir)))

    # --- deviations -------------------------------------------------------------------------------------

    def deviations_for(self, profile: PartnerProfile, policy: DocumentPolicy | None) -> MappingDeviations:
        """The named variant's deviations (if the policy names one) with the profile's own merged on top."""
        if policy is None:
            return MappingDeviations()
        base = MappingDeviations()
        name = policy.mapping.variant
        if name is not None:
            variant = self.variants.get(name)
            if variant is None:
                raise MappingError(
                    f"partner {profile.partner_id}: mapping variant {name!r} is not in mappings/",
                    field=f"{policy.type}.mapping.variant",
                )
            base = variant.deviations
        own = policy.mapping.deviations
        return base if own.is_empty() else merge(base, own)

    def rules_for(self, profile: PartnerProfile | None, policy: DocumentPolicy | None) -> Rules:
        """Compiled deviations for ``profile`` and ``policy`` (cached)."""
        if profile is None or policy is None:
            return EMPTY_RULES
        key = (id(profile), id(policy))
        cached = self._rules.get(key)
        if cached is not None and cached[0] is profile and cached[1] is policy:
            return cached[2]
        rules = Rules.compile(self.deviations_for(profile, policy))
        self._rules[key] = (profile, policy, rules)
        return rules

    def _policy(
        self, profile: PartnerProfile | None, direction: str, document_type: str
    ) -> DocumentPolicy | None:
        """The profile's rule for a document (looked up once per profile object)."""
        if profile is None:
            return None
        key = (id(profile), direction, document_type)
        cached = self._policies.get(key)
        if cached is not None and cached[0] is profile:
            return cached[1]
        policy = profile.document_policy(direction, document_type)
        self._policies[key] = (profile, policy)
        return policy

    # --- inbound ----------------------------------------------------------------------------------------

    def x12_to_canonical(
        self,
        ts: TransactionSet,
        *,
        interchange: Interchange,
        group: FunctionalGroup,
        profile: PartnerProfile | None,
        header: DocumentHeader,
    ) -> CanonicalDocument:
        """Map one 850/855/856/810/997/999 set; ``header`` is built by the caller."""
        set_id = ts.set_id
        expected = X12_DOCUMENT_TYPES.get(set_id)
        if expected is None:
            raise MappingError(
                f"ST01 {set_id!r}: no canonical mapping for this transaction set",
                segment_id="ST",
                segment_position=1,
                element=1,
            )
        if header.document_type is not expected:
            raise MappingError(
                f"header.document_type {header.document_type.value!r} does not fit ST01 {set_id}",
                field="header",
            )
        rules = self.rules_for(profile, self._policy(profile, header.direction.value, set_id))
        component = interchange.delimiters.component
        if set_id in ("850", "855", "810"):
            element = interchange.delimiters.element
            return read_order(set_id, ts.segments, rules, component, header, element)  # type: ignore[return-value]
        if set_id == "856":
            return cast(CanonicalDocument, read_ship_notice(ts.segments, rules, component, header))
        if set_id in ("997", "999"):
            return read_functional_ack(ts, interchange, header)
        raise MappingError(
            f"ST01 {set_id}: TA1 is an interchange segment, not a transaction set",
            segment_id="ST",
            segment_position=1,
            element=1,
        )

    @staticmethod
    def ta1_to_canonical(interchange: Interchange, *, header: DocumentHeader) -> CanonicalDocument | None:
        """The TA1 segments an interchange carries (interchange acknowledgements received) as one
        FunctionalAck of kind ``TA1``, or None when it has none; ``header`` is built by the caller."""
        if header.document_type is not DocumentType.FUNCTIONAL_ACK:
            raise MappingError(
                f"header.document_type {header.document_type.value!r} does not fit a TA1", field="header"
            )
        return read_ta1(interchange, header)

    def json_to_canonical(
        self, data: object, *, document_type: str, profile: PartnerProfile | None, header: DocumentHeader
    ) -> CanonicalDocument:
        """Map a partner JSON document (``po_json``, ``shipment_confirmation_json``) in its own shape."""
        if document_type not in JSON_DOCUMENT_TYPES:
            raise MappingError(
                f"no inbound JSON mapping for document type {document_type!r}", field=document_type
            )
        if header.document_type is not self.canonical_type_for(document_type):
            raise MappingError(
                f"header.document_type {header.document_type.value!r} does not fit {document_type}",
                field="header",
            )
        rules = self.rules_for(profile, self._policy(profile, header.direction.value, document_type))
        namespace = profile.partner_id.lower() if profile is not None else "json"
        return cast(CanonicalDocument, read_json(data, document_type, rules, header, namespace))

    # --- outbound ---------------------------------------------------------------------------------------

    def canonical_to_x12(
        self,
        doc: CanonicalDocument,
        *,
        profile: PartnerProfile,
        policy: DocumentPolicy | None,
        control_number: str,
    ) -> TransactionSet:
        """One ST..SE set (SE01 counted) for an 850, 855, 856 or 810, with the partner's deviations.

        The segments written are the same in 004010 and 005010, so ``policy.version`` only goes
        into the envelope (GS08), which the caller builds; it must be one of those two releases.
        """
        if (
            policy is not None
            and policy.version is not None
            and policy.version[:6] not in ("004010", "005010")
        ):
            raise MappingError(
                f"partner {profile.partner_id}: X12 version {policy.version} is not written (004010, 005010)",
                field="version",
            )
        if not control_number.isalnum() or not 4 <= len(control_number) <= 9:
            raise MappingError(
                f"ST02 {control_number!r} must be 4-9 letters or digits", segment_id="ST", element=2
            )
        return to_x12(
            doc, self.rules_for(profile, policy), control_number, policy.version if policy else None
        )

    def canonical_to_json(
        self, doc: CanonicalDocument, *, profile: PartnerProfile, policy: DocumentPolicy
    ) -> bytes:
        """The partner's JSON for ``doc``: canonical JSON as it is (``canonical_json``), or the shape of
        ``policy.type`` (``po_json``, ``warehouse_order_json``, ``poack_json``) with its deviations."""
        namespace = profile.partner_id.lower()
        return write_json(doc, policy.type, self.rules_for(profile, policy), namespace)

    @staticmethod
    def outbound_policy(
        profile: PartnerProfile, document_type: str, wanted: str | None = None
    ) -> DocumentPolicy | None:
        """The partner's outbound rule for a canonical ``document_type`` (``purchase_order`` ...).

        ``wanted`` (a profile document type such as ``poack_json``, e.g. from the request) picks that
        rule when it carries this document; otherwise the first X12 set or shaped JSON type of the
        document in the profile's order, else a ``canonical_json`` rule. None when nothing fits."""
        rules = [d for d in profile.documents if d.direction is Direction.OUTBOUND]
        fitting = [rule for rule in rules if _carries(rule, document_type)]
        if wanted is not None:
            return next((rule for rule in fitting if rule.type == wanted), None)
        specific = [rule for rule in fitting if rule.type != CANONICAL_JSON]
        return next(iter(specific or fitting), None)

    @staticmethod
    def canonical_type_for(profile_document_type: str) -> DocumentType:
        """The canonical type of a profile document type: ``850``/``po_json`` -> purchase_order ..."""
        if profile_document_type in X12_DOCUMENT_TYPES:
            return X12_DOCUMENT_TYPES[profile_document_type]
        kind = JSON_TYPES.get(profile_document_type)
        if kind is not None and kind.canonical is not None:
            return kind.canonical
        raise MappingError(f"no canonical document type for {profile_document_type!r}", field="type")

    # --- helpers ----------------------------------------------------------------------------------------

    @staticmethod
    def business_number(doc: CanonicalDocument) -> str | None:
        """The number people search by: PO number, shipment ID, invoice number, confirmation ID."""
        if isinstance(doc, PurchaseOrder | PurchaseOrderAck):
            return doc.po_number
        if isinstance(doc, ShipNotice):
            return doc.shipment_id
        if isinstance(doc, ShipmentConfirmation):
            return doc.confirmation_id
        if isinstance(doc, Invoice):
            return doc.invoice_number
        first = next(iter(doc.set_results()), None)
        return None if first is None else f"{first[1].set_id} {first[1].control_number}"


def _carries(rule: DocumentPolicy, document_type: str) -> bool:
    """Whether an outbound rule can send a canonical document of ``document_type``."""
    if rule.format is DocumentFormat.X12:
        return X12_DOCUMENT_TYPES.get(rule.type) == document_type
    kind = JSON_TYPES.get(rule.type)
    return kind is not None and kind.writes and kind.canonical in (None, document_type)
