"""Keeping the background loops alive, and telling readiness probes when one keeps failing.

Every loop of a running gateway (pipeline workers, outbox relay, sender, overdue scanner,
outbound consumer) runs under :class:`Supervisor`: any exception a round raises (a database
restart, a broker outage, a bug) is logged with its traceback, counted, and followed by an
exponential backoff; the loop then carries on. Nothing is lost meanwhile, because every loop
works from leases in the store: work a failed round held is picked up again once its lease
expires.

:meth:`Supervisor.problems` lists the loops that failed :data:`UNHEALTHY_AFTER` times in a
row; ``/readyz`` reports them, so an instance that accepts input but cannot process it is
not ready. One successful round clears a loop's record.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.domain.runtime.errors import GatewayError

__all__ = ["UNHEALTHY_AFTER", "LoopStatus", "Supervisor"]

log = logging.getLogger("edigate.workers")

#: Consecutive failed rounds after which a loop makes the instance not ready.
UNHEALTHY_AFTER = 3


@dataclass(slots=True)
class LoopStatus:
    name: str
    rounds: int = 0  # successful rounds since start
    failures: int = 0  # consecutive failed rounds (0: the last round succeeded)
    last_error: str = ""
    failing_since: float | None = None  # time.time() of the first failure in the current run

    @property
    def healthy(self) -> bool:
        return self.failures < UNHEALTHY_AFTER

    def describe(self) -> str:
        if not self.failures:
            return f"ok ({self.rounds} rounds)"
        since = "" if self.failing_since is None else f" for {time.time() - self.failing_since:.0f}s"
        return f"{self.failures} failed round(s) in a row{since}: {self.last_error}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, GatewayError):
        return f"{type(exc).__name__}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


class Supervisor:
    """Runs loops so that no exception ends them, and keeps each loop's recent health."""

    def __init__(self, *, min_backoff: float = 0.5, max_backoff: float = 30.0) -> None:
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._status: dict[str, LoopStatus] = {}

    def status(self, name: str) -> LoopStatus:
        return self._status.setdefault(name, LoopStatus(name))

    def statuses(self) -> list[LoopStatus]:
        return sorted(self._status.values(), key=lambda s: s.name)

    def problems(self) -> list[LoopStatus]:
        """Loops that failed :data:`UNHEALTHY_AFTER` rounds in a row and have not recovered."""
        return [s for s in self.statuses() if not s.healthy]

    def succeeded(self, name: str) -> None:
        status = self.status(name)
        if status.failures:
            log.info("background loop recovered", extra={"loop": name, "after_failures": status.failures})
        status.rounds += 1
        status.failures, status.last_error, status.failing_since = 0, "", None

    def failed(self, name: str, exc: BaseException) -> float:
        """Record a failed round; returns how long to back off before the next one."""
        status = self.status(name)
        status.failures += 1
        status.last_error = _reason(exc)
        if status.failing_since is None:
            status.failing_since = time.time()
        delay: float = min(self.max_backoff, self.min_backoff * 2.0 ** (status.failures - 1))
        log.error(
            "background loop round failed; retrying",
            exc_info=not isinstance(exc, GatewayError),
            extra={
                "loop": name,
                "failures": status.failures,
                "reason": status.last_error,
                "retry_in_seconds": delay,
            },
        )
        return delay

    async def loop(
        self, name: str, round_: Callable[[], Awaitable[bool]], idle: Callable[[], Awaitable[None]]
    ) -> None:
        """Run ``round_`` forever; ``idle`` waits between rounds that found nothing to do.

        ``round_`` returns True when it did work (the next round starts at once).
        """
        self.status(name)
        while True:
            try:
                busy = await round_()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the loop must outlive any failure: log, back off, go on
                await asyncio.sleep(self.failed(name, exc))
                continue
            self.succeeded(name)
            if not busy:
                await idle()

    async def forever(self, name: str, run: Callable[[], Awaitable[None]], *, settle: float = 5.0) -> None:
        """Keep a long-running coroutine (a consumer) running: restart it whenever it raises.

        A run that lasts ``settle`` seconds counts as a successful round; a normal return ends
        supervision (the coroutine was closed).
        """
        self.status(name)
        while True:
            task = asyncio.ensure_future(run())
            try:
                done, _ = await asyncio.wait({task}, timeout=settle)
                if not done:
                    self.succeeded(name)
                await task
                return
            except asyncio.CancelledError:
                task.cancel()
                raise
            except Exception as exc:  # restart it after a backoff, like a failed round
                await asyncio.sleep(self.failed(name, exc))
