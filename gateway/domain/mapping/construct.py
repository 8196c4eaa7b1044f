"""Fast, checked construction of canonical models from the plain dicts the mappers build.

Full pydantic validation of a 50-line order costs more than the whole mapping budget
(1,000 orders per second), so mappers build plain dicts and this module turns them into
models through ``model_construct``-style instantiation, while still enforcing what
validation would: every field's constraints (string patterns and lengths, ``ge``/``le``,
list minimum lengths), enum members, required fields, and each model's own
``@model_validator(mode="after")`` checks. A violation raises :class:`Invalid` naming the
dict and field, which the mapper turns into an error at the segment or JSON path the dict
came from. Tests validate mapped documents with pydantic as well.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = ["CODE", "IDENTIFIER", "Invalid", "build", "make"]

_set = object.__setattr__


class Invalid(Exception):
    """A value breaks a model constraint: ``data`` is the dict being built, ``field`` its key."""

    def __init__(self, data: dict[str, Any], field: str, problem: str, value: object = None) -> None:
        super().__init__(f"{field}: {problem}")
        self.data, self.field, self.problem, self.value = data, field, problem, value


class _Check:
    """Constraints of one field (or list item): how to convert, and what to check."""

    __slots__ = (
        "choices",
        "enum",
        "ge",
        "inner",
        "kind",
        "le",
        "max_len",
        "min_len",
        "model",
        "pattern",
        "types",
    )  # fmt: skip

    def __init__(self) -> None:
        self.kind = "raw"
        self.inner: _Check | None = None
        self.model: type[BaseModel] | None = None
        self.choices: tuple[str, dict[str, type[BaseModel]]] | None = None
        self.enum: type[Enum] | None = None
        self.pattern: re.Pattern[str] | None = None
        self.min_len: int | None = None
        self.max_len: int | None = None
        self.ge: Any = None
        self.le: Any = None
        self.types: tuple[type, ...] | None = None


def _constrain(check: _Check, metadata: list[Any]) -> None:
    for item in metadata:
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):
            check.pattern = re.compile(pattern)
        for name, attr in (("min_len", "min_length"), ("max_len", "max_length")):
            if getattr(item, attr, None) is not None:
                setattr(check, name, getattr(item, attr))
        if isinstance(item, annotated_types.Ge):
            check.ge = item.ge
        elif isinstance(item, annotated_types.Le):
            check.le = item.le
        elif isinstance(item, annotated_types.MinLen):
            check.min_len = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            check.max_len = item.max_length


_SCALARS: dict[Any, tuple[type, ...]] = {
    str: (str,), int: (int,), Decimal: (Decimal,), date: (date,), time: (time,), datetime: (datetime,),
}  # fmt: skip


def _classify(tp: Any, metadata: list[Any]) -> _Check:
    check = _Check()
    _constrain(check, metadata)
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        inner = _classify(args[0], [*args[1:]])
        _constrain(inner, metadata)
        return inner
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            inner = _classify(options[0], metadata)
            return inner
        if all(isinstance(o, type) and issubclass(o, BaseModel) for o in options):
            check.kind, check.choices = "union", _discriminate(options)
        return check
    if origin is list:
        check.kind, check.inner = "list", _classify(args[0], [])
        return check
    if origin is dict:
        check.kind, check.inner = "dict", _classify(args[1], [])
        return check
    if origin is Literal:
        return check
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        check.kind, check.model = "model", tp
    elif isinstance(tp, type) and issubclass(tp, Enum):
        check.kind, check.enum = "enum", tp
    elif tp in _SCALARS:
        check.kind, check.types = "scalar", _SCALARS[tp]
        if tp is date:
            check.types = (date,)
    return check


def _discriminate(options: list[Any]) -> tuple[str, dict[str, type[BaseModel]]]:
    common = set.intersection(*(set(o.model_fields) for o in options))
    for name in sorted(common):
        mapping: dict[str, type[BaseModel]] = {}
        for option in options:
            annotation = option.model_fields[name].annotation
            if get_origin(annotation) is not Literal:
                break
            mapping.update(dict.fromkeys(get_args(annotation), option))
        else:
            return name, mapping
    raise TypeError(f"no discriminator for {options}")


class _Plan:
    __slots__ = ("checks", "defaults", "factories", "required", "validators")

    def __init__(self, cls: type[BaseModel]) -> None:
        fields: dict[str, FieldInfo] = cls.model_fields
        self.checks = {name: _classify(f.annotation, list(f.metadata)) for name, f in fields.items()}
        self.defaults = {
            n: f.default for n, f in fields.items() if f.default_factory is None and not f.is_required()
        }
        self.factories = [(n, f.default_factory) for n, f in fields.items() if f.default_factory is not None]
        self.required = [n for n, f in fields.items() if f.is_required()]
        decorators = cls.__pydantic_decorators__.model_validators.values()
        self.validators: list[Callable[[Any], Any]] = [d.func for d in decorators if d.info.mode == "after"]


@cache
def _plan(cls: type[BaseModel]) -> _Plan:
    return _Plan(cls)


def _coerce(target: type, text: str, data: dict[str, Any], field: str) -> Any:
    """Text (a configured default) as the field's type: decimal, whole number, ISO date/time."""
    try:
        if target is Decimal:
            number = Decimal(text)
            if not number.is_finite() or "e" in text.lower():
                raise ValueError(text)
            return number
        if target is int:
            return int(text)
        if target in (date, time, datetime):
            return target.fromisoformat(text)
    except (ValueError, ArithmeticError):
        raise Invalid(data, field, f"is not a valid {target.__name__}", text) from None
    return text


def _value(check: _Check, value: Any, data: dict[str, Any], field: str) -> Any:
    kind = check.kind
    if kind == "scalar":
        assert check.types is not None
        if isinstance(value, str) and check.types[0] is not str:
            value = _coerce(check.types[0], value, data, field)
        if not isinstance(value, check.types) or isinstance(value, bool):
            raise Invalid(data, field, f"must be {check.types[0].__name__}", value)
        if isinstance(value, str):
            pattern = check.pattern
            if pattern is not None and not pattern.match(value):
                raise Invalid(data, field, f"does not match {pattern.pattern}", value)
            if (check.max_len is not None and len(value) > check.max_len) or (
                check.min_len is not None and len(value) < check.min_len
            ):
                raise Invalid(data, field, f"must be {check.min_len or 0}-{check.max_len} characters", value)
        else:
            if check.ge is not None and value < check.ge:
                raise Invalid(data, field, f"must be at least {check.ge}", value)
            if check.le is not None and value > check.le:
                raise Invalid(data, field, f"must be at most {check.le}", value)
        if isinstance(value, Decimal) and not value.is_finite():
            raise Invalid(data, field, "must be a finite number", value)
        return value
    if kind == "raw":
        return value
    if kind == "model":
        assert check.model is not None
        return value if isinstance(value, BaseModel) else build(check.model, value)
    if kind == "list":
        assert check.inner is not None
        if check.min_len is not None and len(value) < check.min_len:
            raise Invalid(data, field, f"needs at least {check.min_len} item(s)")
        inner = check.inner
        if inner.kind == "raw" or (
            inner.kind in ("model", "union") and all(isinstance(v, BaseModel) for v in value)
        ):
            return value
        return [_value(inner, v, data, field) for v in value]
    if kind == "dict":
        assert check.inner is not None
        return {k: _value(check.inner, v, data, field) for k, v in value.items()}
    if kind == "enum":
        assert check.enum is not None
        if isinstance(value, check.enum):
            return value
        try:
            return check.enum(value)
        except ValueError:
            raise Invalid(data, field, "is not a known code", value) from None
    if kind == "union":
        if isinstance(value, BaseModel):
            return value
        assert check.choices is not None
        key, mapping = check.choices
        return build(mapping[value.get(key, next(iter(mapping)))], value)
    return value


def make(cls: type[BaseModel], data: dict[str, Any]) -> Any:
    """``cls`` from already-checked values (models, not dicts, for nested fields): no checks at all.

    Callers check each value where they read it (see :data:`CODE`, :data:`IDENTIFIER`) and
    uphold the model's own validators; tests validate the results with pydantic.
    """
    plan = _plan(cls)
    values = dict(plan.defaults)
    values.update(data)
    for name, factory in plan.factories:
        if name not in data:
            values[name] = factory()  # type: ignore[call-arg]
    obj = cls.__new__(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(data))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


#: The canonical ``Code`` pattern (qualifiers, units of measure ...).
CODE = re.compile(r"[A-Z0-9]{1,6}\Z")
#: The canonical ``Identifier`` pattern (trimmed single line); length is checked separately.
IDENTIFIER = re.compile(r"[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?\Z")


def build(cls: type[BaseModel], data: dict[str, Any]) -> Any:
    """``cls`` from ``data`` (nested dicts allowed), checked as validation would; raises :class:`Invalid`."""
    plan = _plan(cls)
    checks = plan.checks
    values: dict[str, Any] = dict(plan.defaults)
    for name, value in data.items():
        check = checks.get(name)
        if check is None:
            raise Invalid(data, name, f"is not a field of {cls.__name__}")
        if value is None:
            values[name] = None
            continue
        values[name] = _value(check, value, data, name)
    for name, factory in plan.factories:
        if name not in data:
            values[name] = factory()  # type: ignore[call-arg]
    for name in plan.required:
        if name not in data or data[name] is None:
            raise Invalid(data, name, "is required")
    obj = cls.__new__(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(data))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    for validator in plan.validators:
        try:
            validator(obj)
        except ValueError as exc:
            raise Invalid(data, next(iter(data), cls.__name__), str(exc)) from None
    return obj
