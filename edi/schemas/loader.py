"""Load the JSON schema data and compile it into :mod:`edi.schemas.model` structures.

Data files (``edi/schemas/data``):

* ``elements.json``: simple elements ``[type, min, max, name]``, composites,
  code lists, and per-release changes under ``versions``;
* ``segments.json``: segments as lists of element tokens (``M353``, ``OC040``,
  ``O1234*5`` for a repeatable element), relational conditions, per-release
  changes, and ``known_ids`` (every segment ID the library recognises);
* ``<set>.json``: the standard table of one transaction set, the releases it
  applies to, and for the 856 the HL ``hierarchy`` rules.

The base of every dictionary entry is release 004010; an override block under
``versions`` applies to its release and every later one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from edi.schemas.model import (
    ELEMENT_TYPES,
    UNBOUNDED,
    CompositeDef,
    ElementDef,
    ElementUse,
    Hierarchy,
    LoopDef,
    Node,
    SegmentDef,
    SegmentUse,
    SyntaxRule,
    TransactionSetSchema,
)

__all__ = ["BASE_VERSION", "Dictionary", "compile_schema", "dictionary", "set_versions"]

BASE_VERSION = "004010"
_TOKEN = re.compile(r"^([MOX])(C\d{3}|\d{1,4})(?:\*(\d+))?$")
_SYNTAX = re.compile(r"^([PRECL])((?:\d\d){2,})$")


def _read(name: str) -> Any:
    return json.loads(resources.files("edi.schemas").joinpath("data", name).read_text("utf-8"))


def _merged(section: str, data: dict[str, Any], version: str) -> dict[str, Any]:
    out = dict(data[section])
    for ver in sorted(data.get("versions", {})):
        if ver <= version:
            out.update(data["versions"][ver].get(section, {}))
    return out


@dataclass(frozen=True, slots=True)
class Dictionary:
    """The element, composite and segment definitions of one release."""

    version: str
    elements: dict[str, ElementDef]
    composites: dict[str, CompositeDef]
    segments: dict[str, SegmentDef]
    known_ids: frozenset[str]


def _element(ref: str, spec: list[Any], codes: dict[str, Any]) -> ElementDef:
    kind, lo, hi, name = spec
    if kind not in ELEMENT_TYPES or not 0 < lo <= hi:
        raise ValueError(f"element {ref}: bad definition {spec!r}")
    code = codes.get(ref)
    return ElementDef(
        ref,
        name,
        kind,
        lo,
        hi,
        frozenset(code["values"]) if code else None,
        bool(code["open"]) if code else True,
    )


def _uses(
    tokens: list[str], owner: str, elements: dict[str, ElementDef], composites: dict[str, CompositeDef] | None
) -> tuple[ElementUse, ...]:
    out: list[ElementUse] = []
    for position, token in enumerate(tokens, 1):
        m = _TOKEN.match(token)
        if m is None:
            raise ValueError(f"{owner}: bad element token {token!r}")
        usage, ref, repeat = m.group(1), m.group(2), int(m.group(3) or 1)
        if ref.startswith("C"):
            if composites is None or ref not in composites:
                raise ValueError(f"{owner}{position:02d}: unknown composite {ref}")
            out.append(ElementUse(position, usage, composite=composites[ref], repeat=repeat))
        else:
            if ref not in elements:
                raise ValueError(f"{owner}{position:02d}: unknown element {ref}")
            out.append(ElementUse(position, usage, element=elements[ref], repeat=repeat))
    return tuple(out)


def _syntax(rules: list[str], owner: str, width: int) -> tuple[SyntaxRule, ...]:
    out = []
    for text in rules:
        m = _SYNTAX.match(text)
        if m is None:
            raise ValueError(f"{owner}: bad syntax rule {text!r}")
        digits = m.group(2)
        positions = tuple(int(digits[i : i + 2]) for i in range(0, len(digits), 2))
        if max(positions) > width:
            raise ValueError(f"{owner}: syntax rule {text} names a position past the last element")
        out.append(SyntaxRule(m.group(1), positions))
    return tuple(out)


@lru_cache(maxsize=8)
def dictionary(version: str) -> Dictionary:
    """Compile the dictionary of ``version`` (a base release such as ``"005010"``)."""
    edata = _read("elements.json")
    sdata = _read("segments.json")
    codes = _merged("codes", edata, version)
    elements = {ref: _element(ref, spec, codes) for ref, spec in _merged("elements", edata, version).items()}
    composites: dict[str, CompositeDef] = {}
    for ref, (name, tokens) in _merged("composites", edata, version).items():
        composites[ref] = CompositeDef(ref, name, _uses(tokens, ref, elements, None))
    raw = dict(sdata["segments"])
    for ver in sorted(sdata.get("versions", {})):
        if ver <= version:
            raw.update(sdata["versions"][ver])
    segments: dict[str, SegmentDef] = {}
    for uid, (seg_id, spec) in enumerate(sorted(raw.items())):
        tokens = spec["elements"]
        uses = None if tokens is None else _uses(tokens, seg_id, elements, composites)
        rules = _syntax(spec.get("syntax", []), seg_id, len(uses or ()))
        segments[seg_id] = SegmentDef(seg_id, spec["name"], uses, rules, uid)
    known = frozenset(sdata["known_ids"]) | frozenset(segments)
    return Dictionary(version, elements, composites, segments, known)


def _max(text: str | int | None) -> int:
    if text is None or text == ">1":
        return UNBOUNDED
    value = int(text)
    if value < 1:
        raise ValueError(f"max use must be positive, got {text!r}")
    return value


def _loop(
    loop_id: str, mandatory: bool, repeat: int, body: list[Any], dic: Dictionary, root: bool
) -> LoopDef:
    children: list[Node] = []
    for entry in body:
        if isinstance(entry, str):
            seg_id, usage, max_use = entry.split()
            if seg_id not in dic.segments:
                raise ValueError(f"loop {loop_id}: segment {seg_id} has no definition")
            if usage not in ("M", "O"):
                raise ValueError(f"loop {loop_id}: bad usage in {entry!r}")
            children.append(SegmentUse(dic.segments[seg_id], usage == "M", _max(max_use)))
        else:
            children.append(
                _loop(entry["loop"], entry["usage"] == "M", _max(entry["repeat"]), entry["body"], dic, False)
            )
    if not children or (not root and not isinstance(children[0], SegmentUse)):
        raise ValueError(f"loop {loop_id} must start with its trigger segment")
    index: dict[str, list[int]] = {}
    for i, child in enumerate(children):
        if i == 0 and not root:
            continue
        key = child.id if isinstance(child, SegmentUse) else child.trigger
        index.setdefault(key, []).append(i)
    nexts: list[dict[str, int]] = []
    for p in range(-1, len(children)):
        ahead: dict[str, int] = {}
        for key, positions in index.items():
            for c in positions:
                child = children[c]
                if c > p or (c == p and (isinstance(child, LoopDef) or child.max_use > 1)):
                    ahead[key] = c
                    break
        nexts.append(ahead)
    mandatory_after = tuple(
        tuple(i for i in range(p + 1, len(children)) if children[i].mandatory)
        for p in range(-1, len(children))
    )
    return LoopDef(
        loop_id,
        mandatory,
        repeat,
        tuple(children),
        {k: tuple(v) for k, v in index.items()},
        tuple(nexts),
        mandatory_after,
    )


def _collect(loop: LoopDef, out: dict[str, SegmentDef]) -> None:
    for child in loop.children:
        if isinstance(child, SegmentUse):
            out[child.id] = child.segment
        else:
            _collect(child, out)


def set_versions(set_id: str) -> tuple[str, ...]:
    """Base releases the data has a schema of ``set_id`` for (empty if none)."""
    try:
        data = _read(f"{set_id}.json")
    except (FileNotFoundError, OSError):
        return ()
    return tuple(data["versions"])


def compile_schema(set_id: str, version: str) -> TransactionSetSchema | None:
    """Compile the schema of ``set_id`` in base release ``version``; ``None`` if not shipped."""
    if not set_id.isdigit() or version not in set_versions(set_id):
        return None
    data = _read(f"{set_id}.json")
    dic = dictionary(version)
    root = _loop(set_id, True, 1, data["structure"], dic, True)
    used: dict[str, SegmentDef] = {}
    _collect(root, used)
    hier = data.get("hierarchy")
    hierarchy = Hierarchy(hier["segment"], dict(hier["levels"])) if hier else None
    return TransactionSetSchema(
        set_id, version, data["name"], data["functional_group"], root, used, dic.known_ids, hierarchy
    )
