"""Lifecycle, replay and failure handling of the inbound pipeline, on SQLite and PostgreSQL.

Unknown sets and senders are kept, flagged and findable; a replay from raw keeps the envelope history
and uses the current profiles and mappings; a replay from canonical never reports a document it could
not route as published; one bad payload does not fail its batch, and a store outage fails none."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import select, update

from gateway.adapters.metrics import Metrics
from gateway.adapters.store import SqlStore, tables
from gateway.domain.runtime.errors import TransientFailure
from gateway.domain.runtime.lifecycle import State, Step
from gateway.domain.runtime.ports import OutboundRequest
from gateway.domain.runtime.records import ChannelMeta, PayloadRecord
from gateway.domain.runtime.store import MessageFilter
from gateway.domain.usecases.replay import ReplayMode, ReplayRequest, ReplayService
from gateway.domain.usecases.workers import scan_overdue
from gateway.logging import capture_logs, correlation_scope
from gateway.runtime import Gateway

from .conftest import make_settings, truncate
from .helpers import REPO, canonical_from_x12, copy_site
from .samples import SAMPLE_850, acme_850

ROUTING_850 = 'routing:\n  "850": [erp]\n  po_json: [erp]'


@pytest.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[Gateway]:
    """A gateway on a private copy of the profiles and mappings, which tests may edit."""
    partners, mappings = copy_site(tmp_path)
    gw = await Gateway.open(
        make_settings(tmp_path, database_url, partners_dir=partners, mappings_dir=mappings)
    )
    await truncate(gw)
    await gw.destination.start()
    yield gw
    await gw.stop()


async def _ingest(gateway: Gateway, content: bytes, partner: str | None = "acme-retail") -> PayloadRecord:
    outcome = await gateway.receive(content, ChannelMeta("file", partner))
    await gateway.process_now(outcome.record.id)
    await gateway.flush_outbox()
    record = await gateway.store.get_payload(outcome.record.id)
    assert record is not None
    return record


def _spooled(gateway: Gateway, destination: str) -> list[dict[str, object]]:
    folder = Path(gateway.settings.spool_dir) / destination
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


async def test_an_unknown_transaction_set_is_kept_flagged_and_findable(gateway: Gateway) -> None:
    invoice = (REPO / "fixtures/mapping/810-004010.x12").read_bytes()  # ACME sends us no 810s
    record = await _ingest(gateway, invoice)
    assert (record.state, record.failed_step) == (State.FAILED, Step.MAP)
    assert "no inbound 810 is agreed with acme-retail" in (record.reason or "")
    assert await gateway.store.payload_content(record.id) == invoice
    detail = await gateway.store.payload_detail(record.id)
    assert detail is not None
    [env] = detail["envelopes"]
    assert (env["set_id"], env["state"], env["document_id"]) == ("810", "failed", None)
    found = await gateway.store.list_payloads(MessageFilter(business_number=env["isa13"]))
    assert [r.id for r in found] == [record.id]
    assert _spooled(gateway, "erp") == []


async def test_unknown_and_mismatched_senders_are_findable_by_control_numbers(gateway: Gateway) -> None:
    stranger = await _ingest(
        gateway, acme_850(31).replace(b"ZZ*ACMERETAIL     ", b"ZZ*NOBODY         "), None
    )
    spoofed = await _ingest(gateway, acme_850(32).replace(b"ZZ*ACMERETAIL     ", b"ZZ*SOMEONEELSE   "))
    for record, isa13 in ((stranger, "000000031"), (spoofed, "000000032")):
        assert (record.state, record.failed_step) == (State.FAILED, Step.PARSE)
        found = await gateway.store.list_payloads(MessageFilter(business_number=isa13))
        assert [r.id for r in found] == [record.id]
        detail = await gateway.store.payload_detail(record.id)
        assert detail is not None
        [env] = detail["envelopes"]
        assert (env["gs06"], env["st02"], env["direction"], env["state"]) == (
            isa13.lstrip("0"),
            "0001",
            "inbound",
            "failed",
        )


async def test_replay_from_raw_uses_the_current_files_and_keeps_the_envelope_history(site: Gateway) -> None:
    first = await _ingest(site, SAMPLE_850)
    assert first.state is State.DELIVERED
    [erp] = _spooled(site, "erp")
    assert json.loads(json.dumps(erp["body"]))["lines"][0]["quantity_ordered"]["unit"] == "EA"
    before = await site.store.payload_detail(first.id)
    assert before is not None
    old_set = before["envelopes"][0]
    # support fixes the files: ACME's 850s go to the WMS too, and their EA is our PC
    acme = site.settings.partners_dir / "acme-retail.yaml"
    acme.write_text(acme.read_text().replace(ROUTING_850, 'routing:\n  "850": [erp, wms]'))
    variant = site.settings.mappings_dir / "x12-850-004010.yaml"
    variant.write_text(
        variant.read_text().replace("deviations: {}", "deviations: {code_maps: {uom: {EA: PC}}}")
    )

    await site.store.reset_for_replay(first.id, reason="routing and units fixed", actor="support")
    record = await site.store.claim_payload(first.id, "w", 60)
    assert record is not None
    await site.inbound.process(record, "w")  # on whichever instance picks it up
    await site.flush_outbox()
    replayed = await site.store.get_payload(first.id)
    assert replayed is not None
    assert (replayed.state, replayed.replay_count) == (State.DELIVERED, 1)
    [wms] = _spooled(site, "wms")
    [erp_again] = _spooled(site, "erp")  # the same file name: same document ID, overwritten
    for message in (wms, erp_again):
        assert message["message_id"] == erp["message_id"]
        headers = message["headers"]
        assert isinstance(headers, dict)
        assert headers["replay_count"] == 1
        body = message["body"]
        assert isinstance(body, dict)
        assert body["lines"][0]["quantity_ordered"]["unit"] == "PC"
    after = await site.store.payload_detail(first.id)
    assert after is not None
    assert len(after["envelopes"]) == 1  # the current run's records
    sets = tables.transaction_sets.c
    async with site.store.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(sets.id, sets.superseded_at, sets.state)
                .where(sets.payload_id == first.id)
                .order_by(sets.id)
            )
        ).all()
    assert len(rows) == 2  # the earlier run's record is kept ...
    (old_id, superseded, old_state), (new_id, current, new_state) = rows
    assert (superseded is not None, current is None) == (True, True)
    assert (old_state, new_state) == (old_set["state"], "delivered")
    old_trail = [e.state for e in await site.store.audit_trail("set", str(old_id))]
    assert old_trail == ["routed", "delivered", "replayed"]  # ... with its history, marked superseded
    assert [e.state for e in await site.store.audit_trail("set", str(new_id))] == ["routed", "delivered"]


async def test_replay_from_canonical_routes_with_the_current_profile_and_fails_without_a_route(
    site: Gateway,
) -> None:
    acme = site.settings.partners_dir / "acme-retail.yaml"
    acme.write_text(acme.read_text().replace(ROUTING_850, "routing: {}"))
    assert not site.registry.reload().problems
    record = await _ingest(site, SAMPLE_850)
    assert record.state is State.MAPPED  # mapped, but routed nowhere
    detail = await site.store.payload_detail(record.id)
    assert detail is not None
    [doc] = detail["documents"]
    request = ReplayRequest(ReplayMode.CANONICAL, "ERP wants it", "support", document_ids=(doc["id"],))
    job = await site.replay.run(request)
    assert (job.succeeded, len(job.failed)) == (0, 1)
    assert "has no route" in job.failed[0]["error"]
    assert await site.store.outbox_backlog() == 0
    [stored] = await site.store.documents([doc["id"]])
    assert stored.state is State.MAPPED  # not reported as routed

    acme.write_text(acme.read_text().replace("routing: {}", 'routing:\n  "850": [wms]'))
    assert not site.registry.reload().problems
    job = await site.replay.run(request)
    assert (job.succeeded, job.failed) == (1, [])
    await site.flush_outbox()
    [wms] = _spooled(site, "wms")
    assert wms["message_id"] == doc["id"]
    assert wms["headers"] == {
        "partner": "acme-retail",
        "document_type": "purchase_order",
        "schema_version": "1.0",
        "test": False,
        "replay_count": 1,
    }


class _PoisonedStore(SqlStore):
    """The real store, failing the duplicate lookup whenever a poisoned payload is asked about."""

    poisoned: ClassVar[set[str]] = set()
    transient_once: ClassVar[bool] = False

    async def find_duplicates(self, candidates: Sequence[tuple[str, str, str]]) -> dict[str, str]:
        if type(self).transient_once:
            type(self).transient_once = False
            raise TransientFailure("the database is unavailable (test)")
        if any(pid in self.poisoned for pid, _, _ in candidates):
            raise RuntimeError("a bug that only this payload triggers")
        return await super().find_duplicates(candidates)


async def test_one_failing_payload_does_not_fail_its_batch_and_an_outage_fails_none(gateway: Gateway) -> None:
    gateway.store.__class__ = _PoisonedStore
    outcomes = [await gateway.receive(acme_850(40 + n), ChannelMeta("file", "acme-retail")) for n in range(4)]
    _PoisonedStore.poisoned = {outcomes[1].record.id}
    records = await gateway.store.claim_payloads("w", 10, 60)
    assert len(records) == 4
    results = await gateway.inbound.process_batch(records, "w")
    states = {r.id: res.state for r, res in zip(records, results, strict=True)}
    assert states.pop(outcomes[1].record.id) is State.FAILED
    assert set(states.values()) == {State.ROUTED}
    failed = await gateway.store.get_payload(outcomes[1].record.id)
    assert failed is not None
    assert (failed.failed_step, "RuntimeError" in (failed.reason or "")) == (Step.ACKNOWLEDGE, True)

    alone = await gateway.receive(acme_850(49), ChannelMeta("file", "acme-retail"))
    _PoisonedStore.poisoned = {alone.record.id}
    [claimed] = await gateway.store.claim_payloads("w", 10, 60)
    [result] = await gateway.inbound.process_batch([claimed], "w")  # a batch of one fails too, never loops
    assert (result.state, result.failed_step) == (State.FAILED, Step.ACKNOWLEDGE)
    stored = await gateway.store.get_payload(alone.record.id)
    assert stored is not None
    assert stored.state is State.FAILED

    more = [await gateway.receive(acme_850(50 + n), ChannelMeta("file", "acme-retail")) for n in range(3)]
    _PoisonedStore.transient_once = True
    batch = await gateway.store.claim_payloads("w", 10, 60)
    assert {r.id for r in batch} == {o.record.id for o in more}
    await gateway.inbound.process_batch(batch, "w")
    for outcome in more:  # nothing failed: the payloads wait and are processed next time round
        record = await gateway.store.get_payload(outcome.record.id)
        assert record is not None
        assert (record.state, record.failed_step) == (State.RECEIVED, None)
    for outcome in more:
        record = None
        for _ in range(100):
            record = await gateway.store.claim_payload(outcome.record.id, "w", 60)
            if record is not None:
                break
            await asyncio.sleep(0.05)
        assert record is not None
        assert (await gateway.inbound.process(record, "w")).state is State.ROUTED
    gateway.store.__class__ = SqlStore


async def test_a_replay_job_records_unexpected_errors_and_carries_on(gateway: Gateway) -> None:
    good = await _ingest(gateway, acme_850(61))

    class _Broken(SqlStore):
        async def get_payload(self, payload_id: str) -> PayloadRecord | None:
            if payload_id == "explodes":
                raise RuntimeError("disk on fire")
            return await super().get_payload(payload_id)

    service = ReplayService(_Broken(gateway.store.engine))
    job = await service.run(
        ReplayRequest(ReplayMode.RAW, "retry", "support", payload_ids=("explodes", good.id))
    )
    assert (job.done, job.succeeded) == (2, 1)
    assert job.failed == [{"id": "explodes", "error": "unexpected error: RuntimeError: disk on fire"}]


async def test_log_lines_carry_the_payloads_correlation_id(gateway: Gateway) -> None:
    with capture_logs("edigate", logging.DEBUG) as lines:
        with correlation_scope("ticket-4711"):  # e.g. an HTTP request's X-Correlation-ID
            outcome = await gateway.receive(acme_850(71), ChannelMeta("webhook", "acme-retail"))
        assert outcome.record.correlation_id == "ticket-4711"  # the channel named none: the request's
        await gateway.process_now(outcome.record.id)
        junk = await gateway.receive(
            b"not edi", ChannelMeta("file", "acme-retail", correlation_id="corr-junk")
        )
        await gateway.process_now(junk.record.id)
    processed = {line["payload_id"]: line for line in lines if line["message"] == "payload processed"}
    assert processed[outcome.record.id]["correlation_id"] == "ticket-4711"
    assert processed[junk.record.id]["correlation_id"] == "corr-junk"
    assert processed[junk.record.id]["level"] == "warning"  # failures are always logged


async def test_the_overdue_scan_logs_and_counts_overdue_acknowledgements(gateway: Gateway) -> None:
    body = canonical_from_x12("856-004010.x12", "acme-retail", "ship_notice", "erp-late", shipment_id="SH-9")
    record = await gateway.outbound.submit(OutboundRequest(body, correlation_id="erp-late"))
    async with gateway.store.engine.begin() as conn:
        await conn.execute(
            update(tables.groups)
            .where(tables.groups.c.payload_id == record.id)
            .values(ack_due_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    metrics = Metrics()
    gateway.settings.pipeline.ack_scan_seconds = 0.1
    gateway.observer = metrics
    with capture_logs("edigate.workers") as lines:
        await gateway.start()  # the scanner loop runs on its own
        for _ in range(100):
            if any(line["message"] == "acknowledgement overdue" for line in lines):
                break
            await asyncio.sleep(0.05)
    [logged] = [line for line in lines if line["message"] == "acknowledgement overdue"]
    assert (logged["partner"], logged["gs06"], logged["payload_id"]) == ("acme-retail", "1", record.id)
    assert logged["correlation_id"] == "erp-late"
    counted = metrics.registry.get_sample_value(
        "edigate_acks_overdue_detected_total", {"partner": "acme-retail"}
    )
    assert counted == 1.0
    assert [g.payload_id for g in await gateway.store.list_overdue()] == [record.id]
    assert await scan_overdue(gateway.store) == 0  # marked once, not again on every scan


async def test_the_replay_count_header_counts_every_replay_of_the_document(gateway: Gateway) -> None:
    record = await _ingest(gateway, acme_850(81))
    detail = await gateway.store.payload_detail(record.id)
    assert detail is not None
    [doc] = detail["documents"]
    canonical = ReplayRequest(ReplayMode.CANONICAL, "ERP lost it", "support", document_ids=(doc["id"],))
    for _ in range(2):
        job = await gateway.replay.run(canonical)
        assert job.succeeded == 1
        await gateway.flush_outbox()
    await gateway.replay.run(
        ReplayRequest(ReplayMode.RAW, "mapping fixed", "support", payload_ids=(record.id,))
    )
    claimed = await gateway.store.claim_payload(record.id, "w", 60)
    assert claimed is not None
    assert claimed.replay_count == 1  # the payload was replayed from raw once ...
    await gateway.inbound.process(claimed, "w")
    await gateway.flush_outbox()
    [message] = _spooled(gateway, "erp")
    headers = message["headers"]
    assert isinstance(headers, dict)
    assert headers["replay_count"] == 3  # ... its document was published again three times: one count
    [stored] = await gateway.store.documents([doc["id"]])
    assert stored.replay_count == 3
