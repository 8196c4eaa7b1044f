"""The poller: on each poll-mode partner's schedule, collect files from its SFTP server.

One run: take the partner's lock in the store (``sftp-poll:<partner>``, renewed at a
third of its lease while the run lasts, so one gateway instance polls a partner at
a time), connect with the pinned host key, list the remote inbox, and for each file
the profile wants (never ``.``-files or temporary ``.part``/``.filepart``/``.tmp``
names) download it, commit it through ``receive`` and only then delete or archive
it remotely. The idempotency key is derived from the remote path, size, mtime and
the content's SHA-256, so when a run dies between commit and clean-up the next run
gets ``created=False`` from the store and just cleans up: no duplicate document.

Failed runs are retried with the profile's backoff (``retry``), then wait for the
next scheduled run. Every failure is logged, counted (``SftpObserver.poll``) and
written to the partner's audit trail as ``sftp.poll_failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.adapters.sftp.client import Connector, RemoteFile, RemoteSession, open_remote
from gateway.adapters.sftp.errors import RemoteError, RemoteTransferFailed
from gateway.adapters.sftp.metrics import SftpObserver
from gateway.adapters.sftp.policy import is_temporary
from gateway.adapters.sftp.session import AUDIT_ENTITY
from gateway.adapters.sftp.settings import SftpSettings
from gateway.adapters.sftp.timing import next_run
from gateway.domain.profiles.sftp import SftpPoll
from gateway.domain.runtime.records import ChannelMeta
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry
from gateway.domain.usecases.services import Receiver

__all__ = ["PollReport", "SftpPoller", "poll_idempotency_key"]

log = logging.getLogger("edigate.sftp")

def poll_idempotency_key(remote: RemoteFile, content: bytes) -> str:
    """Stable for the same remote file fetched twice; different for a new file of the same name."""
    digest = hashlib.sha256(content).hexdigest()
    ident = f"{remote.path}\n{remote.size}\n{remote.mtime}\n{digest}".encode()
    return "sftp-poll:" + hashlib.sha256(ident).hexdigest()


@dataclass(slots=True)
class PollReport:
    partner_id: str
    new: list[str] = field(default_factory=list)  # payload IDs created by this run
    repeats: list[str] = field(default_factory=list)  # already stored: only cleaned up
    skipped: list[str] = field(default_factory=list)  # remote paths left in place (too large)
    locked_elsewhere: bool = False


class SftpPoller:
    def __init__(
        self,
        registry: ProfileRegistry,
        receive: Receiver,
        store: Store,
        settings: SftpSettings,
        *,
        instance_id: str,
        observer: SftpObserver | None = None,
        connector: Connector | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._registry = registry
        self._receive = receive
        self._store = store
        self._settings = settings
        self._owner = f"{instance_id}/sftp-poller"
        self._observer = observer
        timeout = settings.connect_timeout_seconds
        self._connect = connector or (lambda pid, prof: open_remote(pid, prof, timeout=timeout))
        self._clock = clock
        self._loops: dict[str, tuple[asyncio.Task[None], SftpPoll]] = {}
        self._supervisor: asyncio.Task[None] | None = None

    # --- one run -----------------------------------------------------------------------
    def profile(self, partner_id: str) -> SftpPoll:
        profile = self._registry.current.get(partner_id)
        sftp = profile.channels.sftp if profile is not None else None
        if not isinstance(sftp, SftpPoll):
            raise LookupError(f"partner {partner_id} has no SFTP channel in poll mode")
        return sftp

    async def poll_once(self, partner_id: str) -> PollReport:
        """One run for one partner; raises :class:`RemoteError` (already audited) when it fails."""
        profile = self.profile(partner_id)
        lock, ttl = f"sftp-poll:{partner_id}", self._settings.poll_lock_seconds
        if not await self._store.try_lock(lock, self._owner, ttl):
            self._count(partner_id, "locked")
            return PollReport(partner_id, locked_elsewhere=True)
        lost = asyncio.Event()
        renewer = asyncio.create_task(self._renew(lock, ttl, lost))
        session: RemoteSession | None = None
        try:
            session = await asyncio.to_thread(self._connect, partner_id, profile)
            report = await self._collect(partner_id, profile, session, lost)
        except RemoteError as exc:
            await self._failed(partner_id, exc)
            raise
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            if session is not None:
                await asyncio.to_thread(session.close)
            with contextlib.suppress(Exception):
                await self._store.release_lock(lock, self._owner)
        self._count(partner_id, "ok")
        return report

    async def _collect(
        self, partner_id: str, profile: SftpPoll, session: RemoteSession, lost: asyncio.Event
    ) -> PollReport:
        report = PollReport(partner_id)
        files = await asyncio.to_thread(session.list_files, profile.paths.inbox)
        for remote in files:
            if remote.name.startswith(".") or is_temporary(remote.name) or not profile.wants(remote.name):
                continue
            if lost.is_set():
                raise RemoteTransferFailed(partner_id, "the poll lock was lost; another instance took over")
            limit = self._settings.max_file_bytes
            if remote.size > limit:
                report.skipped.append(remote.path)
                why = f"{remote.path}: {remote.size} bytes is over the limit of {limit}"
                await self._audit(partner_id, "sftp.poll_skipped", why)
                continue
            content = await asyncio.to_thread(session.read, remote, self._settings.max_file_bytes)
            meta = ChannelMeta(
                channel="sftp",
                partner_id=partner_id,
                filename=remote.name,
                remote=f"sftp://{profile.username}@{profile.host}:{profile.port}{remote.path}",
                idempotency_key=poll_idempotency_key(remote, content),
                headers={"sftp-mode": "poll", "sftp-mtime": str(remote.mtime)},
            )
            outcome = await self._receive(content, meta)
            payload_id = outcome.record.id
            where = await asyncio.to_thread(self._clean_up, session, profile, remote, payload_id)
            state = "sftp.picked_up" if outcome.created else "sftp.repeat_cleaned_up"
            detail = f"{remote.path}: {len(content)} bytes, payload {payload_id}, {where}"
            await self._audit(partner_id, state, detail)
            (report.new if outcome.created else report.repeats).append(payload_id)
            if self._observer is not None:
                self._observer.picked_up(partner_id, "new" if outcome.created else "duplicate")
            log.info("sftp pick-up: %s", detail, extra={"partner_id": partner_id, "payload_id": payload_id})
        return report

    @staticmethod
    def _clean_up(session: RemoteSession, profile: SftpPoll, remote: RemoteFile, payload_id: str) -> str:
        if profile.after_pickup == "delete" or profile.paths.archive is None:
            session.remove(remote.path)
            return "deleted"
        target = session.move_unique(remote.path, profile.paths.archive, remote.name, payload_id[:8])
        return f"archived as {target}"

    async def _renew(self, lock: str, ttl: float, lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                held = await self._store.try_lock(lock, self._owner, ttl)
            except Exception:
                log.exception("renewing the SFTP poll lock %s failed", lock)
                held = False
            if not held:
                lost.set()
                return

    async def _failed(self, partner_id: str, exc: RemoteError) -> None:
        log.warning("sftp poll of %s failed: %s", partner_id, exc, extra={"partner_id": partner_id})
        self._count(partner_id, "failed")
        await self._audit(partner_id, "sftp.poll_failed", str(exc))

    async def _audit(self, partner_id: str, state: str, detail: str) -> None:
        try:
            await self._store.add_audit(AUDIT_ENTITY, partner_id, state, detail=detail, actor=self._owner)
        except Exception:
            log.exception("writing the SFTP audit event %s for %s failed", state, partner_id)

    def _count(self, partner_id: str, result: str) -> None:
        if self._observer is not None:
            self._observer.poll(partner_id, result)

    # --- schedule ----------------------------------------------------------------------
    async def run_with_retries(self, partner_id: str) -> PollReport | None:
        """A scheduled run: retried with the profile's backoff while the failure is retryable."""
        retry = self.profile(partner_id).retry
        for attempt in range(retry.limit + 1):
            try:
                return await self.poll_once(partner_id)
            except RemoteError as exc:
                if not exc.retryable or attempt == retry.limit:
                    return None
                await asyncio.sleep(retry.delay(attempt + 1))
        return None

    async def _partner_loop(self, partner_id: str, profile: SftpPoll) -> None:
        previous: datetime | None = None
        while True:
            now = self._clock()
            due = next_run(profile.schedule, previous, now)
            await asyncio.sleep(max(0.0, (due - now).total_seconds()))
            previous = due
            try:
                await self.run_with_retries(partner_id)
            except LookupError:
                return  # the profile changed; the supervisor starts a new loop if needed
            except Exception:
                log.exception("sftp poll of %s stopped with an unexpected error", partner_id)

    def sync(self) -> None:
        """Start, restart or stop per-partner loops to match the live profiles."""
        wanted: dict[str, SftpPoll] = {}
        for p in self._registry.current:
            if isinstance(p.channels.sftp, SftpPoll):
                wanted[p.partner_id] = p.channels.sftp
        for partner_id, (task, profile) in list(self._loops.items()):
            if wanted.get(partner_id) != profile or task.done():
                task.cancel()
                del self._loops[partner_id]
        for partner_id, profile in wanted.items():
            if partner_id not in self._loops:
                task = asyncio.create_task(self._partner_loop(partner_id, profile))
                self._loops[partner_id] = (task, profile)

    async def _supervise(self) -> None:
        while True:
            self.sync()
            await asyncio.sleep(self._settings.poll_refresh_seconds)

    async def start(self) -> None:
        self._supervisor = asyncio.create_task(self._supervise())

    async def stop(self) -> None:
        tasks = [task for task, _ in self._loops.values()]
        if self._supervisor is not None:
            tasks.append(self._supervisor)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loops.clear()
        self._supervisor = None
