"""The files behind a push-mode partner's areas: ``<root>/<partner_id>/{inbox,outbox,archive}``.

Physical directory names are fixed; the names the partner sees come from its profile
(:class:`gateway.adapters.sftp.policy.Layout`), so renaming a path in the profile
moves no files. Uploads with a final name are written to a hidden staging file in
the inbox (``.edigate-upload-<id>``) and only moved to the archive once the store has
them; nothing ever appears in the inbox under a final name half-written. Every
path is opened with ``O_NOFOLLOW`` and checked with ``lstat``: a symbolic link found
on disk is refused, never followed. Temporary uploads (``.part``, ``.filepart``,
``.tmp``) a partner never renamed are removed once nothing has written to them for
the server's ``abandoned_upload_seconds`` (:meth:`PartnerStorage.sweep_abandoned`).
"""

from __future__ import annotations

import os
import re
import stat
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from gateway.adapters.sftp.errors import PathRefused
from gateway.adapters.sftp.policy import Area, Location, is_temporary

__all__ = ["STAGING_PREFIX", "PartnerStorage", "safe_name"]

STAGING_PREFIX = ".edigate-"
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(filename: str, fallback: str) -> str:
    """A file name we may write: the base name with unusual characters replaced, no leading dot."""
    name = _SAFE.sub("_", os.path.basename(filename)).lstrip(".")
    return name or fallback


class PartnerStorage:
    """One partner's directory tree on disk."""

    def __init__(self, base: Path, partner_id: str) -> None:
        self.root = base / safe_name(partner_id, "unknown")

    def ensure(self) -> None:
        """Create the three directories (0750); refuse to work through a symbolic link."""
        for area in Area:
            folder = self.dir(area)
            folder.mkdir(mode=0o750, parents=True, exist_ok=True)
            if folder.is_symlink() or not stat.S_ISDIR(os.lstat(folder).st_mode):
                raise PathRefused(f"{folder} is not a plain directory")

    def dir(self, area: Area) -> Path:
        return self.root / area.value

    def file(self, location: Location) -> Path:
        if location.area is None or location.name is None:
            raise PathRefused(f"{location.path} is not a file")
        return self.dir(location.area) / location.name

    def lstat(self, path: Path) -> os.stat_result:
        """``lstat`` of a file we may serve: a regular file, never a link (missing: FileNotFoundError)."""
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            raise PathRefused(f"{path.name} is not a regular file")
        return info

    def listing(self, area: Area) -> list[tuple[str, os.stat_result]]:
        """Regular files the partner may see in an area (no hidden or staging files, no links)."""
        out: list[tuple[str, os.stat_result]] = []
        with os.scandir(self.dir(area)) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode):
                    out.append((entry.name, info))
        return sorted(out)

    def open_read(self, path: Path) -> int:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise PathRefused(f"{path.name} is not a regular file")
        return fd

    def open_write(self, path: Path, *, truncate: bool, exclusive: bool = False) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW
        flags |= os.O_TRUNC if truncate else 0
        flags |= os.O_EXCL if exclusive else 0
        return os.open(path, flags, 0o640)

    def new_staging(self) -> Path:
        return self.dir(Area.INBOX) / f"{STAGING_PREFIX}upload-{uuid.uuid4().hex}"

    def _link_unique(self, src: Path, folder: Path, name: str, tag: str) -> str:
        """Hard-link ``src`` into ``folder`` under ``name`` (or ``stem.tag.suffix`` if taken)."""
        stem, dot, suffix = name.rpartition(".")
        alternative = f"{stem}.{tag}.{suffix}" if dot and stem else f"{name}.{tag}"
        for candidate in (name, alternative):
            try:
                os.link(src, folder / candidate, follow_symlinks=False)
            except FileExistsError:
                continue
            return candidate
        raise FileExistsError(f"{folder / alternative} already exists")

    def archive(self, src: Path, name: str, tag: str) -> str:
        """Move a completed upload into the archive without overwriting; returns its archived name."""
        archived = self._link_unique(src, self.dir(Area.ARCHIVE), name, tag)
        os.unlink(src)
        return archived

    def write_outbox(self, filename: str, content: bytes, tag: str) -> str:
        """Put a file in the outbox atomically (temporary file, fsync, link); returns its name.

        A file of that name with the same content counts as already delivered (a resend);
        with other content the new file gets ``tag`` in its name.
        """
        folder = self.dir(Area.OUTBOX)
        name = safe_name(filename, f"{tag}.edi")
        target = folder / name
        try:
            if target.read_bytes() == content:
                return name
        except FileNotFoundError:
            pass
        tmp = folder / f"{STAGING_PREFIX}out-{tag}-{uuid.uuid4().hex[:8]}.tmp"
        fd = self.open_write(tmp, truncate=True, exclusive=True)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            return self._link_unique(tmp, folder, name, tag)
        finally:
            os.unlink(tmp)

    def sweep_staging(self, older_than_seconds: float) -> int:
        """Delete staging files left by an interrupted process; they were never acknowledged."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for area in Area:
            folder = self.dir(area)
            if not folder.is_dir():
                continue
            for path in folder.glob(f"{STAGING_PREFIX}*"):
                try:
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:
                    continue
        return removed

    def sweep_abandoned(
        self, older_than_seconds: float, in_use: Callable[[Path], bool]
    ) -> list[tuple[str, int, float]]:
        """Delete temporary uploads in the inbox not written for ``older_than_seconds``.

        Files a client has open (``in_use``) are kept however old. Returns (name, size,
        seconds since the last write) of each file removed.
        """
        folder = self.dir(Area.INBOX)
        if not folder.is_dir():
            return []
        now = time.time()
        removed: list[tuple[str, int, float]] = []
        with os.scandir(folder) as entries:
            candidates = [e for e in entries if not e.name.startswith(".") and is_temporary(e.name)]
        for entry in candidates:
            path = Path(entry.path)
            try:
                info = os.lstat(path)
                if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < older_than_seconds or in_use(path):
                    continue
                os.unlink(path)
            except FileNotFoundError:
                continue
            removed.append((entry.name, info.st_size, now - info.st_mtime))
        return sorted(removed)
