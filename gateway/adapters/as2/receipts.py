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

from gateway.adapters.as2.protocol import MdnResult, Mic, parse_mic
from gateway.domain.runtime.store import Store

__all__ = ["SENT_EVENT", "SentMessage", "judge_mdn", "new_message_id", "payload_id_of", "recall", "remember"]

SENT_EVENT = "as2-sent"
_ID = re.compile(r"^<?edigate-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-[0-9a-f]{8}@")


@dataclass(frozen=True, slots=True)
class SentMessage:
    payload_id: str
    message_id: str  # without angle brackets
    mic: Mic
    mdn_mode: str  # sync | async
    mdn_signed: bool


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
    }
    await store.add_audit("payload", sent.payload_id, SENT_EVENT, detail=json.dumps(detail), actor="as2")


async def recall(store: Store, message_id: str) -> SentMessage | None:
    """The send record for ``message_id`` (bare, without brackets), if this gateway sent it."""
    payload_id = payload_id_of(message_id)
    if payload_id is None:
        return None
    for event in reversed(await store.audit_trail("payload", payload_id)):
        if event.state != SENT_EVENT or not event.detail:
            continue
        try:
            data = json.loads(event.detail)
        except ValueError:
            continue
        if data.get("message_id") == message_id:
            return SentMessage(
                payload_id, message_id, parse_mic(data["mic"]), data["mdn"], bool(data["mdn_signed"])
            )
    return None


def judge_mdn(result: MdnResult, expected: Mic) -> tuple[bool, str]:
    """(accepted, reason): a negative disposition or a MIC that differs from what we sent fails."""
    if not result.ok:
        return False, f"negative MDN from the partner: {result.disposition}"
    if result.mic is None:
        return False, "the MDN carries no Received-Content-MIC to check"
    if not result.mic.matches(expected):
        return False, (
            f"MIC mismatch: the partner computed {result.mic.header_value}, we sent {expected.header_value}"
        )
    warning = f" ({result.modifier})" if result.modifier else ""
    return True, f"MDN processed{warning}, MIC {expected.value[:12]}... verified"
