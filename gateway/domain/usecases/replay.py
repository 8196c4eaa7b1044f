"""Replay: what support staff use to push any stored document through again.

Three modes, each needing a reason and each written to the audit trail:

* ``raw``: re-parse and re-map a stored payload with the current profile and
  mappings (the pipeline picks it up again, on any instance, after reloading
  profile and mapping files that changed; canonical document IDs stay the
  same, so consumers can recognise what they already have);
* ``canonical``: publish stored canonical documents again (same message IDs,
  ``replay_count`` header incremented), to the destinations the partner's
  current profile routes them to; a document with no route now fails the
  replay instead of counting as published;
* ``outbound``: resend a stored outbound payload to the partner, keeping its
  control numbers or renewing them.

Bulk replays select payloads with a :class:`MessageFilter`, run in the
background, and report progress and a summary.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from gateway.domain.mapping import MappingError, set_id_for
from gateway.domain.runtime.errors import GatewayError, InvalidDocument, NotFound
from gateway.domain.runtime.lifecycle import Direction
from gateway.domain.runtime.records import DocumentRecord
from gateway.domain.runtime.store import MessageFilter, Store, StoredReplayJob
from gateway.domain.usecases.registry import ProfileRegistry
from gateway.domain.usecases.routing import outbox_messages

__all__ = ["Progress", "ReplayJob", "ReplayMode", "ReplayRequest", "ReplayService"]

log = logging.getLogger("edigate.replay")

#: Hears a replay job's progress: once its targets are counted, then after every item.
Progress = Callable[["ReplayJob"], None]

#: Resends an outbound payload: (payload id, renew control numbers, reason, actor) -> new payload id.
Resender = Callable[[str, bool, str, str], Awaitable[str]]


class ReplayMode(StrEnum):
    RAW = "raw"
    CANONICAL = "canonical"
    OUTBOUND = "outbound"


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    mode: ReplayMode
    reason: str
    actor: str
    payload_ids: tuple[str, ...] = ()
    document_ids: tuple[str, ...] = ()
    filter: MessageFilter | None = None
    renew_control_numbers: bool = False

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise InvalidDocument(
                "a replay needs a reason", details=[{"field": "reason", "error": "required"}]
            )
        if self.filter is not None and self.filter.empty:
            # Checked here as well as by the API and CLI: whatever the caller, an empty filter
            # would replay every stored payload, which nobody asks for by leaving fields out.
            raise InvalidDocument(
                "a replay filter needs at least one criterion (an empty one would replay everything)",
                details=[{"field": "filter", "error": "no criterion"}],
            )
        if not (self.payload_ids or self.document_ids or self.filter):
            raise InvalidDocument(
                "say what to replay: payload_ids, document_ids or a filter",
                details=[{"field": "payload_ids", "error": "nothing selected"}],
            )
        if self.document_ids and self.mode is not ReplayMode.CANONICAL:
            raise InvalidDocument(
                f"mode {self.mode.value!r} replays payloads; only mode 'canonical' takes document IDs",
                details=[{"field": "document_ids", "error": "only mode 'canonical' replays documents"}],
            )


@dataclass(slots=True)
class ReplayJob:
    id: str
    request: ReplayRequest
    started_at: datetime
    total: int = 0
    done: int = 0
    succeeded: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    finished_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None

    def summary(self) -> dict[str, Any]:
        return {
            "interrupted": False,
            "id": self.id,
            "mode": self.request.mode.value,
            "reason": self.request.reason,
            "actor": self.request.actor,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "running": self.running,
            "total": self.total,
            "done": self.done,
            "succeeded": self.succeeded,
            "failed": list(self.failed),
        }


class ReplayService:
    def __init__(
        self,
        store: Store,
        resend: Resender | None = None,
        wake: Callable[[], None] | None = None,
        *,
        profiles: ProfileRegistry | None = None,
        destinations: Sequence[str] = (),
    ) -> None:
        self._store = store
        self._resend = resend
        self._wake = wake or (lambda: None)
        self._profiles = profiles
        self._destinations = list(destinations)
        self._jobs: dict[str, ReplayJob] = {}  # running here (and finished ones not saved)
        self._tasks: set[asyncio.Task[None]] = set()

    async def job_summary(self, job_id: str) -> dict[str, Any]:
        """A job's summary, from any instance: this process's own copy while it runs here,
        else the store's. A job whose instance stopped beating is shown ``interrupted``."""
        live = self._jobs.get(job_id)
        if live is not None:
            return live.summary()
        stored = await self._store.replay_job(job_id)
        if stored is None:
            raise NotFound(f"no replay job {job_id}")
        return _as_of_now(stored)

    async def job_summaries(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest jobs of every instance, newest first."""
        found = {s.summary["id"]: _as_of_now(s) for s in await self._store.replay_jobs(limit)}
        found.update({job.id: job.summary() for job in self._jobs.values()})
        return sorted(found.values(), key=lambda j: str(j["started_at"]), reverse=True)[:limit]

    async def _save(self, job: ReplayJob) -> bool:
        """Write the job's summary to the store; a store outage does not stop the replay."""
        try:
            await self._store.save_replay_job(
                job.id, job.summary(), started_at=job.started_at, finished_at=job.finished_at
            )
        except Exception as exc:  # the job goes on; its summary stays in this process
            log.warning("replay job %s: summary not saved", job.id, extra={"reason": str(exc)})
            return False
        return True

    async def _heartbeat(self, job: ReplayJob) -> None:
        """Save the job now and then while it runs, even while one item takes long."""
        while job.running:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            if job.running:
                await self._save(job)

    async def start(self, request: ReplayRequest, progress: Progress | None = None) -> ReplayJob:
        """Begin a replay in the background and return its job (poll it for progress).

        ``progress``, if given, hears the job once its targets are counted and again after
        every item; it is how a caller that waits (the CLI) shows a long replay moving.
        """
        job = ReplayJob(str(uuid.uuid4()), request, datetime.now(UTC))
        targets = await self._targets(request)
        job.total = len(targets)
        self._jobs[job.id] = job
        await self._save(job)
        task = asyncio.create_task(self._run(job, targets, progress))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def run(self, request: ReplayRequest, progress: Progress | None = None) -> ReplayJob:
        """Replay and wait for the summary (the CLI's way)."""
        job = await self.start(request, progress)
        while job.running:
            await asyncio.sleep(0.02)
        return job

    async def _targets(self, request: ReplayRequest) -> list[str]:
        if request.mode is ReplayMode.CANONICAL and request.document_ids:
            return list(request.document_ids)
        ids = list(dict.fromkeys(request.payload_ids))
        if request.filter is not None:  # one query, oldest first, however many it selects
            seen = set(ids)
            ids += [pid for pid in await self._store.payload_ids(request.filter) if pid not in seen]
        if request.mode is ReplayMode.CANONICAL:
            docs: list[str] = []
            for pid in ids:
                detail = await self._store.payload_detail(pid)
                if detail is not None:
                    docs += [d["id"] for d in detail["documents"]]
            return docs
        return ids

    async def _run(self, job: ReplayJob, targets: list[str], progress: Progress | None) -> None:
        req = job.request
        beat = asyncio.create_task(self._heartbeat(job))
        try:
            _tell(progress, job)
            for target in targets:
                try:
                    await self._one(req, target)
                    job.succeeded += 1
                except GatewayError as exc:
                    job.failed.append({"id": target, "error": exc.message})
                except Exception as exc:  # a bug or outage must show in the job, and not end it
                    log.exception("replay of %s failed", target, extra={"job": job.id})
                    job.failed.append(
                        {"id": target, "error": f"unexpected error: {type(exc).__name__}: {exc}"}
                    )
                job.done += 1
                _tell(progress, job)
        finally:
            job.finished_at = datetime.now(UTC)
            beat.cancel()
            if await self._save(job):
                self._jobs.pop(job.id, None)  # the store has it now
            self._wake()

    async def _one(self, req: ReplayRequest, target: str) -> None:
        if req.mode is ReplayMode.CANONICAL:
            await self._canonical(req, target)
            return
        record = await self._store.get_payload(target)
        if record is None:
            raise NotFound(f"no stored payload {target}")
        if req.mode is ReplayMode.RAW:
            if record.direction is not Direction.INBOUND:
                raise InvalidDocument(f"payload {target} is outbound: replay it with mode 'outbound'")
            await self._store.reset_for_replay(target, reason=req.reason, actor=req.actor)
            return
        if record.direction is not Direction.OUTBOUND:
            raise InvalidDocument(f"payload {target} is inbound: replay it with mode 'raw' or 'canonical'")
        if self._resend is None:
            raise InvalidDocument("outbound resend is not available in this process")
        await self._resend(target, req.renew_control_numbers, req.reason, req.actor)

    async def _canonical(self, req: ReplayRequest, document_id: str) -> None:
        """Publish a stored document again, routed by the partner's current profile."""
        docs = await self._store.documents([document_id])
        if not docs:
            raise NotFound(f"no stored document {document_id}")
        [doc] = docs
        if doc.direction is not Direction.INBOUND:
            raise InvalidDocument(
                f"document {document_id} is outbound: resend its payload with mode 'outbound'"
            )
        if self._profiles is None:
            raise InvalidDocument(
                "replay from canonical needs the partner profiles, which this process lacks"
            )
        partner = self._profiles.current.get(doc.partner_id)
        if partner is None:
            raise InvalidDocument(
                f"partner {doc.partner_id} has no profile now: document {document_id} has no route"
            )
        key = _routing_key(doc)
        messages, unrouted = outbox_messages([doc], partner, {doc.id: key}, self._destinations)
        if unrouted:
            raise InvalidDocument(
                f"document {document_id} ({doc.document_type}) has no route in {partner.partner_id}'s "
                f"current profile: nothing was published"
            )
        await self._store.requeue_documents(messages, reason=req.reason, actor=req.actor)


#: How often a running job's summary is saved (its heartbeat), and after how long without one
#: a job that is not finished is shown as interrupted (its instance stopped).
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60.0


def _as_of_now(stored: StoredReplayJob) -> dict[str, Any]:
    summary = dict(stored.summary)
    silent = (datetime.now(UTC) - stored.updated_at).total_seconds()
    if summary.get("running") and silent > STALE_SECONDS:
        summary.update(running=False, interrupted=True)
    return summary


def _tell(progress: Progress | None, job: ReplayJob) -> None:
    """Report to the observer; one that fails is logged and must not end the replay."""
    if progress is None:
        return
    try:
        progress(job)
    except Exception:
        log.exception("replay progress report failed", extra={"job": job.id})


def _routing_key(doc: DocumentRecord) -> str:
    """The profile document type routing is keyed by (stored since migration 0002; derived before)."""
    if doc.source_type:
        return doc.source_type
    try:
        return set_id_for(doc.document_type)
    except MappingError:
        return doc.document_type

