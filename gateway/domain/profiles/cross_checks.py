"""The profile-wide checks, run on whatever parts of a profile could be read.

A :class:`PartnerProfile` runs them once all its fields are valid. Pydantic skips a model's
own checks as soon as one field is invalid, so the loader also reads each part of a failed
profile on its own (see ``partial``) and runs the same checks on the parts that are valid:
a typo in ``name`` then no longer hides a route to a document that is not configured. A check
that needs a part which could not be read is skipped rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.domain.profiles.common import Loc
from gateway.domain.profiles.documents import Direction, DocumentFormat, DocumentPolicy
from gateway.domain.profiles.identity import Environment, Identity, normalise_as2_name

__all__ = ["ProfileParts", "profile_problems"]


@dataclass(frozen=True)
class ProfileParts:
    """The parts of one profile that the profile-wide checks look at; ``None`` means not readable."""

    #: The document rules that are valid, with their index in ``documents``.
    documents: Sequence[tuple[int, DocumentPolicy]] = ()
    #: Types of the rules that could not be read and may be inbound; ``None`` when the rules
    #: could not be read at all, so no routing key can be judged.
    unread_inbound: frozenset[str] | None = frozenset()
    identity: Identity | None = None
    environment: Environment | None = None
    accept_test_interchanges: bool | None = None
    #: Whether an AS2 channel is configured, and our AS2 id when it can be read.
    as2: bool = False
    our_as2_id: str | None = None
    #: The routing entries that are valid (inbound document type -> destinations).
    routing: Mapping[str, Sequence[str]] = field(default_factory=dict)


def profile_problems(parts: ProfileParts) -> list[tuple[Loc, str]]:
    """``(field path, reason)`` for each rule that spans several parts of the profile."""
    problems: list[tuple[Loc, str]] = []
    seen: dict[tuple[Direction, str], int] = {}
    for index, doc in parts.documents:
        if doc.key in seen:
            problems.append(
                (
                    ("documents", index),
                    f"{doc.direction} {doc.type} is already listed at documents[{seen[doc.key]}]",
                )
            )
        seen.setdefault(doc.key, index)
    identity = parts.identity
    x12 = any(doc.format is DocumentFormat.X12 for _, doc in parts.documents)
    if identity is not None and x12 and identity.isa_key is None:
        problems.append(
            (("identity", "isa_id"), "X12 documents need identity.isa_qualifier and identity.isa_id")
        )
    if parts.accept_test_interchanges and parts.environment is Environment.TEST:
        problems.append(
            (("accept_test_interchanges",), "applies to production partners; a test partner takes test data")
        )
    if parts.as2 and identity is not None:
        if identity.as2_name is None:
            problems.append((("identity", "as2_name"), "the AS2 channel needs identity.as2_name"))
        elif parts.our_as2_id is not None and normalise_as2_name(parts.our_as2_id) == normalise_as2_name(
            identity.as2_name
        ):
            problems.append(
                (("channels", "as2", "our_as2_id"), "our AS2 id must differ from the partner's as2_name")
            )
    if parts.unread_inbound is not None:
        inbound = {doc.type for _, doc in parts.documents if doc.direction is Direction.INBOUND}
        inbound |= parts.unread_inbound
        for doc_type in parts.routing:
            if doc_type not in inbound:
                problems.append(
                    (("routing", doc_type), f"no inbound document of type {doc_type} is configured")
                )
    for doc_type, destinations in parts.routing.items():
        if len(set(destinations)) != len(destinations):
            problems.append((("routing", doc_type), "a destination is listed more than once"))
    return problems
