"""The partner's view of our server: paramiko SFTP callbacks applying :mod:`.policy` to :mod:`.storage`.

An upload under a final name is written to a staging file; on the client's CLOSE it is
committed to the store (``services.receive``) and only then acknowledged, then moved
to the archive. An upload under a temporary name (``.part``, ``.filepart``, ``.tmp``)
is written in place and completes on RENAME to a final name, with the same commit
before the rename is acknowledged. A connection that ends with an upload still open,
a write beyond ``max_file_bytes`` or a failed commit leaves nothing in the pipeline.
A commit that times out is answered as a failure but its file is kept until the commit
ends (see :class:`.errors.CommitPending`). Errors are answered as SFTP status codes:
refusals as *permission denied*.

Every transfer is on the partner's audit trail: ``sftp.upload`` (committed),
``sftp.download`` (a file of the outbox or archive read, on CLOSE, with the bytes
sent), ``sftp.collected`` (an outbox file removed), ``sftp.renamed`` and
``sftp.removed`` (temporary files in the inbox), and the refusals and failures.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import paramiko

from gateway.adapters.sftp.codes import SFTP_FAILURE, SFTP_OK, SFTP_PERMISSION_DENIED, errno_code
from gateway.adapters.sftp.errors import CommitFailed, CommitPending, PathRefused, UploadStillOpen
from gateway.adapters.sftp.policy import Area, Layout, Location, is_temporary
from gateway.adapters.sftp.session import Session
from gateway.domain.runtime.records import StoreOutcome

__all__ = ["PartnerFilesystem"]

log = logging.getLogger("edigate.sftp")
T = TypeVar("T")
Attrs = Any  # paramiko.SFTPAttributes (paramiko is untyped)


def _guard(action: Callable[[], T]) -> T | int:
    """Run a filesystem action; translate refusals and OS errors into SFTP status codes."""
    try:
        return action()
    except PathRefused as exc:
        log.info("sftp refused: %s", exc)
        return SFTP_PERMISSION_DENIED
    except CommitFailed as exc:
        log.error("sftp commit failed: %s", exc)
        return SFTP_FAILURE
    except UploadStillOpen as exc:
        log.warning("sftp rename refused: %s", exc)
        return SFTP_FAILURE
    except OSError as exc:
        return errno_code(exc.errno)
    except Exception:
        log.exception("unexpected error in an SFTP request")
        return SFTP_FAILURE


def _dir_attrs(name: str, mtime: float) -> Attrs:
    attrs = paramiko.SFTPAttributes()
    attrs.filename = name
    attrs.st_mode = stat.S_IFDIR | 0o755
    attrs.st_size = 0
    attrs.st_mtime = attrs.st_atime = int(mtime)
    return attrs


class _Handle(paramiko.SFTPHandle):  # type: ignore[misc]  # paramiko ships no type hints
    def __init__(self, fs: PartnerFilesystem, fd: int, flags: int) -> None:
        super().__init__(flags)
        self.fs = fs
        self.fd = fd
        self.closed = False

    def stat(self) -> Attrs | int:
        return _guard(lambda: paramiko.SFTPAttributes.from_stat(os.fstat(self.fd)))

    def chattr(self, attr: Attrs) -> int:
        return SFTP_PERMISSION_DENIED

    def _close_fd(self) -> bool:
        if self.closed:
            return False
        self.closed = True
        os.close(self.fd)
        return True

    def close(self) -> None:
        self._close_fd()


class _ReadHandle(_Handle):
    """A file of the outbox or archive being downloaded; audited on CLOSE with the bytes sent."""

    def __init__(self, fs: PartnerFilesystem, fd: int, flags: int, location: Location) -> None:
        super().__init__(fs, fd, flags)
        self.location = location
        self.size = os.fstat(fd).st_size
        self.sent = 0  # the highest offset read: prefetching clients read out of order

    def read(self, offset: int, length: int) -> bytes | int:
        self.fs.session.touch()
        data = _guard(lambda: os.pread(self.fd, length, offset))
        if isinstance(data, bytes) and data:
            self.sent = max(self.sent, offset + len(data))
        return data

    def close(self) -> None:
        if self._close_fd():
            self.fs.downloaded(self.location, self.sent, self.size)


class _WriteHandle(_Handle):
    """A file in the inbox being written; more than ``max_file_bytes`` fails the upload."""

    def __init__(self, fs: PartnerFilesystem, fd: int, flags: int, real: Path, location: Location) -> None:
        super().__init__(fs, fd, flags)
        self.real = real
        self.location = location
        self.failed: str | None = None
        fs.session.services.opened(real)

    def _close_fd(self) -> bool:
        closing = super()._close_fd()
        if closing:
            self.fs.session.services.closed(self.real)
        return closing

    def write(self, offset: int, data: bytes) -> int:
        self.fs.session.touch()
        limit = self.fs.session.services.max_file_bytes
        if offset + len(data) > limit:
            self.failed = f"larger than the limit of {limit} bytes"
            return SFTP_FAILURE
        view = memoryview(data)
        try:
            while view:
                written = os.pwrite(self.fd, view, offset)
                view, offset = view[written:], offset + written
        except OSError as exc:
            self.failed = f"write error: {exc.strerror}"
            return errno_code(exc.errno)
        return SFTP_OK

    def chattr(self, attr: Attrs) -> int:
        return SFTP_OK  # modes and times the client sets are ignored: the gateway owns them


class _UploadHandle(_WriteHandle):
    """An upload under a final name, staged; committed and acknowledged on the client's CLOSE."""

    def close(self) -> None:
        if not self._close_fd():
            return
        fs = self.fs
        if fs.ended or self.failed is not None:
            _unlink(self.real)
            if self.failed is not None:
                fs.refused_upload(self.location, self.failed)
                if not fs.ended:  # at the session's end paramiko closes every handle: do not stop it
                    raise CommitFailed(f"{self.location.path}: {self.failed}")
            else:
                log.info("sftp upload of %s abandoned by the client; discarded", self.location.path)
            return
        try:
            fs.complete(self.real, self.location, staged=True)
        except CommitPending:
            raise  # the file stays until the commit ends (see complete)
        except Exception:
            _unlink(self.real)  # not acknowledged: the client must send it again
            raise


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class PartnerFilesystem(paramiko.SFTPServerInterface):  # type: ignore[misc]  # paramiko is untyped
    """SFTP requests of one authenticated partner session."""

    def __init__(self, server: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.session: Session = server.session
        account = self.session.account
        if account is None:
            raise PathRefused("the SFTP subsystem needs an authenticated account")
        self.layout: Layout = account.layout
        self.storage = self.session.storage
        self.started = time.time()
        self.ended = False  # per SFTP channel: a connection may open several

    # --- session -----------------------------------------------------------------------
    def session_started(self) -> None:
        self.storage.ensure()
        self.session.login()

    def session_ended(self) -> None:
        self.ended = True  # uploads still open now were interrupted: discard them

    # --- completing uploads ------------------------------------------------------------
    def complete(self, real: Path, location: Location, *, staged: bool) -> None:
        """Commit a finished upload (waits for the store), then move it to the archive.

        ``staged``: ``real`` is our staging file (deleted when the commit fails), not the
        partner's temporary file (left in the inbox for the client to rename again).
        """
        session, services = self.session, self.session.services
        name = location.name or real.name
        with open(real, "rb") as fh:
            content = fh.read(services.max_file_bytes + 1)
        if len(content) > services.max_file_bytes:
            self.refused_upload(location, f"larger than the limit of {services.max_file_bytes} bytes")
            raise CommitFailed(f"{location.path} is over the size limit")

        def late(outcome: StoreOutcome | None, error: BaseException | None) -> None:
            if outcome is not None:
                self._committed(real, location, len(content), outcome, late=True)
                return
            if staged:
                _unlink(real)
            self.refused_upload(location, f"the commit that timed out failed: {error}", result="failed")

        try:
            outcome = services.commit(session, location.path, name, content, late)
        except CommitPending as exc:
            self.refused_upload(location, f"{exc}; the file is kept until the commit ends", result="pending")
            raise
        except CommitFailed as exc:
            self.refused_upload(location, str(exc), result="failed")
            raise
        self._committed(real, location, len(content), outcome, late=False)

    def _committed(
        self, real: Path, location: Location, size: int, outcome: StoreOutcome, *, late: bool
    ) -> None:
        """Archive a committed upload, audit and count it."""
        services = self.session.services
        name = location.name or real.name
        payload_id = outcome.record.id
        partner = outcome.record.partner_id or ""
        try:
            archived = self.storage.archive(real, name, payload_id[:8])
        except OSError as exc:  # committed already: the client's upload succeeded
            archived = f"(not archived: {exc.strerror})"
            log.error("sftp upload %s committed as %s but not archived: %s", location.path, payload_id, exc)
        detail = f"{location.path}: {size} bytes, payload {payload_id}, archived as {archived}"
        if not outcome.created:
            detail += " (repeat of an earlier payload)"
        if late:
            detail += (
                "; committed after the client was told the transfer failed: a copy it sends again"
                " is stored too, and the pipeline marks it a duplicate of this payload"
            )
        log.info(
            "sftp upload committed late" if late else "sftp upload committed",
            extra={"payload_id": payload_id, "partner_id": partner},
        )
        services.audit(partner, "sftp.upload_late_commit" if late else "sftp.upload", detail)
        if services.observer is not None:
            services.observer.upload(partner, "committed")

    def downloaded(self, location: Location, sent: int, size: int) -> None:
        """Audit a download from the outbox or archive (on the handle's CLOSE)."""
        account = self.session.account
        if account is None:
            return
        how = "complete" if sent >= size else f"partial, {sent} of {size} bytes"
        log.info("sftp download %s (%s)", location.path, how, extra={"partner_id": account.partner_id})
        detail = f"{location.path}: {sent} bytes sent ({how})"
        self.session.services.audit(account.partner_id, "sftp.download", detail)

    def refused_upload(self, location: Location, why: str, result: str = "refused") -> None:
        """Log, audit and count an upload that did not enter the pipeline."""
        account = self.session.account
        if account is None:
            return
        services = self.session.services
        log.warning("sftp upload %s %s: %s", location.path, result, why)
        services.audit(account.partner_id, f"sftp.upload_{result}", f"{location.path}: {why}")
        if services.observer is not None:
            services.observer.upload(account.partner_id, result)

    # --- paramiko callbacks ------------------------------------------------------------
    def canonicalize(self, path: str) -> str:
        self.session.touch()
        return self.layout.canonical(path)

    def list_folder(self, path: str) -> list[Attrs] | int:
        self.session.touch()

        def action() -> list[Attrs]:
            location = self.layout.resolve(path)
            if location.is_file:
                raise FileNotFoundError(2, "not a directory")
            if location.area is None:
                return [_dir_attrs(name, self.started) for name in self.layout.children(location)]
            return [
                paramiko.SFTPAttributes.from_stat(info, name)
                for name, info in self.storage.listing(location.area)
            ]

        return _guard(action)

    def stat(self, path: str) -> Attrs | int:
        self.session.touch()

        def action() -> Attrs:
            location = self.layout.resolve(path)
            name = location.parts[-1] if location.parts else "/"
            if location.area is None:
                return _dir_attrs(name, self.started)
            if not location.is_file:
                attrs = paramiko.SFTPAttributes.from_stat(os.lstat(self.storage.dir(location.area)), name)
                return attrs
            return paramiko.SFTPAttributes.from_stat(self.storage.lstat(self.storage.file(location)), name)

        return _guard(action)

    lstat = stat  # links are never followed nor shown, so both answer the same

    def open(self, path: str, flags: int, attr: Attrs) -> _Handle | int:
        self.session.touch()
        writing = bool(flags & (os.O_WRONLY | os.O_RDWR))

        def action() -> _Handle:
            if not writing:
                location = self.layout.file_in(path, Area.OUTBOX, Area.ARCHIVE)
                return _ReadHandle(self, self.storage.open_read(self.storage.file(location)), flags, location)
            location = self.layout.file_in(path, Area.INBOX)
            assert location.name is not None
            if is_temporary(location.name):
                real = self.storage.file(location)
                fd = self.storage.open_write(real, truncate=bool(flags & os.O_TRUNC))
                return _WriteHandle(self, fd, flags, real, location)
            staging = self.storage.new_staging()
            fd = self.storage.open_write(staging, truncate=True, exclusive=True)
            return _UploadHandle(self, fd, flags, staging, location)

        return _guard(action)

    def remove(self, path: str) -> int:
        self.session.touch()

        def action() -> int:
            location = self.layout.file_in(path, Area.INBOX, Area.OUTBOX)
            real = self.storage.file(location)
            self.storage.lstat(real)
            os.unlink(real)
            if self.session.account is not None:
                state = "sftp.collected" if location.area is Area.OUTBOX else "sftp.removed"
                detail = f"{location.path} removed by partner"
                self.session.services.audit(self.session.account.partner_id, state, detail)
            return SFTP_OK

        result: int = _guard(action)
        return result

    def rename(self, oldpath: str, newpath: str) -> int:
        self.session.touch()

        def action() -> int:
            old = self.layout.file_in(oldpath, Area.INBOX)
            new = self.layout.file_in(newpath, Area.INBOX)
            assert old.name is not None
            assert new.name is not None
            if not is_temporary(old.name):
                raise PathRefused(f"{old.path}: only temporary uploads can be renamed")
            src = self.storage.file(old)
            self.storage.lstat(src)
            if self.session.services.is_open(src):
                if self.session.account is not None:
                    detail = f"{old.path} is still being written; rename to {new.path} refused"
                    partner_id = self.session.account.partner_id
                    self.session.services.audit(partner_id, "sftp.rename_refused", detail)
                raise UploadStillOpen(f"{old.path} is still open for writing; close it before renaming it")
            if is_temporary(new.name):
                os.link(src, self.storage.file(new), follow_symlinks=False)
                os.unlink(src)
                if self.session.account is not None:
                    detail = f"{old.path} renamed to {new.path} (still temporary)"
                    self.session.services.audit(self.session.account.partner_id, "sftp.renamed", detail)
            else:
                self.complete(src, new, staged=False)
            return SFTP_OK

        result: int = _guard(action)
        return result

    posix_rename = rename

    def chattr(self, path: str, attr: Attrs) -> int:
        self.session.touch()
        location = _guard(lambda: self.layout.file_in(path, Area.INBOX))
        return location if isinstance(location, int) else SFTP_OK

    def mkdir(self, path: str, attr: Attrs) -> int:
        return SFTP_PERMISSION_DENIED

    def rmdir(self, path: str) -> int:
        return SFTP_PERMISSION_DENIED

    def symlink(self, target_path: str, path: str) -> int:
        return SFTP_PERMISSION_DENIED

    def readlink(self, path: str) -> int:
        return SFTP_PERMISSION_DENIED
