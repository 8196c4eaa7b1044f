"""Transaction-set schemas: X12 standard tables shipped as JSON data, loaded by version.

Shipped: 850, 855, 856, 810 and 997 for releases 004010 and 005010, and the
999 for 005010. The 999 does not exist before 005010, so
``load_schema("999", "004010")`` is ``None``: a 999 inside a 004010 group is
not standard, and the caller reports it as an unsupported set instead of
validating it against a later release.

GS08 values carry an industry suffix after the six-digit release
(``004010VICS``, ``004010X357``, ``005010X231A1``); :func:`resolve_version`
maps them to the base release whose schema applies. Releases without shipped
schemas (``003040``, ``004060``, ...) resolve to ``None``: the caller then
skips schema validation and checks envelopes only.
"""

from __future__ import annotations

from functools import lru_cache

from edi.errors import SchemaNotFound
from edi.schemas.loader import compile_schema, set_versions
from edi.schemas.model import (
    UNBOUNDED,
    CompositeDef,
    ElementDef,
    ElementUse,
    Hierarchy,
    LoopDef,
    SegmentDef,
    SegmentUse,
    SyntaxRule,
    TransactionSetSchema,
)

__all__ = [
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

#: Base releases that have schemas.
SUPPORTED_VERSIONS = ("004010", "005010")
#: Transaction sets that have schemas in at least one supported release.
SUPPORTED_SETS = ("810", "850", "855", "856", "997", "999")


def resolve_version(gs08: str) -> str | None:
    """The base release whose schemas apply to a GS08 value, or ``None``.

    >>> resolve_version("004010VICS"), resolve_version("005010X231A1"), resolve_version("004060")
    ('004010', '005010', None)
    """
    base = gs08.strip()[:6]
    return base if base in SUPPORTED_VERSIONS else None


def load_schema(set_id: str, version: str) -> TransactionSetSchema | None:
    """The compiled schema of ``set_id`` for ``version`` (a GS08 value or base release).

    Cached per base release: ``load_schema("850", "004010VICS")`` is the very
    object ``load_schema("850", "004010")`` returns. ``None`` when the release
    or the set has no shipped schema.
    """
    base = resolve_version(version)
    if base is None or set_id not in SUPPORTED_SETS:
        return None
    return _load(set_id, base)


@lru_cache(maxsize=32)
def _load(set_id: str, base: str) -> TransactionSetSchema | None:
    return compile_schema(set_id, base)


def require_schema(set_id: str, version: str) -> TransactionSetSchema:
    """Like :func:`load_schema`, but raise :class:`~edi.errors.SchemaNotFound` instead of ``None``."""
    schema = load_schema(set_id, version)
    if schema is None:
        shipped = set_versions(set_id) if set_id in SUPPORTED_SETS else ()
        hint = f" (shipped for {', '.join(shipped)})" if shipped else ""
        raise SchemaNotFound(f"no schema for transaction set {set_id!r} version {version!r}{hint}")
    return schema
