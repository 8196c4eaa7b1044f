"""What the composition root hands to the HTTP adapter and the CLI: the running use cases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from gateway.domain.runtime.ports import DestinationHealth
from gateway.domain.runtime.records import ChannelMeta, StoreOutcome
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry
from gateway.domain.usecases.replay import ReplayService
from gateway.domain.usecases.supervision import LoopStatus

__all__ = ["GatewayServices", "Observer", "Receiver"]


class Observer(Protocol):
    """Metrics hooks the use cases call; the Prometheus adapter implements it."""

    def pipeline_finished(self, seconds: float, state: str) -> None: ...

    def payload_settled(self, seconds_since_receipt: float, state: str) -> None: ...

    def published(self, count: int, destination: str) -> None: ...

    def overdue(self, partner_id: str, count: int) -> None: ...


#: Stores a payload (raw bytes first) and returns the outcome; used by every channel.
Receiver = Callable[[bytes, ChannelMeta], Awaitable[StoreOutcome]]


@dataclass(slots=True)
class GatewayServices:
    store: Store
    profiles: ProfileRegistry
    replay: ReplayService
    receive: Receiver
    health: Callable[[], Awaitable[dict[str, DestinationHealth]]]
    #: The background loops' recent health (readiness reports loops that keep failing).
    loops: Callable[[], list[LoopStatus]] = field(default=list)
