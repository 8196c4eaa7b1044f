"""Control-number sequences with ``wrap: false``, on SQLite and PostgreSQL: once a sequence is at its
max, nothing is numbered or sent for the partner (outbound documents are stored failed at step
envelope, inbound payloads that owe an ack fail at step acknowledge, neither loses anything), until an
operator raises the max; then a resend or a replay from raw finishes the job. With wrap (the default)
the sequence restarts at start as before. ST02 has the transaction width in our acks as in what we
send; GS06 is never padded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from edi import parse
from gateway.domain.runtime.errors import BrokerAction, Conflict, SequenceExhausted
from gateway.domain.runtime.lifecycle import Direction, State, Step
from gateway.domain.runtime.ports import OutboundRequest
from gateway.domain.runtime.records import ChannelMeta, PayloadRecord
from gateway.domain.runtime.store import MessageFilter
from gateway.runtime import Gateway

from .conftest import make_settings, truncate
from .helpers import canonical_from_x12, copy_site
from .samples import acme_850

ACME_SEQUENCES = """control_numbers:
  interchange: {start: 1, max: 999999999, width: 9}
  group: {start: 1, max: 999999999, width: 9}
  transaction: {start: 1, max: 9999, width: 4}
"""
TRANSACTION = "  transaction: {start: 1, max: 9999, width: 4}\n"
INTERCHANGE = "  interchange: {start: 1, max: 999999999, width: 9}\n"

Site = Callable[[str, str], Awaitable[Gateway]]


@pytest.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[Site]:
    """Opens the example site with one line of ACME's ``control_numbers`` replaced."""
    opened: list[Gateway] = []

    async def open_site(line: str, replacement: str) -> Gateway:
        partners, mappings = copy_site(tmp_path)
        acme = partners / "acme-retail.yaml"
        text = acme.read_text()
        assert ACME_SEQUENCES in text
        acme.write_text(text.replace(ACME_SEQUENCES, ACME_SEQUENCES.replace(line, replacement)))
        gw = await Gateway.open(
            make_settings(tmp_path, database_url, partners_dir=partners, mappings_dir=mappings)
        )
        opened.append(gw)
        await truncate(gw)
        await gw.destination.start()
        return gw

    yield open_site
    for gw in opened:
        await gw.stop()


def _raise_max(gateway: Gateway, sequence: str, old: int, new: int) -> None:
    """What an operator does: a larger max in the profile, then a reload."""
    acme = gateway.settings.partners_dir / "acme-retail.yaml"
    text = acme.read_text()
    line = f"{sequence}: {{start: 1, max: {old},"
    assert line in text
    acme.write_text(text.replace(line, f"{sequence}: {{start: 1, max: {new},"))
    assert gateway.registry.reload().problems == []


def _ship_notice(n: int) -> bytes:
    return canonical_from_x12(
        "856-004010.x12", "acme-retail", "ship_notice", f"erp-sh-{n}", shipment_id=f"SH-{n}"
    )


async def _payload(gateway: Gateway, payload_id: str) -> PayloadRecord:
    record = await gateway.store.get_payload(payload_id)
    assert record is not None
    return record


async def _isa13(gateway: Gateway, payload_id: str) -> str:
    [ix] = parse(await gateway.store.payload_content(payload_id)).interchanges
    return ix.control_number


async def _st02_and_bsn(gateway: Gateway, payload_id: str) -> tuple[str, str | None]:
    [ix] = parse(await gateway.store.payload_content(payload_id)).interchanges
    [ts] = ix.groups[0].transactions
    bsn = next(s for s in ts.segments if s.id == "BSN")
    return ts.control_number, bsn.get(2)


async def test_outbound_documents_stop_at_max_without_wrap_and_are_sent_once_it_is_raised(site: Site) -> None:
    gateway = await site(TRANSACTION, "  transaction: {start: 1, max: 2, width: 4, wrap: false}\n")
    bodies = {n: _ship_notice(n) for n in (1, 2, 3)}
    actions = [
        await gateway.outbound.handle(OutboundRequest(bodies[n], message_id=f"erp-{n}")) for n in bodies
    ]
    assert actions == [BrokerAction.ACK] * 3  # the third is stored (failed), so the broker may drop it
    await gateway.send_pending()
    [first, second, third] = [
        await gateway.store.find_by_idempotency_key("acme-retail", "filedrop", f"erp-{n}") for n in (1, 2, 3)
    ]
    assert first is not None
    assert second is not None
    assert third is not None
    assert [(await _payload(gateway, r.id)).state for r in (first, second)] == [State.SENT, State.SENT]
    assert [await _st02_and_bsn(gateway, r.id) for r in (first, second)] == [
        ("0001", "SH-1"),
        ("0002", "SH-2"),
    ]

    failed = await _payload(gateway, third.id)
    assert (failed.state, failed.failed_step) == (State.FAILED, Step.ENVELOPE)
    assert failed.reason is not None
    assert "transaction (ST02) of partner acme-retail would pass its max 2" in failed.reason
    assert "an operator must reset the sequence or raise its max" in failed.reason
    assert await gateway.store.payload_content(third.id) == bodies[3]  # kept as the ERP sent it
    detail = await gateway.store.payload_detail(third.id)
    assert detail is not None
    assert [d["id"] for d in detail["documents"]] == [f"out-{third.id}"]  # the document, to resend
    assert detail["envelopes"] == []
    assert "envelope: control-number sequence" in " ".join(e.detail or "" for e in detail["audit"])
    # nothing was sent for it, and no number was issued or burnt for it
    sent = await gateway.store.list_payloads(MessageFilter(direction=Direction.OUTBOUND, state=State.SENT))
    assert sorted(r.id for r in sent) == sorted([first.id, second.id])
    assert len(list((gateway.settings.filedrop_dir).rglob("*.x12"))) == 2
    issued = await gateway.store.control_numbers("acme-retail")
    assert sorted((n.kind, n.value) for n in issued) == [
        ("gs", 1), ("gs", 2), ("isa", 1), ("isa", 2), ("st", 1), ("st", 2)
    ]  # fmt: skip
    # a broker redelivery finds the stored failure; nothing new is stored or numbered
    assert await gateway.outbound.handle(OutboundRequest(bodies[3], message_id="erp-3")) is BrokerAction.ACK
    assert len(await gateway.store.list_payloads(MessageFilter(direction=Direction.OUTBOUND))) == 3

    # a resend while the sequence is still at max is refused, noted, and changes nothing
    with pytest.raises(SequenceExhausted, match="max 2"):
        await gateway.outbound.resend(third.id, True, "partner asked again", "support")
    trail = await gateway.store.audit_trail("payload", third.id)
    assert any("resend with new control numbers refused" in (e.detail or "") for e in trail)
    assert (await _payload(gateway, third.id)).state is State.FAILED
    assert len(await gateway.store.list_payloads(MessageFilter(direction=Direction.OUTBOUND))) == 3

    # the operator raises the max; a resend (renewal asked for or not: it never had numbers) sends it
    _raise_max(gateway, "transaction", 2, 3)
    resent = await gateway.outbound.resend(third.id, False, "max raised", "support")
    await gateway.send_pending()
    assert (await _payload(gateway, resent)).state is State.SENT
    assert await _st02_and_bsn(gateway, resent) == ("0003", "SH-3")
    # the original is done: neither a second resend nor a bulk replay of failures sends it again
    assert (await _payload(gateway, third.id)).state is State.REPLAYED
    with pytest.raises(Conflict, match=f"sent as {resent}"):
        await gateway.outbound.resend(third.id, True, "once more", "support")
    outbound_failures = MessageFilter(direction=Direction.OUTBOUND, state=State.FAILED)
    assert await gateway.store.list_payloads(outbound_failures) == []
    assert len(list((gateway.settings.filedrop_dir).rglob("*.x12"))) == 3


async def test_outbound_numbers_restart_at_start_with_wrap(site: Site) -> None:
    gateway = await site(TRANSACTION, "  transaction: {start: 1, max: 2, width: 4}\n")  # wrap by default
    records = [await gateway.outbound.submit(OutboundRequest(_ship_notice(n))) for n in (1, 2, 3)]
    await gateway.send_pending()
    assert [(await _payload(gateway, r.id)).state for r in records] == [State.SENT] * 3
    assert [(await _st02_and_bsn(gateway, r.id))[0] for r in records] == ["0001", "0002", "0001"]


async def test_an_inbound_payload_whose_ack_cannot_be_numbered_fails_whole_and_replays(site: Site) -> None:
    gateway = await site(INTERCHANGE, "  interchange: {start: 1, max: 2, width: 9, wrap: false}\n")
    records = []
    for n in (1, 2, 3):
        outcome = await gateway.receive(acme_850(n), ChannelMeta("file", "acme-retail"))
        await gateway.process_now(outcome.record.id)
        records.append(await _payload(gateway, outcome.record.id))
    assert [r.state for r in records[:2]] == [State.ROUTED, State.ROUTED]
    third = records[2]
    assert (third.state, third.failed_step) == (State.FAILED, Step.ACKNOWLEDGE)
    assert third.reason is not None
    assert "interchange (ISA13) of partner acme-retail would pass its max 2" in third.reason
    detail = await gateway.store.payload_detail(third.id)
    assert detail is not None
    assert detail["documents"] == []  # held whole: nothing published before the ack can be sent
    assert [e["state"] for e in detail["envelopes"]] == ["failed"]  # still findable by ISA13/GS06/ST02
    acks = await gateway.store.list_payloads(MessageFilter(direction=Direction.OUTBOUND))
    assert len(acks) == 2
    await gateway.send_pending()
    assert sorted([await _isa13(gateway, a.id) for a in acks]) == ["000000001", "000000002"]
    assert sorted(n.value for n in await gateway.store.control_numbers("acme-retail", kind="isa")) == [1, 2]

    _raise_max(gateway, "interchange", 2, 3)
    await gateway.store.reset_for_replay(third.id, reason="ISA13 max raised", actor="support")
    await gateway.process_now(third.id)
    replayed = await _payload(gateway, third.id)
    assert (replayed.state, replayed.reason) == (State.ROUTED, None)
    [ack] = [
        a
        for a in await gateway.store.list_payloads(MessageFilter(direction=Direction.OUTBOUND))
        if a.id not in {x.id for x in acks}
    ]
    assert await _isa13(gateway, ack.id) == "000000003"


async def test_one_partner_without_numbers_does_not_hold_up_the_others_in_a_batch(site: Site) -> None:
    gateway = await site(INTERCHANGE, "  interchange: {start: 1, max: 1, width: 9, wrap: false}\n")
    fixture = Path(__file__).resolve().parents[3] / "fixtures/mapping/northwind-855.x12"
    for content, partner in (
        (acme_850(1), "acme-retail"),
        (acme_850(2), "acme-retail"),
        (fixture.read_bytes(), "northwind-supply"),
    ):
        await gateway.receive(content, ChannelMeta("file", partner))
    batch = await gateway.store.claim_payloads("w", 10, 60)
    assert len(batch) == 3
    await gateway.inbound.process_batch(batch, "w")
    # ACME's two payloads need two interchange numbers and one is left: neither is numbered
    acme = [await _payload(gateway, r.id) for r in batch if r.partner_id == "acme-retail"]
    assert [(r.state, r.failed_step) for r in acme] == [(State.FAILED, Step.ACKNOWLEDGE)] * 2
    northwind = await _payload(gateway, next(r.id for r in batch if r.partner_id == "northwind-supply"))
    assert northwind.state is not State.FAILED, northwind.reason
    [ack] = await gateway.store.list_payloads(MessageFilter(direction=Direction.OUTBOUND))
    assert (ack.partner_id, ack.meta["document_type"]) == ("northwind-supply", "999")
    assert await gateway.store.control_numbers("acme-retail") == []


async def test_st02_takes_the_transaction_width_in_acks_too_and_gs06_is_never_padded(site: Site) -> None:
    gateway = await site(TRANSACTION, "  transaction: {start: 1, max: 999999, width: 6}\n")
    outcome = await gateway.receive(acme_850(1), ChannelMeta("file", "acme-retail"))
    await gateway.process_now(outcome.record.id)
    [ack] = await gateway.store.list_payloads(MessageFilter(direction=Direction.OUTBOUND))
    sent = await gateway.outbound.submit(OutboundRequest(_ship_notice(1)))
    envelopes = []
    for payload_id in (ack.id, sent.id):
        [ix] = parse(await gateway.store.payload_content(payload_id)).interchanges
        [group] = ix.groups
        [ts] = group.transactions
        envelopes.append((ts.set_id, ix.control_number, group.control_number, ts.control_number))
    assert envelopes == [("997", "000000001", "1", "000001"), ("856", "000000002", "2", "000002")]
