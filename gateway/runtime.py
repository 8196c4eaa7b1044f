"""The composition root of the service: builds adapters and use cases from settings, runs the workers.

``Gateway.open(settings)`` wires everything without starting anything;
``start()`` connects the destination and starts the background loops;
``stop()`` ends them. The HTTP application (admin API, operations, channel
endpoints) is built on top of ``gateway.services`` by :mod:`gateway.app`.

Every loop runs under a :class:`Supervisor`: no exception ends one, and one that
keeps failing makes ``/readyz`` say so. A broker that is down when the gateway
starts does not stop it: channels accept and store input, the outbox backlog
grows (``/readyz`` reports the destination down and the backlog), and the relay
connects and delivers once the broker is back.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from edi.validator import schema_validator
from gateway.adapters.filedrop import FileDropChannel
from gateway.adapters.metrics import Metrics
from gateway.adapters.sftp import SftpMetrics, SftpService, SftpSettings, install_sftp
from gateway.adapters.spool import SpoolDestination, SpoolOutboundSource
from gateway.adapters.store import SqlStore, open_store
from gateway.config import Settings
from gateway.domain.mapping import Mapper
from gateway.domain.profiles import PartnerProfile
from gateway.domain.runtime.errors import TransientFailure
from gateway.domain.runtime.lifecycle import Direction
from gateway.domain.runtime.ports import Destination, DestinationHealth, OutboundSource, PartnerChannel
from gateway.domain.runtime.records import ChannelMeta, NewPayload, ProcessingResult, StoreOutcome
from gateway.domain.usecases.analysis_pool import AnalysisPool
from gateway.domain.usecases.inbound import InboundPipeline
from gateway.domain.usecases.outbound import OurParty, OutboundService
from gateway.domain.usecases.registry import ProfileRegistry
from gateway.domain.usecases.replay import ReplayService
from gateway.domain.usecases.sender import Sender
from gateway.domain.usecases.services import GatewayServices, Observer
from gateway.domain.usecases.supervision import Supervisor
from gateway.domain.usecases.workers import (
    outbox_relay,
    overdue_scanner,
    pipeline_worker,
    publish_round,
    sender_worker,
)

if TYPE_CHECKING:
    from gateway.adapters.as2 import As2Install
    from gateway.adapters.rabbitmq import RabbitTopology
    from gateway.adapters.webhook import WebhookInstall

__all__ = ["Gateway", "rabbit_topology"]

log = logging.getLogger("edigate")

#: How long a thread holds the GIL before another may take it while the gateway runs (Python's
#: default is 5 ms). The event loop, the analysis thread, the SQLite thread and the file
#: writers hand work to each other hundreds of times a second; at 5 ms each hand-over can
#: wait a whole interval behind the CPU-bound analysis thread. 1 ms gave 15-30% more
#: documents per second in the pipeline bench.
SWITCH_INTERVAL = 0.001


def rabbit_topology(settings: Settings) -> RabbitTopology:
    """The broker names and destinations ``settings`` describe (also what tests and benches delete)."""
    from gateway.adapters.rabbitmq import RabbitTopology

    r = settings.rabbit
    return RabbitTopology(
        exchange=r.exchange,
        destinations=tuple(settings.destinations),
        queue_prefix=r.queue_prefix,
        dead_letter_exchange=r.dead_letter_exchange,
        dead_letter_queue=r.dead_letter_queue,
        outbound_queue=r.outbound_queue,
    )


def _destination(settings: Settings) -> tuple[Destination, OutboundSource]:
    if settings.amqp_url:
        from gateway.adapters.rabbitmq import (
            RabbitDestination,
            RabbitOutboundSource,
            RabbitSettings,
        )

        rs = RabbitSettings(
            url=settings.amqp_url, topology=rabbit_topology(settings), prefetch=settings.rabbit.prefetch
        )
        return RabbitDestination(rs), RabbitOutboundSource(rs)
    return (
        SpoolDestination(settings.spool_dir, settings.destinations),
        SpoolOutboundSource(settings.spool_dir, poll_interval=settings.pipeline.poll_seconds),
    )


class Gateway:
    def __init__(
        self,
        settings: Settings,
        store: SqlStore,
        registry: ProfileRegistry,
        destination: Destination,
        outbound_source: OutboundSource,
        observer: Observer | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.registry = registry
        self.supervisor = Supervisor()
        self.destination = destination
        self.outbound_source = outbound_source
        self.observer = observer
        self.channels: dict[str, PartnerChannel] = {"filedrop": FileDropChannel(settings.filedrop_dir)}
        self.sftp: SftpService | None = None
        if settings.channels.sftp_server or settings.channels.sftp_poll:
            sftp_settings = SftpSettings.under(
                settings.var_dir, **{"server_enabled": settings.channels.sftp_server, **settings.sftp}
            )
            sftp_metrics = SftpMetrics(observer.registry) if isinstance(observer, Metrics) else None
            self.sftp = install_sftp(
                registry,
                self.receive,
                store,
                sftp_settings,
                instance_id=settings.instance_id,
                observer=sftp_metrics,
            )
            self.channels["sftp"] = self.sftp.channel
        self.relay_wake = asyncio.Event()
        self.sender_wake = asyncio.Event()
        p = settings.pipeline
        self.as2: As2Install | None = None
        if settings.channels.as2:  # in every process, so resends planned by the CLI go out over AS2
            from gateway.adapters.as2 import install_as2

            self.as2 = install_as2(
                None,
                store=store,
                profiles=registry,
                receive=self.receive,
                channels=self.channels,
                wake_sender=self.sender_wake.set,
                max_payload_bytes=p.max_payload_bytes,
                instance_id=settings.instance_id,
            )
        self.webhook: WebhookInstall | None = None
        if settings.channels.webhook:  # in every process, like AS2: CLI resends use the channel too
            from gateway.adapters.webhook import install_webhook

            self.webhook = install_webhook(
                None,
                store=store,
                profiles=registry,
                receive=self.receive,
                channels=self.channels,
                max_payload_bytes=p.max_payload_bytes,
            )
        self.analysis_pool = (
            AnalysisPool(registry, schema_validator, p.analysis_processes) if p.analysis_processes else None
        )
        self.inbound = InboundPipeline(
            store,
            registry,
            validator=schema_validator,
            destinations=settings.destinations,
            observer=observer,
            ack_channel=self.channel_for,
            max_payload_bytes=p.max_payload_bytes,
            analysis_pool=self.analysis_pool,
        )
        ident = settings.identity
        self.outbound = OutboundService(
            store,
            registry,
            None,
            OurParty(ident.isa_qualifier, ident.isa_id, ident.gs_id),
            self.channel_for,
            wake=self.sender_wake.set,
        )
        self.sender = Sender(
            store,
            registry,
            self.channels,
            max_attempts=p.max_attempts,
            backoff_seconds=p.retry_backoff_seconds,
        )
        self.replay = ReplayService(
            store,
            resend=self.outbound.resend,
            wake=self._wake_all,
            profiles=registry,
            destinations=settings.destinations,
        )
        self.services = GatewayServices(
            store, registry, self.replay, self.receive, self.health, loops=self.supervisor.statuses
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._tuned = False  # holds the process tuning (_TUNING) while running

    @property
    def mapper(self) -> Mapper:
        """The mapping variants currently loaded (reloaded with the profiles)."""
        return self.registry.mapper

    @classmethod
    async def open(cls, settings: Settings, *, observer: Observer | None = None) -> Gateway:
        registry = ProfileRegistry(settings.partners_dir, settings.mappings_dir)
        store = await open_store(settings.database_url, migrate=settings.auto_migrate)
        destination, source = _destination(settings)
        return cls(settings, store, registry, destination, source, observer)

    def channel_for(self, profile: PartnerProfile) -> str:
        """The partner's own channel when this gateway sends via partner channels and runs an
        adapter for it; otherwise the file-drop directory."""
        if not self.settings.channels.send_via_partner_channels:
            return "filedrop"
        for kind in ("as2", "sftp", "webhook"):
            if getattr(profile.channels, kind, None) is not None and kind in self.channels:
                return kind
        return "filedrop"

    def _wake_all(self) -> None:
        self.inbound.wake.set()
        self.relay_wake.set()
        self.sender_wake.set()

    async def receive(
        self, content: bytes, meta: ChannelMeta, *, companion: NewPayload | None = None
    ) -> StoreOutcome:
        return await self.inbound.receive(content, meta, companion=companion)

    async def health(self) -> dict[str, DestinationHealth]:
        out = {"destination": await self.destination.health()}
        source_health = getattr(self.outbound_source, "health", None)
        if source_health is not None:
            out["outbound"] = await source_health()
        return out

    async def start(self) -> None:
        s, p = self.settings, self.settings.pipeline
        try:
            await self.destination.start()
        except TransientFailure as exc:  # keep accepting input; the relay connects when it can
            log.warning("destination unavailable at start-up; documents wait in the outbox",
                        extra={"reason": exc.message})  # fmt: skip
        if self.analysis_pool is not None:
            await self.analysis_pool.start()
        me = s.instance_id
        sup = self.supervisor
        loops: list[Coroutine[Any, Any, None]] = [
            pipeline_worker(
                self.inbound,
                self.store,
                f"{me}/pipeline-{n}",
                batch=p.batch_size,
                lease_seconds=p.lease_seconds,
                poll_seconds=p.poll_seconds,
                relay_wake=self.relay_wake,
                supervisor=sup,
                name=f"pipeline-{n}",
                batch_bytes=p.batch_bytes,
            )
            for n in range(p.workers)
        ]
        loops += [
            outbox_relay(
                self.store,
                self.destination,
                f"{me}/relay",
                wake=self.relay_wake,
                poll_seconds=p.poll_seconds,
                observer=self.observer,
                supervisor=sup,
            ),
            sender_worker(
                self.sender,
                self.store,
                f"{me}/sender",
                wake=self.sender_wake,
                lease_seconds=p.lease_seconds,
                poll_seconds=p.poll_seconds,
                supervisor=sup,
                batch=p.batch_size,
            ),
            overdue_scanner(
                self.store, every_seconds=p.ack_scan_seconds, observer=self.observer, supervisor=sup
            ),
            sup.forever("outbound-consumer", lambda: self.outbound_source.run(self.outbound.handle)),
        ]
        self._tasks = [asyncio.create_task(c) for c in loops]
        if not self._tuned:
            _TUNING.acquire()
            self._tuned = True
        if self.as2 is not None:
            await self.as2.start()
        if self.sftp is not None:
            if self.sftp.server is not None:
                await self.sftp.server.start()
            if s.channels.sftp_poll:
                await self.sftp.poller.start()

    async def stop(self, *, grace_seconds: float = 10.0) -> None:
        """Stop channels, loops and adapters. Each step gets ``grace_seconds``: a step that hangs
        (a connection that never answers) is logged and left behind, so shutdown always ends.
        Nothing is lost by that: leases expire and stored work is picked up again."""
        for name, part in (("sftp", self.sftp), ("as2", self.as2), ("webhook", self.webhook)):
            if part is not None:
                await _bounded(part.stop(), f"stopping the {name} channel", grace_seconds)
        await _bounded(self.outbound_source.close(), "closing the outbound source", grace_seconds)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _done, stuck = await asyncio.wait(self._tasks, timeout=grace_seconds)
            for task in stuck:
                log.error("a background loop did not stop in time", extra={"task": task.get_name()})
        self._tasks = []
        await _bounded(self.destination.close(), "closing the destination", grace_seconds)
        if self.analysis_pool is not None:
            await _bounded(self.analysis_pool.close(), "stopping the analysis processes", grace_seconds)
        await _bounded(self.store.close(), "closing the store", grace_seconds)
        if self._tuned:
            _TUNING.release()
            self._tuned = False

    async def process_now(self, payload_id: str) -> ProcessingResult | None:
        """Run the pipeline for one stored payload in this process (``edigate ingest``)."""
        worker = f"{self.settings.instance_id}/cli"
        record = await self.store.claim_payload(payload_id, worker, self.settings.pipeline.lease_seconds)
        if record is None:
            return None
        return await self.inbound.process(record, worker)

    async def flush_outbox(self, timeout: float = 30.0) -> int:
        """Publish pending outbox rows now; returns how many are still pending."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        worker = f"{self.settings.instance_id}/cli-relay"
        while loop.time() < deadline:
            if not await publish_round(self.store, self.destination, worker, observer=self.observer):
                break
        return await self.store.outbox_backlog()

    async def send_pending(self) -> None:
        """Hand stored outbound payloads (e.g. our acks) to their channels now."""
        worker = f"{self.settings.instance_id}/cli-sender"
        while records := await self.store.claim_payloads(worker, 64, 30, Direction.OUTBOUND):
            await self.sender.send_batch(records, worker)


class _ProcessTuning:
    """The interpreter settings of a process that runs a gateway: the start-up objects frozen
    out of the cycle collector, and the :data:`SWITCH_INTERVAL`. Several gateways may run in
    one process (tests, embedders): the first start applies them and the last stop restores
    the interval found before and makes the frozen objects collectable again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._saved_interval = sys.getswitchinterval()

    @property
    def running(self) -> int:
        return self._running

    def acquire(self) -> None:
        with self._lock:
            self._running += 1
            if self._running == 1:
                _freeze_startup_objects()
                self._saved_interval = sys.getswitchinterval()
                sys.setswitchinterval(SWITCH_INTERVAL)

    def release(self) -> None:
        with self._lock:
            if self._running == 0:
                return
            self._running -= 1
            if self._running == 0:
                gc.unfreeze()  # what the first start set aside is collectable again
                sys.setswitchinterval(self._saved_interval)


_TUNING = _ProcessTuning()


def _freeze_startup_objects() -> None:
    """Set what start-up loaded (profiles, mappings, schemas, SQLAlchemy and aio-pika objects)
    aside from the garbage collector: it lives as long as the gateway, and every full
    collection would otherwise walk all of it again (about 0.2 s each under load, several
    times a second at a few hundred documents per second)."""
    gc.collect()
    gc.freeze()


async def _bounded(step: Coroutine[Any, Any, None], what: str, seconds: float) -> None:
    """Await a shutdown step for at most ``seconds``; failures and time-outs are logged, not raised."""
    try:
        await asyncio.wait_for(step, timeout=seconds)
    except TimeoutError:
        log.error("shutdown step timed out", extra={"step": what, "seconds": seconds})
    except Exception as exc:
        log.warning("shutdown step failed", extra={"step": what, "error": f"{type(exc).__name__}: {exc}"})
