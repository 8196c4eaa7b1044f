"""SSH keys: our persistent host key, partners' public keys, our client key, fingerprints.

The server's host key is generated once (Ed25519, optionally RSA) under the var
directory with mode 0600 and loaded on every start, so partners' ``known_hosts`` entries
stay valid across restarts. Fingerprints are OpenSSH's ``SHA256:<base64>`` form. No
function here logs or returns private key material.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

__all__ = [
    "PublicKey",
    "fingerprint",
    "host_key_algorithms",
    "load_or_create_host_key",
    "load_private_key",
]

_HOST_KEY_FILES = {"ed25519": "ssh_host_ed25519_key", "rsa": "ssh_host_rsa_key"}


def fingerprint(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint of a public key blob (as ``ssh-keygen -lf`` prints it)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An OpenSSH public key: its type name and wire blob."""

    key_type: str
    blob: bytes

    @classmethod
    def parse(cls, line: str) -> PublicKey:
        """From ``type base64 [comment]`` (as normalised by the profile model)."""
        fields = line.split()
        if len(fields) < 2:
            raise ValueError("an OpenSSH public key line needs a type and base64 data")
        return cls(fields[0], base64.b64decode(fields[1], validate=True))

    @classmethod
    def of(cls, key: paramiko.PKey) -> PublicKey:
        return cls(key.get_name(), key.asbytes())

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)

    def line(self) -> str:
        return f"{self.key_type} {base64.b64encode(self.blob).decode('ascii')}"


def host_key_algorithms(key_type: str) -> list[str]:
    """Host key algorithms to offer so the server must present a key of the pinned type."""
    if key_type == "ssh-rsa":
        return ["rsa-sha2-512", "rsa-sha2-256"]
    return [key_type]


def load_private_key(data: bytes) -> paramiko.PKey:
    """Our client key (OpenSSH or PEM, unencrypted) from a secret's bytes."""
    loaded: object
    try:
        loaded = serialization.load_ssh_private_key(data, password=None)
    except ValueError:
        loaded = serialization.load_pem_private_key(data, password=None)
    text = io.StringIO(data.decode("ascii"))
    if isinstance(loaded, ed25519.Ed25519PrivateKey):
        return paramiko.Ed25519Key.from_private_key(text)
    if isinstance(loaded, rsa.RSAPrivateKey):
        return paramiko.RSAKey.from_private_key(text)
    if isinstance(loaded, ec.EllipticCurvePrivateKey):
        return paramiko.ECDSAKey.from_private_key(text)
    raise ValueError(f"unsupported private key type {type(loaded).__name__}: use Ed25519, ECDSA or RSA")


def _generate(kind: str) -> bytes:
    if kind == "ed25519":
        private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey = ed25519.Ed25519PrivateKey.generate()
    elif kind == "rsa":
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    else:
        raise ValueError(f"unsupported host key type {kind!r}: use ed25519 or rsa")
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )


def load_or_create_host_key(directory: Path, kind: str = "ed25519") -> paramiko.PKey:
    """The host key of type ``kind`` in ``directory``, generated (mode 0600) on first use."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / _HOST_KEY_FILES.get(kind, f"ssh_host_{kind}_key")
    if not path.exists():
        pem = _generate(kind)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use theirs
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
            (directory / f"{path.name}.pub").write_text(
                PublicKey.of(load_private_key(pem)).line() + " edigate\n", encoding="ascii"
            )
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, 0o600)
    return load_private_key(path.read_bytes())
