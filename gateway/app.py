"""``edigate serve``: the HTTP application on top of a running :class:`gateway.runtime.Gateway`.

Builds the admin API and operations endpoints (and, as channel adapters
arrive, their endpoints) on one aiohttp application, starts the background
workers, prints the start-up banner and runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import ssl
import sys

from aiohttp import web

from gateway.adapters.http.app import build_admin_app
from gateway.adapters.metrics import Metrics
from gateway.collector import tune_collector
from gateway.config import ApiToken, Role, Settings
from gateway.domain.profiles import SecretRef
from gateway.logging import configure_logging
from gateway.runtime import Gateway

__all__ = ["build_web_app", "ensure_admin_token", "serve"]

log = logging.getLogger("edigate")


def ensure_admin_token(settings: Settings) -> Settings:
    """With no API tokens configured, create a local admin token file (mode 0600) and use it.

    The token itself is never printed or logged; the banner names the file.
    """
    if settings.api_tokens:
        return settings
    path = (settings.var_dir / "admin-token").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    token = ApiToken(name="local-admin", role=Role.ADMIN, token=SecretRef("file", str(path)))
    return settings.model_copy(update={"api_tokens": [token]})


def build_web_app(gateway: Gateway, metrics: Metrics) -> web.Application:
    """Admin API and operations, plus the channel endpoints the settings turn on."""
    app = build_admin_app(gateway.services, gateway.settings, metrics)
    if gateway.as2 is not None:  # installed by the Gateway (channels); the endpoints go here
        app.router.add_routes(gateway.as2.routes)
    if gateway.webhook is not None:  # installed by the Gateway, like AS2
        app.router.add_routes(gateway.webhook.routes)
    return app


def _ssl_context(settings: Settings) -> ssl.SSLContext | None:
    listen = settings.listen
    if listen.tls_cert is None:
        return None
    if listen.tls_key is None or listen.tls_key.kind != "file":
        raise ValueError("listen.tls_key must reference the private key file (file:PATH)")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(listen.tls_cert), listen.tls_key.target)
    return ctx


async def serve(settings: Settings, *, ready: asyncio.Event | None = None) -> int:
    configure_logging(settings.log_level)
    collector = tune_collector()  # the process's cycle-collector policy (see gateway.collector)
    settings = ensure_admin_token(settings)
    metrics = Metrics()
    gateway = await Gateway.open(settings, observer=metrics)
    runner = web.AppRunner(build_web_app(gateway, metrics), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.listen.host, settings.listen.port, ssl_context=_ssl_context(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await gateway.start()
        await site.start()
        lines = ["edigate is running", *settings.banner()]
        lines.append(f"collector     gc thresholds {'/'.join(map(str, collector))} (gateway.collector)")
        if settings.api_tokens and settings.api_tokens[0].name == "local-admin":
            lines.append(f"admin token   {settings.api_tokens[0].token.target} (bearer token, role admin)")
        print("\n  ".join(lines), file=sys.stderr, flush=True)
        log.info("started", extra={"instance": settings.instance_id})
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        log.info("stopping", extra={"instance": settings.instance_id})
        await runner.cleanup()
        await gateway.stop()
    return 0
