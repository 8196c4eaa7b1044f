"""The partner profile: one trading partner's complete onboarding configuration.

Validate with ``PartnerProfile.model_validate(data, context={"base_dir": directory})`` so
relative certificate and ``file:`` paths resolve against the profile's directory;
:func:`gateway.domain.profiles.loader.load_profiles` does this for a whole directory.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from gateway.domain.profiles.as2 import As2Channel
from gateway.domain.profiles.common import FieldProblems, Slug, StrictModel
from gateway.domain.profiles.cross_checks import ProfileParts, profile_problems
from gateway.domain.profiles.documents import Direction, DocumentPolicy, DocumentType
from gateway.domain.profiles.identity import Environment, Identity
from gateway.domain.profiles.sequences import ControlNumbers
from gateway.domain.profiles.sftp import SftpChannel
from gateway.domain.profiles.webhook import WebhookChannel

__all__ = ["Channels", "Contact", "ContactRole", "PartnerProfile", "Routing"]

_EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{4,24}(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$")


class ContactRole(StrEnum):
    BUSINESS = "business"
    EDI = "edi"
    TECHNICAL = "technical"
    ESCALATION = "escalation"


def _check_email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"'{value}' is not an email address")
    return value


def _check_phone(value: str) -> str:
    if not _PHONE.fullmatch(value):
        raise ValueError(
            "phone must be digits with optional +, spaces, (), '.', '-' and an 'x'/'ext' extension"
        )
    return value


class Contact(StrictModel):
    name: str = Field(min_length=1, max_length=120)
    email: Annotated[str, AfterValidator(_check_email)]
    phone: Annotated[str, AfterValidator(_check_phone)] | None = None
    role: ContactRole = ContactRole.EDI


class Channels(StrictModel):
    as2: As2Channel | None = None
    sftp: SftpChannel | None = None
    webhook: WebhookChannel | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Channels:
        if self.as2 is None and self.sftp is None and self.webhook is None:
            raise FieldProblems([((), "configure at least one channel: as2, sftp or webhook")])
        return self


def _keys_to_str(value: Any) -> Any:
    """YAML reads a routing key like ``850:`` as an integer; document types are text."""
    if isinstance(value, dict):
        return {str(k) if isinstance(k, int) and not isinstance(k, bool) else k: v for k, v in value.items()}
    return value


Routing = Annotated[
    dict[DocumentType, Annotated[list[Slug], Field(min_length=1)]], BeforeValidator(_keys_to_str)
]


class PartnerProfile(StrictModel):
    partner_id: Slug
    name: str = Field(min_length=1, max_length=120)
    environment: Environment
    accept_test_interchanges: bool = Field(
        default=False,
        description="production partner only: process interchanges marked test (ISA15 T), as test "
        "documents, instead of failing them",
    )
    identity: Identity = Field(default_factory=Identity)
    channels: Channels
    documents: list[DocumentPolicy] = Field(min_length=1)
    routing: Routing = Field(default_factory=dict, description="inbound document type -> destinations")
    control_numbers: ControlNumbers = Field(default_factory=ControlNumbers)
    contacts: list[Contact] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_checks(self) -> PartnerProfile:
        FieldProblems.raise_if_any(profile_problems(self.parts()))
        return self

    def parts(self) -> ProfileParts:
        """This profile as the profile-wide checks see it (see ``cross_checks``)."""
        as2 = self.channels.as2
        return ProfileParts(
            documents=list(enumerate(self.documents)),
            identity=self.identity,
            environment=self.environment,
            accept_test_interchanges=self.accept_test_interchanges,
            as2=as2 is not None,
            our_as2_id=as2.our_as2_id if as2 is not None else None,
            routing=self.routing,
        )

    def check_usage(self, isa15: str) -> str | None:
        """Why an interchange with this ISA15 must be failed rather than processed, or None.

        The usage indicator must match the environment: a test partner's production data and a
        production partner's test data are both refused (the document stays stored, failed and
        replayable), except test interchanges from a production partner whose profile sets
        ``accept_test_interchanges`` (they are processed and marked test)."""
        test_from_production = isa15.strip() == "T" and self.environment is Environment.PRODUCTION
        if test_from_production and self.accept_test_interchanges:
            return None
        problem = self.environment.check_usage(isa15)
        if problem is not None and test_from_production:
            problem += " (set accept_test_interchanges to process its test interchanges)"
        return problem

    def document_policy(self, direction: Direction | str, document_type: str) -> DocumentPolicy | None:
        """The policy for ``direction`` and ``document_type``, or ``None`` if not agreed with this partner."""
        wanted = (Direction(direction), str(document_type))
        return next((doc for doc in self.documents if doc.key == wanted), None)

    def destinations(self, document_type: str) -> list[str]:
        """Where inbound documents of this type are routed (empty when not routed)."""
        return list(self.routing.get(document_type, []))

    def redacted(self) -> dict[str, Any]:
        """The resolved profile as plain data, fit to print: secrets appear as their references only.

        A profile never holds secret values, so this is the JSON-mode dump; the name
        states the guarantee callers rely on.
        """
        return self.model_dump(mode="json")
