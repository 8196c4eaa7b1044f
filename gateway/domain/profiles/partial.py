"""What can still be read of a profile that failed validation.

Pydantic reports every invalid field of a profile but then skips the profile's own checks,
and the loader has no :class:`PartnerProfile` to check deviations on or to compare with the
other files. :func:`read_parts` and :func:`read_claims` validate each part of the raw YAML on
its own, with the same types the profile uses, and keep the parts that are valid. Parts that
are invalid are left out (their problems are reported already), so nothing here reports a
problem twice or guesses at a value; any YAML value, however malformed, is read without raising.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from gateway.domain.profiles.common import Slug
from gateway.domain.profiles.cross_checks import ProfileParts
from gateway.domain.profiles.documents import DocumentPolicy
from gateway.domain.profiles.identity import As2Name, Environment, Identity, IsaId, IsaQualifier
from gateway.domain.profiles.profile import PartnerProfile, Routing
from gateway.domain.profiles.profile_set import Claims
from gateway.domain.profiles.sftp import SftpUsername

__all__ = ["read_claims", "read_parts"]

_T = TypeVar("_T")

_SLUG: TypeAdapter[str] = TypeAdapter(Slug)
_ENVIRONMENT: TypeAdapter[Environment] = TypeAdapter(Environment)
_BOOL: TypeAdapter[bool] = TypeAdapter(bool)
_ROUTING: TypeAdapter[dict[str, list[str]]] = TypeAdapter(Routing)
_ISA_QUALIFIER: TypeAdapter[str] = TypeAdapter(IsaQualifier)
_ISA_ID: TypeAdapter[str] = TypeAdapter(IsaId)
_AS2_NAME: TypeAdapter[str] = TypeAdapter(As2Name)
_SFTP_USER: TypeAdapter[str] = TypeAdapter(SftpUsername)


def _valid(adapter: TypeAdapter[_T], value: Any) -> _T | None:
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def _section(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``data[keys[0]][keys[1]]...`` when each level is a mapping, else an empty mapping."""
    for key in keys:
        value = data.get(key)
        if not isinstance(value, dict):
            return {}
        data = value
    return data


def _identity(data: dict[str, Any], context: dict[str, Any]) -> Identity | None:
    default = PartnerProfile.model_fields["identity"].get_default(call_default_factory=True)
    if "identity" not in data:
        return default  # type: ignore[no-any-return]
    try:
        return Identity.model_validate(data["identity"], context=context)
    except ValidationError:
        return None


def _documents(
    raw: Any, context: dict[str, Any]
) -> tuple[list[tuple[int, DocumentPolicy]], frozenset[str] | None]:
    """The valid rules with their index, and the types of unreadable rules that may be inbound."""
    if not isinstance(raw, list):
        return [], None
    valid: list[tuple[int, DocumentPolicy]] = []
    unread: set[str] = set()
    any_type = False  # an unreadable rule whose type cannot be told either
    for index, entry in enumerate(raw):
        try:
            valid.append((index, DocumentPolicy.model_validate(entry, context=context)))
            continue
        except ValidationError:
            pass
        if isinstance(entry, dict) and entry.get("direction") == "outbound":
            continue
        kind = entry.get("type") if isinstance(entry, dict) else None
        if isinstance(kind, bool) or not isinstance(kind, str | int):
            any_type = True
        else:
            unread.add(str(kind))
    return valid, None if any_type else frozenset(unread)


def _routing(raw: Any) -> dict[str, list[str]]:
    """The routing entries that are valid on their own (a later key wins, as in the profile)."""
    if not isinstance(raw, dict):
        return {}
    routes: dict[str, list[str]] = {}
    for key, value in raw.items():
        entry = _valid(_ROUTING, {key: value})
        if entry is not None:
            routes.update(entry)
    return routes


def read_parts(data: dict[str, Any], context: dict[str, Any]) -> ProfileParts:
    """The parts of raw profile ``data`` that the profile-wide checks need, each validated alone.

    ``context`` is the validation context the profile itself was validated with."""
    documents, unread_inbound = _documents(data.get("documents"), context)
    channels = data.get("channels")
    as2 = channels.get("as2") if isinstance(channels, dict) else None
    our_as2_id = _valid(_AS2_NAME, as2.get("our_as2_id")) if isinstance(as2, dict) else None
    return ProfileParts(
        documents=documents,
        unread_inbound=unread_inbound,
        identity=_identity(data, context),
        environment=_valid(_ENVIRONMENT, data.get("environment")),
        accept_test_interchanges=_valid(_BOOL, data.get("accept_test_interchanges", False)),
        as2=as2 is not None,
        our_as2_id=our_as2_id,
        routing=_routing(data.get("routing", {})),
    )


def read_claims(data: dict[str, Any]) -> Claims:
    """What raw profile ``data`` claims that no other profile may, as far as each value is valid."""
    identity = _section(data, "identity")
    qualifier = _valid(_ISA_QUALIFIER, identity.get("isa_qualifier"))
    isa_id = _valid(_ISA_ID, identity.get("isa_id"))
    sftp = _section(data, "channels", "sftp")
    user = (
        _valid(_SFTP_USER, _section(sftp, "account").get("username")) if sftp.get("mode") == "push" else None
    )
    return Claims(
        partner_id=_valid(_SLUG, data.get("partner_id")),
        isa_key=(qualifier, isa_id) if qualifier is not None and isa_id is not None else None,
        as2_name=_valid(_AS2_NAME, identity.get("as2_name")),
        sftp_user=user,
    )
