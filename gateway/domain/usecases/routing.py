"""Routing: which destinations a canonical document goes to, as outbox messages.

The partner profile's ``routing`` maps each document type (as the profile names it: "850",
"shipment_confirmation_json") to destinations; only destinations this gateway has are used.
The pipeline routes what it maps; a replay from canonical routes stored documents again
with the partner's current profile.
"""

from __future__ import annotations

import uuid

from gateway.domain.profiles import PartnerProfile
from gateway.domain.runtime.records import DocumentRecord, OutboxMessage

__all__ = ["outbox_messages"]


def outbox_messages(
    documents: list[DocumentRecord], partner: PartnerProfile, routing_key_of: dict[str, str], known: list[str]
) -> tuple[list[OutboxMessage], list[str]]:
    """Outbox rows for each document's destinations; also the documents with no route."""
    rows: list[OutboxMessage] = []
    unrouted: list[str] = []
    for doc in documents:
        key = routing_key_of.get(doc.id, doc.document_type)
        destinations = [d for d in partner.destinations(key) if d in known]
        if not destinations:
            unrouted.append(doc.id)
            continue
        headers: dict[str, str | int | bool] = {
            "partner": partner.partner_id,
            "document_type": doc.document_type,
            "schema_version": doc.schema_version,
            "test": doc.test,
            "replay_count": doc.replay_count,
        }
        for dest in destinations:
            rows.append(
                OutboxMessage(
                    id=str(uuid.uuid4()),
                    document_id=doc.id,
                    destination=dest,
                    routing_key=f"{dest}.{doc.document_type}.{partner.partner_id}",
                    body=doc.body,
                    correlation_id=doc.correlation_id,
                    headers=headers,
                )
            )
    return rows, unrouted
