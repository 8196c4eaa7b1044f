"""Gateway errors, each declaring how it surfaces at every edge.

::

    GatewayError                       HTTP   AS2 disposition modifier           broker
    +-- UnknownPartner                 404    unknown-trading-partner            reject
    +-- AuthenticationFailed           401    authentication-failed              reject
    +-- InsufficientSecurity           403    insufficient-message-security      reject
    +-- DecryptionFailed               400    decryption-failed                  reject
    +-- IntegrityCheckFailed           400    integrity-check-failed             reject
    +-- PayloadTooLarge                413    unexpected-processing-error        reject
    +-- InvalidDocument                422    unexpected-processing-error        reject (dead-letter)
    +-- NotFound                       404    unexpected-processing-error        reject
    +-- Conflict                       409    unexpected-processing-error        reject
    +-- TransientFailure               503    unexpected-processing-error        requeue (retry later)

Adapters translate library exceptions (aiohttp, aio-pika, SQLAlchemy, paramiko)
into these at their edge, chained with ``raise ... from exc``; nothing from a
library crosses into the domain.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

__all__ = [
    "AuthenticationFailed",
    "BrokerAction",
    "Conflict",
    "DecryptionFailed",
    "GatewayError",
    "InsufficientSecurity",
    "IntegrityCheckFailed",
    "InvalidDocument",
    "NotFound",
    "PayloadTooLarge",
    "TransientFailure",
    "UnknownPartner",
]


class BrokerAction(StrEnum):
    ACK = "ack"
    REJECT = "reject"  # to the dead-letter exchange
    REQUEUE = "requeue"


class GatewayError(Exception):
    http_status: ClassVar[int] = 500
    as2_disposition: ClassVar[str] = "unexpected-processing-error"
    broker_action: ClassVar[BrokerAction] = BrokerAction.REJECT

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def as_problem(self) -> dict[str, Any]:
        """A JSON body for HTTP responses and dead-letter headers."""
        out: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


class UnknownPartner(GatewayError):
    http_status = 404
    as2_disposition = "unknown-trading-partner"


class AuthenticationFailed(GatewayError):
    http_status = 401
    as2_disposition = "authentication-failed"


class InsufficientSecurity(GatewayError):
    http_status = 403
    as2_disposition = "insufficient-message-security"


class DecryptionFailed(GatewayError):
    http_status = 400
    as2_disposition = "decryption-failed"


class IntegrityCheckFailed(GatewayError):
    http_status = 400
    as2_disposition = "integrity-check-failed"


class PayloadTooLarge(GatewayError):
    http_status = 413


class InvalidDocument(GatewayError):
    """Content that cannot be processed as sent; ``details`` name each bad field."""

    http_status = 422


class NotFound(GatewayError):
    http_status = 404


class Conflict(GatewayError):
    http_status = 409


class TransientFailure(GatewayError):
    http_status = 503
    broker_action = BrokerAction.REQUEUE
