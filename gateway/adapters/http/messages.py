"""Message endpoints: list with filters and pages, show with its history, download raw bytes."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from aiohttp import web

from gateway.adapters.http.auth import READ_MESSAGES
from gateway.adapters.http.base import (
    API_PREFIX,
    SERVICES,
    Endpoint,
    Reply,
    model_response,
    parse_query,
)
from gateway.adapters.http.schemas import (
    AuditOut,
    DocumentOut,
    EnvelopeOut,
    ErrorOut,
    MessageDetail,
    MessageOut,
    MessagePage,
    MessageQuery,
    OverdueList,
    OverdueOut,
)
from gateway.domain.runtime.errors import NotFound
from gateway.domain.runtime.records import PayloadRecord
from gateway.domain.runtime.store import AuditEvent, MessageFilter

__all__ = ["ENDPOINTS", "message_out"]

_MEDIA_TYPE = re.compile(
    r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(?:\s*;\s*[A-Za-z0-9._-]+=[^;\r\n]*)*$"
)


def message_out(record: PayloadRecord) -> dict[str, Any]:
    meta = record.meta
    return {
        "id": record.id,
        "received_at": record.received_at,
        "direction": record.direction,
        "channel": record.channel,
        "partner_id": record.partner_id,
        "state": record.state,
        "size": record.size,
        "sha256": record.sha256,
        "correlation_id": record.correlation_id,
        "filename": meta.get("filename"),
        "content_type": meta.get("content_type"),
        "document_type": meta.get("document_type"),
        "reason": record.reason,
        "failed_step": record.failed_step,
        "duplicate_of": record.duplicate_of,
        "replay_count": record.replay_count,
    }


def _audit(events: list[AuditEvent]) -> list[AuditOut]:
    return [AuditOut(state=e.state, at=e.at, detail=e.detail, actor=e.actor, reason=e.reason) for e in events]


async def list_messages(request: web.Request) -> web.StreamResponse:
    query = parse_query(request, MessageQuery)
    flt = MessageFilter(
        partner_id=query.partner,
        document_type=query.document_type,
        state=query.state,
        direction=query.direction,
        since=query.since,
        until=query.until,
        business_number=query.business_number,
        correlation_id=query.correlation_id,
        channel=query.channel,
        limit=query.limit + 1,  # one more than asked tells whether another page exists
        offset=query.offset,
    )
    records = await request.app[SERVICES].store.list_payloads(flt)
    more = len(records) > query.limit
    page = MessagePage(
        items=[MessageOut.model_validate(message_out(r)) for r in records[: query.limit]],
        limit=query.limit,
        offset=query.offset,
        next_offset=query.offset + query.limit if more else None,
    )
    return model_response(page)


async def show_message(request: web.Request) -> web.StreamResponse:
    store = request.app[SERVICES].store
    payload_id = request.match_info["id"]
    detail = await store.payload_detail(payload_id)
    if detail is None:
        raise NotFound(f"no stored message {payload_id}")
    record: PayloadRecord = detail["payload"]
    documents = []
    for doc in detail["documents"]:
        trail = await store.audit_trail("document", doc["id"])
        documents.append(DocumentOut.model_validate({**doc, "audit": _audit(trail)}))
    out = MessageDetail.model_validate(
        {
            **message_out(record),
            "business_numbers": list(record.business_numbers),
            "meta": record.meta,
            "findings": detail["findings"],
            "envelopes": [EnvelopeOut.model_validate(e) for e in detail["envelopes"]],
            "documents": documents,
            "audit": _audit(detail["audit"]),
        }
    )
    return model_response(out)


def _content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name in RFC 5987 form."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1] or "payload"
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name).strip() or "payload"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(base, safe='')}"


async def raw_message(request: web.Request) -> web.StreamResponse:
    store = request.app[SERVICES].store
    payload_id = request.match_info["id"]
    record = await store.get_payload(payload_id)
    if record is None:
        raise NotFound(f"no stored message {payload_id}")
    content = await store.payload_content(payload_id)
    given = record.meta.get("content_type")
    media = given if isinstance(given, str) and _MEDIA_TYPE.fullmatch(given) else "application/octet-stream"
    filename = record.meta.get("filename")
    name = filename if isinstance(filename, str) and filename.strip() else f"{payload_id}.bin"
    headers = {
        "Content-Type": media,
        "Content-Disposition": _content_disposition(name),
        "X-Content-SHA256": record.sha256,
        "X-Content-Type-Options": "nosniff",
    }
    return web.Response(body=content, headers=headers)


async def overdue_acks(request: web.Request) -> web.StreamResponse:
    groups = await request.app[SERVICES].store.list_overdue()
    items = [
        OverdueOut(
            group_id=g.group_id,
            payload_id=g.payload_id,
            partner_id=g.partner_id,
            isa13=g.isa13,
            gs06=g.gs06,
            functional_id=g.functional_id,
            ack_kind=g.ack_kind,
            ack_status=g.ack_status.value,
            ack_due_at=g.ack_due_at,
            st02s=list(g.st02s),
        )
        for g in groups
    ]
    return model_response(OverdueList(items=items))


_ID = {"id": "the stored message (payload) ID"}
_NOT_FOUND = Reply("no such message", ErrorOut)

ENDPOINTS = [
    Endpoint(
        "GET",
        f"{API_PREFIX}/messages",
        list_messages,
        "listMessages",
        "List stored messages, newest first",
        "messages",
        READ_MESSAGES,
        {200: Reply("one page of messages", MessagePage), 422: Reply("invalid parameters", ErrorOut)},
        query=MessageQuery,
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/messages/{{id}}",
        show_message,
        "showMessage",
        "A message with its envelopes, documents, findings and audit trail",
        "messages",
        READ_MESSAGES,
        {200: Reply("the message", MessageDetail), 404: _NOT_FOUND},
        path_params=_ID,
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/messages/{{id}}/raw",
        raw_message,
        "downloadMessage",
        "The stored raw bytes, exactly as received or sent",
        "messages",
        READ_MESSAGES,
        {
            200: Reply(
                "the raw bytes (content type from the channel, else application/octet-stream)",
                media_type="application/octet-stream",
                headers={"Content-Disposition": "attachment with the original file name when known"},
            ),
            404: _NOT_FOUND,
        },
        path_params=_ID,
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/acks/overdue",
        overdue_acks,
        "listOverdueAcks",
        "Sent groups whose acknowledgement is overdue",
        "acks",
        READ_MESSAGES,
        {200: Reply("overdue groups", OverdueList)},
    ),
]
