"""Reading a partner's JSON through its ``json_fields`` shape, with errors that name the JSON path.

A shape maps canonical field names to dotted paths in the partner's JSON
(``shipment_id: data.shipmentId``; a numeric part indexes a list: ``data.packages.0.trackingNumber``).
Names under a list field are relative to each element: with ``lines: data.items`` and
``lines.sku: article``, each line's SKU is ``data.items.N.article``.

Everything read is marked consumed; :meth:`JsonSource.leftovers` returns every other
leaf as a JSON pointer and value, for ``extensions`` (nothing is dropped).

Numbers: integers and decimal strings are exact; a JSON number with a fraction arrives as
a Python float from ``json.loads`` and is taken by its shortest decimal representation
(``repr``), which is the text the partner sent for up to 15 significant digits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.domain.mapping.errors import MappingError

__all__ = ["JsonSource"]

_MISSING = object()


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
    ) -> None:
        self.data = data
        self.fields = fields
        self.prefix = prefix
        self.base = base
        self.consumed: set[tuple[str, ...]] = consumed if consumed is not None else set()
        self.root = data if root is None else root

    # --- locating ---------------------------------------------------------------------------------------

    def parts(self, name: str) -> tuple[str, ...]:
        path = self.fields.get(self.prefix + name, name)
        return (*self.base, *path.split("."))

    def where(self, name: str) -> str:
        return ".".join(self.parts(name))

    def raw(self, name: str, *, consume: bool = True) -> Any:
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

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            raise self.fail(name, "is not a date (YYYY-MM-DD)", text) from None

    def timestamp(self, name: str, *, required: bool = False) -> dt.datetime | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(name, "is not an ISO 8601 date and time", text) from None
        if moment.tzinfo is None:
            raise self.fail(name, "needs a time zone (e.g. 'Z' or '+02:00')", text)
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
                           consumed=self.consumed, root=self.root)
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
                out.append((_pointer(parts), node))

        visit(self.root, ())
        return out
