"""Extensions: source content with no canonical home, carried so that mapping never drops data.

Shape (on documents, lines and hierarchy levels)::

    extensions: {namespace: [extension, ...]}

``namespace`` names where the content came from: ``"x12"`` for X12 segments,
or a source format name such as ``"supplier.acme"`` for JSON. Order inside a
list is the order in the source.

Two kinds of extension, told apart by ``kind``:

* ``segment`` -- one X12 segment, kept whole so it can be re-emitted:
  ``segment`` (ID), ``elements`` (XX01 first; a simple element is a string, a
  composite is the list of its components, so no delimiter leaks into the
  canonical form), ``loop`` (the loop it was found in) and, for qualifier-led
  segments such as REF/DTM/N9, ``qualifier`` and ``value`` which must repeat
  the first two elements.
* ``field`` -- one JSON value from a JSON source: ``path`` (a JSON pointer into
  the source payload) and ``value`` (the JSON value as received).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field, JsonValue, StringConstraints, model_validator

from gateway.domain.canonical.primitives import CanonicalModel

__all__ = [
    "Extension",
    "ExtensionElement",
    "Extensions",
    "FieldExtension",
    "Namespace",
    "SegmentExtension",
    "segment_extensions",
]

#: One element of an extension segment: a simple value, or a composite's components.
ExtensionElement = str | list[str]

#: Extension namespace, e.g. ``x12`` or ``supplier.acme``.
Namespace = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]

SegmentId = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{1,2}$")]


def _first_text(element: ExtensionElement) -> str:
    return element if isinstance(element, str) else (element[0] if element else "")


class SegmentExtension(CanonicalModel):
    """An X12 segment kept whole for re-emission."""

    kind: Literal["segment"] = "segment"
    segment: SegmentId
    """Segment ID, e.g. ``REF``."""
    elements: list[ExtensionElement] = Field(min_length=1)
    """Elements XX01.. without delimiters; trailing empty elements may be omitted."""
    loop: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{1,12}$")
    """Loop ID the segment was found in (e.g. ``N1``, ``PO1``, ``HL``); None for the heading area."""
    qualifier: str | None = None
    """For qualifier-led segments: a copy of XX01."""
    value: str | None = None
    """For qualifier-led segments: a copy of XX02."""

    @model_validator(mode="after")
    def _copies_agree(self) -> SegmentExtension:
        if self.qualifier is not None and self.qualifier != _first_text(self.elements[0]):
            raise ValueError(f"qualifier {self.qualifier!r} is not element 01 {self.elements[0]!r}")
        if self.value is not None:
            second = self.elements[1] if len(self.elements) > 1 else None
            if second is None or self.value != _first_text(second):
                raise ValueError(f"value {self.value!r} is not element 02 {second!r}")
        return self

    @classmethod
    def from_elements(
        cls,
        segment: str,
        elements: Sequence[ExtensionElement],
        *,
        loop: str | None = None,
        qualified: bool = True,
    ) -> SegmentExtension:
        """Build one from split elements; ``qualified`` fills ``qualifier``/``value`` from XX01/XX02."""
        items = list(elements)
        qualifier = value = None
        if qualified and items:
            qualifier = _first_text(items[0]) or None
            value = (_first_text(items[1]) or None) if len(items) > 1 else None
        return cls(segment=segment, elements=items, loop=loop, qualifier=qualifier, value=value)


class FieldExtension(CanonicalModel):
    """A JSON value from a JSON source that has no canonical field."""

    kind: Literal["field"] = "field"
    path: str = Field(pattern=r"^(/([^~/]|~[01])*)+$")
    """JSON pointer (RFC 6901) into the source payload, e.g. ``/lines/0/colour``."""
    value: JsonValue
    """The value as received."""


Extension = Annotated[SegmentExtension | FieldExtension, Field(discriminator="kind")]

#: The ``extensions`` field type: namespace -> extensions in source order.
Extensions = dict[Namespace, list[Extension]]


def segment_extensions(
    extensions: Extensions, segment: str, namespace: str = "x12"
) -> list[SegmentExtension]:
    """The segment extensions with ID ``segment`` in ``namespace``, in source order."""
    return [
        ext
        for ext in extensions.get(namespace, [])
        if isinstance(ext, SegmentExtension) and ext.segment == segment
    ]
