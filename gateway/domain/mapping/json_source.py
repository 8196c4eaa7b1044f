"""Reading a partner's JSON through its ``json_fields`` shape, with errors that name the JSON path.

A shape maps canonical field names to dotted paths in the partner's JSON
(``shipment_id: data.shipmentId``; a numeric part indexes a list: ``data.packages.0.trackingNumber``).
Names under a list field are relative to each element: with ``lines: data.items`` and
``lines.sku: article``, each line's SKU is ``data.items.N.article``.

A path starting with ``=`` is a fixed value rather than a place in the JSON, for what a
partner states in its key names: ``packages.weight: weightKg`` with
``packages.weight_unit: "=KG"``.

Dates and timestamps are ISO 8601 unless ``json_formats`` gives a partner's own format for
a shape name (``strptime`` directives, e.g. ``"%d.%m.%Y %H:%M"``); a timestamp format
without ``%z`` may name the partner's time zone after an ``@``
(``"%d.%m.%Y %H:%M@Europe/Berlin"``, or ``@UTC``, ``@+01:00``).

Everything read is marked consumed; :meth:`JsonSource.leftovers` returns every other
leaf as a JSON pointer and value, for ``extensions`` (nothing is dropped).

Numbers: read partner JSON with :func:`load_json`, which keeps every JSON number with a
fraction as the exact :class:`~decimal.Decimal` the partner wrote (``19.990``, ``0.00001``);
integers and decimal strings are exact too. (A float from a plain ``json.loads`` is still
taken by its shortest ``repr``, exact only up to 15 significant digits.) Leftover numbers
kept in ``extensions`` are JSON numbers there.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.domain.mapping.errors import MappingError

__all__ = ["JsonSource", "load_json", "zone"]

_MISSING = object()
_OFFSET = re.compile(r"([+-])([0-9]{2}):?([0-9]{2})\Z")


def load_json(content: bytes | str) -> Any:
    """Partner JSON with every number that has a fraction or exponent as an exact Decimal.

    Raises ValueError (``json.JSONDecodeError``) or UnicodeDecodeError for what is not JSON."""
    return json.loads(content, parse_float=Decimal)


def zone(name: str) -> dt.tzinfo:
    """``UTC``, an offset (``+01:00``) or an IANA zone name (``Europe/Berlin``) as a tzinfo."""
    if name.upper() in ("UTC", "Z"):
        return dt.UTC
    offset = _OFFSET.match(name)
    if offset is not None:
        sign = -1 if offset.group(1) == "-" else 1
        return dt.timezone(sign * dt.timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _json_number(value: Decimal) -> int | float:
    """A leftover number as a JSON value for ``extensions`` (which hold plain JSON)."""
    return (
        int(value) if value == value.to_integral_value() and value.as_tuple().exponent == 0 else float(value)
    )


def _pointer(parts: tuple[str, ...]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


class JsonSource:
    """One JSON object read through a shape; ``prefix`` selects the shape names of a list element."""

    def __init__(
        self,
        data: Any,
        fields: dict[str, str],
        *,
        prefix: str = "",
        base: tuple[str, ...] = (),
        consumed: set[tuple[str, ...]] | None = None,
        root: Any = None,
        formats: dict[str, str] | None = None,
    ) -> None:
        self.data = data
        self.fields = fields
        self.formats: dict[str, str] = formats or {}
        self.prefix = prefix
        self.base = base
        self.consumed: set[tuple[str, ...]] = consumed if consumed is not None else set()
        self.root = data if root is None else root

    # --- locating ---------------------------------------------------------------------------------------

    def parts(self, name: str) -> tuple[str, ...]:
        path = self.fields.get(self.prefix + name, name)
        return (*self.base, *path.split("."))

    def where(self, name: str) -> str:
        path = self.fields.get(self.prefix + name, name)
        if path.startswith("="):
            return f"json_fields.{self.prefix}{name}"
        return ".".join(self.parts(name))

    def raw(self, name: str, *, consume: bool = True) -> Any:
        path = self.fields.get(self.prefix + name, name)
        if path.startswith("="):  # a fixed value the partner states in a key name
            return path[1:]
        node: Any = self.root
        parts = self.parts(name)
        for part in parts:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return _MISSING
        if consume:
            self.consumed.add(parts)
        return None if node is None else node

    def has(self, name: str) -> bool:
        return self.raw(name) not in (_MISSING, None, "")

    def fail(self, name: str, problem: str, value: Any = None) -> MappingError:
        return MappingError.in_json(self.where(name), problem, value)

    # --- typed values -----------------------------------------------------------------------------------

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.raw(name)
        if value is _MISSING or value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(name, "is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(name, "must be a string", value)
        return str(value).strip()

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self.raw(name)
        if value is _MISSING or value is None or value == "":
            if required:
                raise self.fail(name, "is missing")
            return None
        if isinstance(value, Decimal):  # a JSON number read by load_json: exact as written
            if not value.is_finite():
                raise self.fail(name, "is not a finite number", str(value))
            return value
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(name, "must be a number", value)
        text = repr(value) if isinstance(value, float) else str(value).strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise self.fail(name, "is not a number", value) from None
        if not number.is_finite() or "e" in text.lower():
            raise self.fail(name, "is not a plain decimal number", value)
        return number

    def _format(self, name: str) -> tuple[str, str | None] | None:
        """The partner's ``json_formats`` entry for ``name``: (strptime format, time zone or None)."""
        spec = self.formats.get(self.prefix + name)
        if spec is None:
            return None
        form, _, zone_name = spec.partition("@")
        return form, zone_name or None

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        form = self._format(name)
        try:
            if form is not None:
                return dt.datetime.strptime(text, form[0]).date()
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            problem = f"is not a date in the format {form[0]!r}" if form else "is not a date (YYYY-MM-DD)"
            raise self.fail(name, problem, text) from None

    def timestamp(self, name: str, *, required: bool = False) -> dt.datetime | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        form = self._format(name)
        try:
            if form is not None:
                moment = dt.datetime.strptime(text, form[0])
                if moment.tzinfo is None and form[1] is not None:
                    moment = moment.replace(tzinfo=zone(form[1]))
            else:
                moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            problem = (
                f"is not a date and time in the format {form[0]!r}"
                if form
                else "is not an ISO 8601 date and time"
            )
            raise self.fail(name, problem, text) from None
        if moment.tzinfo is None:
            hint = "add %z or '@zone' to its json_formats entry" if form else "e.g. 'Z' or '+02:00'"
            raise self.fail(name, f"needs a time zone ({hint})", text)
        return moment

    def strings(self, name: str) -> list[str]:
        """A string, or a list of strings, as a list."""
        value = self.raw(name)
        if value is _MISSING or value is None:
            return []
        if isinstance(value, str):
            return [value.strip()] if value.strip() else []
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [v.strip() for v in value if v.strip()]
        raise self.fail(name, "must be a string or a list of strings", value)

    def each(self, name: str, *, shape: str | None = None) -> list[JsonSource]:
        """The elements of a list field, each read with the ``name.`` (or ``shape.``) shape names."""
        value = self.raw(name, consume=False)
        if value is _MISSING or value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(name, "must be a list", None)
        parts = self.parts(name)
        out = []
        for index, element in enumerate(value):
            where = (*parts, str(index))
            if not isinstance(element, dict):
                raise MappingError.in_json(".".join(where), "must be an object", element)
            out.append(
                JsonSource(element, self.fields, prefix=f"{shape or self.prefix + name}.", base=where,
                           consumed=self.consumed, root=self.root, formats=self.formats)
            )  # fmt: skip
        return out

    # --- what was not read ------------------------------------------------------------------------------

    def leftovers(self) -> list[tuple[str, Any]]:
        """(JSON pointer, value) of every leaf not read, in document order."""
        out: list[tuple[str, Any]] = []

        def visit(node: Any, parts: tuple[str, ...]) -> None:
            if parts in self.consumed:
                return
            if isinstance(node, dict) and node:
                for key, value in node.items():
                    visit(value, (*parts, str(key)))
            elif isinstance(node, list) and node:
                for index, value in enumerate(node):
                    visit(value, (*parts, str(index)))
            elif parts:
                out.append((_pointer(parts), _json_number(node) if isinstance(node, Decimal) else node))

        visit(self.root, ())
        return out
