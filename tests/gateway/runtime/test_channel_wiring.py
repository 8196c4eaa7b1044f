"""The composition root turns partner channels on and off as the settings say."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.adapters.metrics import Metrics
from gateway.config import ChannelSettings
from gateway.runtime import Gateway

from .conftest import make_settings


async def test_defaults_keep_outbound_in_the_file_drop_and_run_no_sftp(tmp_path: Path) -> None:
    gateway = await Gateway.open(make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db"))
    try:
        assert gateway.sftp is None
        acme = gateway.registry.current["acme-retail"]
        assert gateway.channel_for(acme) == "filedrop"
    finally:
        await gateway.stop()


async def test_sftp_server_runs_when_enabled_and_partner_channels_are_used(tmp_path: Path) -> None:
    channels = ChannelSettings(sftp_server=True, send_via_partner_channels=True)
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db", channels=channels, sftp={"port": 0})
    metrics = Metrics()
    gateway = await Gateway.open(settings, observer=metrics)
    try:
        assert gateway.sftp is not None
        assert gateway.sftp.server is not None
        await gateway.start()
        host, port = gateway.sftp.server.address
        reader, writer = await asyncio.open_connection(host, port)
        try:
            greeting = await asyncio.wait_for(reader.read(4), 10)
        finally:
            writer.close()
        assert greeting == b"SSH-"  # a real SSH server greets us
        northwind = gateway.registry.current["northwind-supply"]
        assert gateway.channel_for(northwind) == "sftp"
        assert b"edigate_sftp_logins" in metrics.render()
    finally:
        await gateway.stop()


async def test_the_webhook_channel_exists_without_the_web_app_so_cli_resends_use_it(tmp_path: Path) -> None:
    """A process that serves no HTTP (``edigate replay outbound ...``) still sends over webhooks."""
    channels = ChannelSettings(send_via_partner_channels=True)
    gateway = await Gateway.open(make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db", channels=channels))
    try:
        assert gateway.webhook is not None
        assert gateway.channels["webhook"] is gateway.webhook.channel
        swift = gateway.registry.current["swift-3pl"]
        assert gateway.channel_for(swift) == "webhook"
    finally:
        await gateway.stop()


async def test_webhooks_turned_off_register_no_channel(tmp_path: Path) -> None:
    channels = ChannelSettings(webhook=False, send_via_partner_channels=True)
    gateway = await Gateway.open(make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db", channels=channels))
    try:
        assert gateway.webhook is None
        assert "webhook" not in gateway.channels
        assert gateway.channel_for(gateway.registry.current["swift-3pl"]) == "filedrop"
    finally:
        await gateway.stop()
