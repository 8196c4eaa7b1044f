"""What a message filter's document type names: canonical types and X12 set IDs, in either spelling.

Support staff think in both: ``purchase_order`` (the canonical type ERP sees) and ``850``
(the X12 transaction set the partner sent). A payload that never became a canonical
document (it failed parsing or mapping, was rejected by validation, or its set is one we
do not map) is only known by its transaction sets, and that is exactly what gets replayed
after a fix. So a type filter names both: the canonical types to look for among a payload's
documents, and the set IDs to look for among its transaction sets. The table between the
two is :data:`~gateway.domain.canonical.X12_DOCUMENT_TYPES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.canonical import X12_DOCUMENT_TYPES, DocumentType

__all__ = ["TypeSelection", "type_selection"]


@dataclass(frozen=True, slots=True)
class TypeSelection:
    """A payload matches when one of its documents has one of ``document_types`` or one of its
    transaction sets has one of ``set_ids``."""

    document_types: frozenset[str]
    set_ids: frozenset[str]


def type_selection(value: str) -> TypeSelection:
    """The canonical types and set IDs a type filter value means.

    * a canonical type (``purchase_order``) means itself and every set ID mapped to it
      (``850``; ``functional_ack`` means ``997``, ``999`` and ``TA1``);
    * a set ID (``850``) means itself and its canonical type, unless other set IDs map to
      that type too: ``997`` must not select a payload whose acknowledgement was a 999, so an
      ambiguous set ID is looked for among transaction sets only;
    * anything else is looked for as given among both (a type added without a table entry
      still matches where it is stored).

    Case is forgiven (``Purchase_Order``, ``ta1``); surrounding blanks are ignored.
    """
    given = value.strip()
    set_id = given.upper()
    if set_id in X12_DOCUMENT_TYPES:
        canonical = X12_DOCUMENT_TYPES[set_id]
        siblings = _set_ids(canonical)
        types = frozenset({canonical.value}) if siblings == {set_id} else frozenset()
        return TypeSelection(types, frozenset({set_id}))
    name = given.lower()
    if name in _CANONICAL:
        return TypeSelection(frozenset({name}), _set_ids(DocumentType(name)))
    return TypeSelection(frozenset({given}), frozenset({given}))


_CANONICAL = frozenset(t.value for t in DocumentType)


def _set_ids(document_type: DocumentType) -> frozenset[str]:
    return frozenset(s for s, t in X12_DOCUMENT_TYPES.items() if t is document_type)
