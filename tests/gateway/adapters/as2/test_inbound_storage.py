"""Storage before acknowledgement, and limits, on the real ``/as2`` endpoint.

- the store fails while receiving: HTTP 5xx and no MDN at all (sync or async), so the
  partner retries instead of taking a receipt for bytes we do not hold;
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.adapters.as2 import install_as2
from gateway.domain.runtime.errors import TransientFailure
from gateway.domain.runtime.lifecycle import Direction
from gateway.domain.runtime.records import ChannelMeta, StoreOutcome
from gateway.runtime import Gateway
from tests.gateway.adapters.as2.conftest import Identity
from tests.gateway.adapters.as2.harness import (
    SAMPLE_850,
    as2_profile,
    gateway_on_sqlite,
    payloads,
    serve,
    write_profiles,
)
from tests.support.pyas2_peer import build, organization, partner


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
