"""What an error MDN tells the sender, over real HTTP: the partner's own faults in full, ours
only as "an error on the receiving side". Key file paths and exception texts of our own
failures stay in the stored reason and the logs, for support."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.adapters.as2 import inbound as inbound_module
from gateway.domain.runtime.lifecycle import State
from tests.gateway.adapters.as2.conftest import Identity
from tests.gateway.adapters.as2.harness import (
    SAMPLE_850,
    as2_profile,
    edigate_as2,
    gateway_on_sqlite,
    mdn_outcome,
    post,
    transmissions,
    write_profiles,
)
from tests.support.pyas2_peer import as2, build, organization, partner

GENERIC = b"an error on the receiving side"


def message(ours: Identity, peer: Identity, **options: Any) -> tuple[dict[str, str], bytes, as2.Message]:
    org = organization("STRICT-AS2", peer.key_pem, peer.cert_pem)
    to_us = partner("EDIGATE-AS2", ours.cert_pem, mdn_mode="SYNC", **options)
    return build(org, to_us, SAMPLE_850)


async def test_an_unreadable_key_of_ours_is_not_described_to_the_sender(
    tmp_path: Path, ours: Identity, peer: Identity, caplog: pytest.LogCaptureFixture
) -> None:
    hidden = tmp_path / "vault-7f3a" / "edigate-private.key"  # does not exist
    profiles = write_profiles(
        tmp_path / "partners",
        as2_profile(partner_id="strict-co", as2_name="STRICT-AS2", ours=ours, partner_certs=[peer.cert_path]),
    )
    profile = profiles / "strict-co.yaml"
    profile.write_text(profile.read_text().replace(f"file:{ours.key_path}", f"file:{hidden}"))
    headers, body, sent = message(ours, peer, sign=True, encrypt=True)
    async with gateway_on_sqlite(tmp_path, profiles) as gw, edigate_as2(gw) as (_, url):
        reply_headers, reply = await post(url, headers, body)
        assert mdn_outcome(sent, reply_headers, reply) == ("processed/error", "unexpected-processing-error")
        assert GENERIC in reply
        assert b"vault-7f3a" not in reply
        assert b"private key" not in reply
        [kept] = await transmissions(gw, sent.message_id)
        assert kept.state is State.REJECTED
        assert "our private key is unavailable" in (kept.reason or "")  # the detail, for support
        assert "vault-7f3a" in (kept.reason or "")
    assert any("vault-7f3a" in str(getattr(r, "reason", "")) for r in caplog.records)  # and in the log
    assert not any(ours.key_pem.decode().splitlines()[1] in r.getMessage() for r in caplog.records)


async def test_an_unexpected_error_of_ours_is_not_described_to_the_sender(
    tmp_path: Path, ours: Identity, peer: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("internal state 0x7f3a at /srv/edigate/lib/unpack.py")

    monkeypatch.setattr(inbound_module, "unpack", broken)
    profiles = write_profiles(
        tmp_path / "partners",
        as2_profile(partner_id="strict-co", as2_name="STRICT-AS2", ours=ours, partner_certs=[peer.cert_path]),
    )
    headers, body, sent = message(ours, peer, sign=True, encrypt=True, mdn_digest_alg="sha256")
    async with gateway_on_sqlite(tmp_path, profiles) as gw, edigate_as2(gw) as (_, url):
        reply_headers, reply = await post(url, headers, body)
        assert mdn_outcome(sent, reply_headers, reply) == ("processed/error", "unexpected-processing-error")
        assert GENERIC in reply
        assert b"/srv/edigate" not in reply
        assert b"RuntimeError" not in reply
        [kept] = await transmissions(gw, sent.message_id)
        assert kept.reason == (
            "unexpected-processing-error: unexpected error: RuntimeError: "
            "internal state 0x7f3a at /srv/edigate/lib/unpack.py"
        )
        headers, body, _ = message(ours, peer, sign=True, encrypt=True)  # and without an MDN request
        headers = {k: v for k, v in headers.items() if not k.lower().startswith("disposition-notification")}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{url}/as2", headers=headers, data=body) as r,
        ):
            text = await r.read()
        assert GENERIC in text
        assert b"/srv/edigate" not in text


async def test_the_partners_own_fault_is_still_named(tmp_path: Path, ours: Identity, peer: Identity) -> None:
    profiles = write_profiles(
        tmp_path / "partners",
        as2_profile(partner_id="strict-co", as2_name="STRICT-AS2", ours=ours, partner_certs=[peer.cert_path]),
    )
    headers, body, sent = message(ours, peer, encrypt=True)  # not signed, the profile requires it
    async with gateway_on_sqlite(tmp_path, profiles) as gw, edigate_as2(gw) as (_, url):
        reply_headers, reply = await post(url, headers, body)
    assert mdn_outcome(sent, reply_headers, reply) == ("processed/error", "insufficient-message-security")
    assert b"requires signed messages" in reply
    assert GENERIC not in reply
