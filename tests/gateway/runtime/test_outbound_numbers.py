"""Outbound documents and control numbers, on SQLite and PostgreSQL: every outbound document has its own
ID, resends with renewed control numbers work again and again, numbers are allocated only for requests
that are new and map cleanly, each issued number names the payload that used it (gaps are visible in the
admin API), and numbers stay unique across a restart and across two instances."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from edi import parse
from gateway.adapters.http import build_admin_app
from gateway.adapters.metrics import Metrics
from gateway.app import ensure_admin_token
from gateway.domain.runtime.errors import InvalidDocument
from gateway.domain.runtime.lifecycle import AckStatus, Direction, State
from gateway.domain.runtime.ports import OutboundRequest
from gateway.domain.runtime.records import ChannelMeta
from gateway.domain.runtime.store import MessageFilter
from gateway.runtime import Gateway

from .conftest import make_settings, truncate
from .helpers import canonical_from_x12
from .samples import acme_850


def _ship_notice(n: int, correlation: str = "erp-shared", **fields: Any) -> bytes:
    fields = {"shipment_id": f"SH-{n}", **fields}
    return canonical_from_x12("856-004010.x12", "acme-retail", "ship_notice", correlation, **fields)


async def _isa13(gateway: Gateway, payload_id: str) -> str:
    [ix] = parse(await gateway.store.payload_content(payload_id)).interchanges
    return ix.control_number


async def test_outbound_documents_sharing_a_correlation_id_keep_their_own_bodies(gateway: Gateway) -> None:
    first = await gateway.outbound.submit(OutboundRequest(_ship_notice(1)))
    second = await gateway.outbound.submit(OutboundRequest(_ship_notice(2)))
    bodies = {}
    for record in (first, second):
        detail = await gateway.store.payload_detail(record.id)
        assert detail is not None
        [doc] = detail["documents"]
        assert doc["id"] == f"out-{record.id}"
        body = await gateway.store.document_body(doc["id"])
        assert body is not None
        bodies[record.id] = json.loads(body)["shipment_id"]
    assert bodies == {first.id: "SH-1", second.id: "SH-2"}


async def test_renewed_control_numbers_can_be_asked_for_again_and_again(gateway: Gateway) -> None:
    original = await gateway.outbound.submit(OutboundRequest(_ship_notice(7), message_id="erp-msg-7"))
    await gateway.send_pending()
    first = await gateway.outbound.resend(original.id, True, "partner lost it", "support")
    second = await gateway.outbound.resend(original.id, True, "partner lost it again", "support")
    await gateway.send_pending()
    assert len({original.id, first, second}) == 3
    assert [await _isa13(gateway, pid) for pid in (original.id, first, second)] == [
        "000000001",
        "000000002",
        "000000003",
    ]
    for pid in (first, second):
        record = await gateway.store.get_payload(pid)
        assert record is not None
        assert record.state is State.SENT
        content = parse(await gateway.store.payload_content(pid))
        bsn = next(s for s in content.interchanges[0].groups[0].transactions[0].segments if s.id == "BSN")
        assert bsn.get(2) == "SH-7"  # the same shipment, re-enveloped
        detail = await gateway.store.payload_detail(pid)
        assert detail is not None
        assert "resend of" in " ".join(e.detail or "" for e in detail["audit"])
    trail = [e for e in await gateway.store.audit_trail("payload", original.id) if e.state == "replayed"]
    assert [(e.actor, e.reason) for e in trail] == [
        ("support", "partner lost it"),
        ("support", "partner lost it again"),
    ]
    body = await gateway.store.document_body(f"out-{original.id}")
    assert body is not None
    assert json.loads(body)["shipment_id"] == "SH-7"  # the original document was never overwritten


async def test_a_redelivery_or_a_bad_document_burns_no_control_numbers(gateway: Gateway) -> None:
    request = OutboundRequest(_ship_notice(11), message_id="erp-msg-11")
    first = await gateway.outbound.submit(request)
    again = await gateway.outbound.submit(request)  # the broker redelivers the same message
    assert again.id == first.id
    with pytest.raises(InvalidDocument, match=r"cannot map to X12 856.*delimiter"):
        await gateway.outbound.submit(OutboundRequest(_ship_notice(12, shipment_id="SH*12")))
    issued = await gateway.store.control_numbers("acme-retail")
    assert sorted((n.kind, n.value, n.payload_id) for n in issued) == [
        ("gs", 1, first.id),
        ("isa", 1, first.id),
        ("st", 1, first.id),
    ]


async def test_our_acks_get_envelope_records_and_every_number_names_its_payload(gateway: Gateway) -> None:
    outcome = await gateway.receive(acme_850(4242), ChannelMeta("file", "acme-retail"))
    await gateway.process_now(outcome.record.id)
    await gateway.send_pending()
    [ack] = await gateway.store.list_payloads(MessageFilter(direction=Direction.OUTBOUND))
    detail = await gateway.store.payload_detail(ack.id)
    assert detail is not None
    [env] = detail["envelopes"]
    assert (env["direction"], env["set_id"], env["functional_id"], env["state"]) == (
        "outbound",
        "997",
        "FA",
        "sent",
    )
    issued = await gateway.store.control_numbers("acme-retail")
    assert {(n.kind, n.payload_id) for n in issued} == {("isa", ack.id), ("gs", ack.id), ("st", ack.id)}
    assert await gateway.store.control_numbers("acme-retail", unused_only=True) == []


async def test_gaps_are_listed_by_the_admin_api(gateway: Gateway, tmp_path: Path) -> None:
    used = await gateway.outbound.submit(OutboundRequest(_ship_notice(21)))
    # numbers allocated by a process that then crashed before storing the payload
    burnt = await gateway.store.next_control_numbers("acme-retail", "isa", allocation="crashed")
    settings = ensure_admin_token(gateway.settings.model_copy(update={"var_dir": tmp_path / "var"}))
    token = settings.api_tokens[0].token.read().decode()
    app = build_admin_app(gateway.services, settings, Metrics())
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        headers = {"Authorization": f"Bearer {token}"}
        response = await client.get(
            "/api/v1/partners/acme-retail/control-numbers?unused=true", headers=headers
        )
        assert response.status == 200
        body = await response.json()
        assert body["gaps"] == 1
        assert [(i["kind"], i["value"], i["payload_id"]) for i in body["items"]] == [("isa", burnt[0], None)]
        everything = await (
            await client.get("/api/v1/partners/acme-retail/control-numbers?kind=isa", headers=headers)
        ).json()
        assert [(i["value"], i["payload_id"]) for i in everything["items"]] == [(2, None), (1, used.id)]
        assert (await client.get("/api/v1/partners/nobody/control-numbers", headers=headers)).status == 404
        assert (await client.get("/api/v1/partners/acme-retail/control-numbers")).status == 401


async def test_numbers_stay_unique_across_a_restart_and_two_instances(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, instance_id="one")
    one = await Gateway.open(settings)
    await truncate(one)
    first = [await one.outbound.submit(OutboundRequest(_ship_notice(n))) for n in range(3)]
    await one.stop()  # a restart
    one = await Gateway.open(settings)
    instances = [one]
    if database_url.startswith("postgresql"):  # scale-out needs a shared server database
        instances.append(await Gateway.open(make_settings(tmp_path, database_url, instance_id="two")))
    try:
        later = await asyncio.gather(
            *(
                instances[n % len(instances)].outbound.submit(OutboundRequest(_ship_notice(100 + n)))
                for n in range(20)
            )
        )
        records = [*first, *later]
        isa13s = [await _isa13(one, r.id) for r in records]
        assert sorted(int(n) for n in isa13s) == list(range(1, 24))  # unique, and no gaps
        assert await one.store.control_numbers("acme-retail", unused_only=True) == []
    finally:
        for gw in instances:
            await gw.stop()


async def test_a_renewed_resend_keeps_the_request_headers_and_stops_awaiting_the_originals_ack(
    gateway: Gateway,
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from gateway.adapters.store import tables

    request = OutboundRequest(_ship_notice(21), headers={"x-erp-batch": "B-21"}, message_id="erp-msg-21")
    original = await gateway.outbound.submit(request)
    await gateway.send_pending()
    async with gateway.store.engine.begin() as conn:  # the partner never acknowledged it
        await conn.execute(
            update(tables.groups)
            .where(tables.groups.c.payload_id == original.id)
            .values(ack_due_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    assert [g.payload_id for g in await gateway.store.overdue_groups(datetime.now(UTC))] == [original.id]

    renewed = await gateway.outbound.resend(original.id, True, "partner lost it", "support")

    record = await gateway.store.get_payload(renewed)
    assert record is not None
    assert record.meta["headers"]["x-erp-batch"] == "B-21"  # the request as the ERP sent it
    assert await gateway.store.list_overdue() == []  # the original no longer waits for its 997
    group = await gateway.store.find_sent_group("acme-retail", "1", "SH")
    assert group is not None
    assert group.payload_id == original.id
    assert group.ack_status is AckStatus.NOT_EXPECTED
    new_group = await gateway.store.find_sent_group("acme-retail", "2", "SH")
    assert new_group is not None
    assert new_group.payload_id == renewed
    assert new_group.ack_status is AckStatus.PENDING  # the resend's ack is what is awaited now
    later = await gateway.store.overdue_groups(datetime.now(UTC) + timedelta(days=30))
    assert [g.payload_id for g in later] == [renewed]  # only the resend can still become overdue
