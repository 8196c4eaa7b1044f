"""The webhook channel: signed HTTP posts from the partner, and to the partner.

Both directions are authenticated with a shared HMAC secret, held by reference. Inbound
requests carry a timestamp that must be within ``timestamp_tolerance_seconds`` of our
clock, which bounds replays.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from gateway.domain.profiles.common import FieldProblems, HttpUrl, RetryPolicy, StrictModel
from gateway.domain.profiles.refs import SecretRef

__all__ = ["WebhookChannel", "WebhookInbound", "WebhookOutbound"]


class WebhookInbound(StrictModel):
    """The partner posts to our endpoint."""

    secret: SecretRef
    timestamp_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=100 * 1_048_576)


class WebhookOutbound(StrictModel):
    """We post to the partner's endpoint."""

    url: HttpUrl
    secret: SecretRef
    retry: RetryPolicy = Field(default_factory=RetryPolicy)


class WebhookChannel(StrictModel):
    inbound: WebhookInbound | None = None
    outbound: WebhookOutbound | None = None

    @model_validator(mode="after")
    def _some_direction(self) -> WebhookChannel:
        if self.inbound is None and self.outbound is None:
            raise FieldProblems([((), "a webhook channel needs inbound, outbound or both")])
        return self
