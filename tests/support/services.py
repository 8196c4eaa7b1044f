"""Real services the tests talk to, and the rule for when one is missing.

Under ``CI=true`` a missing service is a test failure (CI starts every service,
so its absence is a broken pipeline); elsewhere the test is skipped with a
message saying how to start the service.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

__all__ = ["RABBITMQ_URL", "rabbitmq_url", "require_rabbitmq", "require_service"]

RABBITMQ_URL = os.environ.get("EDIGATE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


def _reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int, how_to_start: str) -> None:
    """Fail (under CI=true) or skip unless ``host:port`` accepts TCP connections."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}; start it with `{how_to_start}`"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: services are required)", pytrace=False)
    pytest.skip(message)


def rabbitmq_url() -> str:
    """The broker URL for tests, after checking the broker is up (see :func:`require_service`)."""
    parts = urlsplit(RABBITMQ_URL)
    require_service(
        "RabbitMQ", parts.hostname or "127.0.0.1", parts.port or 5672, "rabbitmq-server -detached"
    )
    return RABBITMQ_URL


@pytest.fixture
def require_rabbitmq() -> str:
    """The RabbitMQ URL; skips (or fails under CI=true) when the broker is down."""
    return rabbitmq_url()
