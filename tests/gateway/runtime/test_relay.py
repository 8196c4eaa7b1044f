"""The outbox relay's handling of refusals, with a real store and an in-process destination peer:
a broker nack is retried with backoff and then given up on; an unroutable message fails at once."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update

from gateway.adapters.store import tables
from gateway.domain.runtime.lifecycle import State, Step
from gateway.domain.runtime.ports import DestinationHealth
from gateway.domain.runtime.records import ChannelMeta, OutboxMessage, PublishResult
from gateway.domain.usecases.workers import publish_round
from gateway.runtime import Gateway

from .samples import acme_850


class Nacking:
    """A destination that refuses the first ``nacks`` publishes of every message, retryably."""

    def __init__(self, nacks: int, *, routable: bool = True) -> None:
        self.nacks = nacks
        self.routable = routable
        self.calls: list[str] = []

    async def start(self) -> None:
        return None

    async def publish(self, messages: Sequence[OutboxMessage]) -> list[PublishResult]:
        out = []
        for m in messages:
            self.calls.append(m.id)
            if not self.routable:
                out.append(PublishResult(m.id, False, "unroutable: NO_ROUTE"))
            elif self.calls.count(m.id) <= self.nacks:
                out.append(PublishResult(m.id, False, "nacked by broker: queue full", retryable=True))
            else:
                out.append(PublishResult(m.id, True))
        return out

    async def health(self) -> DestinationHealth:
        return DestinationHealth(True)

    async def close(self) -> None:
        return None


async def _routed(gateway: Gateway, n: int) -> str:
    outcome = await gateway.receive(acme_850(n), ChannelMeta("file", "acme-retail"))
    await gateway.process_now(outcome.record.id)
    return outcome.record.id


async def _due_now(gateway: Gateway) -> None:
    async with gateway.store.engine.begin() as conn:
        await conn.execute(update(tables.outbox).values(not_before=None))


async def test_a_nack_is_retried_and_the_document_is_delivered(gateway: Gateway) -> None:
    pid = await _routed(gateway, 11)
    destination = Nacking(nacks=2)
    for _ in range(3):
        assert await publish_round(gateway.store, destination, "relay")
        await _due_now(gateway)  # skip the backoff
    assert len(destination.calls) == 3
    record = await gateway.store.get_payload(pid)
    assert record is not None
    assert record.state is State.DELIVERED
    assert await gateway.store.outbox_backlog() == 0


async def test_nacks_are_given_up_on_after_the_attempts_and_unroutable_fails_at_once(
    gateway: Gateway,
) -> None:
    nacked = await _routed(gateway, 12)
    destination = Nacking(nacks=100)
    for _ in range(3):
        await publish_round(gateway.store, destination, "relay", max_attempts=3)
        await _due_now(gateway)
    record = await gateway.store.get_payload(nacked)
    assert record is not None
    assert (record.state, record.failed_step) == (State.FAILED, Step.PUBLISH)
    assert "gave up after 3 attempts: nacked by broker" in (record.reason or "")
    assert not await publish_round(gateway.store, destination, "relay")  # nothing left to publish

    unroutable = await _routed(gateway, 13)
    refusing = Nacking(nacks=0, routable=False)
    await publish_round(gateway.store, refusing, "relay")
    assert len(refusing.calls) == 1
    record = await gateway.store.get_payload(unroutable)
    assert record is not None
    assert (record.state, record.failed_step) == (State.FAILED, Step.PUBLISH)
    assert "unroutable" in (record.reason or "")
