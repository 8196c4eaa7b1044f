"""Checking a webhook body before it is accepted: parse the JSON, dry-run the partner's mapping.

Pure (no I/O): the inbound endpoint calls :func:`check_body` and answers 400 or 422 with
what it returns. The mapping stops at its first error, so to name *every* invalid field
the dry run probes past each one: it records the error, puts a neutral stand-in at that
path (a date-time, a number as text, a number, an empty list or object, and last of all
nothing) and maps again, until the document maps or an error cannot be got past.
Each error recorded is where the partner's document breaks the mapping; stand-ins only
let the mapping reach the next field. The work is bounded by ``max_errors``, a number of
tries and a time budget.

A problem on our side (a mapping variant missing from ``mappings/``, or an unexpected error
in the mapping) is not the sender's fault: :class:`Verdict` then says ``accepted`` with a
``config_problem``, and the pipeline fails the stored payload at the mapping step, ready to
replay once fixed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.domain.canonical import DocumentHeader, SourceChannel, Usage
from gateway.domain.canonical.header import Direction as CanonicalDirection
from gateway.domain.mapping import Mapper, MappingError, load_json
from gateway.domain.profiles import Direction, PartnerProfile

__all__ = ["FieldError", "Verdict", "check_body", "collect_errors"]

_DELETE = object()
#: Stand-ins tried at an invalid path, in order: values most field kinds accept, then absent
#: (removing a value last, since a missing value trips rules such as "shipped needs shipped_at").
_STAND_INS: tuple[object, ...] = ("2000-01-01T00:00:00+00:00", "1", 1, [], {}, _DELETE)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: its dotted JSON path (as in ``json_fields``; ``""`` = the document)."""

    path: str
    reason: str

    @property
    def pointer(self) -> str:
        """The same location as an RFC 6901 JSON pointer."""
        if not self.path:
            return ""
        return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in self.path.split("."))

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path or "<document>", "pointer": self.pointer, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Verdict:
    """``status`` 202 (accept), 400 (not JSON) or 422 (invalid fields), with the reasons."""

    status: int
    errors: list[FieldError] = field(default_factory=list)
    complete: bool = True  # False when the error budget ran out before the end of the document
    config_problem: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == 202

    def summary(self) -> str:
        """One line for the stored payload's reason and the response's message."""
        if self.status == 400:
            return self.errors[0].reason if self.errors else "the body is not JSON"
        shown = "; ".join(f"{e.path or '<document>'}: {e.reason}" for e in self.errors)
        more = " (and possibly more)" if not self.complete else ""
        return f"{len(self.errors)} invalid field(s){more}: {shown}"


def _reason(exc: MappingError, path: str) -> str:
    rest = exc.message.removeprefix(path or "<document>")
    return rest.lstrip(" :") or exc.message


def _try(run: Callable[[Any], object], data: Any) -> MappingError | None:
    try:
        run(data)
    except MappingError as exc:
        return exc
    return None


def _put(root: Any, path: str, value: object) -> Callable[[], None] | None:
    """Set (or with ``_DELETE`` remove) the value at a dotted path; returns an undo, or None."""
    changes: list[tuple[dict[str, Any] | list[Any], Any, bool, Any]] = []  # container, key, had, old

    def undo() -> None:
        for container, key, had, old in reversed(changes):
            if had:
                container[key] = old
            else:
                container.pop(key)

    parts = path.split(".")
    node: Any = root
    for part in parts[:-1]:
        if isinstance(node, dict):
            if node.get(part) is None:  # absent or null: build the way to a required field
                if value is _DELETE:
                    return None
                changes.append((node, part, part in node, node.get(part)))
                node[part] = {}
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            undo()
            return None
    last = parts[-1]
    if isinstance(node, dict) and (value is not _DELETE or last in node):
        changes.append((node, last, last in node, node.get(last)))
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
        return undo
    if isinstance(node, list) and last.isdigit() and int(last) < len(node) and value is not _DELETE:
        changes.append((node, int(last), True, node[int(last)]))
        node[int(last)] = value
        return undo
    undo()
    return None


def _encloses(outer: str, inner: str) -> bool:
    return outer == "" or inner == outer or inner.startswith(outer + ".")


def collect_errors(
    run: Callable[[Any], object],
    data: Any,
    *,
    max_errors: int = 25,
    max_tries: int = 150,
    budget_seconds: float = 2.0,
) -> tuple[list[FieldError], bool]:
    """Every field error ``run`` (a mapping) raises on ``data``, and whether the list is complete.

    ``placed`` remembers which stand-in sits at each invalid path. When a later check (the
    canonical model's constraints run last) refuses a stand-in, the next one is put there.
    An error about an object that encloses a stand-in is not reported, since the stand-in
    may be its cause; the list is then marked incomplete. ``data`` is changed while
    probing: pass a copy you own.
    """
    deadline = time.monotonic() + budget_seconds
    errors: list[FieldError] = []
    placed: dict[str, int] = {}
    error = _try(run, data)
    tries = 1
    while error is not None:
        path = error.field or ""
        if path not in placed:
            if any(_encloses(path, inner) for inner in placed):
                return errors, False
            errors.append(FieldError(path, _reason(error, path)))
            if not path:  # the document as a whole is wrong: there is nothing further to check
                return errors, True
            placed[path] = -1
        if len(errors) >= max_errors or tries >= max_tries or time.monotonic() > deadline:
            return errors, False
        index = placed[path] + 1
        while index < len(_STAND_INS) and _put(data, path, _STAND_INS[index]) is None:
            index += 1
        if index >= len(_STAND_INS):  # nothing gets the mapping past this field
            return errors, False
        placed[path] = index
        error = _try(run, data)
        tries += 1
    return errors, True


def _inbound_json_policy(profile: PartnerProfile, document_type: str) -> bool:
    policy = profile.document_policy(Direction.INBOUND, document_type)
    return policy is not None and policy.format.value == "json"


def check_body(
    body: bytes,
    *,
    document_type: str,
    profile: PartnerProfile,
    mapper: Mapper,
    max_errors: int = 25,
    budget_seconds: float = 2.0,
) -> Verdict:
    """Parse ``body`` as JSON and map it with ``profile``'s mapping in a dry run (nothing is kept)."""
    try:
        data = load_json(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return Verdict(400, [FieldError("", f"the body is not JSON: {exc}")])
    except RecursionError:
        return Verdict(400, [FieldError("", "the body is not JSON this gateway reads: nested too deeply")])
    if not _inbound_json_policy(profile, document_type):
        return Verdict(202, config_problem=f"no inbound JSON {document_type} for {profile.partner_id}")
    try:
        header = DocumentHeader(
            partner_id=profile.partner_id,
            document_type=mapper.canonical_type_for(document_type),
            direction=CanonicalDirection.INBOUND,
            source_channel=SourceChannel.WEBHOOK,
            usage=Usage.TEST if profile.environment.value == "test" else Usage.PRODUCTION,
            correlation_id=str(uuid.uuid4()),
            received_at=datetime.now(UTC),
        )
        mapper.rules_for(profile, profile.document_policy(Direction.INBOUND, document_type))
    except (MappingError, ValueError) as exc:
        return Verdict(202, config_problem=f"the mapping for {document_type} cannot be used: {exc}")

    def run(candidate: Any) -> object:
        return mapper.json_to_canonical(
            candidate, document_type=document_type, profile=profile, header=header
        )

    try:
        errors, complete = collect_errors(run, data, max_errors=max_errors, budget_seconds=budget_seconds)
    except RecursionError:
        return Verdict(422, [FieldError("", "the document is nested too deeply")])
    except Exception as exc:  # a mapping bug is ours: accept, and let the pipeline fail it replayably
        return Verdict(202, config_problem=f"the dry run failed unexpectedly: {type(exc).__name__}: {exc}")
    if not errors:
        return Verdict(202)
    return Verdict(422, errors, complete)
