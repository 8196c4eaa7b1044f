"""Wiring the AS2 channel into a running gateway (called by the composition root).

::

    as2 = install_as2(web_app, store=gw.store, profiles=gw.registry, receive=gw.receive,
                      channels=gw.channels, wake_sender=gw.sender_wake.set,
                      max_payload_bytes=settings.pipeline.max_payload_bytes)

adds ``POST /as2`` and ``POST /as2/mdn`` to ``web_app``, registers the PartnerChannels
``as2`` and ``as2-mdn`` in ``channels`` (the Sender's table) and closes the HTTP client
when the application shuts down. With ``app=None`` only the channels are registered and
``routes`` are left for the caller to add: that is how :class:`gateway.runtime.Gateway`
installs AS2 in every process (``serve`` and the CLI alike), so a resend planned by
``edigate replay`` goes out over AS2 too.

Inbound messages are opened and their MDNs signed on a small thread pool
(``crypto_threads``, default one per core): ``cryptography`` releases the GIL for RSA
private-key operations, so the event loop keeps serving HTTP and the store meanwhile.

``start()`` checks every profile's keys (a key that does not match its certificate, or a
missing password, is logged at start-up, not at the first message) and runs the async-MDN
deadline scan (:func:`.verdicts.expire_overdue`) every ``mdn_scan_seconds``, in one
instance at a time (a store lock). ``stop()`` ends it and closes the HTTP client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from aiohttp import web

from gateway.adapters.as2.channel import As2PartnerChannel
from gateway.adapters.as2.client import HttpClient
from gateway.adapters.as2.inbound import As2Inbound, Receiver
from gateway.adapters.as2.keys import KeyLoadError, KeyStore
from gateway.adapters.as2.mdn_channel import As2MdnChannel
from gateway.adapters.as2.mdn_receiver import As2MdnReceiver
from gateway.adapters.as2.verdicts import expire_overdue
from gateway.domain.runtime.ports import PartnerChannel
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["As2Install", "install_as2"]

log = logging.getLogger("edigate.as2")
_LOCK = "as2-mdn-deadlines"


@dataclass
class As2Install:
    inbound: As2Inbound
    mdn_receiver: As2MdnReceiver
    channel: As2PartnerChannel
    mdn_channel: As2MdnChannel
    client: HttpClient
    keys: KeyStore
    store: Store
    profiles: ProfileRegistry
    routes: list[web.RouteDef] = field(default_factory=list)
    mdn_scan_seconds: float = 30.0
    instance_id: str = "edigate"
    crypto_pool: ThreadPoolExecutor | None = None
    _task: asyncio.Task[None] | None = None

    def check_keys(self) -> list[str]:
        """Load every profile's keys now; the problems, one line each (also logged)."""
        problems = []
        for profile in self.profiles.current:
            as2 = profile.channels.as2
            if as2 is None:
                continue
            try:
                self.keys.all_keys(as2)
            except KeyLoadError as exc:
                problems.append(f"{profile.partner_id}: {exc}")
                log.error("AS2 key problem", extra={"partner_id": profile.partner_id, "reason": str(exc)})
        return problems

    async def start(self) -> None:
        self.check_keys()
        if self._task is None:
            self._task = asyncio.create_task(self._deadlines())

    async def _deadlines(self) -> None:
        owner = f"{self.instance_id}/as2-mdn"
        while True:
            await asyncio.sleep(self.mdn_scan_seconds)
            try:
                if await self.store.try_lock(_LOCK, owner, self.mdn_scan_seconds * 3):
                    await expire_overdue(self.store, self.profiles)
            except Exception:  # the scan must outlive a database hiccup
                log.exception("async MDN deadline scan failed; retrying at the next interval")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.client.close()
        if self.crypto_pool is not None:
            self.crypto_pool.shutdown(wait=False, cancel_futures=True)


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
    mdn_scan_seconds: float = 30.0,
    instance_id: str = "edigate",
    crypto_threads: int | None = None,
) -> As2Install:
    keys = KeyStore()
    pool = ThreadPoolExecutor(
        max_workers=crypto_threads or os.cpu_count() or 2, thread_name_prefix="as2-crypto"
    )
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
        crypto_pool=pool,
    )
    installed = As2Install(
        inbound=inbound,
        mdn_receiver=receiver,
        channel=As2PartnerChannel(store, profiles, keys, client),
        mdn_channel=As2MdnChannel(store, profiles, client),
        client=client,
        keys=keys,
        store=store,
        profiles=profiles,
        routes=[web.post("/as2", inbound.handle), web.post("/as2/mdn", receiver.handle)],
        mdn_scan_seconds=mdn_scan_seconds,
        instance_id=instance_id,
        crypto_pool=pool,
    )
    if channels is not None:
        channels["as2"] = installed.channel
        channels["as2-mdn"] = installed.mdn_channel
    if app is not None:
        app.router.add_routes(installed.routes)

        async def _start(_app: web.Application) -> None:
            await installed.start()

        async def _close(_app: web.Application) -> None:
            await installed.stop()

        app.on_startup.append(_start)
        app.on_cleanup.append(_close)
    return installed
