"""A Message-ID received again, over real HTTP: answered as the original was, never a false receipt.

- the same transmission again, original stored: positive MDN, not routed again (see
  ``test_inbound_edge.py``);
- the same transmission again, original rejected by the store: the original's error MDN;
- the same Message-ID with other content: stored as received (rejected, the reason names
  the reused Message-ID) and answered with an error MDN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from gateway.domain.runtime.lifecycle import State
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
    transmissions,
    write_profiles,
)
from tests.support.pyas2_peer import as2, build, organization, partner, raw_http

pytestmark = pytest.mark.asyncio(loop_scope="module")

PIPELINE_LIMIT = 4096  # SAMPLE_850 fits; SAMPLE_850 * 8 does not


@dataclass
class Env:
    gw: Gateway
    url: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory, ours: Identity, peer: Identity) -> AsyncIterator[Env]:
    assert len(SAMPLE_850) < PIPELINE_LIMIT < len(SAMPLE_850 * 8)
    tmp_path = tmp_path_factory.mktemp("as2-duplicates")
    profiles = write_profiles(
        tmp_path / "partners",
        as2_profile(partner_id="strict-co", as2_name="STRICT-AS2", ours=ours, partner_certs=[peer.cert_path]),
    )
    async with (
        gateway_on_sqlite(tmp_path, profiles, max_payload_bytes=PIPELINE_LIMIT) as gw,
        edigate_as2(gw) as (_, url),
    ):
        yield Env(gw, url)


def sender(ours: Identity, peer: Identity, **options: Any) -> tuple[as2.Organization, as2.Partner]:
    org = organization("STRICT-AS2", peer.key_pem, peer.cert_pem)
    return org, partner(
        "EDIGATE-AS2",
        ours.cert_pem,
        sign=True,
        encrypt=True,
        mdn_mode="SYNC",
        mdn_digest_alg="sha256",
        **options,
    )


async def test_a_retry_of_a_message_the_store_rejected_gets_the_originals_error(
    env: Env, ours: Identity, peer: Identity
) -> None:
    headers, body, message = build(*sender(ours, peer, compress=True), SAMPLE_850 * 8)
    refused = ("processed/error", "unexpected-processing-error")
    assert mdn_outcome(message, *await post(env.url, headers, body)) == refused
    assert mdn_outcome(message, *await post(env.url, headers, body)) == refused  # not a false receipt
    [original] = await by_message_id(env.gw, message.message_id)
    assert original.state is State.REJECTED
    assert "over the limit" in (original.reason or "")
    [event] = [e for e in await env.gw.store.audit_trail("payload", original.id) if e.state == "duplicate"]
    assert "the original was rejected" in (event.detail or "")
    assert await payloads(env.gw, "strict-co", state=State.RECEIVED) == []  # nothing to route, ever
    assert await transmissions(env.gw, message.message_id, channel="as2-raw") != []


def with_message_id(headers: dict[str, str], message_id: str) -> dict[str, str]:
    out = {k: v for k, v in headers.items() if k.lower() != "message-id"}
    out["Message-ID"] = f"<{message_id}>"
    return out


async def test_the_same_message_id_with_other_content_is_kept_and_refused(
    env: Env, ours: Identity, peer: Identity
) -> None:
    first_headers, first_body, first = build(*sender(ours, peer), SAMPLE_850)
    other = SAMPLE_850.replace(b"PO-778812", b"PO-999999")
    assert other != SAMPLE_850
    headers, body, second = build(*sender(ours, peer), other)
    headers = with_message_id(headers, first.message_id)
    second.message_id = first.message_id
    assert mdn_outcome(first, *await post(env.url, first_headers, first_body)) == ("processed", None)
    reply_headers, reply = await post(env.url, headers, body)
    assert mdn_outcome(second, reply_headers, reply) == ("processed/error", "unexpected-processing-error")
    mdn_text = raw_http(reply_headers, reply)
    assert b"was already used for a message with different content" in mdn_text  # signed, so clear text
    [original] = await by_message_id(env.gw, first.message_id)  # the original is untouched
    assert original.state is State.RECEIVED
    assert b"PO-778812" in await env.gw.store.payload_content(original.id)
    [kept] = [p for p in await transmissions(env.gw, first.message_id) if p.id != original.id]
    assert kept.state is State.REJECTED
    assert kept.partner_id == "strict-co"
    assert (kept.reason or "").startswith("unexpected-processing-error: ")
    assert f"AS2 Message-ID {first.message_id} reused with different content" in (kept.reason or "")
    assert original.id in (kept.reason or "")
    assert body in await env.gw.store.payload_content(kept.id)  # the second transmission, as received
    trail = await env.gw.store.audit_trail("payload", original.id)
    [event] = [e for e in trail if e.state == "duplicate"]
    assert "different content" in (event.detail or "")
    assert kept.id in (event.detail or "")


async def test_the_same_content_sent_again_under_its_message_id_is_acknowledged(
    env: Env, ours: Identity, peer: Identity
) -> None:
    """A retransmission is re-signed and re-encrypted (other bytes on the wire), same content."""
    first_headers, first_body, first = build(*sender(ours, peer), SAMPLE_850)
    headers, body, again = build(*sender(ours, peer), SAMPLE_850)
    assert body != first_body
    headers = with_message_id(headers, first.message_id)
    again.message_id = first.message_id
    assert mdn_outcome(first, *await post(env.url, first_headers, first_body)) == ("processed", None)
    assert mdn_outcome(again, *await post(env.url, headers, body)) == ("processed", None)
    assert [p.state for p in await transmissions(env.gw, first.message_id)] == [State.RECEIVED]
    [event] = [
        e
        for e in await env.gw.store.audit_trail(
            "payload", (await by_message_id(env.gw, first.message_id))[0].id
        )
        if e.state == "duplicate"
    ]
    assert "answered as the original" in (event.detail or "")
