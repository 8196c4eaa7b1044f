"""Prometheus metrics: the :class:`Observer` the use cases call, plus values read at scrape time.

Series (all prefixed ``edigate_``):

=====================================  =========  =============================================
``documents``                          gauge      stored items by partner, document_type, state
                                                  (``document_type="payload"`` counts raw payloads)
``pipeline_seconds``                   histogram  one pipeline run, by final state
``outbox_backlog``                     gauge      outbox rows not yet published
``acks_overdue``                       gauge      sent groups whose ack is overdue, by partner
``acks_overdue_detected_total``        counter    groups found overdue by the ack scan, by partner
``published_total``                    counter    messages confirmed by a destination
``certificate_expiry_seconds``         gauge      seconds until an AS2 certificate's window ends,
                                                  by partner and certificate (negative: ended)
``profiles_loaded``                    gauge      partner profiles in the live set
=====================================  =========  =============================================

Store-backed values are computed by :meth:`Metrics.refresh` (async, called by the
``/metrics`` handler before rendering), never from inside a prometheus Collector: the
collector runs synchronously and must not call async code.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from gateway.domain.profiles import PartnerProfile, ProfileSet
from gateway.domain.runtime.store import Store

__all__ = ["CONTENT_TYPE", "Metrics", "Snapshot", "certificate_expiries"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
#: Receipt to outcome: queueing behind a backlog (or a store outage) can take minutes to hours.
_RECEIPT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Scrape-time values, read from the store and the profiles before rendering."""

    counts: list[tuple[str | None, str, str, int]]
    outbox_backlog: int
    overdue_by_partner: dict[str, int]
    certificates: list[tuple[str, str, float]]
    profiles: int


def certificate_expiries(profiles: Iterable[PartnerProfile], now: datetime) -> list[tuple[str, str, float]]:
    """(partner, certificate, seconds until the window ends) for every AS2 certificate.

    The certificate is named by its place in the profile, as profile warnings name it:
    ``partner_certificates[0]``, ``our_certificate``, ``our_keys[1].certificate``.
    """
    out: list[tuple[str, str, float]] = []
    for profile in profiles:
        as2 = profile.channels.as2
        if as2 is None:
            continue
        for name, cert in as2.named_certificates():
            if cert.not_after is not None:
                out.append((profile.partner_id, name, (cert.not_after - now).total_seconds()))
    return out


class Metrics:
    """Owns a private :class:`CollectorRegistry`, so several instances (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.documents = Gauge(
            "edigate_documents",
            "Stored items by partner, document type and lifecycle state",
            ["partner", "document_type", "state"],
            registry=r,
        )
        self.pipeline_seconds = Histogram(
            "edigate_pipeline_seconds",
            "Time of one pipeline run over a stored payload, by the state it ended in",
            ["state"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.pipeline_latency = Histogram(
            "edigate_pipeline_latency_seconds",
            "Time from a payload's receipt (bytes committed) to the end of its processing "
            "(routed, acknowledged, rejected, failed...), by that state; queueing included",
            ["state"],
            buckets=_RECEIPT_BUCKETS,
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "edigate_outbox_backlog", "Outbox messages not yet published to a destination", registry=r
        )
        self.acks_overdue = Gauge(
            "edigate_acks_overdue", "Sent groups whose acknowledgement is overdue", ["partner"], registry=r
        )
        self.acks_overdue_detected = Counter(
            "edigate_acks_overdue_detected",
            "Sent groups the ack scan found overdue",
            ["partner"],
            registry=r,
        )
        self.published_total = Counter(
            "edigate_published", "Messages confirmed by a destination", ["destination"], registry=r
        )
        self.certificate_expiry = Gauge(
            "edigate_certificate_expiry_seconds",
            "Seconds until an AS2 certificate's validity window ends (negative once ended)",
            ["partner", "certificate"],
            registry=r,
        )
        self.profiles_loaded = Gauge(
            "edigate_profiles_loaded", "Partner profiles in the live set", registry=r
        )

    # --- Observer ----------------------------------------------------------------------
    def pipeline_finished(self, seconds: float, state: str) -> None:
        self.pipeline_seconds.labels(state=state).observe(seconds)

    def payload_settled(self, seconds_since_receipt: float, state: str) -> None:
        self.pipeline_latency.labels(state=state).observe(seconds_since_receipt)

    def published(self, count: int, destination: str) -> None:
        self.published_total.labels(destination=destination).inc(count)

    def overdue(self, partner_id: str, count: int) -> None:
        self.acks_overdue_detected.labels(partner=partner_id).inc(count)

    # --- scrape time -------------------------------------------------------------------
    @staticmethod
    async def snapshot(store: Store, profiles: ProfileSet, now: datetime | None = None) -> Snapshot:
        """Read everything the scrape-time gauges show (async: call it from the handler)."""
        counts = await store.counts_by_state()
        backlog = await store.outbox_backlog()
        overdue = Tally(group.partner_id for group in await store.list_overdue())
        moment = now or datetime.now(UTC)
        return Snapshot(counts, backlog, dict(overdue), certificate_expiries(profiles, moment), len(profiles))

    def apply(self, snap: Snapshot) -> None:
        """Set the scrape-time gauges; series that disappeared since the last scrape are dropped.

        Synchronous on purpose: with :meth:`render` right after it, no other task can
        interleave between setting and rendering.
        """
        self.documents.clear()
        for partner, doc_type, state, count in snap.counts:
            self.documents.labels(partner=partner or "", document_type=doc_type, state=state).set(count)
        self.outbox_backlog.set(snap.outbox_backlog)
        self.acks_overdue.clear()
        for partner, count in snap.overdue_by_partner.items():
            self.acks_overdue.labels(partner=partner).set(count)
        self.certificate_expiry.clear()
        for partner, name, seconds in snap.certificates:
            self.certificate_expiry.labels(partner=partner, certificate=name).set(seconds)
        self.profiles_loaded.set(snap.profiles)

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)

    async def scrape(self, store: Store, profiles: ProfileSet) -> bytes:
        snap = await self.snapshot(store, profiles)
        self.apply(snap)
        return self.render()
