"""Fast, checked construction of canonical models from the plain dicts the mappers build.

Full pydantic validation of a 50-line order costs more than the whole mapping budget
(1,000 orders per second), so mappers build plain dicts and this module turns them into
models through ``model_construct``-style instantiation, while still enforcing what
validation would: every field's constraints (string patterns and lengths, ``ge``/``le``,
list minimum lengths), enum members, required fields, and each model's own
``@model_validator(mode="after")`` checks. A violation raises :class:`Invalid` naming the
dict and field, which the mapper turns into an error at the segment or JSON path the dict
came from. Tests validate mapped documents with pydantic as well.

Each model class is analysed once (:class:`_Plan`): every field gets a checker closure
specialised for its kind (string, decimal, enum, nested model, list ...), and the model
gets a generated instantiation function (its defaults, fresh ``[]``/``{}`` for
``default_factory`` fields, the slots pydantic expects), the way :mod:`dataclasses`
generates ``__init__``.
"""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import AwareDatetime, BaseModel, JsonValue
from pydantic.fields import FieldInfo

__all__ = ["CODE", "IDENTIFIER", "Invalid", "build", "check_value", "fixed", "make", "maker"]

#: ``checker(value, data, field) -> value``: the value as the model stores it, or :class:`Invalid`.
Checker = Callable[[Any, dict[str, Any], str], Any]


class Invalid(Exception):
    """A value breaks a model constraint: ``data`` is the dict being built, ``field`` its key."""

    def __init__(self, data: dict[str, Any], field: str, problem: str, value: object = None) -> None:
        super().__init__(f"{field}: {problem}")
        self.data, self.field, self.problem, self.value = data, field, problem, value


class _Spec:
    """Constraints of one field (or list item), read from its annotation."""

    def __init__(self) -> None:
        self.kind = "raw"
        self.inner: _Spec | None = None
        self.key: _Spec | None = None
        self.options: list[_Spec] = []
        self.literals: tuple[Any, ...] = ()
        self.aware = False
        self.model: type[BaseModel] | None = None
        self.choices: tuple[str, dict[str, type[BaseModel]]] | None = None
        self.enum: type[Enum] | None = None
        self.pattern: re.Pattern[str] | None = None
        self.min_len: int | None = None
        self.max_len: int | None = None
        self.ge: Any = None
        self.le: Any = None
        self.type: type = object


def _constrain(spec: _Spec, metadata: list[Any]) -> None:
    for item in metadata:
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):  # '$' as pydantic reads it: the very end, not before a final newline
            spec.pattern = re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)
        for name, attr in (("min_len", "min_length"), ("max_len", "max_length")):
            if getattr(item, attr, None) is not None:
                setattr(spec, name, getattr(item, attr))
        if isinstance(item, annotated_types.Ge):
            spec.ge = item.ge
        elif isinstance(item, annotated_types.Le):
            spec.le = item.le
        elif isinstance(item, annotated_types.MinLen):
            spec.min_len = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            spec.max_len = item.max_length


_SCALARS = (str, int, Decimal, date, time, datetime)


def _classify(tp: Any, metadata: list[Any]) -> _Spec:
    spec = _Spec()
    _constrain(spec, metadata)
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        inner = _classify(args[0], [*args[1:]])
        _constrain(inner, metadata)
        return inner
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return _classify(options[0], metadata)
        if all(isinstance(o, type) and issubclass(o, BaseModel) for o in options):
            spec.kind, spec.choices = "union", _discriminate(options)
        else:
            spec.kind, spec.options = "anyof", [_classify(o, []) for o in options]
        return spec
    if tp is JsonValue:
        spec.kind = "json"
    elif origin in (list, dict):
        spec.kind, spec.inner = origin.__name__, _classify(args[-1], [])
        if origin is dict:
            spec.key = _classify(args[0], [])
    elif origin is Literal:
        spec.kind, spec.literals = "literal", args
    elif tp is AwareDatetime:
        spec.kind, spec.type, spec.aware = "scalar", datetime, True
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        spec.kind, spec.model = "model", tp
    elif isinstance(tp, type) and issubclass(tp, Enum):
        spec.kind, spec.enum = "enum", tp
    elif tp in _SCALARS:
        spec.kind, spec.type = "scalar", tp
    return spec


def _allows_none(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _allows_none(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(a is type(None) or _allows_none(a) for a in get_args(annotation))
    return annotation is type(None) or annotation is Any


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


#: The text forms :func:`_coerce` accepts (a subset of what pydantic reads, so both agree).
_TEXT_FORMS: dict[type, re.Pattern[str]] = {
    Decimal: re.compile(r"-?[0-9]+(\.[0-9]+)?\Z"),
    int: re.compile(r"-?[0-9]+\Z"),
    date: re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
    time: re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2})?\Z"),
    datetime: re.compile(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?\Z"
    ),
}


def _coerce(target: type, text: str, data: dict[str, Any], field: str) -> Any:
    """Text (a configured default) as the field's type: decimal, whole number, ISO date/time."""
    form = _TEXT_FORMS.get(target)
    try:
        if form is None or form.match(text) is None:
            raise ValueError(text)
        if target is Decimal:
            return Decimal(text)
        if target is int:
            return int(text)
        if target is datetime:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        return target.fromisoformat(text)  # type: ignore[attr-defined]
    except (ValueError, ArithmeticError):
        raise Invalid(data, field, f"is not a valid {target.__name__}", text) from None


def _scalar(spec: _Spec) -> Checker:
    target, pattern, min_len, max_len, ge, le = (
        spec.type, spec.pattern, spec.min_len, spec.max_len, spec.ge, spec.le
    )  # fmt: skip
    wrong = f"must be {target.__name__}"
    shown = pattern.pattern.removesuffix("\\Z") + "$" if pattern is not None else ""
    exact, aware = target is date, spec.aware  # a datetime is a date subclass, but not a date value
    sized = f"must be {min_len or 0}-{max_len} characters"

    trimmed = pattern is not None and pattern.pattern == "^" + IDENTIFIER.pattern
    #: Values that passed (bounded): codes and qualifiers repeat, so most checks are a set lookup.
    passed: set[str] = set()

    def check_str(value: Any, data: dict[str, Any], field: str) -> Any:
        if not isinstance(value, str):
            raise Invalid(data, field, wrong, value)
        if value in passed:
            return value
        if pattern is not None and not (
            # trimmed single-line text: a printable value without edge spaces matches (no regex needed)
            (trimmed and value and value.isprintable() and value[0] != " " and value[-1] != " ")
            or pattern.match(value)
        ):
            raise Invalid(data, field, f"does not match {shown}", value)
        if (max_len is not None and len(value) > max_len) or (min_len is not None and len(value) < min_len):
            raise Invalid(data, field, sized, value)
        if len(passed) < 4096:
            passed.add(value)
        return value

    def check_other(value: Any, data: dict[str, Any], field: str) -> Any:
        if isinstance(value, str):
            value = _coerce(target, value, data, field)
        if not isinstance(value, target) or isinstance(value, bool) or (exact and type(value) is not target):
            raise Invalid(data, field, wrong, value)
        if aware and getattr(value, "tzinfo", None) is None:
            raise Invalid(data, field, "needs a time zone", value)
        if isinstance(value, Decimal) and not value.is_finite():
            raise Invalid(data, field, "must be a finite number", value)
        if ge is not None and value < ge:
            raise Invalid(data, field, f"must be at least {ge}", value)
        if le is not None and value > le:
            raise Invalid(data, field, f"must be at most {le}", value)
        return value

    return check_str if target is str else check_other


def _checker(spec: _Spec) -> Checker:
    """The checker for ``spec``: what :func:`build` runs on each non-None value of the field."""
    kind = spec.kind
    if kind == "scalar":
        return _scalar(spec)
    if kind == "model":
        model = spec.model
        assert model is not None
        return _model(model)
    if kind == "list":
        assert spec.inner is not None
        return _list(spec.inner, spec.min_len)
    if kind == "dict":
        assert spec.inner is not None
        assert spec.key is not None
        return _dict(_checker(spec.key), _checker(spec.inner))
    if kind == "literal":
        return _literal(spec.literals)
    if kind == "anyof":
        return _anyof([_checker(option) for option in spec.options])
    if kind == "json":
        return _json
    if kind == "enum":
        return _enum(spec.enum)
    if kind == "union":
        assert spec.choices is not None
        key, mapping = spec.choices
        models = tuple(set(mapping.values()))

        def check_union(value: Any, data: dict[str, Any], field: str) -> Any:
            if isinstance(value, models):
                return value
            if not isinstance(value, dict):
                raise Invalid(data, field, "must be an object", None)
            tag = value.get(key)
            if type(tag) is not str or tag not in mapping:
                raise Invalid(data, field, f"{key} must be one of {', '.join(map(str, mapping))}", tag)
            return build(mapping[tag], value)

        return check_union
    return lambda value, data, field: value


def _model(model: type[BaseModel]) -> Checker:
    def check_model(value: Any, data: dict[str, Any], field: str) -> Any:
        if isinstance(value, model):
            return value
        if not isinstance(value, dict):
            raise Invalid(data, field, f"must be a {model.__name__} object", None)
        return build(model, value)

    return check_model


def _dict(key: Checker, each: Checker) -> Checker:
    def check_dict(value: Any, data: dict[str, Any], field: str) -> Any:
        if not isinstance(value, dict):
            raise Invalid(data, field, "must be an object", None)
        return {key(k, data, field): each(v, data, field) for k, v in value.items()}

    return check_dict


def _literal(choices: tuple[Any, ...]) -> Checker:
    allowed = f"must be one of {', '.join(map(repr, choices))}"

    def check_literal(value: Any, data: dict[str, Any], field: str) -> Any:
        if type(value) is not str or value not in choices:  # literals are text; no coercion
            raise Invalid(data, field, allowed, value)
        return value

    return check_literal


def _anyof(checkers: list[Checker]) -> Checker:
    def check_anyof(value: Any, data: dict[str, Any], field: str) -> Any:
        problem: Invalid | None = None
        for check in checkers:
            try:
                return check(value, data, field)
            except Invalid as exc:
                problem = exc
        assert problem is not None
        raise problem

    return check_anyof


def _json(value: Any, data: dict[str, Any], field: str) -> Any:
    """A JSON value as pydantic's ``JsonValue`` takes it (no Decimal, no tuples, string keys)."""
    if value is None or type(value) in (str, bool, int):
        return value
    if type(value) is float and math.isfinite(value):
        return value
    if type(value) is list:
        return [_json(v, data, field) for v in value]
    if type(value) is dict and all(type(k) is str for k in value):
        return {k: _json(v, data, field) for k, v in value.items()}
    raise Invalid(data, field, "is not a JSON value", None)


def _list(inner: _Spec, min_len: int | None) -> Checker:
    each = _checker(inner)
    raw = inner.kind == "raw"
    models: tuple[type[BaseModel], ...] = ()
    if inner.kind == "model" and inner.model is not None:
        models = (inner.model,)
    elif inner.kind == "union" and inner.choices is not None:
        models = tuple(set(inner.choices[1].values()))
    short = f"needs at least {min_len} item(s)"

    def check_list(value: Any, data: dict[str, Any], field: str) -> Any:
        if not isinstance(value, list):
            raise Invalid(data, field, "must be a list", None)
        if min_len is not None and len(value) < min_len:
            raise Invalid(data, field, short)
        if raw:
            return value
        if models:
            for item in value:
                if not isinstance(item, models):
                    break
            else:
                return value
        return [each(v, data, field) for v in value]

    return check_list


def _enum(enum: type[Enum] | None) -> Checker:
    assert enum is not None

    def check_enum(value: Any, data: dict[str, Any], field: str) -> Any:
        if isinstance(value, enum):
            return value
        try:
            return enum(value)
        except ValueError:
            raise Invalid(data, field, "is not a known code", value) from None

    return check_enum


#: Setters of the slots every pydantic model instance has (faster than ``object.__setattr__``).
_SLOTS = {
    "set_dict": BaseModel.__dict__["__dict__"].__set__,
    "set_fields": BaseModel.__dict__["__pydantic_fields_set__"].__set__,
    "set_extra": BaseModel.__dict__["__pydantic_extra__"].__set__,
    "set_private": BaseModel.__dict__["__pydantic_private__"].__set__,
}
_NEW_INSTANCE = """\
    obj = new(cls)
    set_dict(obj, {values})
    set_fields(obj, {fields})
    set_extra(obj, None)
    set_private(obj, None)
    return obj
"""
_LITERALS: dict[Any, str] = {list: "[]", dict: "{}"}


def _generate(cls: type[BaseModel], head: str, body: str, values: str, fields: str, **names: Any) -> Any:
    """Compile ``head`` + ``body`` + the instantiation of ``cls`` (a function from field names only)."""
    namespace: dict[str, Any] = {"new": cls.__new__, "cls": cls, **_SLOTS, **names}
    exec(head + body + _NEW_INSTANCE.format(values=values, fields=fields), namespace)
    return namespace[head.split()[1].split("(")[0]]


def _instantiate(cls: type[BaseModel], factories: list[tuple[str, Any]]) -> Callable[..., Any]:
    """Generated ``instantiate(values, data)``: adds fresh containers for the ``default_factory``
    fields missing from ``data`` to ``values`` (in field order) and makes the instance."""
    fresh = "".join(
        f"    if {name!r} not in data:\n"
        f"        values[{name!r}] = {_LITERALS.get(factory, f'factories[{i}]()')}\n"
        for i, (name, factory) in enumerate(factories)
    )
    factory_list = [f for _, f in factories]
    return _generate(  # type: ignore[no-any-return]
        cls, "def instantiate(values, data):\n", fresh, "values", "set(data)", factories=factory_list
    )


def _fixed(cls: type[BaseModel], plan: _Plan, names: tuple[str, ...]) -> Callable[..., Any]:
    """Generated ``new(*values)``: what ``make(cls, dict(zip(names, values)))`` makes, keys in the same
    order (defaults, then the other given fields, then fresh default-factory containers)."""
    unknown = [n for n in names if n not in plan.checks]
    if unknown or len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__}: not distinct fields {names}")
    args = {n: f"a{i}" for i, n in enumerate(names)}
    defaults = {f"d{i}": value for i, value in enumerate(plan.defaults.values())}
    items = [f"{n!r}: {args.get(n, f'd{i}')}" for i, n in enumerate(plan.defaults)]
    items += [f"{n!r}: {args[n]}" for n in names if n not in plan.defaults]
    items += [
        f"{n!r}: {_LITERALS.get(factory, f'factories[{i}]()')}"
        for i, (n, factory) in enumerate(plan.factories)
        if n not in args
    ]
    fields = "{" + ", ".join(map(repr, names)) + "}" if names else "set()"
    return _generate(  # type: ignore[no-any-return]
        cls, f"def construct({', '.join(args.values())}):\n", "", "{" + ", ".join(items) + "}", fields,
        factories=[f for _, f in plan.factories], **defaults,
    )  # fmt: skip


class _Plan:
    """What :func:`build` and :func:`make` need to know about one model class."""

    def __init__(self, cls: type[BaseModel]) -> None:
        fields: dict[str, FieldInfo] = cls.model_fields
        self.name = cls.__name__
        self.checks = {n: _checker(_classify(f.annotation, list(f.metadata))) for n, f in fields.items()}
        self.defaults = {
            n: f.default for n, f in fields.items() if f.default_factory is None and not f.is_required()
        }
        self.cls = cls
        self.factories = [(n, f.default_factory) for n, f in fields.items() if f.default_factory is not None]
        self.instantiate = _instantiate(cls, self.factories)
        self.fixed: dict[tuple[str, ...], Callable[..., Any]] = {}
        self.required = [n for n, f in fields.items() if f.is_required()]
        self.nullable = frozenset(n for n, f in fields.items() if _allows_none(f.annotation))
        decorators = cls.__pydantic_decorators__.model_validators.values()
        self.validators: list[Callable[[Any], Any]] = [d.func for d in decorators if d.info.mode == "after"]
        defaults = self.defaults
        instantiate = self.instantiate

        def make(data: dict[str, Any]) -> Any:
            values = defaults.copy()
            values.update(data)
            return instantiate(values, data)

        self.make: Callable[[dict[str, Any]], Any] = make


_PLANS: dict[type[BaseModel], _Plan] = {}


def _plan(cls: type[BaseModel]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


def maker(cls: type[BaseModel]) -> Callable[[dict[str, Any]], Any]:
    """``make`` bound to ``cls`` (for hot paths that build many instances of one model)."""
    return _plan(cls).make


def fixed(cls: type[BaseModel], *names: str) -> Callable[..., Any]:
    """A constructor taking the values of ``names`` positionally: ``fixed(Quantity, "value", "unit")(v, u)``
    is ``make(Quantity, {"value": v, "unit": u})``, without building the dict (hot paths)."""
    plan = _plan(cls)
    new = plan.fixed.get(names)
    if new is None:
        new = plan.fixed[names] = _fixed(cls, plan, names)
    return new


def make(cls: type[BaseModel], data: dict[str, Any]) -> Any:
    """``cls`` from already-checked values (models, not dicts, for nested fields): no checks at all.

    Callers check each value where they read it (see :data:`CODE`, :data:`IDENTIFIER`) and
    uphold the model's own validators; tests validate the results with pydantic.
    """
    return _plan(cls).make(data)


#: The canonical ``Code`` pattern (qualifiers, units of measure ...).
CODE = re.compile(r"[A-Z0-9]{1,6}\Z")
#: The canonical ``Identifier`` pattern (trimmed single line); length is checked separately.
IDENTIFIER = re.compile(r"[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?\Z")


def build(cls: type[BaseModel], data: dict[str, Any]) -> Any:
    """``cls`` from ``data`` (nested dicts allowed), checked as validation would; raises :class:`Invalid`."""
    plan = _plan(cls)
    checks = plan.checks
    values: dict[str, Any] = plan.defaults.copy()
    nullable = plan.nullable
    for name, value in data.items():
        check = checks.get(name)
        if check is None:
            raise Invalid(data, name, f"is not a field of {plan.name}")
        if value is not None:
            values[name] = check(value, data, name)
        elif name in nullable:
            values[name] = None
        else:
            raise Invalid(data, name, "is required" if name in plan.required else "must not be null")
    obj = plan.instantiate(values, data)
    for name in plan.required:
        if name not in data or data[name] is None:
            raise Invalid(data, name, "is required")
    for validator in plan.validators:
        try:
            validator(obj)
        except ValueError as exc:
            raise Invalid(data, next(iter(data), plan.name), str(exc)) from None
    return obj


def check_value(model: type[BaseModel], path: str, value: Any) -> Any:
    """``value`` as the field at dotted ``path`` of ``model`` stores it (text converted as a configured
    default is); a ValueError saying why when the field would reject it."""
    *parents, last = path.split(".")
    target: Any = model
    for part in parents:
        spec = _classify(target.model_fields[part].annotation, [])
        while spec.kind == "list" and spec.inner is not None:
            spec = spec.inner
        if spec.model is None:
            raise ValueError(f"{part} is not an object")
        target = spec.model
    check = _plan(target).checks.get(last)
    if check is None:
        raise ValueError(f"{target.__name__} has no field {last}")
    try:
        return check(value, {}, last)
    except Invalid as exc:
        raise ValueError(exc.problem) from None
