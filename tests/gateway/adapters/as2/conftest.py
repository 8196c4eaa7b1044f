"""Key material and tools for the AS2 tests: three RSA identities generated once per session.

``ours`` is edigate, ``peer`` the trading partner (pyas2lib or openssl), ``stranger`` a
key nobody configured (wrong-certificate cases). Each has PEM files on disk, since both
the profiles and the ``openssl`` command read files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from gateway.adapters.as2.keys import generate_self_signed
from gateway.adapters.as2.protocol import SigningKey


@dataclass(frozen=True)
class Identity:
    name: str
    key_path: Path
    cert_path: Path
    key_pem: bytes
    cert_pem: bytes
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def signing(self) -> SigningKey:
        return SigningKey(self.key, self.cert)


def _identity(directory: Path, name: str) -> Identity:
    key_pem, cert_pem = generate_self_signed(name, days=30)
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.pem"
    key_path.write_bytes(key_pem)
    cert_path.write_bytes(cert_pem)
    key = load_pem_private_key(key_pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return Identity(
        name, key_path, cert_path, key_pem, cert_pem, key, x509.load_pem_x509_certificate(cert_pem)
    )


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("as2-keys")


@pytest.fixture(scope="session")
def ours(keys_dir: Path) -> Identity:
    return _identity(keys_dir, "edigate")


@pytest.fixture(scope="session")
def peer(keys_dir: Path) -> Identity:
    return _identity(keys_dir, "peer")


@pytest.fixture(scope="session")
def stranger(keys_dir: Path) -> Identity:
    return _identity(keys_dir, "stranger")


@pytest.fixture(scope="session")
def openssl() -> str:
    """The openssl command; skips (fails under CI=true) when it is not installed."""
    path = shutil.which("openssl")
    if path is None:
        message = "the openssl command is not installed; install it with `apt-get install openssl`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def run_openssl(openssl: str, args: Sequence[str], data: bytes | None = None) -> bytes:
    done = subprocess.run([openssl, *args], input=data, capture_output=True, check=False, timeout=30)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout
