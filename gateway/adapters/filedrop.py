"""The file-drop channel: outbound payloads written to a per-partner directory.

``<root>/<partner>/outbox/<filename>``, written atomically (temporary file in
the same directory, fsync, rename, fsync of the directory), so a partner process or a
sync job that watches the directory never sees half a file, and a file reported sent
survives a power loss. An existing file with the same name is never overwritten: the
new one gets the payload ID as a suffix.

A batch (:meth:`FileDropChannel.send_many`, what the Sender uses) is written in one
hop to a worker thread: every file written, the files fsynced concurrently (so they
share the file system's journal commits), then renamed, then each directory fsynced
once for the whole batch.

Partner profiles have no file-drop section, so the gateway-wide retry defaults apply
(``pipeline.max_attempts`` and ``pipeline.retry_backoff_seconds``).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from gateway.domain.profiles import RetryPolicy
from gateway.domain.runtime.ports import OutboundFile, OutboundSendResult

__all__ = ["FileDropChannel"]

_SAFE = re.compile(r"[^A-Za-z0-9._-]")
#: Files of a batch held open at once between writing and fsyncing them.
_OPEN_FILES = 128
#: Threads that fsync a batch's files side by side.
_FSYNC = ThreadPoolExecutor(16, thread_name_prefix="filedrop-fsync")


class FileDropChannel:
    kind = "filedrop"

    def __init__(self, root: Path) -> None:
        self.root = root

    async def send(
        self, partner_id: str, payload_id: str, content: bytes, filename: str
    ) -> OutboundSendResult:
        [result] = await self.send_many([OutboundFile(partner_id, payload_id, content, filename)])
        return result

    async def send_many(self, files: Sequence[OutboundFile]) -> list[OutboundSendResult]:
        if not files:
            return []
        outcomes = await asyncio.to_thread(self._write_many, files)
        return [
            OutboundSendResult(True, str(out), remote_reference=out.name)
            if isinstance(out, Path)
            else OutboundSendResult(False, f"cannot write to {self.root}: {out.strerror}", retryable=True)
            for out in outcomes
        ]

    def retry_policy(self, partner_id: str) -> RetryPolicy | None:
        return None  # the gateway-wide defaults

    def _target(self, file: OutboundFile, taken: dict[Path, bytes]) -> tuple[Path, Path]:
        """Where ``file`` goes: its own name, unless another content has that name already (on
        disk, or earlier in this batch). The same content again keeps the name (a resend)."""
        folder = self.root / _SAFE.sub("_", file.partner_id or "unknown") / "outbox"
        if folder not in taken:  # once per folder and batch
            folder.mkdir(parents=True, exist_ok=True)
            taken[folder] = b""
        name = _SAFE.sub("_", os.path.basename(file.filename)) or f"{file.payload_id}.edi"
        target = folder / name
        earlier = taken.get(target)
        if earlier is not None:
            clash = earlier != file.content
        else:
            clash = target.exists() and target.read_bytes() != file.content
        if clash:
            target = folder / f"{target.stem}.{file.payload_id}{target.suffix}"
        taken[target] = file.content
        return target, folder / f".{name}.{file.payload_id}.tmp"

    def _write_many(self, files: Sequence[OutboundFile]) -> list[Path | OSError]:
        """Write every file, fsync them side by side, rename them and fsync each directory once;
        an error fails only the files it concerns."""
        out: list[Path | OSError] = []
        written: list[tuple[int, Path, Path]] = []
        taken: dict[Path, bytes] = {}
        for start in range(0, len(files), _OPEN_FILES):
            chunk: list[tuple[int, Path, Path, BinaryIO]] = []
            for i, file in enumerate(files[start : start + _OPEN_FILES], start):
                try:
                    target, tmp = self._target(file, taken)
                    fh = open(tmp, "wb")  # noqa: SIM115 - closed below, once fsynced
                except OSError as exc:
                    out.append(exc)
                    continue
                out.append(target)
                chunk.append((i, tmp, target, fh))
                try:
                    fh.write(file.content)
                    fh.flush()
                except OSError as exc:
                    out[i] = exc
            # concurrent fsyncs share the file system's journal commits: far fewer disk flushes
            synced = list(_FSYNC.map(_fsync, [h for i, _, _, h in chunk if not isinstance(out[i], OSError)]))
            for i, tmp, target, handle in chunk:
                handle.close()
                if isinstance(out[i], OSError):
                    continue
                error = synced.pop(0)
                if error is not None:
                    out[i] = error
                else:
                    written.append((i, tmp, target))
        folders: dict[Path, list[int]] = {}
        for i, tmp, target in written:
            try:
                os.replace(tmp, target)
            except OSError as exc:
                out[i] = exc
                continue
            folders.setdefault(target.parent, []).append(i)
        for folder, members in folders.items():
            try:
                _fsync_directory(folder)  # the renames are durable only once the directory is
            except OSError as exc:
                for i in members:
                    out[i] = exc
        return out


def _fsync(handle: BinaryIO) -> OSError | None:
    try:
        os.fsync(handle.fileno())
    except OSError as exc:
        return exc
    return None


def _fsync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
