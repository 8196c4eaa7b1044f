"""Canonical field paths as the deviations name them (``po_number``, ``lines.item.buyer_part``).

The mapping engine and the profile checks both need to know what a dotted path reaches in
a canonical model: the annotation at its end, whether it crosses a list (every line), and
whether it ends at a single value (text, code, number, date, time) that one X12 element or
one configured default can hold.
"""

from __future__ import annotations

import datetime as dt
import types
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

__all__ = ["FieldInfo", "is_scalar", "resolve", "scalar_fields", "scalar_type"]

_SCALARS = (str, int, Decimal, dt.date, dt.time, dt.datetime)


def _unwrap(annotation: Any) -> Any:
    """``X`` of ``Annotated[X, ...]`` and ``X | None`` (other unions stay as they are)."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def scalar_type(annotation: Any) -> type | None:
    """The Python type a single-valued field holds (``str`` for codes, enums and literals), or None."""
    base = _unwrap(annotation)
    if get_origin(base) is Literal:
        return str
    if isinstance(base, type) and issubclass(base, Enum):
        return str
    if isinstance(base, type) and issubclass(base, _SCALARS) and not issubclass(base, bool):
        for kind in (dt.datetime, dt.date, dt.time, Decimal, int, str):
            if issubclass(base, kind):
                return kind
    return None


def is_scalar(annotation: Any) -> bool:
    return scalar_type(annotation) is not None


class FieldInfo:
    """What a path reaches: the end annotation and whether it passed through a list."""

    __slots__ = ("annotation", "through_list")

    def __init__(self, annotation: Any, through_list: bool) -> None:
        self.annotation = annotation
        self.through_list = through_list


def resolve(model: type[BaseModel], path: str) -> FieldInfo | None:
    """Follow ``path`` through nested models and lists; None when a part is not a field."""
    annotation: Any = model
    through_list = False
    for part in path.split("."):
        base = _unwrap(annotation)
        if get_origin(base) is list:
            through_list = True
            base = _unwrap(get_args(base)[0])
        if not (isinstance(base, type) and issubclass(base, BaseModel)):
            return None
        field = base.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
    return FieldInfo(annotation, through_list)


def scalar_fields(model: type[BaseModel]) -> list[str]:
    """The model's own single-valued fields (not ``type`` and ``schema_version``)."""
    return [
        name
        for name, field in model.model_fields.items()
        if name not in ("type", "schema_version") and is_scalar(field.annotation)
    ]
