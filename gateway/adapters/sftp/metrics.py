"""SFTP counters: an observer protocol the server and poller call, and its Prometheus version.

Series (registered on the registry you pass, e.g. ``Metrics().registry``):

==========================================  ================================================
``edigate_sftp_logins_total``                logins to our server by partner and result
                                             (ok/failed; unknown accounts: ``partner=""``)
``edigate_sftp_uploads_total``               uploads to our server by partner and result
                                             (committed/refused/failed/pending)
``edigate_sftp_connections_refused_total``   connections closed at once: the server was full
``edigate_sftp_polls_total``                 poll runs by partner and result
                                             (ok/failed/locked/lock_lost/claimed_elsewhere)
``edigate_sftp_poll_files_total``            files picked up by the poller, by partner and
                                             result (new/duplicate)
==========================================  ================================================
"""

from __future__ import annotations

from typing import Protocol

from prometheus_client import CollectorRegistry, Counter

__all__ = ["SftpMetrics", "SftpObserver"]


class SftpObserver(Protocol):
    """Called from the server's threads and the poller's task; implementations must be thread-safe."""

    def login(self, partner_id: str | None, ok: bool) -> None: ...

    def upload(self, partner_id: str, result: str) -> None: ...

    def connection_refused(self) -> None: ...

    def poll(self, partner_id: str, result: str) -> None: ...

    def picked_up(self, partner_id: str, result: str) -> None: ...


class SftpMetrics:
    """Prometheus counters for :class:`SftpObserver` (prometheus_client counters are thread-safe)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.logins = Counter(
            "edigate_sftp_logins", "Logins to the SFTP server", ["partner", "result"], registry=registry
        )
        self.uploads = Counter(
            "edigate_sftp_uploads", "Uploads to the SFTP server", ["partner", "result"], registry=registry
        )
        self.refused = Counter(
            "edigate_sftp_connections_refused",
            "SFTP connections closed because the server had max_connections open",
            registry=registry,
        )
        self.polls = Counter(
            "edigate_sftp_polls", "Poll runs against partners' SFTP servers", ["partner", "result"],
            registry=registry,
        )
        self.files = Counter(
            "edigate_sftp_poll_files", "Files picked up by the SFTP poller", ["partner", "result"],
            registry=registry,
        )

    def login(self, partner_id: str | None, ok: bool) -> None:
        self.logins.labels(partner=partner_id or "", result="ok" if ok else "failed").inc()

    def upload(self, partner_id: str, result: str) -> None:
        self.uploads.labels(partner=partner_id, result=result).inc()

    def connection_refused(self) -> None:
        self.refused.inc()

    def poll(self, partner_id: str, result: str) -> None:
        self.polls.labels(partner=partner_id, result=result).inc()

    def picked_up(self, partner_id: str, result: str) -> None:
        self.files.labels(partner=partner_id, result=result).inc()
