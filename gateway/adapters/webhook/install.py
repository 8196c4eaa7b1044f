"""Wiring the webhook channel into a running gateway (called by the composition root).

::

    webhooks = install_webhook(web_app, store=gw.store, profiles=gw.registry,
                               receive=gw.receive, channels=gw.channels,
                               max_payload_bytes=settings.pipeline.max_payload_bytes)

adds ``POST /webhooks/{partner_id}/{document_type}`` to ``web_app`` (``None``: the caller adds
``routes`` later; the :class:`~gateway.runtime.Gateway` installs it in every process, so
resends planned by the CLI go out over the webhook channel too), registers the
PartnerChannel ``webhook`` in ``channels`` (the Sender's table, which ``Gateway.channel_for``
consults when ``channels.send_via_partner_channels`` is on) and closes the outbound HTTP
session when the application shuts down.
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field

from aiohttp import web

from gateway.adapters.webhook.channel import WebhookPartnerChannel
from gateway.adapters.webhook.inbound import Receiver, WebhookReceiver
from gateway.domain.mapping import Mapper
from gateway.domain.runtime.ports import PartnerChannel
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["WebhookInstall", "install_webhook"]


@dataclass
class WebhookInstall:
    receiver: WebhookReceiver
    channel: WebhookPartnerChannel
    routes: list[web.RouteDef] = field(default_factory=list)

    async def start(self) -> None:
        """Nothing to start: the outbound HTTP session opens on first use."""

    async def stop(self) -> None:
        await self.channel.close()


def install_webhook(
    app: web.Application | None,
    *,
    store: Store,
    profiles: ProfileRegistry,
    receive: Receiver,
    mapper: Mapper | None = None,
    channels: MutableMapping[str, PartnerChannel] | None = None,
    max_payload_bytes: int = 100 * 1024 * 1024,
    timeout_seconds: float = 30.0,
    clock: Callable[[], float] = time.time,
) -> WebhookInstall:
    receiver = WebhookReceiver(
        store, profiles, mapper, receive, max_payload_bytes=max_payload_bytes, clock=clock
    )
    installed = WebhookInstall(
        receiver=receiver,
        channel=WebhookPartnerChannel(store, profiles, timeout_seconds=timeout_seconds, clock=clock),
        routes=receiver.routes,
    )
    if channels is not None:
        channels["webhook"] = installed.channel
    if app is not None:
        app.router.add_routes(installed.routes)

        async def _close(_app: web.Application) -> None:
            await installed.stop()

        app.on_cleanup.append(_close)
    return installed
