"""The runtime commands for real, through ``main()`` with a YAML settings file: ``db upgrade``,
``ingest`` (embedded spool, and RabbitMQ up to a consumer on the ERP queue), ``messages list|show``
and ``replay raw|canonical|outbound``."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import aio_pika
import pytest
import yaml
from sqlalchemy import inspect, select, text

from edi import parse
from gateway.adapters.rabbitmq import delete_topology
from gateway.adapters.store import open_store, tables
from gateway.cli.main import main
from gateway.config import load_settings
from gateway.domain.runtime.ports import OutboundRequest
from gateway.runtime import Gateway, rabbit_topology
from tests.gateway.runtime.conftest import unique_rabbit
from tests.gateway.runtime.helpers import REPO, canonical_from_x12, copy_site
from tests.support.services import rabbitmq_url

SAMPLE_850 = REPO / "fixtures/x12/sample-850.edi"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An embedded-default site in ``tmp_path``, described by one YAML settings file."""
    for name in [n for n in os.environ if n.startswith("EDIGATE_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "edigate.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "database_url": f"sqlite:///{tmp_path}/var/edigate.db",
                "partners_dir": str(REPO / "partners"),
                "mappings_dir": str(REPO / "mappings"),
                "var_dir": str(tmp_path / "var"),
                "spool_dir": str(tmp_path / "spool"),
                "filedrop_dir": str(tmp_path / "filedrop"),
            }
        )
    )
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _ingest(capsys: pytest.CaptureFixture[str], config: Path, file: Path = SAMPLE_850) -> dict[str, Any]:
    code, out, err = _run(capsys, "ingest", str(file), "--partner", "acme-retail", "--config", str(config))
    assert code == 0, err
    summary: dict[str, Any] = json.loads(out)
    return summary


def test_db_upgrade_creates_the_schema_and_is_idempotent(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        code, out, _ = _run(capsys, "db", "upgrade", "--config", str(config))
        assert (code, out.strip()) == (0, "database is at the latest revision")

    async def schema() -> tuple[set[str], str]:
        store = await open_store(f"sqlite:///{tmp_path}/var/edigate.db", migrate=False)
        async with store.engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        await store.close()
        return names, head

    names, head = asyncio.run(schema())
    assert {t.name for t in tables.metadata.sorted_tables} <= names
    assert head == "0004"


def test_ingest_stores_processes_routes_and_acknowledges(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = _ingest(capsys, config)
    assert summary["stored"] is True
    assert summary["state"] == "routed"
    assert summary["pending_in_outbox"] == 0
    assert summary["acks"] == 1
    [spooled] = (tmp_path / "spool" / "erp").glob("*.json")
    message = json.loads(spooled.read_text())
    assert message["message_id"] == summary["documents"][0]
    assert message["body"]["header"]["raw_document_id"] == summary["payload_id"]
    [ack] = (tmp_path / "filedrop" / "acme-retail" / "outbox").glob("*.x12")
    assert parse(ack.read_bytes()).interchanges[0].groups[0].functional_id == "FA"


def test_ingest_errors_are_one_line_with_an_exit_code(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "ingest", str(SAMPLE_850), "--partner", "nobody", "--config", str(config))
    assert (code, err.strip()) == (2, "edigate: unknown partner 'nobody'")
    code, _, err = _run(capsys, "ingest", str(tmp_path / "missing.edi"), "--partner", "acme-retail")
    assert code == 2
    assert "cannot read" in err
    junk = tmp_path / "junk.edi"
    junk.write_bytes(b"this is not EDI")
    code, out, _ = _run(capsys, "ingest", str(junk), "--partner", "acme-retail", "--config", str(config))
    assert code == 1  # stored, failed, replayable
    assert (json.loads(out)["state"], json.loads(out)["step"]) == ("failed", "parse")


def test_messages_list_and_show(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = _ingest(capsys, config)
    pid = summary["payload_id"]
    code, out, _ = _run(capsys, "messages", "list", "--config", str(config), "--format", "json")
    assert code == 0
    listed = json.loads(out)
    assert pid in [m["id"] for m in listed]
    assert {m["direction"] for m in listed} == {"inbound", "outbound"}  # the 850 and our 997
    code, out, _ = _run(
        capsys, "messages", "list", "--config", str(config), "--business-number", "PO-778812", "--direction",
        "inbound",
    )  # fmt: skip
    assert code == 0
    [line] = out.strip().splitlines()
    assert pid in line
    assert "delivered" in line
    assert "PO-778812" in line
    code, out, _ = _run(capsys, "messages", "show", pid, "--config", str(config))
    assert code == 0
    detail = json.loads(out)
    assert detail["payload"]["state"] == "delivered"
    assert [d["id"] for d in detail["documents"]] == summary["documents"]
    assert detail["envelopes"][0]["isa13"] == "000004711"
    assert [e["state"] for e in detail["audit"]][:2] == ["received", "parsed"]
    code, _, err = _run(capsys, "messages", "show", "no-such-id", "--config", str(config))
    assert (code, err.strip()) == (1, "edigate: no message no-such-id")


def test_replay_commands(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = _ingest(capsys, config)
    pid, [doc] = summary["payload_id"], summary["documents"]
    base = ["--config", str(config), "--reason", "support ticket 77", "--actor", "sam"]

    code, out, _ = _run(capsys, "replay", "raw", pid, *base)
    assert code == 0
    job = json.loads(out)
    assert (job["mode"], job["total"], job["succeeded"], job["failed"], job["actor"]) == (
        "raw",
        1,
        1,
        [],
        "sam",
    )

    code, _, err = _run(capsys, "replay", "raw", doc, "--documents", *base)
    assert code == 2  # document IDs are for canonical replays only: never a silent no-op
    assert "--documents replays canonical documents" in err

    code, out, _ = _run(capsys, "replay", "canonical", doc, "--documents", *base)
    assert code == 0
    assert json.loads(out)["succeeded"] == 1

    code, out, _ = _run(capsys, "replay", "canonical", "no-such-doc", "--documents", *base)
    assert code == 1
    assert json.loads(out)["failed"] == [{"id": "no-such-doc", "error": "no stored document no-such-doc"}]

    async def state() -> tuple[str, int, list[tuple[str, Any]]]:
        store = await open_store(f"sqlite:///{tmp_path}/var/edigate.db", migrate=False)
        record = await store.get_payload(pid)
        async with store.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(tables.outbox.c.state, tables.outbox.c.headers).where(
                        tables.outbox.c.document_id == doc
                    )
                )
            ).all()
        await store.close()
        assert record is not None
        return record.state.value, record.replay_count, [(r[0], r[1]["replay_count"]) for r in rows]

    payload_state, replays, outbox = asyncio.run(state())
    assert (payload_state, replays) == ("received", 1)  # a running gateway processes it again
    assert sorted(outbox) == [("pending", 1), ("published", 0)]


def test_replay_outbound_with_renewed_control_numbers(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = canonical_from_x12("856-004010.x12", "acme-retail", "ship_notice", "erp-1", shipment_id="SH-1")

    async def submit() -> str:
        gateway = await Gateway.open(load_settings(config))
        try:
            record = await gateway.outbound.submit(OutboundRequest(body))
            await gateway.send_pending()
            return record.id
        finally:
            await gateway.stop()

    original = asyncio.run(submit())
    reason = ["--config", str(config), "--reason", "partner lost it"]
    code, out, err = _run(capsys, "replay", "outbound", original, "--renew-control-numbers", *reason)
    assert code == 0, err
    assert json.loads(out)["succeeded"] == 1
    code, out, _ = _run(capsys, "messages", "list", "--config", str(config), "--format", "json")
    outbound = [m for m in json.loads(out) if m["direction"] == "outbound"]
    assert len(outbound) == 2
    [renewed] = [m for m in outbound if m["id"] != original]
    code, out, _ = _run(capsys, "messages", "show", renewed["id"], "--config", str(config))
    [env] = json.loads(out)["envelopes"]
    assert (env["isa13"], env["gs06"], env["st02"]) == ("000000002", "2", "0002")


def test_sequences_reset_lets_a_document_refused_at_max_be_resent(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partners, _ = copy_site(tmp_path)
    acme = partners / "acme-retail.yaml"
    line = "transaction: {start: 1, max: 9999, width: 4}"
    acme.write_text(acme.read_text().replace(line, "transaction: {start: 1, max: 1, width: 4, wrap: false}"))
    settings = yaml.safe_load(config.read_text())
    config.write_text(yaml.safe_dump({**settings, "partners_dir": str(partners)}))

    async def submit(n: int) -> str:
        body = canonical_from_x12(
            "856-004010.x12", "acme-retail", "ship_notice", f"erp-{n}", shipment_id=f"SH-{n}"
        )
        gateway = await Gateway.open(load_settings(config))
        try:
            record = await gateway.outbound.submit(OutboundRequest(body))
            await gateway.send_pending()
            return record.id
        finally:
            await gateway.stop()

    asyncio.run(submit(1))
    refused = asyncio.run(submit(2))
    cfg = ["--config", str(config)]
    code, out, _ = _run(capsys, "messages", "show", refused, *cfg)
    assert "would pass its max 1" in json.loads(out)["payload"]["reason"]
    code, _, err = _run(capsys, "sequences", "reset", "acme-retial", "transaction", "--reason", "x", *cfg)
    assert (code, err.strip()) == (2, "edigate: no partner profile 'acme-retial'")
    code, out, err = _run(
        capsys, "sequences", "reset", "acme-retail", "transaction", "--reason", "agreed", *cfg
    )
    assert code == 0, err
    assert "acme-retail: the transaction sequence restarts at 1 with the next number" in out
    # a sequence that wraps is not reset without --force (it would repeat numbers already sent);
    # one never used has nothing to reset
    code, _, err = _run(capsys, "sequences", "reset", "acme-retail", "interchange", "--reason", "x", *cfg)
    assert code == 2
    assert "wraps" in err
    assert "--force" in err
    code, out, err = _run(
        capsys, "sequences", "reset", "acme-retail", "group", "--reason", "x", "--force", *cfg
    )
    assert code == 0, err
    assert "restarts at 1" in out
    code, out, err = _run(
        capsys, "sequences", "reset", "acme-retail", "group", "--reason", "x", "--force", *cfg
    )
    assert "was never used; it starts at 1" in out  # the previous reset removed the counter
    code, out, err = _run(capsys, "replay", "outbound", refused, "--reason", "sequence reset", *cfg)
    assert code == 0, err
    assert json.loads(out)["succeeded"] == 1
    code, out, _ = _run(capsys, "messages", "list", "--state", "received", "--format", "json", *cfg)
    [resent] = json.loads(out)
    code, out, _ = _run(capsys, "messages", "show", resent["id"], *cfg)
    [env] = json.loads(out)["envelopes"]
    assert (env["isa13"], env["st02"]) == ("000000002", "0001")


def test_ingest_of_an_850_reaches_a_consumer_on_the_erp_queue(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rabbit = unique_rabbit()
    settings = yaml.safe_load(config.read_text())
    settings.update(amqp_url=rabbitmq_url(), rabbit=rabbit.model_dump())
    config.write_text(yaml.safe_dump(settings))
    try:
        summary = _ingest(capsys, config)
        assert summary["pending_in_outbox"] == 0

        async def consume() -> aio_pika.abc.AbstractIncomingMessage:
            connection = await aio_pika.connect(rabbitmq_url())
            try:
                channel = await connection.channel()
                queue = await channel.declare_queue(f"{rabbit.queue_prefix}erp", passive=True)
                message = await queue.get(timeout=5)
                assert message is not None
                await message.ack()
                return message
            finally:
                await connection.close()

        message = asyncio.run(consume())
        assert message.message_id == summary["documents"][0]
        assert message.routing_key == "erp.purchase_order.acme-retail"
        assert message.content_type == "application/json"
        headers = {
            k: v for k, v in message.headers.items() if k != "x-delivery-count"
        }  # quorum queues add it
        assert headers == {
            "partner": "acme-retail",
            "document_type": "purchase_order",
            "schema_version": "1.0",
            "test": False,
            "replay_count": 0,
        }
        assert json.loads(message.body)["po_number"] == "PO-778812"
    finally:

        async def cleanup() -> None:
            connection = await aio_pika.connect(rabbitmq_url())
            channel = await connection.channel()
            await delete_topology(channel, rabbit_topology(load_settings(config)))
            await connection.close()

        asyncio.run(cleanup())
