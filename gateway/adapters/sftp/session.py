"""Per-connection state on our SFTP server and the services its threads call.

Paramiko runs each connection (and each SFTP subsystem) in its own thread and
expects synchronous answers. :class:`ServerServices` bridges those threads to the
gateway's asyncio loop with :func:`asyncio.run_coroutine_threadsafe`: a commit
*waits* for ``services.receive`` to return (bytes durable in the store) before the
SFTP close or rename is acknowledged; audit events are fired without waiting, but
written one at a time in the order they happened, so the trail reads as the session ran.

A commit that outlasts ``commit_timeout`` is not cancelled (a cancelled commit may
still land): the client is told the transfer failed (:class:`CommitPending`) and
the caller's ``late`` callback runs when the commit ends, with its outcome or error.
Each upload gets its own correlation ID, stored with the payload and set for the
logs of its commit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko

from gateway.adapters.sftp.accounts import Account, AccountDirectory
from gateway.adapters.sftp.errors import CommitFailed, CommitPending
from gateway.adapters.sftp.metrics import SftpObserver
from gateway.adapters.sftp.storage import PartnerStorage
from gateway.adapters.sftp.trail import AUDIT_ENTITY
from gateway.domain.runtime.records import ChannelMeta, StoreOutcome
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.services import Receiver
from gateway.logging import correlation_scope

__all__ = ["AUDIT_ENTITY", "LateCommit", "ServerServices", "Session"]

log = logging.getLogger("edigate.sftp")

#: Called (on the gateway's loop) when a commit that timed out ends: (outcome, None) or (None, error).
LateCommit = Callable[[StoreOutcome | None, BaseException | None], None]


@dataclass(slots=True)
class ServerServices:
    """What every connection shares: accounts, folders, limits, the store and the loop."""

    accounts: AccountDirectory
    root: Path
    max_file_bytes: int
    commit_timeout: float
    receive: Receiver
    store: Store
    loop: asyncio.AbstractEventLoop
    observer: SftpObserver | None = None
    actor: str = "sftp-server"
    #: Files being written by a client right now (never swept as abandoned).
    open_files: set[Path] = field(default_factory=set)
    open_lock: threading.Lock = field(default_factory=threading.Lock)
    #: Audit writes and late commits still running (waited for when the server stops).
    in_flight: set[Future[Any]] = field(default_factory=set)
    #: Serialises audit writes (FIFO), so events land in the order the threads fired them.
    audit_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def opened(self, path: Path) -> None:
        with self.open_lock:
            self.open_files.add(path)

    def closed(self, path: Path) -> None:
        with self.open_lock:
            self.open_files.discard(path)

    def is_open(self, path: Path) -> bool:
        with self.open_lock:
            return path in self.open_files

    def audit(self, partner_id: str, state: str, detail: str, *, entity: str = AUDIT_ENTITY) -> None:
        """Write an audit event without waiting; a failure to write it is logged."""
        coro = self._write_audit(entity, partner_id, state, detail)
        try:
            future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        except RuntimeError:  # the loop is closed: the gateway is shutting down
            coro.close()
            log.warning("audit event %s for %s not written: the loop is closed", state, partner_id)
            return
        self._track(future)
        future.add_done_callback(_log_failure)

    async def _write_audit(self, entity: str, partner_id: str, state: str, detail: str) -> None:
        # run_coroutine_threadsafe starts coroutines in call order and asyncio.Lock wakes its
        # waiters first come, first served: the writes keep the order of the events.
        async with self.audit_lock:
            await self.store.add_audit(entity, partner_id, state, detail=detail, actor=self.actor)

    def _track(self, future: Future[Any]) -> None:
        with self.open_lock:
            self.in_flight.add(future)
        future.add_done_callback(self._untrack)

    def _untrack(self, future: Future[Any]) -> None:
        with self.open_lock:
            self.in_flight.discard(future)

    async def drain(self, timeout: float) -> int:
        """Wait (on the loop) for audit writes and late commits still running; returns how many remain."""
        with self.open_lock:
            pending = [asyncio.wrap_future(f) for f in self.in_flight]
        if not pending:
            return 0
        _done, left = await asyncio.wait(pending, timeout=timeout)
        return len(left)

    def commit(
        self, session: Session, virtual_path: str, name: str, content: bytes, late: LateCommit
    ) -> StoreOutcome:
        """Store a completed upload; returns once the bytes are committed.

        Raises :class:`CommitFailed` when the store refused, or :class:`CommitPending` when it
        did not answer within ``commit_timeout`` (then ``late`` gets the final result).
        """
        account = session.account
        if account is None:
            raise CommitFailed("no authenticated account")
        correlation = str(uuid.uuid4())
        meta = ChannelMeta(
            channel="sftp",
            partner_id=account.partner_id,
            filename=name,
            remote=f"sftp://{account.username}@{session.peer}{virtual_path}",
            correlation_id=correlation,
            headers={"sftp-mode": "push", "sftp-user": account.username},
        )

        async def run() -> StoreOutcome:
            with correlation_scope(correlation):
                return await self.receive(content, meta)

        coro = run()
        try:
            future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        except RuntimeError as exc:  # the loop is closed: the gateway is shutting down
            coro.close()
            raise CommitFailed(f"the gateway is stopping; {virtual_path} was not stored") from exc
        try:
            return future.result(self.commit_timeout)
        except TimeoutError as exc:
            if not future.done():
                self._track(future)
                future.add_done_callback(lambda done: _finish_late(done, late))
                raise CommitPending(
                    f"the store did not commit {virtual_path} within {self.commit_timeout:g} s"
                ) from exc
            raise CommitFailed(f"the store did not take {virtual_path}: TimeoutError: {exc}") from exc
        except Exception as exc:
            raise CommitFailed(f"the store did not take {virtual_path}: {type(exc).__name__}: {exc}") from exc


def _finish_late(future: Future[StoreOutcome], late: LateCommit) -> None:
    try:
        if future.cancelled():
            late(None, CommitFailed("the commit was cancelled (the gateway stopped)"))
        elif (error := future.exception()) is not None:
            late(None, error)
        else:
            late(future.result(), None)
    except Exception:
        log.exception("handling a late SFTP commit failed")


def _log_failure(future: Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("writing an SFTP audit event failed: %s", future.exception())


@dataclass(eq=False, slots=True)
class Session:
    """One client connection: who it is (once authenticated), activity, open uploads."""

    services: ServerServices
    peer: str
    transport: paramiko.Transport | None = None
    account: Account | None = None
    key_fingerprint: str | None = None
    attempted_user: str | None = None
    failures: list[str] = field(default_factory=list)
    last_activity: float = field(default_factory=time.monotonic)
    login_recorded: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    def idle_for(self) -> float:
        return time.monotonic() - self.last_activity

    @property
    def storage(self) -> PartnerStorage:
        if self.account is None:
            raise CommitFailed("no authenticated account")
        return PartnerStorage(self.services.root, self.account.partner_id)

    def login(self) -> None:
        """Record the login once (when the SFTP subsystem starts)."""
        account = self.account
        if account is None or self.login_recorded:
            return
        self.login_recorded = True
        how = f"key {self.key_fingerprint}" if self.key_fingerprint else "password"
        log.info("sftp login", extra={"partner_id": account.partner_id, "sftp_user": account.username})
        self.services.audit(account.partner_id, "sftp.login", f"{account.username} from {self.peer} ({how})")
        if self.services.observer is not None:
            self.services.observer.login(account.partner_id, True)

    def closed_unauthenticated(self) -> None:
        """Record a failed login once, when a connection that tried to authenticate ends without."""
        if self.account is not None or self.attempted_user is None:
            return
        attempts = ", ".join(self.failures[-5:]) or "no method completed"
        account = self.services.accounts.get(self.attempted_user)
        detail = f"{self.attempted_user} from {self.peer}: refused ({attempts})"
        log.warning("sftp login refused: %s", detail)
        if account is not None:
            self.services.audit(account.partner_id, "sftp.login_failed", detail)
        else:
            self.services.audit(self.attempted_user, "sftp.login_failed", detail, entity="sftp-account")
        if self.services.observer is not None:
            self.services.observer.login(account.partner_id if account else None, False)
