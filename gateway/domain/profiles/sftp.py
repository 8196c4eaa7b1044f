"""The SFTP channel: the partner pushes to our server, or we poll theirs.

Path names are from our side in both modes: ``inbox`` is where files *for us* appear,
``outbox`` is where we put files *for the partner*, ``archive`` is where picked-up files go.
SSH public keys are OpenSSH one-line format (``ssh-ed25519 AAAA... comment``) and are
parsed with :mod:`cryptography` when the profile loads.
"""

from __future__ import annotations

import fnmatch
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_ssh_public_key
from pydantic import AfterValidator, Discriminator, Field, Tag, field_validator, model_validator

from gateway.domain.profiles.common import FieldProblems, RetryPolicy, StrictModel
from gateway.domain.profiles.refs import SecretRef
from gateway.domain.profiles.schedule import Schedule

__all__ = ["SSH_KEY_TYPES", "SftpAccount", "SftpChannel", "SftpPaths", "SftpPoll", "SftpPush", "SshPublicKey"]

SSH_KEY_TYPES = frozenset(
    {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"}
)
_MIN_RSA_BITS = 2048


def _check_ssh_key(value: str) -> str:
    text = " ".join(value.split())
    if "PRIVATE KEY" in text:
        raise ValueError("this is a private key; only public keys belong in a profile")
    fields = text.split(" ")
    if fields[0] not in SSH_KEY_TYPES and len(fields) >= 2 and fields[1] in SSH_KEY_TYPES:
        fields = fields[1:]  # a known_hosts line: drop the host pattern
    if fields[0] not in SSH_KEY_TYPES:
        raise ValueError(
            f"expected an OpenSSH public key starting with one of {', '.join(sorted(SSH_KEY_TYPES))}"
        )
    if len(fields) < 2:
        raise ValueError("OpenSSH public key has no key data")
    try:
        key = load_ssh_public_key(" ".join(fields[:2]).encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValueError(f"OpenSSH public key does not parse: {exc}") from exc
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < _MIN_RSA_BITS:
        raise ValueError(f"RSA key is {key.key_size} bits; at least {_MIN_RSA_BITS} are required")
    return " ".join(fields)


#: An OpenSSH public key line (type, base64 data, optional comment), normalised to single spaces.
SshPublicKey = Annotated[str, AfterValidator(_check_ssh_key)]


def _check_remote_path(value: str) -> str:
    if not value or "\x00" in value or "\n" in value:
        raise ValueError("path must be a non-empty single line")
    if ".." in PurePosixPath(value).parts:
        raise ValueError("path must not contain '..'")
    return value


RemotePath = Annotated[str, AfterValidator(_check_remote_path)]


class SftpPaths(StrictModel):
    inbox: RemotePath
    outbox: RemotePath
    archive: RemotePath | None = None


#: The name a partner logs in with on our SFTP server.
SftpUsername = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_.-]{0,31}$")]


class SftpAccount(StrictModel):
    """The account the partner logs in with on our SFTP server."""

    username: SftpUsername
    authorized_keys: list[SshPublicKey] = Field(min_length=1)
    password_hash: SecretRef | None = Field(
        default=None, description="a $scrypt$ or $pbkdf2-sha256$ hash (docs/sftp.md), by reference"
    )


class SftpPush(StrictModel):
    """The partner pushes files to, and collects files from, our SFTP server."""

    mode: Literal["push"]
    account: SftpAccount
    paths: SftpPaths


class SftpPoll(StrictModel):
    """We log in to the partner's SFTP server on a schedule."""

    mode: Literal["poll"]
    host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:\[\]-]+$")
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1, max_length=64)
    key: SecretRef = Field(description="our private SSH key, by reference")
    known_host_key: SshPublicKey = Field(description="the server's host key, pinned")
    paths: SftpPaths
    filename_pattern: str = Field(default="*", min_length=1, description="glob of files to pick up")
    schedule: Schedule
    after_pickup: Literal["delete", "archive"] = "delete"
    retry: RetryPolicy = Field(default_factory=RetryPolicy)

    @field_validator("filename_pattern")
    @classmethod
    def _plain_glob(cls, value: str) -> str:
        if "/" in value:
            raise ValueError("filename_pattern matches names inside the inbox; it must not contain '/'")
        fnmatch.translate(value)
        return value

    @model_validator(mode="after")
    def _archive_target(self) -> SftpPoll:
        if self.after_pickup == "archive" and self.paths.archive is None:
            raise FieldProblems([(("paths", "archive"), "after_pickup: archive needs paths.archive")])
        return self

    def wants(self, filename: str) -> bool:
        """Whether a file in the remote inbox should be picked up."""
        return fnmatch.fnmatchcase(filename, self.filename_pattern)


def _sftp_mode(value: Any) -> str | None:
    mode = value.get("mode") if isinstance(value, dict) else getattr(value, "mode", None)
    return f"mode={mode}" if mode in ("push", "poll") else None


#: The SFTP channel: ``mode: push`` or ``mode: poll``. Union tags read ``mode=...`` so
#: error paths can leave them out.
SftpChannel = Annotated[
    Annotated[SftpPush, Tag("mode=push")] | Annotated[SftpPoll, Tag("mode=poll")],
    Discriminator(
        _sftp_mode,
        custom_error_type="sftp_mode",
        custom_error_message="mode must be 'push' (partner pushes to us) or 'poll' (we poll them)",
    ),
]
