"""Password hashes for partner SFTP accounts (passwords are off unless a profile names a hash).

A profile's ``account.password_hash`` is a reference (``env:``/``file:``) to one line in
one of two formats, both computed with :mod:`hashlib` and base64 without padding
(standard alphabet):

* ``$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>``: scrypt with ``N = 2**ln``
  (recommended; ``ln`` 14-20);
* ``$pbkdf2-sha256$<iterations>$<salt>$<hash>``: PBKDF2-HMAC-SHA256 (at least 100,000
  iterations).

Make one with ``python -m gateway.adapters.sftp.passwords`` (asks for the password twice and
prints the line). Verification compares in constant time and refuses parameters
outside the ranges above, so a tampered hash file cannot make a login attempt expensive.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import os
import sys

__all__ = ["hash_password", "verify_password"]

_SCRYPT_LN = range(10, 21)  # 10 only for tests; hash_password refuses below 14 unless told
_PBKDF2_ITERATIONS = range(100_000, 10_000_001)
_MAXMEM = 256 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _scrypt(password: bytes, salt: bytes, ln: int, r: int, p: int, size: int) -> bytes:
    return hashlib.scrypt(password, salt=salt, n=2**ln, r=r, p=p, maxmem=_MAXMEM, dklen=size)


def hash_password(password: str, *, scheme: str = "scrypt", cost: int | None = None) -> str:
    """A new hash line. ``cost`` is ``ln`` for scrypt (default 15), iterations for PBKDF2 (600,000)."""
    if not password:
        raise ValueError("an empty password cannot be hashed")
    salt = os.urandom(16)
    secret = password.encode("utf-8")
    if scheme == "scrypt":
        ln = 15 if cost is None else cost
        if ln not in _SCRYPT_LN:
            raise ValueError(f"scrypt ln must be in {_SCRYPT_LN.start}-{_SCRYPT_LN.stop - 1}")
        digest = _scrypt(secret, salt, ln, 8, 1, 32)
        return f"$scrypt$ln={ln},r=8,p=1${_b64(salt)}${_b64(digest)}"
    if scheme == "pbkdf2-sha256":
        rounds = 600_000 if cost is None else cost
        if rounds not in _PBKDF2_ITERATIONS:
            raise ValueError("PBKDF2 iterations must be between 100,000 and 10,000,000")
        digest = hashlib.pbkdf2_hmac("sha256", secret, salt, rounds)
        return f"$pbkdf2-sha256${rounds}${_b64(salt)}${_b64(digest)}"
    raise ValueError(f"unknown password scheme {scheme!r}: use 'scrypt' or 'pbkdf2-sha256'")


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the hash line ``stored``; a malformed line never matches."""
    fields = stored.strip().split("$")
    secret = password.encode("utf-8")
    try:
        if len(fields) == 5 and fields[1] == "scrypt":
            params = dict(item.split("=", 1) for item in fields[2].split(","))
            ln, r, p = int(params["ln"]), int(params["r"]), int(params["p"])
            if ln not in _SCRYPT_LN or not 1 <= r <= 32 or not 1 <= p <= 16:
                return False
            salt, expected = _unb64(fields[3]), _unb64(fields[4])
            actual = _scrypt(secret, salt, ln, r, p, len(expected))
        elif len(fields) == 5 and fields[1] == "pbkdf2-sha256":
            rounds = int(fields[2])
            if rounds not in _PBKDF2_ITERATIONS:
                return False
            salt, expected = _unb64(fields[3]), _unb64(fields[4])
            actual = hashlib.pbkdf2_hmac("sha256", secret, salt, rounds, dklen=len(expected))
        else:
            return False
    except (ValueError, KeyError):
        return False
    return len(expected) >= 16 and hmac.compare_digest(actual, expected)


def main() -> int:
    """Ask for a password twice and print its scrypt hash line (for ``password_hash`` files)."""
    first = getpass.getpass("password for the partner's SFTP account: ")
    if first != getpass.getpass("again: "):
        print("the two passwords differ", file=sys.stderr)
        return 1
    print(hash_password(first))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
