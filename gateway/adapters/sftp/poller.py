"""The poller: on each poll-mode partner's schedule, collect files from its SFTP server.

**Once per slot, across instances.** Every gateway instance runs a loop per poll-mode
partner, but each schedule slot (:mod:`.timing`) is polled by one of them: at the
slot's start an instance *claims* it in the store, through the lock row
``sftp-poll-slot:<partner>`` whose lease ends where the slot ends. The claim is taken
with a fresh owner each time, so it succeeds only when that row is absent or expired,
that is when nobody has claimed this slot yet. The row is left to expire: it is the
partner's "next poll due" marker. The other instances skip the slot.

**One run** (:meth:`SftpPoller.poll_once`): take the run lock ``sftp-poll:<partner>``
(renewed at a third of its lease while the run lasts, so a slow run never overlaps
another instance's), connect with the pinned host key, list the remote inbox, and for
each file the profile wants (never ``.``-files or temporary ``.part``/``.filepart``/
``.tmp`` names) download it, commit it through ``receive`` and only then delete or
archive it remotely. The idempotency key is derived from the remote path, size, mtime
and the content's SHA-256, so when a run dies between commit and clean-up the next run
gets ``created=False`` from the store and just cleans up: no duplicate document. If the
run lock's lease cannot be renewed, the run stops before the next file
(:class:`PollLockLost`, audited ``sftp.poll_lock_lost``, not retried).

**Failures**, remote (:class:`RemoteError`) or ours (:class:`PollFailed`: the store
refused a download, a lock or a claim could not be taken, an unexpected error), are
logged, counted (``SftpObserver.poll(partner, "failed")``) and written to the partner's
audit trail as ``sftp.poll_failed`` (kept and written later if the store itself is
down). Retryable ones are retried with the profile's backoff (``retry``) while the
slot lasts; then the next slot's run takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.adapters.sftp.client import Connector, RemoteFile, RemoteSession, open_remote
from gateway.adapters.sftp.errors import PollFailed, PollLockLost, RemoteError, SftpError
from gateway.adapters.sftp.metrics import SftpObserver
from gateway.adapters.sftp.policy import is_temporary
from gateway.adapters.sftp.settings import SftpSettings
from gateway.adapters.sftp.timing import first_slot, slot_after, upcoming_slot
from gateway.adapters.sftp.trail import AuditTrail
from gateway.domain.profiles.sftp import SftpPoll
from gateway.domain.runtime.records import ChannelMeta
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry
from gateway.domain.usecases.services import Receiver
from gateway.logging import correlation_scope

__all__ = ["PollReport", "SftpPoller", "poll_idempotency_key", "run_lock_name", "slot_lock_name"]

log = logging.getLogger("edigate.sftp")

Sleep = Callable[[float], Awaitable[None]]


def poll_idempotency_key(remote: RemoteFile, content: bytes) -> str:
    """Stable for the same remote file fetched twice; different for a new file of the same name."""
    digest = hashlib.sha256(content).hexdigest()
    ident = f"{remote.path}\n{remote.size}\n{remote.mtime}\n{digest}".encode()
    return "sftp-poll:" + hashlib.sha256(ident).hexdigest()


def run_lock_name(partner_id: str) -> str:
    """The lock held while a run lasts (one run per partner at a time, across instances)."""
    return f"sftp-poll:{partner_id}"


def slot_lock_name(partner_id: str) -> str:
    """The lock row that marks the partner's current slot as claimed (its lease ends with the slot)."""
    return f"sftp-poll-slot:{partner_id}"


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
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._registry = registry
        self._receive = receive
        self._store = store
        self._settings = settings
        self._instance = instance_id
        self._owner = f"{instance_id}/sftp-poller"[:64]
        self._observer = observer
        timeout = settings.connect_timeout_seconds
        self._connect = connector or (lambda pid, prof: open_remote(pid, prof, timeout=timeout))
        self._clock = clock
        self._sleep = sleep
        self.trail = AuditTrail(store, self._owner, clock=clock)
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
        """One run for one partner.

        Raises (already logged, counted and audited) :class:`RemoteError`, :class:`PollFailed`
        or :class:`PollLockLost`; :class:`LookupError` when the partner is not polled.
        """
        profile = self.profile(partner_id)
        lock, ttl = run_lock_name(partner_id), self._settings.poll_lock_seconds
        try:
            if not await self._store.try_lock(lock, self._owner, ttl):
                self._count(partner_id, "locked")
                return PollReport(partner_id, locked_elsewhere=True)
        except Exception as exc:
            failure = _local(partner_id, "taking the poll lock", exc)
            await self._failed(partner_id, failure)
            raise failure from exc
        lost = asyncio.Event()
        renewer = asyncio.create_task(self._renew(lock, ttl, lost))
        session: RemoteSession | None = None
        try:
            await self.trail.flush()
            session = await asyncio.to_thread(self._connect, partner_id, profile)
            report = await self._collect(partner_id, profile, session, lost)
        except (RemoteError, PollLockLost) as exc:
            await self._failed(partner_id, exc)
            raise
        except Exception as exc:
            failure = _local(partner_id, "the poll run", exc)
            await self._failed(partner_id, failure)
            raise failure from exc
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            if session is not None:
                await asyncio.to_thread(session.close)
            try:
                await self._store.release_lock(lock, self._owner)
            except Exception as exc:  # it expires after poll_lock_seconds
                log.warning("releasing the SFTP poll lock %s failed: %s", lock, exc)
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
                raise PollLockLost(
                    partner_id, "the poll lock's lease could not be renewed (another instance took over)"
                )
            limit = self._settings.max_file_bytes
            if remote.size > limit:
                report.skipped.append(remote.path)
                why = f"{remote.path}: {remote.size} bytes is over the limit of {limit}"
                await self.trail.write(partner_id, "sftp.poll_skipped", why)
                continue
            await self._pick_up(partner_id, profile, session, remote, report)
        return report

    async def _pick_up(
        self,
        partner_id: str,
        profile: SftpPoll,
        session: RemoteSession,
        remote: RemoteFile,
        report: PollReport,
    ) -> None:
        content = await asyncio.to_thread(session.read, remote, self._settings.max_file_bytes)
        correlation = str(uuid.uuid4())
        meta = ChannelMeta(
            channel="sftp",
            partner_id=partner_id,
            filename=remote.name,
            remote=f"sftp://{profile.username}@{profile.host}:{profile.port}{remote.path}",
            idempotency_key=poll_idempotency_key(remote, content),
            correlation_id=correlation,
            headers={"sftp-mode": "poll", "sftp-mtime": str(remote.mtime)},
        )
        with correlation_scope(correlation):
            outcome = await self._receive(content, meta)
            payload_id = outcome.record.id
            where = await asyncio.to_thread(self._clean_up, session, profile, remote, payload_id)
            state = "sftp.picked_up" if outcome.created else "sftp.repeat_cleaned_up"
            detail = f"{remote.path}: {len(content)} bytes, payload {payload_id}, {where}"
            await self.trail.write(partner_id, state, detail)
            (report.new if outcome.created else report.repeats).append(payload_id)
            if self._observer is not None:
                self._observer.picked_up(partner_id, "new" if outcome.created else "duplicate")
            log.info("sftp pick-up: %s", detail, extra={"partner_id": partner_id, "payload_id": payload_id})

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

    async def _failed(self, partner_id: str, exc: SftpError) -> None:
        """Log, count and audit a failed run (the caller raises it)."""
        log.warning("sftp poll of %s failed: %s", partner_id, exc, extra={"partner_id": partner_id})
        lock_lost = isinstance(exc, PollLockLost)
        self._count(partner_id, "lock_lost" if lock_lost else "failed")
        state = "sftp.poll_lock_lost" if lock_lost else "sftp.poll_failed"
        await self.trail.write(partner_id, state, str(exc))

    def _count(self, partner_id: str, result: str) -> None:
        if self._observer is not None:
            self._observer.poll(partner_id, result)

    # --- schedule ----------------------------------------------------------------------
    async def run_with_retries(self, partner_id: str, *, until: datetime | None = None) -> PollReport | None:
        """A run, retried with the profile's backoff while the failure is retryable.

        No retry starts at or after ``until`` (the end of the slot being polled): the next
        slot's run takes over from there.
        """
        retry = self.profile(partner_id).retry
        for attempt in range(retry.limit + 1):
            try:
                return await self.poll_once(partner_id)
            except SftpError as exc:
                if not exc.retryable or attempt == retry.limit:
                    return None
                delay = retry.delay(attempt + 1)
                if until is not None and (until - self._clock()).total_seconds() <= delay:
                    return None
                await self._sleep(delay)
        return None

    async def claim_slot(self, partner_id: str, start: datetime, end: datetime) -> bool:
        """Claim the slot ``[start, end)`` for this instance; False if another instance has it.

        The claim's owner is new each time, so the store grants it only when the slot row is
        absent or its lease (which ends at ``end``) has expired: once per slot, whoever is first.
        """
        owner = f"{self._instance[:40]}/slot-{uuid.uuid4().hex[:12]}"
        ttl = max((end - self._clock()).total_seconds(), 0.001)
        try:
            claimed = await self._store.try_lock(slot_lock_name(partner_id), owner, ttl)
        except Exception as exc:
            await self._failed(partner_id, _local(partner_id, f"claiming the slot at {start:%H:%M:%S}", exc))
            return False
        if not claimed:
            self._count(partner_id, "claimed_elsewhere")
            log.debug("sftp slot %s of %s is claimed by another instance", start, partner_id)
        return claimed

    async def _partner_loop(self, partner_id: str, profile: SftpPoll) -> None:
        slot = first_slot(profile.schedule, self._clock())
        while True:
            end = slot_after(profile.schedule, slot)
            wait = (slot - self._clock()).total_seconds()
            if wait > 0:
                await self._sleep(wait)
                continue  # re-read the clock: never claim a slot before it starts
            try:
                if await self.claim_slot(partner_id, slot, end):
                    await self.run_with_retries(partner_id, until=end)
            except LookupError:
                return  # the profile changed; the supervisor starts a new loop if needed
            except Exception:
                log.exception("sftp poll of %s stopped with an unexpected error", partner_id)
            slot = upcoming_slot(profile.schedule, slot, self._clock())

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

    @property
    def running(self) -> bool:
        return self._supervisor is not None and not self._supervisor.done()

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


def _local(partner_id: str, during: str, exc: BaseException) -> PollFailed:
    return PollFailed(partner_id, f"{during} failed on our side: {type(exc).__name__}: {exc}")
