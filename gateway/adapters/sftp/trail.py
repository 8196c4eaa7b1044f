"""Writing SFTP events on the partner's audit trail, keeping those the store could not take.

Events are written on entity type ``"partner"`` (:data:`AUDIT_ENTITY`) with the partner
ID. When the store is unreachable (the very failure being recorded, often), the event
is kept in memory, bounded, with the moment it happened, and written before the next
event once the store answers again; only a full buffer drops the oldest, with an error
logged.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from gateway.domain.runtime.store import Store

__all__ = ["AUDIT_ENTITY", "AuditTrail"]

log = logging.getLogger("edigate.sftp")

#: Audit events of the SFTP channel are written on the partner: ``audit_trail("partner", id)``.
AUDIT_ENTITY = "partner"


class AuditTrail:
    """Audit writes of one actor (the poller, the outbound channel) that survive a store outage."""

    def __init__(
        self,
        store: Store,
        actor: str,
        *,
        limit: int = 1000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._actor = actor[:64]
        self._pending: deque[tuple[str, str, str]] = deque()
        self._limit = limit
        self._clock = clock

    @property
    def pending(self) -> int:
        """Events waiting for the store to come back."""
        return len(self._pending)

    async def write(self, partner_id: str, state: str, detail: str) -> bool:
        """Write the event (after any pending ones); False when it had to be kept for later."""
        if not await self.flush():
            self._keep(partner_id, state, detail)
            return False
        try:
            await self._store.add_audit(AUDIT_ENTITY, partner_id, state, detail=detail, actor=self._actor)
        except Exception as exc:
            log.warning("audit event %s for %s kept for later: %s", state, partner_id, exc)
            self._keep(partner_id, state, detail)
            return False
        return True

    async def flush(self) -> bool:
        """Write the pending events, oldest first; False if the store still refuses."""
        while self._pending:
            partner_id, state, detail = self._pending[0]
            try:
                await self._store.add_audit(AUDIT_ENTITY, partner_id, state, detail=detail, actor=self._actor)
            except Exception:
                return False
            self._pending.popleft()
        return True

    def _keep(self, partner_id: str, state: str, detail: str) -> None:
        if len(self._pending) >= self._limit:
            dropped = self._pending.popleft()
            log.error("audit buffer full: dropped %s for %s", dropped[1], dropped[0])
        happened = self._clock().isoformat(timespec="seconds")
        late = f"{detail} (at {happened}; written late: the store was unavailable)"
        self._pending.append((partner_id, state, late))
