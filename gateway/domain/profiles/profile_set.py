"""A validated set of partner profiles and the look-ups the runtime needs.

Inbound traffic names its partner in different ways: an interchange by ISA sender
qualifier and ID, an AS2 message by its AS2-From name, a webhook or SFTP account by
partner ID. :class:`ProfileSet` answers all three, and finds the document policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway.domain.profiles.documents import Direction, DocumentPolicy
from gateway.domain.profiles.errors import Problem, ProfileError
from gateway.domain.profiles.identity import normalise_as2_name
from gateway.domain.profiles.profile import PartnerProfile
from gateway.domain.profiles.sftp import SftpPush

__all__ = ["Claims", "ProfileSet", "find_conflicts"]

_UNKNOWN_SOURCE = Path("<memory>")


def _isa_key(qualifier: str, isa_id: str) -> tuple[str, str]:
    return qualifier.strip(), isa_id.strip()


@dataclass(frozen=True)
class Claims:
    """What a profile claims that no other profile may: its ID, ISA identity, AS2 name, SFTP account.

    ``None`` is nothing claimed, or (for a profile that failed validation) nothing readable."""

    partner_id: str | None
    isa_key: tuple[str, str] | None = None
    as2_name: str | None = None
    sftp_user: str | None = None

    @classmethod
    def of(cls, profile: PartnerProfile) -> Claims:
        sftp = profile.channels.sftp
        return cls(
            partner_id=profile.partner_id,
            isa_key=profile.identity.isa_key,
            as2_name=profile.identity.as2_name,
            sftp_user=sftp.account.username if isinstance(sftp, SftpPush) else None,
        )


def _owner(claims: Claims, source: Path) -> str:
    return f"'{claims.partner_id}' in {source}" if claims.partner_id is not None else str(source)


def find_conflicts(entries: Iterable[tuple[PartnerProfile | Claims, Path]]) -> list[Problem]:
    """Partner IDs, ISA qualifier+ID pairs, AS2 names and SFTP accounts claimed by more than one profile.

    Valid profiles and the claims readable from invalid ones (see ``partial``) are compared alike."""
    problems: list[Problem] = []
    ids: dict[str, Path] = {}
    isa: dict[tuple[str, str], str] = {}
    as2: dict[str, str] = {}
    sftp_users: dict[str, str] = {}
    for entry, source in entries:
        claims = entry if isinstance(entry, Claims) else Claims.of(entry)
        if claims.partner_id is not None:
            if claims.partner_id in ids:
                problems.append(
                    Problem(
                        source,
                        "partner_id",
                        f"duplicate partner_id '{claims.partner_id}', also in {ids[claims.partner_id]}",
                    )
                )
                continue
            ids[claims.partner_id] = source
        owner = _owner(claims, source)
        key = claims.isa_key
        if key is not None:
            if key in isa:
                problems.append(
                    Problem(source, "identity.isa_id", f"ISA {key[0]}/{key[1]} is already used by {isa[key]}")
                )
            else:
                isa[key] = owner
        if claims.as2_name is not None:
            name = normalise_as2_name(claims.as2_name)
            if name in as2:
                problems.append(
                    Problem(source, "identity.as2_name", f"AS2 name '{name}' is already used by {as2[name]}")
                )
            else:
                as2[name] = owner
        user = claims.sftp_user
        if user is not None:
            if user in sftp_users:
                problems.append(
                    Problem(
                        source,
                        "channels.sftp.account.username",
                        f"SFTP account '{user}' is already used by {sftp_users[user]}",
                    )
                )
            else:
                sftp_users[user] = owner
    return problems


class ProfileSet:
    """Immutable collection of profiles with look-ups by partner ID, ISA identity and AS2 name."""

    def __init__(
        self,
        profiles: Iterable[PartnerProfile],
        sources: Mapping[str, Path] | None = None,
        warnings: Iterable[Problem] = (),
    ) -> None:
        #: Things worth logging at start-up that do not stop it (e.g. certificates about to expire).
        self.warnings: tuple[Problem, ...] = tuple(warnings)
        known = dict(sources or {})
        entries = [(profile, known.get(profile.partner_id, _UNKNOWN_SOURCE)) for profile in profiles]
        conflicts = find_conflicts(entries)
        if conflicts:
            raise ProfileError(conflicts)
        self._by_id = {profile.partner_id: profile for profile, _ in entries}
        self._sources = {profile.partner_id: source for profile, source in entries}
        self._by_isa = {
            profile.identity.isa_key: profile
            for profile, _ in entries
            if profile.identity.isa_key is not None
        }
        self._by_as2 = {
            normalise_as2_name(profile.identity.as2_name): profile
            for profile, _ in entries
            if profile.identity.as2_name is not None
        }

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[PartnerProfile]:
        return iter(self._by_id.values())

    def __contains__(self, partner_id: object) -> bool:
        return partner_id in self._by_id

    def __getitem__(self, partner_id: str) -> PartnerProfile:
        return self._by_id[partner_id]

    @property
    def partner_ids(self) -> list[str]:
        return sorted(self._by_id)

    def get(self, partner_id: str) -> PartnerProfile | None:
        return self._by_id.get(partner_id)

    def source(self, partner_id: str) -> Path:
        """The file the profile was loaded from."""
        return self._sources[partner_id]

    def by_isa(self, qualifier: str, isa_id: str) -> PartnerProfile | None:
        """The partner with this ISA qualifier and ID; padding spaces (as in ISA06) are ignored."""
        return self._by_isa.get(_isa_key(qualifier, isa_id))

    def by_as2_name(self, name: str) -> PartnerProfile | None:
        """The partner whose AS2 name is ``name`` (compared exactly, after removing quotes)."""
        return self._by_as2.get(normalise_as2_name(name.strip()))

    def document_policy(
        self, partner: str | PartnerProfile, direction: Direction | str, document_type: str
    ) -> DocumentPolicy | None:
        """The agreed policy, or ``None`` when the partner is unknown or does not exchange that document."""
        profile = self.get(partner) if isinstance(partner, str) else partner
        if profile is None:
            return None
        return profile.document_policy(direction, document_type)
