"""``edigate certs generate``: a self-signed RSA key pair for AS2 testing and onboarding.

::

    edigate certs generate --name NAME --out DIR [--days D] [--bits 2048|3072|4096] [--force]

Writes ``DIR/NAME.key`` (PKCS#8 PEM, unencrypted, mode 0600) and ``DIR/NAME.crt`` (PEM), and
prints the certificate's SHA-256 fingerprint, its expiry and the profile lines that use
them. Existing files are not overwritten without ``--force``. Exit 0 on success, 1 when a
file exists, 2 on a usage or I/O error. Production keys should come from your PKI; this
is for test partners and for bootstrapping an exchange.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from cryptography import x509

from gateway.adapters.as2.keys import generate_self_signed
from gateway.domain.profiles.certs import fingerprint

__all__ = ["register"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("certs", help="AS2 certificates and keys")
    commands = parser.add_subparsers(dest="certs_command", required=True, metavar="SUBCOMMAND")
    generate = commands.add_parser("generate", help="create a self-signed RSA key and certificate")
    generate.add_argument("--name", required=True, help="common name, also the file name stem")
    generate.add_argument("--out", required=True, type=Path, help="directory for NAME.key and NAME.crt")
    generate.add_argument("--days", type=int, default=365, help="validity in days (default 365)")
    generate.add_argument("--bits", type=int, choices=(2048, 3072, 4096), default=2048)
    generate.add_argument("--force", action="store_true", help="overwrite existing files")
    generate.set_defaults(handler=_generate)


def _write(path: Path, data: bytes, mode: int, force: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    fd = os.open(path, flags, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, mode)  # an overwritten file keeps its old mode otherwise


def _generate(args: argparse.Namespace) -> int:
    name: str = args.name
    if not _NAME.fullmatch(name):
        print("--name must be 1-64 letters, digits, '.', '_' or '-'", file=sys.stderr)
        return 2
    if not 1 <= args.days <= 36500:
        print("--days must be between 1 and 36500", file=sys.stderr)
        return 2
    out: Path = args.out
    key_path, cert_path = out / f"{name}.key", out / f"{name}.crt"
    if not args.force:
        existing = [str(p) for p in (key_path, cert_path) if p.exists()]
        if existing:
            print(f"refusing to overwrite {', '.join(existing)} (use --force)", file=sys.stderr)
            return 1
    key_pem, cert_pem = generate_self_signed(name, days=args.days, key_size=args.bits)
    try:
        out.mkdir(parents=True, exist_ok=True)
        _write(key_path, key_pem, 0o600, args.force)
        _write(cert_path, cert_pem, 0o644, args.force)
    except OSError as exc:
        print(f"cannot write to {out}: {exc.strerror}", file=sys.stderr)
        return 2
    cert = x509.load_pem_x509_certificate(cert_pem)
    print(f"key          {key_path} (mode 0600; keep it secret)")
    print(f"certificate  {cert_path} (give this one to the partner)")
    print(f"sha256       {fingerprint(cert)}")
    print(f"expires      {cert.not_valid_after_utc.isoformat()}")
    print("profile      channels.as2.our_key: file:" + str(key_path.resolve()))
    print("             channels.as2.our_certificate: {path: " + str(cert_path.resolve()) + "}")
    return 0
