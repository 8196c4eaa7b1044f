"""Per-partner retry limits for the AS2 channels (the profile's ``retry.limit``).

The Sender worker retries with backoff up to the gateway-wide ``max_attempts``; a channel
that sees a partner's own limit reached answers ``retryable=False``, so the payload is
marked failed (and stays resendable) after ``retry.limit + 1`` attempts at most.
"""

from __future__ import annotations

from gateway.domain.profiles import RetryPolicy

__all__ = ["AttemptCounter"]


class AttemptCounter:
    def __init__(self) -> None:
        self._attempts: dict[str, int] = {}

    def next(self, payload_id: str) -> int:
        """Count one more attempt for ``payload_id``; returns its number (1-based)."""
        self._attempts[payload_id] = self._attempts.get(payload_id, 0) + 1
        return self._attempts[payload_id]

    def may_retry(self, attempt: int, policy: RetryPolicy) -> bool:
        return attempt < policy.limit + 1

    def done(self, payload_id: str) -> None:
        self._attempts.pop(payload_id, None)
