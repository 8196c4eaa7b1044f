"""The file spool: envelope format, atomic and idempotent writes, health, and the outbound watcher."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import threading
from collections import Counter
from pathlib import Path

import pytest

from gateway.adapters.spool import SpoolDestination, SpoolOutboundSource, spool_file_name
from gateway.domain.runtime.errors import BrokerAction, InvalidDocument, TransientFailure
from gateway.domain.runtime.ports import OutboundRequest
from gateway.domain.runtime.records import OutboxMessage


def outbox(n: int, destination: str = "erp", *, replay: int = 0, body: bytes | None = None) -> OutboxMessage:
    return OutboxMessage(
        id=f"ob-{destination}-{n}",
        document_id=f"doc-{n}",
        destination=destination,
        routing_key=f"{destination}.850.acme",
        body=body if body is not None else json.dumps({"n": n, "b": "ü"}).encode(),
        correlation_id=f"corr-{n}",
        headers={"partner": "acme", "document_type": "850", "test": False, "replay_count": replay},
    )


@pytest.fixture
async def spool(tmp_path: Path) -> SpoolDestination:
    dest = SpoolDestination(tmp_path, destinations=("erp", "wms"))
    await dest.start()
    return dest


async def test_publish_writes_one_envelope_per_document(spool: SpoolDestination, tmp_path: Path) -> None:
    results = await spool.publish([outbox(1), outbox(2, "wms")])
    assert [(r.outbox_id, r.ok) for r in results] == [("ob-erp-1", True), ("ob-wms-2", True)]
    assert sorted(p.name for p in (tmp_path / "erp").iterdir()) == ["erp.850.acme.doc-1.json"]
    envelope = json.loads((tmp_path / "wms" / "wms.850.acme.doc-2.json").read_bytes())
    assert envelope == {
        "message_id": "doc-2",
        "correlation_id": "corr-2",
        "routing_key": "wms.850.acme",
        "content_type": "application/json",
        "headers": {"partner": "acme", "document_type": "850", "test": False, "replay_count": 0},
        "body": {"n": 2, "b": "ü"},
    }
    assert (await spool.health()).ready


async def test_rewrite_of_the_same_document_is_byte_identical(
    spool: SpoolDestination, tmp_path: Path
) -> None:
    await spool.publish([outbox(7)])
    first = (tmp_path / "erp" / "erp.850.acme.doc-7.json").read_bytes()
    await spool.publish([outbox(7), outbox(7)])
    assert [p.name for p in (tmp_path / "erp").iterdir()] == ["erp.850.acme.doc-7.json"]  # no temp files
    assert (tmp_path / "erp" / "erp.850.acme.doc-7.json").read_bytes() == first


async def test_unknown_destination_and_non_json_body_fail_alone(spool: SpoolDestination) -> None:
    results = await spool.publish([outbox(1, "billing"), outbox(2, body=b"<xml/>"), outbox(3)])
    assert [r.ok for r in results] == [False, False, True]
    assert results[0].reason == "unroutable: no spool directory for destination 'billing'"
    assert (results[1].reason or "").startswith("body is not JSON")


def test_file_names_cannot_escape_the_directory() -> None:
    msg = outbox(1)
    evil = OutboxMessage(
        msg.id, "../../etc/passwd", "erp", "erp.850.a/b", msg.body, msg.correlation_id, msg.headers
    )
    assert spool_file_name(evil) == "erp.850.a_b..._.._etc_passwd.json"
    with pytest.raises(ValueError, match="unusable"):
        SpoolDestination("/tmp", destinations=("../x",))


async def test_readers_never_see_a_partial_file(spool: SpoolDestination, tmp_path: Path) -> None:
    big = [json.dumps({"v": v, "pad": str(v) * 300_000}).encode() for v in range(2)]
    target = tmp_path / "erp" / "erp.850.acme.doc-0.json"
    stop = threading.Event()
    seen: Counter[int] = Counter()
    errors: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                data = target.read_bytes()
            except FileNotFoundError:
                continue
            try:
                seen[json.loads(data)["body"]["v"]] += 1
            except ValueError as exc:
                errors.append(f"{len(data)} bytes: {exc}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(40):
            await spool.publish([outbox(0, body=big[i % 2], replay=i % 2)])
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert seen[0] > 0  # the reader did overlap with rewrites of both versions
    assert seen[1] > 0
    assert sorted(p.name for p in (tmp_path / "erp").iterdir()) == [target.name]


async def test_unwritable_directory_is_not_ready_and_publish_is_transient(
    spool: SpoolDestination, tmp_path: Path
) -> None:
    shutil.rmtree(tmp_path / "wms")
    (tmp_path / "wms").write_text("not a directory")
    health = await spool.health()
    assert not health.ready
    assert str(tmp_path / "wms") in health.detail
    with pytest.raises(TransientFailure, match="writing to the spool") as caught:
        await spool.publish([outbox(1, "wms")])
    assert isinstance(caught.value.__cause__, OSError)


async def test_outbound_source_moves_files_per_action(tmp_path: Path) -> None:
    source = SpoolOutboundSource(tmp_path, poll_interval=0.02, max_retries=2, retry_delays=(0.05,))
    inbox = tmp_path / "outbound"
    inbox.mkdir()
    for name in ("ack", "invalid", "later", "bug", "refused"):
        (inbox / f"{name}.json").write_text(json.dumps({"name": name}))
    (inbox / ".partial.json").write_text("{")  # still being written: ignored
    (inbox / "notes.tmp").write_text("x")
    calls: Counter[str] = Counter()
    requests: dict[str, OutboundRequest] = {}

    async def handler(request: OutboundRequest) -> BrokerAction:
        name = json.loads(request.body)["name"]
        calls[name] += 1
        requests[name] = request
        if name == "invalid":
            raise InvalidDocument("unknown partner", details=[{"field": "partner_id"}])
        if name == "bug":
            raise RuntimeError("mapping crashed")
        if name == "refused":
            return BrokerAction.REJECT
        if name == "later" and calls[name] == 1:
            return BrokerAction.REQUEUE
        return BrokerAction.ACK

    runner = asyncio.create_task(source.run(handler))
    for _ in range(250):
        if (
            len(list((inbox / "done").glob("*.json"))) == 2
            and len(list((inbox / "rejected").glob("*.json"))) == 3
        ):
            break
        await asyncio.sleep(0.02)
    await source.close()
    await asyncio.wait_for(runner, 5)

    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["ack.json", "later.json"]
    rejected = inbox / "rejected"
    assert sorted(p.name for p in rejected.glob("*.json")) == ["bug.json", "invalid.json", "refused.json"]
    assert json.loads((rejected / "invalid.json.error.txt").read_text()) == {
        "error": "InvalidDocument",
        "message": "unknown partner",
        "details": [{"field": "partner_id"}],
    }
    assert (rejected / "bug.json.error.txt").read_text() == (
        "gave up after 2 retries: RuntimeError: mapping crashed\n"
    )
    assert (rejected / "refused.json.error.txt").read_text() == "handler returned reject\n"
    assert calls == {"ack": 1, "invalid": 1, "later": 2, "bug": 3, "refused": 1}
    ack_body = (inbox / "done" / "ack.json").read_bytes()
    assert requests["ack"].message_id == f"ack.json:{hashlib.sha256(ack_body).hexdigest()}"
    assert requests["ack"].headers == {"x-spool-file": "ack.json"}
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [".partial.json", "notes.tmp"]
    assert (await source.health()).ready


def test_public_api_and_port_conformance(tmp_path: Path) -> None:
    import gateway.adapters.rabbitmq as rabbitmq
    import gateway.adapters.spool as spool_module
    from gateway.adapters.rabbitmq import RabbitDestination, RabbitOutboundSource
    from gateway.domain.runtime.ports import Destination, OutboundSource

    assert sorted(spool_module.__all__) == [
        "SpoolDestination",
        "SpoolOutboundSource",
        "envelope_bytes",
        "spool_file_name",
        "spool_message_id",
    ]
    assert sorted(rabbitmq.__all__) == [
        "DeclaredTopology",
        "ERROR_HEADER",
        "RETRIES_HEADER",
        "RabbitDestination",
        "RabbitOutboundSource",
        "RabbitSettings",
        "RabbitTopology",
        "SOURCE_HEADER",
        "amqp_message",
        "declare_topology",
        "delete_topology",
    ]
    # Structural checks: mypy verifies these assignments against the ports.
    destinations: list[Destination] = [SpoolDestination(tmp_path), RabbitDestination()]
    sources: list[OutboundSource] = [SpoolOutboundSource(tmp_path), RabbitOutboundSource()]
    assert len(destinations) == len(sources) == 2
