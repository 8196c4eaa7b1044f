"""One object for the composition root: the SFTP server, the poller and the outbound channel.

Usage (in ``Gateway``/``serve``)::

    sftp = install_sftp(gateway.registry, gateway.receive, gateway.store,
                        SftpSettings.under(settings.var_dir), instance_id=settings.instance_id)
    gateway.channels["sftp"] = sftp.channel     # before gateway.start()
    await sftp.start()                          # after gateway.start()
    ...
    await sftp.stop()                           # before gateway.stop() (which closes the store)
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.adapters.sftp.accounts import AccountDirectory
from gateway.adapters.sftp.channel import SftpPartnerChannel
from gateway.adapters.sftp.metrics import SftpObserver
from gateway.adapters.sftp.poller import SftpPoller
from gateway.adapters.sftp.server import SftpServer
from gateway.adapters.sftp.settings import SftpSettings
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry
from gateway.domain.usecases.services import Receiver

__all__ = ["SftpService", "install_sftp"]


@dataclass(slots=True)
class SftpService:
    server: SftpServer | None
    poller: SftpPoller
    channel: SftpPartnerChannel

    async def start(self) -> None:
        if self.server is not None:
            await self.server.start()
        await self.poller.start()

    async def stop(self) -> None:
        await self.poller.stop()
        if self.server is not None:
            await self.server.stop()


def install_sftp(
    registry: ProfileRegistry,
    receive: Receiver,
    store: Store,
    settings: SftpSettings,
    *,
    instance_id: str,
    observer: SftpObserver | None = None,
) -> SftpService:
    """Build (not start) the SFTP server, poller and channel from the gateway's parts."""
    server = (
        SftpServer(settings, AccountDirectory(registry), receive, store, observer)
        if settings.server_enabled
        else None
    )
    poller = SftpPoller(registry, receive, store, settings, instance_id=instance_id, observer=observer)
    channel = SftpPartnerChannel(
        registry,
        settings.root if settings.server_enabled else None,
        timeout=settings.connect_timeout_seconds,
        store=store,
    )
    return SftpService(server, poller, channel)
