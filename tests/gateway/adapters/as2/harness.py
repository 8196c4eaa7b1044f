"""Building blocks for the AS2 HTTP tests: partner profiles on disk, a gateway on SQLite,
and aiohttp applications served on 127.0.0.1 (random ports)."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.adapters.as2 import As2Install, install_as2
from gateway.config import Settings
from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.records import PayloadRecord
from gateway.domain.runtime.store import MessageFilter
from gateway.runtime import Gateway
from tests.gateway.adapters.as2.conftest import Identity
from tests.support.pyas2_peer import as2, raw_http

REPO = Path(__file__).resolve().parents[4]
SAMPLE_850 = (REPO / "fixtures/x12/sample-850.edi").read_bytes()


def as2_profile(
    *,
    partner_id: str,
    as2_name: str,
    ours: Identity,
    partner_certs: list[Path],
    url: str = "http://127.0.0.1:9/as2",
    isa_id: str = "ACMERETAIL",
    **as2: Any,
) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "url": url,
        "our_as2_id": "EDIGATE-AS2",
        "our_key": f"file:{ours.key_path}",
        "our_certificate": {"path": str(ours.cert_path)},
        "partner_certificates": [{"path": str(p)} for p in partner_certs],
    }
    channel.update(as2)
    return {
        "partner_id": partner_id,
        "name": f"{partner_id} (test)",
        "environment": "production",
        "identity": {"isa_qualifier": "ZZ", "isa_id": isa_id, "as2_name": as2_name},
        "channels": {"as2": channel},
        "documents": [
            {
                "direction": "inbound",
                "type": "850",
                "format": "x12",
                "version": "004010",
                "mapping": {"variant": "x12-850-004010"},
                "ack": {"type": "none"},
            },
            {"direction": "outbound", "type": "855", "format": "x12", "version": "004010"},
        ],
        "routing": {"850": ["erp"]},
    }


def write_profiles(directory: Path, *profiles: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for profile in profiles:
        (directory / f"{profile['partner_id']}.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return directory


@asynccontextmanager
async def gateway_on_sqlite(tmp_path: Path, partners_dir: Path, **pipeline: Any) -> AsyncIterator[Gateway]:
    async with gateway_on_database(
        f"sqlite:///{tmp_path}/gateway.db", tmp_path, partners_dir, **pipeline
    ) as gw:
        yield gw


@asynccontextmanager
async def gateway_on_database(
    database_url: str, tmp_path: Path, partners_dir: Path, **pipeline: Any
) -> AsyncIterator[Gateway]:
    """A gateway on ``database_url`` (SQLite or an empty PostgreSQL database)."""
    settings = Settings(
        database_url=database_url,
        partners_dir=partners_dir,
        mappings_dir=REPO / "mappings",
        var_dir=tmp_path / "var",
        spool_dir=tmp_path / "spool",
        filedrop_dir=tmp_path / "filedrop",
        pipeline={"poll_seconds": 0.05, **pipeline},
    )
    gw = await Gateway.open(settings)
    await gw.destination.start()
    try:
        yield gw
    finally:
        await gw.stop()


@asynccontextmanager
async def serve(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """Run ``app`` on 127.0.0.1 (a free port), over HTTPS with ``ssl_context``; yields the base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    scheme = "https" if ssl_context is not None else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def edigate_as2(
    gw: Gateway, ssl_context: ssl.SSLContext | None = None, **options: Any
) -> AsyncIterator[tuple[As2Install, str]]:
    """The gateway's AS2 endpoints on a real port (HTTPS with ``ssl_context``), channels registered."""
    app = web.Application()
    as2 = install_as2(
        app,
        store=gw.store,
        profiles=gw.registry,
        receive=gw.receive,
        channels=gw.channels,
        wake_sender=gw.sender_wake.set,
        **options,
    )
    async with serve(app, ssl_context) as url:
        yield as2, url


@dataclass(frozen=True)
class TlsFiles:
    """A private CA and a server certificate for 127.0.0.1 that it issued (HTTPS tests)."""

    ca_path: Path
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.cert_path), str(self.key_path))
        return ctx

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca_path))


def make_tls_files(directory: Path, name: str) -> TlsFiles:
    """A CA ``<name> CA`` and a server certificate (SAN IP 127.0.0.1 and localhost) it signed."""
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(
        directory / f"{name}-ca.pem", directory / f"{name}-server.pem", directory / f"{name}-server.key"
    )
    files.ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


async def payloads(gw: Gateway, partner_id: str | None = None, **flt: Any) -> list[PayloadRecord]:
    return await gw.store.list_payloads(MessageFilter(partner_id=partner_id, limit=500, **flt))


async def routable(gw: Gateway, partner_id: str) -> list[PayloadRecord]:
    """Inbound payloads the pipeline would process (state received)."""
    return await payloads(gw, partner_id, state=State.RECEIVED, direction=Direction.INBOUND)


async def by_message_id(gw: Gateway, message_id: str) -> list[PayloadRecord]:
    """Inbound EDI payloads stored for an AS2 Message-ID (any partner, any state)."""
    found = await payloads(gw, direction=Direction.INBOUND, channel="as2")
    return [p for p in found if p.meta.get("as2_message_id") == message_id]


async def transmissions(gw: Gateway, message_id: str, channel: str = "as2") -> list[PayloadRecord]:
    """Payloads whose stored AS2 headers carry ``message_id`` (EDI, archive or rejected copies)."""
    found = await payloads(gw, channel=channel)
    return [p for p in found if p.meta.get("headers", {}).get("message-id", "").strip("<>") == message_id]


async def post(url: str, headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
    """POST a message to ``{url}/as2``; an MDN was asked for: it comes with 200, whatever its disposition."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/as2", headers=headers, data=body) as r,
    ):
        assert r.status == 200
        return dict(r.headers), await r.read()


def mdn_outcome(message: as2.Message, headers: dict[str, str], body: bytes) -> tuple[str, str | None]:
    """(disposition, detail) of our MDN, read and verified by pyas2lib as the sender of ``message``."""
    status, detail = as2.Mdn().parse(raw_http(headers, body), find_message_cb=lambda _m, _r: message)
    return str(status), detail
