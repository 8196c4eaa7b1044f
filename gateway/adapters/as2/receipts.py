"""What we remember about a message we sent, and how a received MDN is judged against it.

At send time the channel records an audit event ``as2-sent`` on the outbound payload whose
detail is JSON: the Message-ID, the MIC the partner must return and the MDN mode. The
Message-ID embeds the payload id (``<edigate-<payload id>-<nonce>@<our id>>``), so an async
MDN leads back to its payload without a new store table; the MIC is then read from the
audit trail (existing store methods only: ``add_audit`` and ``audit_trail``).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from gateway.adapters.as2.protocol import MdnResult, Mic, parse_mic
from gateway.domain.runtime.store import Store

__all__ = [
    "SENT_EVENT",
    "SentMessage",
    "judge_mdn",
    "last_sent",
    "new_message_id",
    "payload_id_of",
    "recall",
    "remember",
]

SENT_EVENT = "as2-sent"
_ID = re.compile(r"^<?edigate-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-[0-9a-f]{8}@")


@dataclass(frozen=True, slots=True)
class SentMessage:
    payload_id: str
    message_id: str  # without angle brackets
    mic: Mic
    mdn_mode: str  # sync | async
    mdn_signed: bool
    signed: bool = True  # whether the message itself was signed (decides whether a MIC must come back)
    sent_at: datetime | None = None  # when the send was recorded (read back from the audit trail)


def new_message_id(payload_id: str, our_as2_id: str) -> str:
    token = re.sub(r"[^A-Za-z0-9.-]", "_", our_as2_id) or "edigate"
    return f"edigate-{payload_id}-{secrets.token_hex(4)}@{token}"


def payload_id_of(message_id: str) -> str | None:
    match = _ID.match(message_id.strip())
    return match.group(1) if match else None


async def remember(store: Store, sent: SentMessage) -> None:
    detail = {
        "message_id": sent.message_id,
        "mic": sent.mic.header_value,
        "mdn": sent.mdn_mode,
        "mdn_signed": sent.mdn_signed,
        "signed": sent.signed,
    }
    await store.add_audit("payload", sent.payload_id, SENT_EVENT, detail=json.dumps(detail), actor="as2")


async def recall(store: Store, message_id: str) -> SentMessage | None:
    """The send record for ``message_id`` (bare, without brackets), if this gateway sent it."""
    payload_id = payload_id_of(message_id)
    if payload_id is None:
        return None
    return await last_sent(store, payload_id, message_id)


async def last_sent(store: Store, payload_id: str, message_id: str | None = None) -> SentMessage | None:
    """The latest send record of ``payload_id`` (for ``message_id`` only, when given)."""
    for event in reversed(await store.audit_trail("payload", payload_id)):
        if event.state != SENT_EVENT or not event.detail:
            continue
        try:
            data = json.loads(event.detail)
        except ValueError:
            continue
        if message_id is None or data.get("message_id") == message_id:
            return SentMessage(
                payload_id,
                str(data["message_id"]),
                parse_mic(data["mic"]),
                data["mdn"],
                bool(data["mdn_signed"]),
                bool(data.get("signed", True)),
                event.at,
            )
    return None


def judge_mdn(result: MdnResult, sent: SentMessage) -> tuple[bool, str]:
    """(accepted, reason): a negative disposition or a MIC that differs from what we sent fails.

    RFC 4130 (7.4.3) requires the Received-Content-MIC in a signed receipt and makes it
    optional in an unsigned one. We insist on it when we signed the message and asked for
    a signed receipt: the MIC is then the partner's proof that it verified what we signed.
    For an unsigned message receivers commonly return no MIC (pyas2lib does not, even in a
    signed receipt), so a missing MIC is accepted there; a MIC that is present must match.
    """
    expected = sent.mic
    if not result.ok:
        return False, f"negative MDN from the partner: {result.disposition}"
    warning = f" ({result.modifier})" if result.modifier else ""
    if result.mic is None:
        if sent.signed and sent.mdn_signed:
            return False, "the MDN carries no Received-Content-MIC to check"
        why = "the message was not signed" if not sent.signed else "optional in an unsigned receipt"
        return True, f"MDN processed{warning}; no MIC returned ({why})"
    if not sent.signed and result.mic.digest != expected.digest:
        # unsigned: nothing told the partner which digest to use, so its MIC is not comparable
        return True, (
            f"MDN processed{warning}; its MIC uses {result.mic.label}, ours {expected.label}: not compared "
            "(the message was not signed)"
        )
    if not result.mic.matches(expected):
        return False, (
            f"MIC mismatch: the partner computed {result.mic.header_value}, we sent {expected.header_value}"
        )
    return True, f"MDN processed{warning}, MIC {expected.value[:12]}... verified"
