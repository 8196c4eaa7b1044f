"""Wiring the AS2 channel into a running gateway (called by the composition root).

::

    as2 = install_as2(web_app, store=gw.store, profiles=gw.registry, receive=gw.receive,
                      channels=gw.channels, wake_sender=gw.sender_wake.set,
                      max_payload_bytes=settings.pipeline.max_payload_bytes)

adds ``POST /as2`` and ``POST /as2/mdn`` to ``web_app``, registers the PartnerChannels
``as2`` and ``as2-mdn`` in ``channels`` (the Sender's table) and closes the HTTP client
when the application shuts down.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field

from aiohttp import web

from gateway.adapters.as2.channel import As2PartnerChannel
from gateway.adapters.as2.client import HttpClient
from gateway.adapters.as2.inbound import As2Inbound, Receiver
from gateway.adapters.as2.keys import KeyStore
from gateway.adapters.as2.mdn_channel import As2MdnChannel
from gateway.adapters.as2.mdn_receiver import As2MdnReceiver
from gateway.domain.runtime.ports import PartnerChannel
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["As2Install", "install_as2"]


@dataclass
class As2Install:
    inbound: As2Inbound
    mdn_receiver: As2MdnReceiver
    channel: As2PartnerChannel
    mdn_channel: As2MdnChannel
    client: HttpClient
    routes: list[web.RouteDef] = field(default_factory=list)

    async def start(self) -> None:
        """Nothing to start: the HTTP client session opens on first use."""

    async def stop(self) -> None:
        await self.client.close()


def install_as2(
    app: web.Application | None,
    *,
    store: Store,
    profiles: ProfileRegistry,
    receive: Receiver,
    channels: MutableMapping[str, PartnerChannel] | None = None,
    wake_sender: Callable[[], None] = lambda: None,
    max_payload_bytes: int = 100 * 1024 * 1024,
    timeout_seconds: float = 120.0,
) -> As2Install:
    keys = KeyStore()
    client = HttpClient(timeout_seconds)
    receiver = As2MdnReceiver(store, profiles)
    inbound = As2Inbound(
        store,
        profiles,
        receive,
        keys,
        max_payload_bytes=max_payload_bytes,
        wake_sender=wake_sender,
        mdn_handler=receiver.process,
    )
    installed = As2Install(
        inbound=inbound,
        mdn_receiver=receiver,
        channel=As2PartnerChannel(store, profiles, keys, client),
        mdn_channel=As2MdnChannel(store, profiles, client),
        client=client,
        routes=[web.post("/as2", inbound.handle), web.post("/as2/mdn", receiver.handle)],
    )
    if channels is not None:
        channels["as2"] = installed.channel
        channels["as2-mdn"] = installed.mdn_channel
    if app is not None:
        app.router.add_routes(installed.routes)

        async def _close(_app: web.Application) -> None:
            await installed.stop()

        app.on_cleanup.append(_close)
    return installed
