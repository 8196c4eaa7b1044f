"""AS2 end to end through the gateway: a canonical reply routed to an AS2 partner goes out over
AS2, and resends with new control numbers (CLI and admin API) go out over AS2 again.

The gateway runs as ``edigate serve`` builds it (``Gateway`` + ``build_web_app``) with
``channels.send_via_partner_channels`` on; the partner is a pyas2lib receiver. The CLI
resend runs as a separate ``edigate`` process against the same database, as support staff
would run it next to a running gateway.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp import web

from edi import parse
from gateway.adapters.metrics import Metrics
from gateway.app import build_web_app
from gateway.config import ApiToken, Role, Settings
from gateway.domain.canonical import DocumentHeader, DocumentType, SourceChannel, Usage, dump_document
from gateway.domain.canonical.header import Direction as DocDirection
from gateway.domain.mapping import Mapper
from gateway.domain.profiles import SecretRef
from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.ports import OutboundRequest
from gateway.domain.runtime.store import MessageFilter
from gateway.runtime import Gateway
from tests.gateway.adapters.as2.conftest import Identity
from tests.gateway.adapters.as2.harness import REPO, as2_profile, serve, write_profiles
from tests.gateway.adapters.as2.outbound_kit import wait_state
from tests.support.pyas2_peer import Pyas2Receiver, organization, partner

TOKEN = "as2-resend-admin-token-5b8e"


def po_ack(po_number_suffix: str = "") -> bytes:
    """A canonical 855 for ``peer-co``, as an ERP would publish it (from the mapping fixture)."""
    x12 = parse((REPO / "fixtures/mapping/855-004010.x12").read_bytes())
    ix = x12.interchanges[0]
    group = ix.groups[0]
    header = DocumentHeader(
        partner_id="peer-co",
        document_type=DocumentType.PURCHASE_ORDER_ACK,
        direction=DocDirection.OUTBOUND,
        source_channel=SourceChannel.BROKER,
        usage=Usage.PRODUCTION,
        correlation_id=f"erp-855{po_number_suffix}",
        received_at=datetime.now(UTC),
    )
    doc = Mapper.load(REPO / "mappings").x12_to_canonical(
        group.transactions[0], interchange=ix, group=group, profile=None, header=header
    )
    return dump_document(doc)


@dataclass
class Running:
    gw: Gateway
    receiver: Pyas2Receiver
    url: str
    config: Path


@pytest.fixture
async def running(tmp_path: Path, ours: Identity, peer: Identity) -> AsyncIterator[Running]:
    receiver = Pyas2Receiver(
        organization("PEER-AS2", peer.key_pem, peer.cert_pem),
        partner("EDIGATE-AS2", ours.cert_pem, sign=True, encrypt=True),
    )
    peer_app = web.Application()
    peer_app.router.add_post("/as2", receiver.handle)
    async with serve(peer_app) as peer_url:
        profile = as2_profile(
            partner_id="peer-co",
            as2_name="PEER-AS2",
            ours=ours,
            partner_certs=[peer.cert_path],
            url=f"{peer_url}/as2",
        )
        partners = write_profiles(tmp_path / "partners", profile)
        (tmp_path / "token").write_text(TOKEN)
        values = {
            "database_url": f"sqlite:///{tmp_path}/gateway.db",
            "partners_dir": str(partners),
            "mappings_dir": str(REPO / "mappings"),
            "var_dir": str(tmp_path / "var"),
            "spool_dir": str(tmp_path / "spool"),
            "filedrop_dir": str(tmp_path / "filedrop"),
            "channels": {"send_via_partner_channels": True},
            "pipeline": {"poll_seconds": 0.05, "retry_backoff_seconds": 0.05},
        }
        config = tmp_path / "edigate.yaml"
        config.write_text(yaml.safe_dump(values))
        settings = Settings.model_validate(
            {
                **values,
                "api_tokens": [
                    ApiToken(
                        name="ada-admin", role=Role.ADMIN, token=SecretRef("file", str(tmp_path / "token"))
                    )
                ],
            }
        )
        gw = await Gateway.open(settings)
        runner = web.AppRunner(build_web_app(gw, Metrics()), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        await gw.start()
        try:
            yield Running(gw, receiver, f"http://127.0.0.1:{port}", config)
        finally:
            await runner.cleanup()
            await gw.stop()


def interchange_number(content: bytes) -> str:
    [ix] = parse(content).interchanges
    return ix.control_number


async def _sent_over_as2(r: Running, count: int) -> None:
    for _ in range(200):
        if len(r.receiver.received) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"the pyas2lib partner received {len(r.receiver.received)} messages, expected {count}"
    )


async def test_a_canonical_reply_for_an_as2_partner_goes_out_over_as2(running: Running) -> None:
    record = await running.gw.outbound.submit(OutboundRequest(po_ack()))
    assert record.channel == "as2"
    await wait_state(running.gw, record.id, State.DELIVERED)  # sent by the running Sender, MDN verified
    [(message, status, exception)] = running.receiver.received
    assert status == "processed", exception
    assert message.content == await running.gw.store.payload_content(record.id)
    [ix] = parse(message.content).interchanges
    assert (ix.receiver, ix.groups[0].transactions[0].set_id) == ("ACMERETAIL", "855")


async def test_a_resend_with_new_control_numbers_from_the_cli_goes_out_over_as2(running: Running) -> None:
    first = await running.gw.outbound.submit(OutboundRequest(po_ack("-cli")))
    await wait_state(running.gw, first.id, State.DELIVERED)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    done = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable, "-m", "gateway.cli.main", "replay", "outbound", first.id,
            "--renew-control-numbers", "--reason", "partner lost it (OPS-31)", "--actor", "sam",
            "--config", str(running.config),
        ],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["succeeded"] == 1, summary
    await _sent_over_as2(running, 2)
    resent = [
        p
        for p in await running.gw.store.list_payloads(
            MessageFilter(direction=Direction.OUTBOUND, channel="as2")
        )
        if p.id != first.id and p.correlation_id == first.correlation_id
    ]
    assert len(resent) == 1, "the renewed resend is a new payload on channel as2, not the file drop"
    await wait_state(running.gw, resent[0].id, State.DELIVERED)
    original, again = (m.content for m, _, _ in running.receiver.received)
    assert interchange_number(again) != interchange_number(original)
    assert not list((Path(running.gw.settings.filedrop_dir)).rglob("*.x12"))


async def test_a_resend_with_new_control_numbers_from_the_admin_api_goes_out_over_as2(
    running: Running,
) -> None:
    first = await running.gw.outbound.submit(OutboundRequest(po_ack("-api")))
    await wait_state(running.gw, first.id, State.DELIVERED)
    body = {
        "mode": "outbound",
        "reason": "partner lost it (OPS-32)",
        "payload_ids": [first.id],
        "renew_control_numbers": True,
    }
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{running.url}/api/v1/replays", json=body, headers=headers) as r:
            assert r.status == 202, await r.text()
            job = await r.json()
        for _ in range(200):
            async with session.get(f"{running.url}/api/v1/replays/{job['id']}", headers=headers) as r:
                job = await r.json()
            if not job["running"]:
                break
            await asyncio.sleep(0.05)
    assert (job["succeeded"], job["failed"]) == (1, [])
    await _sent_over_as2(running, 2)
    original, again = (m.content for m, _, _ in running.receiver.received)
    assert interchange_number(again) != interchange_number(original)


async def test_a_plain_resend_from_the_admin_api_goes_out_over_as2_again(running: Running) -> None:
    first = await running.gw.outbound.submit(OutboundRequest(po_ack("-same")))
    await wait_state(running.gw, first.id, State.DELIVERED)
    body = {"mode": "outbound", "reason": "again (OPS-33)", "payload_ids": [first.id]}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{running.url}/api/v1/replays", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as r,
    ):
        assert r.status == 202
    await _sent_over_as2(running, 2)
    await wait_state(running.gw, first.id, State.DELIVERED)
    original, again = (m.content for m, _, _ in running.receiver.received)
    assert again == original  # same control numbers, same bytes, new AS2 Message-ID
    ids = [m.message_id for m, _, _ in running.receiver.received]
    assert ids[0] != ids[1]
