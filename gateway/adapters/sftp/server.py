"""Our SFTP server (paramiko): partners in push mode log in here to deliver and collect files.

The accept loop runs on the gateway's asyncio loop; each accepted connection gets a
paramiko ``Transport`` (its own thread) with :class:`.auth.AccountAuth` and the
:class:`.filesystem.PartnerFilesystem` SFTP subsystem. A watchdog task closes
connections idle longer than ``idle_timeout_seconds``, records failed logins
when their connection ends, and removes temporary uploads abandoned for
``abandoned_upload_seconds`` (audited ``sftp.upload_abandoned``). Beyond
``max_connections`` new connections are closed at once. ``start()`` loads (or
generates, once) the host keys, sweeps what an earlier run left behind and binds;
``stop()`` closes the listener and every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time

import paramiko

from gateway.adapters.sftp.accounts import AccountDirectory
from gateway.adapters.sftp.auth import AccountAuth
from gateway.adapters.sftp.filesystem import PartnerFilesystem
from gateway.adapters.sftp.keys import PublicKey, load_or_create_host_key
from gateway.adapters.sftp.metrics import SftpObserver
from gateway.adapters.sftp.policy import Area
from gateway.adapters.sftp.session import ServerServices, Session
from gateway.adapters.sftp.settings import SftpSettings
from gateway.adapters.sftp.storage import PartnerStorage
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.services import Receiver

__all__ = ["SftpServer"]

log = logging.getLogger("edigate.sftp")


class SftpServer:
    def __init__(
        self,
        settings: SftpSettings,
        accounts: AccountDirectory,
        receive: Receiver,
        store: Store,
        observer: SftpObserver | None = None,
    ) -> None:
        self.settings = settings
        self.accounts = accounts
        self._receive = receive
        self._store = store
        self._observer = observer
        self.host_keys: list[paramiko.PKey] = []
        self._services: ServerServices | None = None
        self._listener: socket.socket | None = None
        self._sessions: set[Session] = set()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def address(self) -> tuple[str, int]:
        """The bound host and port (the real port when configured with 0)."""
        if self._listener is None:
            raise RuntimeError("the SFTP server is not started")
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    @property
    def host_key_lines(self) -> list[str]:
        """The public host keys (``type base64``), for partners' ``known_hosts``."""
        return [PublicKey.of(key).line() for key in self.host_keys]

    @property
    def connections(self) -> int:
        return len(self._sessions)

    async def start(self) -> None:
        s = self.settings
        loop = asyncio.get_running_loop()
        self.host_keys = [
            await asyncio.to_thread(load_or_create_host_key, s.host_key_dir, kind)
            for kind in s.host_key_types
        ]
        self._services = ServerServices(
            self.accounts, s.root, s.max_file_bytes, s.commit_timeout_seconds, self._receive, self._store,
            loop, self._observer,
        )
        await asyncio.to_thread(self._prepare_folders)
        listener = socket.create_server((s.host, s.port), backlog=128)
        listener.setblocking(False)
        self._listener = listener
        self._tasks = [asyncio.create_task(self._accept_loop()), asyncio.create_task(self._watchdog())]
        host, port = self.address
        fingerprints = ", ".join(PublicKey.of(k).fingerprint for k in self.host_keys)
        log.info("sftp server listening on %s:%d (host keys %s)", host, port, fingerprints)

    def _prepare_folders(self) -> None:
        grace = max(self.settings.idle_timeout_seconds, self.settings.commit_timeout_seconds) * 2
        for account in self.accounts.all():
            storage = PartnerStorage(self.settings.root, account.partner_id)
            storage.ensure()
            removed = storage.sweep_staging(grace)
            if removed:
                log.warning("removed %d interrupted uploads of %s", removed, account.partner_id)
        self.sweep_abandoned()

    def sweep_abandoned(self) -> int:
        """Remove temporary uploads not written for ``abandoned_upload_seconds``; audit each (blocking)."""
        services = self._services
        if services is None:
            return 0
        limit = self.settings.abandoned_upload_seconds
        count = 0
        for account in self.accounts.all():
            storage = PartnerStorage(self.settings.root, account.partner_id)
            try:
                removed = storage.sweep_abandoned(limit, services.is_open)
            except OSError as exc:
                log.error("sweeping abandoned uploads of %s failed: %s", account.partner_id, exc)
                continue
            inbox = account.layout.path_of(Area.INBOX)
            for name, size, age in removed:
                detail = (
                    f"{inbox}/{name}: {size} bytes, not written for {age:.0f} s "
                    f"(abandoned_upload_seconds is {limit:g}); removed, never entered the pipeline"
                )
                log.warning("sftp upload abandoned: %s", detail, extra={"partner_id": account.partner_id})
                services.audit(account.partner_id, "sftp.upload_abandoned", detail)
            count += len(removed)
        return count

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        sessions = list(self._sessions)
        await asyncio.gather(*(asyncio.to_thread(self._close, s) for s in sessions))
        self._sessions.clear()
        if self._services is not None:  # audit events and late commits reach the store before it closes
            left = await self._services.drain(10.0)
            if left:
                log.error("sftp server stopped with %d audit writes or commits still running", left)

    async def _accept_loop(self) -> None:
        assert self._listener is not None
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, addr = await loop.sock_accept(self._listener)
            except OSError as exc:  # e.g. out of file descriptors: keep serving the others
                log.error("sftp accept failed: %s", exc)
                await asyncio.sleep(0.5)
                continue
            self._reap()
            if len(self._sessions) >= self.settings.max_connections:
                log.warning("sftp connection from %s refused: %d open", addr[0], len(self._sessions))
                if self._observer is not None:
                    self._observer.connection_refused()
                sock.close()
                continue
            try:
                self._sessions.add(self._serve(sock, f"{addr[0]}:{addr[1]}"))
            except Exception:
                log.exception("sftp connection from %s could not start", addr[0])
                sock.close()

    def _serve(self, sock: socket.socket, peer: str) -> Session:
        assert self._services is not None
        sock.setblocking(True)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # SFTP is request/response
        session = Session(self._services, peer)
        transport = paramiko.Transport(sock)
        transport.auth_timeout = self.settings.auth_timeout_seconds
        transport.banner_timeout = transport.handshake_timeout = self.settings.connect_timeout_seconds
        for key in self.host_keys:
            transport.add_server_key(key)
        transport.set_subsystem_handler("sftp", paramiko.SFTPServer, sftp_si=PartnerFilesystem)
        session.transport = transport
        transport.start_server(event=threading.Event(), server=AccountAuth(session))
        return session

    def _reap(self) -> None:
        """Forget connections whose transport ended; record failed logins among them."""
        for session in [s for s in self._sessions if s.transport is None or not s.transport.is_active()]:
            self._sessions.discard(session)
            session.closed_unauthenticated()

    @staticmethod
    def _close(session: Session) -> None:
        if session.transport is not None:
            session.transport.close()

    async def _watchdog(self) -> None:
        limit = self.settings.idle_timeout_seconds
        every = min(1.0, limit / 4)
        sweep_every = min(max(self.settings.abandoned_upload_seconds / 4, 0.5), 600.0)
        swept = time.monotonic()
        while True:
            await asyncio.sleep(every)
            self._reap()
            if time.monotonic() - swept >= sweep_every:
                swept = time.monotonic()
                await asyncio.to_thread(self.sweep_abandoned)
            for session in [s for s in self._sessions if s.idle_for() > limit]:
                who = session.account.username if session.account else session.attempted_user or "?"
                log.info("sftp connection %s (%s) idle for %.0fs: closing", session.peer, who, limit)
                if session.account is not None:
                    self._services_audit(session, f"{who} from {session.peer}: idle for {limit:.0f}s")
                await asyncio.to_thread(self._close, session)

    def _services_audit(self, session: Session, detail: str) -> None:
        if self._services is not None and session.account is not None:
            self._services.audit(session.account.partner_id, "sftp.idle_timeout", detail)
