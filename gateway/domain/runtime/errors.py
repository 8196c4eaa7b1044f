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
    |   +-- SequenceExhausted          409    unexpected-processing-error        reject
    +-- TransientFailure               503    unexpected-processing-error        requeue (retry later)

Adapters translate library exceptions (aiohttp, aio-pika, SQLAlchemy, paramiko)
into these at their edge, chained with ``raise ... from exc``; nothing from a
library crosses into the domain.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

__all__ = [
    "SEQUENCE_NAMES",
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
    "SequenceExhausted",
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


#: The profile's name (and the X12 element) of each stored control-number sequence kind.
SEQUENCE_NAMES = {"isa": "interchange (ISA13)", "gs": "group (GS06)", "st": "transaction (ST02)"}


class SequenceExhausted(Conflict):
    """A partner's control-number sequence with ``wrap: false`` would pass its ``max``.

    Raised before any number is handed out or the counter moves: with ``wrap: false`` the
    partner must never see a number again, so sending stops until an operator acts."""

    def __init__(self, partner_id: str, kind: str, maximum: int) -> None:
        name = SEQUENCE_NAMES.get(kind, kind)
        super().__init__(
            f"control-number sequence {name} of partner {partner_id} would pass its max {maximum} "
            "and does not wrap (wrap: false): no number was issued and nothing was sent; an operator "
            "must reset the sequence or raise its max in the profile",
            details=[{"field": f"control_numbers.{name.split()[0]}.max", "error": "exhausted"}],
        )
        self.partner_id = partner_id
        self.kind = kind
        self.maximum = maximum
