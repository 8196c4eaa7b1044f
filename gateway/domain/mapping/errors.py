"""The one error the mapping raises: where in the source it went wrong, and why.

A :class:`MappingError` names its origin so an operator can find the bad value:
an X12 segment (ID, position counted from ST = 1, element number) or a JSON path
or a canonical field, e.g. ``PO102 (quantity) 'ABC' is not a number at segment 7 PO1``.
"""

from __future__ import annotations

__all__ = ["MappingError"]


class MappingError(Exception):
    """A document could not be mapped; the attributes say where (each may be None)."""

    def __init__(
        self,
        message: str,
        *,
        segment_id: str | None = None,
        segment_position: int | None = None,
        element: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.segment_id = segment_id
        self.segment_position = segment_position
        self.element = element
        self.field = field

    @classmethod
    def at(
        cls,
        segment_id: str,
        position: int | None,
        element: int | None,
        problem: str,
        *,
        field: str | None = None,
        value: str | None = None,
    ) -> MappingError:
        """An error located in an X12 segment: ``PO102 (quantity) 'ABC' is not ... at segment 7 PO1``."""
        where = f"{segment_id}{element:02d}" if element is not None else segment_id
        named = f"{where} ({field})" if field else where
        shown = f" {value!r}" if value is not None else ""
        at = f" at segment {position} {segment_id}" if position is not None else ""
        return cls(
            f"{named}{shown} {problem}{at}",
            segment_id=segment_id,
            segment_position=position,
            element=element,
            field=field,
        )

    @classmethod
    def in_json(
        cls, path: str, problem: str, value: object = None, *, show_value: bool = True
    ) -> MappingError:
        """An error located at a JSON path (dotted, as in ``json_fields``)."""
        shown = f" {value!r}" if show_value and value is not None else ""
        return cls(f"{path or '<document>'}{shown}: {problem}", field=path or None)
