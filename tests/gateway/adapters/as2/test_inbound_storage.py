"""Storage before acknowledgement, and limits, on the real ``/as2`` endpoint.

- the store fails while receiving: HTTP 5xx and no MDN at all (sync or async), so the
  partner retries instead of taking a receipt for bytes we do not hold;
- a Message-ID longer than the store's key column is refused as malformed with an error MDN
  and kept (rejected), on SQLite and PostgreSQL, never an HTTP 500;
- a compressed layer inflates no further than the payload limit, even before the message
  is authenticated (an encrypted "zip bomb" needs only our public certificate).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.adapters.as2 import install_as2
from gateway.adapters.as2.protocol import PackOptions, pack
from gateway.domain.runtime.errors import TransientFailure
from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.records import ChannelMeta, StoreOutcome
from gateway.runtime import Gateway
from tests.gateway.adapters.as2.conftest import Identity
from tests.gateway.adapters.as2.harness import (
    SAMPLE_850,
    as2_profile,
    by_message_id,
    edigate_as2,
    gateway_on_database,
    gateway_on_sqlite,
    payloads,
    serve,
    transmissions,
    write_profiles,
)
from tests.support.postgres import create_database, drop_database
from tests.support.pyas2_peer import as2, build, organization, partner, raw_http


@asynccontextmanager
async def failing_store(tmp_path: Path, ours: Identity, peer: Identity) -> AsyncIterator[tuple[Gateway, str]]:
    """A gateway whose receive path fails the way a database outage does (after the message
    was opened and verified, before anything is committed)."""
    profiles = write_profiles(
        tmp_path / "partners",
        as2_profile(partner_id="strict-co", as2_name="STRICT-AS2", ours=ours, partner_certs=[peer.cert_path]),
    )

    async def receive(content: bytes, meta: ChannelMeta, **_: Any) -> StoreOutcome:
        raise TransientFailure("the database is unavailable: connection refused")

    async with gateway_on_sqlite(tmp_path, profiles) as gw:
        app = web.Application()
        install_as2(
            app,
            store=gw.store,
            profiles=gw.registry,
            receive=receive,
            channels=gw.channels,
            wake_sender=gw.sender_wake.set,
        )
        async with serve(app) as url:
            yield gw, url


@pytest.mark.parametrize("mode", ["SYNC", "ASYNC"])
async def test_a_store_failure_while_receiving_is_a_5xx_and_no_mdn(
    tmp_path: Path, ours: Identity, peer: Identity, mode: str
) -> None:
    org = organization("STRICT-AS2", peer.key_pem, peer.cert_pem, mdn_url="http://127.0.0.1:9/mdn")
    to_us = partner(
        "EDIGATE-AS2", ours.cert_pem, sign=True, encrypt=True, mdn_mode=mode, mdn_digest_alg="sha256"
    )
    headers, body, message = build(org, to_us, SAMPLE_850)
    async with (
        failing_store(tmp_path, ours, peer) as (gw, url),
        aiohttp.ClientSession() as session,
        session.post(f"{url}/as2", headers=headers, data=body) as r,
    ):
        status, reply_type, reply = r.status, r.headers.get("Content-Type", ""), await r.read()
        assert 500 <= status < 600
        assert not reply_type.startswith(("multipart/report", "multipart/signed"))  # no MDN
        assert b"disposition" not in reply.lower()
        assert b"asynchronously" not in reply
        queued = await payloads(gw, channel="as2-mdn", direction=Direction.OUTBOUND)
        assert queued == []  # and none queued for later either
        assert message.message_id not in str([p.meta for p in await payloads(gw)])


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/gateway.db"
        return
    url = create_database()
    yield url
    drop_database(url)


async def test_a_message_id_longer_than_the_store_keeps_is_refused_and_kept(
    database_url: str, tmp_path: Path, ours: Identity, peer: Identity
) -> None:
    profiles = write_profiles(
        tmp_path / "partners",
        as2_profile(partner_id="strict-co", as2_name="STRICT-AS2", ours=ours, partner_certs=[peer.cert_path]),
    )
    org = organization("STRICT-AS2", peer.key_pem, peer.cert_pem)
    to_us = partner(
        "EDIGATE-AS2", ours.cert_pem, sign=True, encrypt=True, mdn_mode="SYNC", mdn_digest_alg="sha256"
    )
    async with gateway_on_database(database_url, tmp_path, profiles) as gw, edigate_as2(gw) as (_, url):
        for length, expected in ((255, "processed"), (256, "processed/error"), (1000, "processed/error")):
            headers, body, message = build(org, to_us, SAMPLE_850)
            message_id = f"{'m' * (length - len('@long'))}@long"
            assert len(message_id) == length
            headers = {k: v for k, v in headers.items() if k.lower() != "message-id"}
            headers["Message-ID"] = f"<{message_id}>"
            message.message_id = message_id
            async with (
                aiohttp.ClientSession() as session,
                session.post(f"{url}/as2", headers=headers, data=body) as r,
            ):
                assert r.status == 200  # an MDN, never an HTTP 500
                reply_headers, reply = dict(r.headers), await r.read()
            status, detail = as2.Mdn().parse(
                raw_http(reply_headers, reply), find_message_cb=lambda _m, _r, m=message: m
            )
            assert str(status) == expected, (length, detail)
            if expected == "processed":
                [edi] = await by_message_id(gw, message_id)
                assert edi.state is State.RECEIVED
                continue
            assert detail == "unexpected-processing-error"
            assert await by_message_id(gw, message_id) == []  # nothing for the pipeline
            [kept] = await transmissions(gw, message_id)
            assert kept.state is State.REJECTED
            assert kept.partner_id == "strict-co"
            assert f"the Message-ID is {length} characters long" in (kept.reason or "")
            assert body in await gw.store.payload_content(kept.id)


async def test_a_compressed_bomb_stops_inflating_at_the_payload_limit(
    tmp_path: Path, ours: Identity, peer: Identity
) -> None:
    limit = 1_000_000
    bomb = b"A" * (limit * 5)
    packed = pack(bomb, "application/edi-x12", None, PackOptions(compress=True, encrypt_for=ours.cert))
    assert len(packed.body) < limit // 50  # a small body, well under the limit itself
    profiles = write_profiles(
        tmp_path / "partners",
        as2_profile(partner_id="strict-co", as2_name="STRICT-AS2", ours=ours, partner_certs=[peer.cert_path]),
    )
    headers = dict(packed.headers) | {
        "AS2-From": "STRICT-AS2",
        "AS2-To": "EDIGATE-AS2",
        "Message-ID": "<bomb-1@attacker>",
        "Disposition-Notification-To": "edi@attacker.example",
    }
    async with (
        gateway_on_sqlite(tmp_path, profiles) as gw,
        edigate_as2(gw, max_payload_bytes=limit) as (_, url),
        aiohttp.ClientSession() as session,
        session.post(f"{url}/as2", headers=headers, data=packed.body) as r,
    ):
        assert r.status == 200
        reply = await r.read()
        assert b"unexpected-processing-error" in reply  # an unsigned MDN (none was asked signed)
        [kept] = await transmissions(gw, "bomb-1@attacker")
        assert kept.state is State.REJECTED
        assert (kept.reason or "") == (
            f"unexpected-processing-error: the compressed content inflates beyond the limit of {limit} bytes"
        )
        assert packed.body in await gw.store.payload_content(kept.id)  # kept as received
