"""Named mapping variants: ``mappings/<name>.yaml``, partner deviations shared by many partners.

A variant file holds the same deviations a profile can hold (see
:class:`~gateway.domain.profiles.MappingDeviations`), plus optional metadata::

    description: VICS 850, PO number also in REF*PO   # free text
    document_types: ["850"]                            # profile document types it suits (informational)
    extends: x12-850-004010                            # another variant applied first
    deviations:
      keep_references: [IA]
      code_maps: {uom: {CS: CA}}

A profile names a variant with ``mapping.variant``; its own deviations are merged on top.
A bad file raises :class:`MappingError` naming the file and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gateway.domain.mapping.errors import MappingError
from gateway.domain.profiles import MappingDeviations, merge

__all__ = ["Variant", "load_variants"]

_KEYS = frozenset({"description", "document_types", "extends", "deviations"})


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    file: Path
    deviations: MappingDeviations
    description: str = ""
    document_types: tuple[str, ...] = field(default_factory=tuple)


def _problem(file: Path, reason: str) -> MappingError:
    return MappingError(f"{file}: {reason}", field=str(file))


def _read(file: Path) -> tuple[dict[str, Any], str | None]:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise _problem(file, f"cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise _problem(file, f"not valid YAML: {str(exc).splitlines()[0]}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _problem(file, "a variant file is a mapping with 'deviations' (and optional metadata)")
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise _problem(file, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}")
    extends = data.get("extends")
    if extends is not None and not isinstance(extends, str):
        raise _problem(file, "extends: must be a variant name")
    return data, extends


def _deviations(file: Path, raw: Any) -> MappingDeviations:
    try:
        return MappingDeviations.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise _problem(file, f"deviations.{loc}: {first['msg']}{more}") from None


def load_variants(directory: Path) -> dict[str, Variant]:
    """Every ``*.yaml``/``*.yml`` variant in ``directory`` by name (file stem), ``extends`` resolved."""
    if not directory.is_dir():
        raise MappingError(f"{directory}: not a directory of mapping variants", field=str(directory))
    raw: dict[str, tuple[Path, dict[str, Any], str | None]] = {}
    for file in sorted(directory.iterdir()):
        if file.suffix not in (".yaml", ".yml") or file.name.startswith("."):
            continue
        if file.stem in raw:
            raise _problem(file, f"variant {file.stem!r} is defined twice")
        data, extends = _read(file)
        raw[file.stem] = (file, data, extends)
    done: dict[str, Variant] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> Variant:
        if name in done:
            return done[name]
        file, data, extends = raw[name]
        own = _deviations(file, data.get("deviations"))
        if extends is not None:
            if extends in chain or extends == name:
                raise _problem(file, f"extends: cycle {' -> '.join([*chain, name, extends])}")
            if extends not in raw:
                raise _problem(file, f"extends: no variant {extends!r} in {directory}")
            own = merge(resolve(extends, (*chain, name)).deviations, own)
        types = data.get("document_types") or []
        if not isinstance(types, list):
            raise _problem(file, "document_types: must be a list")
        variant = Variant(name, file, own, str(data.get("description") or ""), tuple(str(t) for t in types))
        done[name] = variant
        return variant

    for name in raw:
        resolve(name, ())
    return done
