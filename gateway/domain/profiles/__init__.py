"""Partner profiles: the typed, validated onboarding configuration of each trading partner.

Profiles are YAML files (see ``docs/partners.md``) validated by pydantic models. Secrets
appear only as references (:class:`SecretRef`); certificates are loaded while validating.
:func:`load_profiles` reads a directory and reports every problem at once.
"""

from gateway.domain.profiles.as2 import (
    As2Channel,
    As2Mdn,
    Certificate,
    EncryptionAlgorithm,
    KeyTransport,
    SignatureDigest,
    SignatureScheme,
)
from gateway.domain.profiles.common import RetryPolicy
from gateway.domain.profiles.deviations import MappingDeviations, merge
from gateway.domain.profiles.documents import (
    AckPolicy,
    AckType,
    Direction,
    DocumentFormat,
    DocumentPolicy,
    MappingRef,
)
from gateway.domain.profiles.errors import Problem, ProfileError
from gateway.domain.profiles.identity import ISA_QUALIFIERS, Environment, Identity
from gateway.domain.profiles.loader import LoadResult, check_profiles, load_profile_file, load_profiles
from gateway.domain.profiles.profile import Channels, Contact, ContactRole, PartnerProfile
from gateway.domain.profiles.profile_set import ProfileSet
from gateway.domain.profiles.refs import SecretRef, SecretUnavailable
from gateway.domain.profiles.schedule import CronExpression, Schedule
from gateway.domain.profiles.sequences import ControlNumbers, Sequence
from gateway.domain.profiles.sftp import SftpAccount, SftpChannel, SftpPaths, SftpPoll, SftpPush
from gateway.domain.profiles.webhook import WebhookChannel, WebhookInbound, WebhookOutbound

__all__ = [
    "ISA_QUALIFIERS",
    "AckPolicy",
    "AckType",
    "As2Channel",
    "As2Mdn",
    "Certificate",
    "Channels",
    "Contact",
    "ContactRole",
    "ControlNumbers",
    "CronExpression",
    "Direction",
    "DocumentFormat",
    "DocumentPolicy",
    "EncryptionAlgorithm",
    "Environment",
    "Identity",
    "KeyTransport",
    "LoadResult",
    "MappingDeviations",
    "MappingRef",
    "PartnerProfile",
    "Problem",
    "ProfileError",
    "ProfileSet",
    "RetryPolicy",
    "Schedule",
    "SecretRef",
    "SecretUnavailable",
    "Sequence",
    "SftpAccount",
    "SftpChannel",
    "SftpPaths",
    "SftpPoll",
    "SftpPush",
    "SignatureDigest",
    "SignatureScheme",
    "WebhookChannel",
    "WebhookInbound",
    "WebhookOutbound",
    "check_profiles",
    "load_profile_file",
    "load_profiles",
    "merge",
]
