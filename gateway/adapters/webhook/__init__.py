"""The webhook channel: signed JSON posted by partners, and signed JSON posted to them.

* :mod:`.signing`: the ``v1`` HMAC-SHA256 scheme (pure; both directions);
* :mod:`.validation`: the dry run that names every invalid field before a body is accepted (pure);
* :class:`WebhookReceiver`: ``POST /webhooks/{partner_id}/{document_type}`` (store, then answer);
* :class:`WebhookPartnerChannel` (kind ``webhook``): the PartnerChannel the Sender drives;
* :func:`install_webhook`: the one call the composition root makes.

The scheme, as partners see it, is described in ``docs/webhooks.md``.
"""

from gateway.adapters.webhook.channel import RETRYABLE_STATUSES, WebhookPartnerChannel, parse_retry_after
from gateway.adapters.webhook.inbound import IDEMPOTENCY_HEADER, KEPT_HEADERS, ROUTE, WebhookReceiver
from gateway.adapters.webhook.install import WebhookInstall, install_webhook
from gateway.adapters.webhook.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureRejected,
    sign,
    signed_headers,
    verify,
)
from gateway.adapters.webhook.validation import FieldError, Verdict, check_body

__all__ = [
    "IDEMPOTENCY_HEADER",
    "KEPT_HEADERS",
    "RETRYABLE_STATUSES",
    "ROUTE",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "FieldError",
    "SignatureRejected",
    "Verdict",
    "WebhookInstall",
    "WebhookPartnerChannel",
    "WebhookReceiver",
    "check_body",
    "install_webhook",
    "parse_retry_after",
    "sign",
    "signed_headers",
    "verify",
]
