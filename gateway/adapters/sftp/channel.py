"""The outbound SFTP channel (``kind = "sftp"``): deliver a stored payload to a partner.

* push mode: the file is written into the partner's outbox on our server, atomically
  (hidden temporary file, fsync, link to the final name), for the partner to collect;
* poll mode: it is uploaded to the partner's remote outbox under a hidden temporary
  ``.part`` name and renamed once complete.

An existing file of the same name is never overwritten: the new one gets the payload
ID in its name. Network failures are retryable; a refused host key or login is not.
Given the store, each delivery is also written on the partner's audit trail:
``sftp.outbox_written``, ``sftp.delivered`` (uploaded) or ``sftp.delivery_failed``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.adapters.sftp.client import Connector, open_remote
from gateway.adapters.sftp.errors import PathRefused, RemoteError
from gateway.adapters.sftp.storage import PartnerStorage, safe_name
from gateway.adapters.sftp.trail import AuditTrail
from gateway.domain.profiles import RetryPolicy
from gateway.domain.profiles.sftp import SftpPoll, SftpPush
from gateway.domain.runtime.ports import OutboundSendResult
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["SftpPartnerChannel"]


class SftpPartnerChannel:
    kind = "sftp"

    def __init__(
        self,
        registry: ProfileRegistry,
        root: Path | None,
        *,
        timeout: float = 30.0,
        connector: Connector | None = None,
        store: Store | None = None,
    ) -> None:
        self._registry = registry
        self._root = root  # the server's partner folders; None when this gateway runs no SFTP server
        self._connect = connector or (lambda pid, prof: open_remote(pid, prof, timeout=timeout))
        self._trail = AuditTrail(store, "sftp-channel") if store is not None else None

    def retry_policy(self, partner_id: str) -> RetryPolicy | None:
        """A poll-mode profile's SFTP ``retry`` policy (the Sender counts the attempts); push mode
        (a local write) uses the gateway-wide defaults."""
        profile = self._registry.current.get(partner_id)
        sftp = profile.channels.sftp if profile is not None else None
        return sftp.retry if isinstance(sftp, SftpPoll) else None

    async def send(
        self, partner_id: str, payload_id: str, content: bytes, filename: str
    ) -> OutboundSendResult:
        profile = self._registry.current.get(partner_id)
        sftp = profile.channels.sftp if profile is not None else None
        name = safe_name(filename, f"{payload_id}.edi")
        if isinstance(sftp, SftpPush):
            result = await self._to_outbox(partner_id, payload_id, content, name)
            state = "sftp.outbox_written"
        elif isinstance(sftp, SftpPoll):
            result = await self._upload(partner_id, sftp, payload_id, content, name)
            state = "sftp.delivered"
        else:
            return OutboundSendResult(False, f"partner {partner_id} has no SFTP channel", retryable=False)
        if self._trail is not None:
            outcome = "" if result.ok else ("; will be retried" if result.retryable else "; not retried")
            detail = f"payload {payload_id} ({len(content)} bytes): {result.detail}{outcome}"
            await self._trail.write(partner_id, state if result.ok else "sftp.delivery_failed", detail)
        return result

    async def _to_outbox(
        self, partner_id: str, payload_id: str, content: bytes, name: str
    ) -> OutboundSendResult:
        if self._root is None:
            return OutboundSendResult(
                False, "push-mode SFTP partner, but this gateway runs no SFTP server", retryable=False
            )
        storage = PartnerStorage(self._root, partner_id)

        def write() -> str:
            storage.ensure()
            return storage.write_outbox(name, content, payload_id[:8])

        try:
            written = await asyncio.to_thread(write)
        except PathRefused as exc:
            return OutboundSendResult(False, str(exc), retryable=False)
        except OSError as exc:
            detail = f"cannot write to {storage.root}: {exc.strerror}"
            return OutboundSendResult(False, detail, retryable=True)
        detail = f"in {partner_id}'s SFTP outbox as {written}"
        return OutboundSendResult(True, detail, remote_reference=written)

    async def _upload(
        self, partner_id: str, profile: SftpPoll, payload_id: str, content: bytes, name: str
    ) -> OutboundSendResult:
        def upload() -> str:
            session = self._connect(partner_id, profile)
            try:
                return session.upload(profile.paths.outbox, name, content, payload_id[:8])
            finally:
                session.close()

        try:
            target = await asyncio.to_thread(upload)
        except RemoteError as exc:
            return OutboundSendResult(False, str(exc), retryable=exc.retryable)
        return OutboundSendResult(True, f"uploaded to {profile.host} as {target}", remote_reference=target)
