"""The file-drop channel: outbound payloads written to a per-partner directory.

``<root>/<partner>/outbox/<filename>``, written atomically (temporary file in
the same directory, fsync, rename), so a partner process or a sync job that
watches the directory never sees half a file. An existing file with the same
name is never overwritten: the new one gets the payload ID as a suffix.

Partner profiles have no file-drop section, so the gateway-wide retry defaults apply
(``pipeline.max_attempts`` and ``pipeline.retry_backoff_seconds``).
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from gateway.domain.profiles import RetryPolicy
from gateway.domain.runtime.ports import OutboundSendResult

__all__ = ["FileDropChannel"]

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class FileDropChannel:
    kind = "filedrop"

    def __init__(self, root: Path) -> None:
        self.root = root

    async def send(
        self, partner_id: str, payload_id: str, content: bytes, filename: str
    ) -> OutboundSendResult:
        try:
            path = await asyncio.to_thread(self._write, partner_id, payload_id, content, filename)
        except OSError as exc:
            return OutboundSendResult(False, f"cannot write to {self.root}: {exc.strerror}", retryable=True)
        return OutboundSendResult(True, str(path), remote_reference=path.name)

    def retry_policy(self, partner_id: str) -> RetryPolicy | None:
        return None  # the gateway-wide defaults

    def _write(self, partner_id: str, payload_id: str, content: bytes, filename: str) -> Path:
        folder = self.root / _SAFE.sub("_", partner_id or "unknown") / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        name = _SAFE.sub("_", os.path.basename(filename)) or f"{payload_id}.edi"
        target = folder / name
        if target.exists() and target.read_bytes() != content:
            target = folder / f"{target.stem}.{payload_id}{target.suffix}"
        tmp = folder / f".{name}.{payload_id}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return target
