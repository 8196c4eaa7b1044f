"""Where async MDNs may go: only to hosts the partner's profile allows, never by a redirect.

The ``Receipt-Delivery-Option`` header is covered by no signature, so anyone who can send
(or replay) a message could otherwise make the gateway POST a signed MDN to any URL.
Each test runs a real edigate ``/as2`` endpoint and a "victim" HTTP server that records
every request it gets. The profile's ``url`` is on 127.0.0.1, so 127.0.0.1 is the only
host allowed by default; ``localhost`` reaches the same server under a host name that is
not allowed.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.records import PayloadRecord
from gateway.runtime import Gateway
from tests.gateway.adapters.as2.conftest import Identity
from tests.gateway.adapters.as2.harness import (
    SAMPLE_850,
    as2_profile,
    by_message_id,
    edigate_as2,
    gateway_on_sqlite,
    mdn_outcome,
    payloads,
    post,
    serve,
    write_profiles,
)
from tests.support.pyas2_peer import as2, build, organization, partner

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Env:
    gw: Gateway
    url: str
    victim: str  # http://127.0.0.1:<port>
    strict: dict[str, Any]  # the strict-co profile as written
    partners: Path
    hits: list[str] = field(default_factory=list)

    @property
    def foreign(self) -> str:
        """The victim under a host name the profile does not allow."""
        return self.victim.replace("127.0.0.1", "localhost")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory, ours: Identity, peer: Identity) -> AsyncIterator[Env]:
    tmp_path = tmp_path_factory.mktemp("as2-mdn-url")
    strict = as2_profile(
        partner_id="strict-co", as2_name="STRICT-AS2", ours=ours, partner_certs=[peer.cert_path]
    )
    profiles = write_profiles(
        tmp_path / "partners",
        strict,
        as2_profile(
            partner_id="listed-co",
            as2_name="LISTED-AS2",
            isa_id="LISTEDCO",
            ours=ours,
            partner_certs=[peer.cert_path],
            mdn={"return_url_hosts": ["localhost"]},  # replaces the default (127.0.0.1)
        ),
    )
    hits: list[str] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(request.path)
        await request.read()
        if request.path == "/redirect":
            raise web.HTTPTemporaryRedirect("/followed")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", record)
    async with (
        gateway_on_sqlite(tmp_path, profiles) as gw,
        edigate_as2(gw) as (_, url),
        serve(app) as victim,
    ):
        yield Env(gw, url, victim, strict, profiles, hits)


def message_to_us(
    ours: Identity, peer: Identity, name: str = "STRICT-AS2", mdn_url: str | None = None
) -> tuple[dict[str, str], bytes, as2.Message]:
    org = organization(name, peer.key_pem, peer.cert_pem, mdn_url=mdn_url)
    to_us = partner(
        "EDIGATE-AS2",
        ours.cert_pem,
        sign=True,
        encrypt=True,
        mdn_mode="ASYNC" if mdn_url else "SYNC",
        mdn_digest_alg="sha256",
    )
    return build(org, to_us, SAMPLE_850)


def with_header(headers: dict[str, str], name: str, value: str) -> dict[str, str]:
    out = {k: v for k, v in headers.items() if k.lower() != name.lower()}
    out[name] = value
    return out


async def queued_for(gw: Gateway, message_id: str) -> list[PayloadRecord]:
    queued = await payloads(gw, channel="as2-mdn", direction=Direction.OUTBOUND)
    return [p for p in queued if p.meta.get("headers", {}).get("original-message-id") == message_id]


async def test_an_async_mdn_to_a_host_the_profile_does_not_allow_is_answered_sync(
    env: Env, ours: Identity, peer: Identity
) -> None:
    headers, body, message = message_to_us(ours, peer, mdn_url=f"{env.foreign}/steal")
    reply_headers, reply = await post(env.url, headers, body)
    assert reply_headers["Content-Type"].startswith("multipart/signed")  # the MDN itself, now
    assert mdn_outcome(message, reply_headers, reply) == ("processed", None)
    assert await queued_for(env.gw, message.message_id) == []
    await env.gw.send_pending()
    assert "/steal" not in env.hits
    [edi] = await by_message_id(env.gw, message.message_id)
    assert edi.state is State.RECEIVED  # the message itself is fine
    [refused] = [e for e in await env.gw.store.audit_trail("payload", edi.id) if e.state == "mdn-url-refused"]
    assert "localhost" in (refused.detail or "")
    assert "answered synchronously" in (refused.detail or "")


async def test_an_allowed_host_gets_its_async_mdn(env: Env, ours: Identity, peer: Identity) -> None:
    headers, body, message = message_to_us(ours, peer, mdn_url=f"{env.victim}/partner-mdn")
    _, reply = await post(env.url, headers, body)
    assert b"asynchronously" in reply
    await env.gw.send_pending()
    [mdn] = await queued_for(env.gw, message.message_id)
    assert mdn.state is State.SENT
    assert "/partner-mdn" in env.hits


async def test_return_url_hosts_replaces_the_default(env: Env, ours: Identity, peer: Identity) -> None:
    headers, body, message = message_to_us(ours, peer, "LISTED-AS2", mdn_url=f"{env.victim}/not-listed")
    reply_headers, reply = await post(env.url, headers, body)
    assert mdn_outcome(message, reply_headers, reply) == ("processed", None)  # sync: 127.0.0.1 is not listed
    assert await queued_for(env.gw, message.message_id) == []
    headers, body, message = message_to_us(ours, peer, "LISTED-AS2", mdn_url=f"{env.foreign}/listed")
    _, reply = await post(env.url, headers, body)
    assert b"asynchronously" in reply
    [mdn] = await queued_for(env.gw, message.message_id)
    assert mdn.meta["headers"]["receipt-delivery-option"] == f"{env.foreign}/listed"


async def test_a_replay_cannot_redirect_the_mdn_of_a_sync_message(
    env: Env, ours: Identity, peer: Identity
) -> None:
    headers, body, message = message_to_us(ours, peer)  # the partner asked for a sync MDN
    assert mdn_outcome(message, *await post(env.url, headers, body)) == ("processed", None)
    replay = with_header(headers, "Receipt-Delivery-Option", f"{env.victim}/replayed")
    reply_headers, reply = await post(env.url, replay, body)
    assert mdn_outcome(message, reply_headers, reply) == ("processed", None)  # sync, as the original
    assert await queued_for(env.gw, message.message_id) == []
    await env.gw.send_pending()
    assert "/replayed" not in env.hits


async def test_a_replay_is_answered_at_the_originals_url(env: Env, ours: Identity, peer: Identity) -> None:
    headers, body, message = message_to_us(ours, peer, mdn_url=f"{env.victim}/original")
    await post(env.url, headers, body)
    replay = with_header(headers, "Receipt-Delivery-Option", f"{env.victim}/replayed")
    _, reply = await post(env.url, replay, body)
    assert b"asynchronously" in reply
    queued = await queued_for(env.gw, message.message_id)
    assert [m.meta["headers"]["receipt-delivery-option"] for m in queued] == [f"{env.victim}/original"] * 2
    await env.gw.send_pending()
    assert "/replayed" not in env.hits


async def test_a_redirect_is_not_followed_and_fails_the_mdn(env: Env, ours: Identity, peer: Identity) -> None:
    headers, body, message = message_to_us(ours, peer, mdn_url=f"{env.victim}/redirect")
    _, reply = await post(env.url, headers, body)
    assert b"asynchronously" in reply
    await env.gw.send_pending()
    assert "/redirect" in env.hits
    assert "/followed" not in env.hits
    [mdn] = await queued_for(env.gw, message.message_id)
    assert mdn.state is State.FAILED
    assert "HTTP 307" in (mdn.reason or "")
    assert "redirects are not followed" in (mdn.reason or "")


async def test_a_queued_mdn_whose_url_is_no_longer_allowed_is_not_posted(
    env: Env, ours: Identity, peer: Identity
) -> None:
    """The Sender checks the URL again: a row queued before a profile change is not sent."""
    headers, body, message = message_to_us(ours, peer, mdn_url=f"{env.victim}/queued")
    await post(env.url, headers, body)
    [mdn] = await queued_for(env.gw, message.message_id)
    narrowed = copy.deepcopy(env.strict)
    narrowed["channels"]["as2"]["mdn"] = {"return_url_hosts": []}  # no async MDNs at all
    write_profiles(env.partners, narrowed)
    assert not env.gw.registry.reload().problems
    try:
        await env.gw.send_pending()
    finally:
        write_profiles(env.partners, env.strict)
        assert not env.gw.registry.reload().problems
    assert "/queued" not in env.hits
    record = await env.gw.store.get_payload(mdn.id)
    assert record is not None
    assert record.state is State.FAILED
    assert "the MDN delivery URL is refused" in (record.reason or "")
