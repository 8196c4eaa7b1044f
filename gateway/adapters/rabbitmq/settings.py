"""Typed settings for the RabbitMQ adapter: broker address, topology names and retry policy.

Every name the adapter declares lives in :class:`RabbitTopology`, so several
gateways (or parallel test runs) can share one broker with their own names.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

__all__ = ["RabbitSettings", "RabbitTopology"]


@dataclass(frozen=True, slots=True)
class RabbitTopology:
    """Names and arguments of everything declared at start-up (see ``topology`` for the design)."""

    exchange: str = "edigate.documents"  # topic; routing key <destination>.<document_type>.<partner_id>
    destinations: tuple[str, ...] = ("erp", "wms")  # one quorum queue per name, bound "<name>.#"
    queue_prefix: str = "edigate."  # destination "erp" -> queue "edigate.erp"
    queue_suffix: str = ""
    dead_letter_exchange: str = "edigate.dlx"  # fanout
    dead_letter_queue: str = "edigate.dead-letter"
    outbound_queue: str = "edigate.outbound"
    retry_delays_ms: tuple[int, ...] = (1_000, 10_000, 60_000)  # one TTL queue per delay
    delivery_limit: int = 20  # x-delivery-limit on quorum queues: poison messages end in the DLQ

    def __post_init__(self) -> None:
        if not self.destinations:
            raise ValueError("RabbitTopology needs at least one destination")
        for name in self.destinations:
            if not name or any(ch in name for ch in ".#*"):
                raise ValueError(f"destination name {name!r} must be non-empty without '.', '#' or '*'")
        if not self.retry_delays_ms or any(d <= 0 for d in self.retry_delays_ms):
            raise ValueError("retry_delays_ms must hold at least one positive delay")
        if self.delivery_limit < 1:
            raise ValueError("delivery_limit must be at least 1")

    def queue_for(self, destination: str) -> str:
        return f"{self.queue_prefix}{destination}{self.queue_suffix}"

    def retry_queue(self, delay_ms: int) -> str:
        return f"{self.outbound_queue}.retry.{delay_ms}ms"

    def retry_delay_ms(self, retry_number: int) -> int:
        """The delay before retry ``retry_number`` (1-based); the last delay repeats."""
        index = min(max(retry_number, 1), len(self.retry_delays_ms)) - 1
        return self.retry_delays_ms[index]

    @property
    def queues(self) -> tuple[str, ...]:
        """Every queue the topology declares."""
        return (
            *(self.queue_for(d) for d in self.destinations),
            self.dead_letter_queue,
            self.outbound_queue,
            *(self.retry_queue(d) for d in self.retry_delays_ms),
        )

    @property
    def exchanges(self) -> tuple[str, ...]:
        return (self.exchange, self.dead_letter_exchange)

    def with_suffix(self, suffix: str) -> RabbitTopology:
        """The same topology with ``suffix`` appended to every exchange and queue name."""
        return replace(
            self,
            exchange=self.exchange + suffix,
            queue_suffix=self.queue_suffix + suffix,
            dead_letter_exchange=self.dead_letter_exchange + suffix,
            dead_letter_queue=self.dead_letter_queue + suffix,
            outbound_queue=self.outbound_queue + suffix,
        )


@dataclass(frozen=True, slots=True)
class RabbitSettings:
    """Connection and behaviour settings. ``url`` may hold credentials: never log it (see ``safe_url``)."""

    url: str = "amqp://guest:guest@127.0.0.1:5672/"
    topology: RabbitTopology = field(default_factory=RabbitTopology)
    connection_name: str = "edigate"
    reconnect_interval: float = 5.0  # seconds between reconnect attempts of the robust connection
    connect_timeout: float = 10.0
    publish_timeout: float = 30.0  # per message, until the broker confirms
    prefetch: int = 32  # outbound consumer: unacknowledged messages in flight (= concurrent handlers)
    max_retries: int = 5  # outbound: delayed retries before a message is dead-lettered
    close_timeout: float = 10.0  # outbound: how long close() waits for handlers in flight

    def __post_init__(self) -> None:
        if self.prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        if self.max_retries < 0:
            raise ValueError("max_retries must not be negative")

    @property
    def safe_url(self) -> str:
        """The broker address without credentials, for logs and health details."""
        rest = self.url.split("://", 1)[-1]
        host = rest.rsplit("@", 1)[-1]
        scheme = self.url.split("://", 1)[0] if "://" in self.url else "amqp"
        return f"{scheme}://{host}"
