"""Mappings between X12 / partner JSON and the canonical documents.

:class:`Mapper` is the entry point: ``Mapper.load(Path("mappings"))`` reads the named
variants; ``x12_to_canonical`` / ``json_to_canonical`` map inbound documents,
``canonical_to_x12`` builds outbound transaction sets. Partner deviations (from a variant
and the profile) are data, compiled into :class:`Rules`. Every failure is a
:class:`MappingError` that names the segment and element, or the JSON path, it came from.
"""

from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.json_docs import DEFAULT_SHAPES
from gateway.domain.mapping.json_shapes import CANONICAL_JSON, JSON_TYPES, JsonType
from gateway.domain.mapping.json_source import load_json
from gateway.domain.mapping.mapper import Mapper, functional_id_for, set_id_for
from gateway.domain.mapping.rules import CODE_LISTS, STANDARD_REFERENCES, Rules
from gateway.domain.mapping.variants import Variant, load_variants

__all__ = [
    "CANONICAL_JSON",
    "CODE_LISTS",
    "DEFAULT_SHAPES",
    "JSON_TYPES",
    "STANDARD_REFERENCES",
    "JsonType",
    "Mapper",
    "MappingError",
    "Rules",
    "Variant",
    "functional_id_for",
    "load_json",
    "load_variants",
    "set_id_for",
]
