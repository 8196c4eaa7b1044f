"""The parts every partner-JSON reader shares: items, quantities, parties, leftovers, validation.

A :class:`Builder` turns what a :class:`~.json_source.JsonSource` reads into the plain dicts
the canonical models are built from, remembering for each dict where in the JSON each field
came from, so a value the model rejects is reported at its JSON path (or, for a configured
default, at the ``defaults`` setting).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from gateway.domain.mapping.construct import Invalid, build
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.json_shapes import PARTIES, PARTY_FIELDS
from gateway.domain.mapping.json_source import JsonSource
from gateway.domain.mapping.rules import Rules
from gateway.domain.mapping.x12_walk import apply_default

__all__ = ["DIGIT_IDS", "Builder", "Doc"]

Doc = dict[str, Any]

#: Item fields that hold digits (GTIN, UPC, EAN) and their X12 qualifiers, for values that are not.
DIGIT_IDS = {"upc": "UP", "gtin": "UK", "ean": "EN"}
_TEXT_IDS = ("sku", "vendor_part", "buyer_part", "description")


class Builder:
    """Reads one JSON document through its shape into canonical dicts; errors name the JSON path."""

    def __init__(self, src: JsonSource, rules: Rules) -> None:
        self.src = src
        self.rules = rules
        self.origins: dict[int, dict[str, str]] = {}
        self.defaulted: dict[tuple[int, str], str] = {}

    def note(self, data: Doc, src: JsonSource, fields: dict[str, str]) -> Doc:
        self.origins.setdefault(id(data), {}).update({key: src.where(name) for key, name in fields.items()})
        return data

    def item(self, line: JsonSource) -> Doc:
        item: Doc = {}
        other: list[Doc] = []
        for name in _TEXT_IDS:
            if (value := line.text(name)) is not None:
                item[name] = value
        for name, qualifier in DIGIT_IDS.items():
            if (value := line.text(name)) is not None:
                if value.isascii() and value.isdigit() and 6 <= len(value) <= 14:
                    item[name] = value
                else:
                    other.append(self.note({"qualifier": qualifier, "value": value}, line, {"value": name}))
        if other:
            item["other"] = other
        return self.note(item, line, {n: n for n in (*_TEXT_IDS, *DIGIT_IDS)})

    def quantity(self, line: JsonSource, name: str, *, required: bool, unit: str = "unit") -> Doc | None:
        value = line.decimal(name, required=required)
        if value is None:
            return None
        qty: Doc = {"value": value}
        if (text := line.text(unit)) is not None:
            qty["unit"] = self.rules.code("uom", text.upper())
        return self.note(qty, line, {"value": name, "unit": unit})

    def party(self, role: str) -> Doc | None:
        src = self.src
        if not any(src.has(f"{role}.{n}") for n in PARTY_FIELDS):
            return None
        party: Doc = {"role": PARTIES[role]}
        if (name := src.text(f"{role}.name")) is not None:
            party["name"] = name
        if (ident := src.text(f"{role}.id")) is not None:
            party["identifiers"] = [
                self.note({"qualifier": "ZZ", "value": ident}, src, {"value": f"{role}.id"})
            ]
        address: Doc = {}
        lines = [v for n in ("address1", "address2") if (v := src.text(f"{role}.{n}")) is not None]
        if lines:
            address["lines"] = lines
        for name in ("city", "state", "postal_code"):
            if (value := src.text(f"{role}.{name}")) is not None:
                address[name] = value.upper() if name == "state" else value
        if (country := src.text(f"{role}.country")) is not None:
            address["country"] = self.rules.code("country", country.upper())
        if address:
            fields = {n: f"{role}.{n}" for n in ("city", "state", "postal_code", "country")}
            party["address"] = self.note(address, src, {**fields, "lines": f"{role}.address1"})
        return self.note(party, src, {"name": f"{role}.name", "identifiers": f"{role}.id"})

    def parties(self, roles: tuple[str, ...]) -> list[Doc]:
        return [p for role in roles if (p := self.party(role)) is not None]

    def defaults(self, doc: Doc, model: type[BaseModel]) -> None:
        """Fill the configured ``defaults`` where the document has no value (dotted paths, every line)."""
        for path, value in self.rules.defaults.items():
            head = path.split(".")[0]
            if head not in model.model_fields:
                raise MappingError(
                    f"defaults.{path}: {model.__name__} has no field {head!r}", field=f"defaults.{path}"
                )
            for holder, key in apply_default(doc, path.split("."), value):
                self.defaulted[(id(holder), key)] = path

    def extensions(self, doc: Doc, namespace: str) -> None:
        rest = self.src.leftovers()
        if rest:
            doc["extensions"] = {namespace: [{"kind": "field", "path": p, "value": v} for p, v in rest]}

    def validate(self, model: type[BaseModel], doc: Doc) -> BaseModel:
        try:
            built: BaseModel = build(model, doc)
        except Invalid as exc:
            raise self.explain(exc) from None
        return built

    def explain(self, exc: Invalid) -> MappingError:
        shown = exc.value if isinstance(exc.value, str) else None
        setting = self.defaulted.get((id(exc.data), exc.field))
        if setting is not None:
            return MappingError.in_json(f"defaults.{setting}", exc.problem, shown)
        paths = self.origins.get(id(exc.data), {})
        where = paths.get(exc.field)
        if where is None:  # a whole-object rule: name the object the fields came from
            where = next(iter(paths.values()), exc.field).rpartition(".")[0] or exc.field
        return MappingError.in_json(where, exc.problem, shown)
