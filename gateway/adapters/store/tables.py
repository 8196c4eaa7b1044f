"""The relational schema (SQLAlchemy Core). Alembic migrations are written from this.

Tables, and what each row is:

* ``payloads``: every byte received or sent, committed before acknowledgement.
* ``interchanges`` / ``groups`` / ``transaction_sets``: the X12 envelope records
  of a payload, each with its own state (and, for what we send, the ack status). A replay
  from raw keeps the earlier records, stamped ``superseded_at``, and adds new ones.
* ``documents``: canonical documents; ``id`` is stable across replays.
* ``outbox``: routed documents waiting for broker confirmation.
* ``audit_events``: the timestamped trail of every state change and replay.
* ``correlation_keys``: lookup keys (AS2 Message-ID, ISA13/GS06/ST02, PO, ...).
* ``control_sequences`` / ``control_numbers_issued``: outbound control numbers; each issued
  number names its allocation and, once stored, the payload that used it (NULL: a gap).
* ``locks``: named leases (one SFTP poller per partner across instances).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

__all__ = [
    "audit_events",
    "control_numbers_issued",
    "control_sequences",
    "correlation_keys",
    "documents",
    "groups",
    "interchanges",
    "locks",
    "metadata",
    "outbox",
    "payloads",
    "transaction_sets",
]

metadata = MetaData()
TS = DateTime(timezone=True)
ID = String(64)

payloads = Table(
    "payloads",
    metadata,
    Column("id", ID, primary_key=True),
    Column("received_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("direction", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("partner_id", String(64), nullable=True),
    Column("content", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("meta", JSON, nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("as2_message_id", String(255), nullable=True),
    Column("idempotency_key", String(255), nullable=True),
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("failed_step", String(16), nullable=True),
    Column("duplicate_of", ID, nullable=True),
    Column("replay_count", Integer, nullable=False, server_default=text("0")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("not_before", TS, nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("claim_until", TS, nullable=True),
    Column("findings", JSON, nullable=True),
)
Index("ix_payloads_state", payloads.c.state, payloads.c.direction, payloads.c.claim_until)
Index("ix_payloads_partner", payloads.c.partner_id, payloads.c.received_at)
Index("ix_payloads_dup", payloads.c.partner_id, payloads.c.sha256)
Index(
    "uq_payloads_idempotency",
    payloads.c.partner_id,
    payloads.c.channel,
    payloads.c.idempotency_key,
    unique=True,
    sqlite_where=payloads.c.idempotency_key.isnot(None),
    postgresql_where=payloads.c.idempotency_key.isnot(None),
)
Index(
    "uq_payloads_as2",
    payloads.c.partner_id,
    payloads.c.as2_message_id,
    payloads.c.direction,
    unique=True,
    sqlite_where=payloads.c.as2_message_id.isnot(None),
    postgresql_where=payloads.c.as2_message_id.isnot(None),
)

interchanges = Table(
    "interchanges",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("payload_id", ID, ForeignKey("payloads.id"), nullable=False, index=True),
    Column("direction", String(16), nullable=False),
    Column("partner_id", String(64), nullable=True),
    Column("index", Integer, nullable=False),
    Column("sender_qualifier", String(2), nullable=False),
    Column("sender", String(15), nullable=False),
    Column("receiver_qualifier", String(2), nullable=False),
    Column("receiver", String(15), nullable=False),
    Column("isa13", String(9), nullable=False),
    Column("version", String(5), nullable=False),
    Column("usage", String(1), nullable=False),
    Column("state", String(16), nullable=False),
    Column("ack_kind", String(8), nullable=True),
    Column("ack_status", String(24), nullable=True),
    Column("ack_due_at", TS, nullable=True),
    Column("ack_detail", JSON, nullable=True),
    Column("superseded_at", TS, nullable=True),
)
Index("ix_interchanges_ctrl", interchanges.c.partner_id, interchanges.c.isa13, interchanges.c.direction)

groups = Table(
    "groups",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column(
        "interchange_id",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("interchanges.id"),
        nullable=False,
        index=True,
    ),
    Column("payload_id", ID, ForeignKey("payloads.id"), nullable=False, index=True),
    Column("direction", String(16), nullable=False),
    Column("partner_id", String(64), nullable=True),
    Column("index", Integer, nullable=False),
    Column("functional_id", String(2), nullable=False),
    Column("gs06", String(9), nullable=False),
    Column("version", String(12), nullable=False),
    Column("state", String(16), nullable=False),
    Column("ack_kind", String(8), nullable=True),
    Column("ack_status", String(24), nullable=True),
    Column("ack_due_at", TS, nullable=True),
    Column("ack_detail", JSON, nullable=True),
    Column("superseded_at", TS, nullable=True),
)
Index("ix_groups_ctrl", groups.c.partner_id, groups.c.gs06, groups.c.direction)
Index("ix_groups_ack_due", groups.c.ack_status, groups.c.ack_due_at)

transaction_sets = Table(
    "transaction_sets",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column(
        "group_id",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("groups.id"),
        nullable=False,
        index=True,
    ),
    Column("payload_id", ID, ForeignKey("payloads.id"), nullable=False, index=True),
    Column("index", Integer, nullable=False),
    Column("set_id", String(3), nullable=False),
    Column("st02", String(9), nullable=False),
    Column("valid", Boolean, nullable=False),
    Column("state", String(16), nullable=False),
    Column("document_id", ID, nullable=True),
    Column("ack_status", String(24), nullable=True),
    Column("superseded_at", TS, nullable=True),
)

Index("ix_transaction_sets_set_id", transaction_sets.c.set_id, transaction_sets.c.payload_id)  # by type

documents = Table(
    "documents",
    metadata,
    Column("id", ID, primary_key=True),
    Column("payload_id", ID, ForeignKey("payloads.id"), nullable=False, index=True),
    Column("partner_id", String(64), nullable=False),
    Column("document_type", String(40), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("schema_version", String(16), nullable=False),
    Column("business_number", String(80), nullable=True, index=True),
    Column("correlation_id", String(64), nullable=False, index=True),
    Column("test", Boolean, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),
    Column("replay_count", Integer, nullable=False, server_default=text("0")),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("source_type", String(40), nullable=True),
    Column("reason", Text, nullable=True),
    Column("failed_step", String(16), nullable=True),
)
Index("ix_documents_partner", documents.c.partner_id, documents.c.document_type, documents.c.state)
Index("ix_documents_type", documents.c.document_type, documents.c.payload_id)  # search by type

outbox = Table(
    "outbox",
    metadata,
    Column("id", ID, primary_key=True),
    Column("document_id", ID, nullable=False, index=True),
    Column("destination", String(40), nullable=False),
    Column("routing_key", String(255), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("not_before", TS, nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("claim_until", TS, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("published_at", TS, nullable=True),
    Column("last_error", Text, nullable=True),
)
Index("ix_outbox_pending", outbox.c.state, outbox.c.not_before)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("entity_type", String(24), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("state", String(24), nullable=False),
    Column("at", TS, nullable=False),
    Column("detail", Text, nullable=True),
    Column("actor", String(64), nullable=True),
    Column("reason", Text, nullable=True),
)
Index("ix_audit_entity", audit_events.c.entity_type, audit_events.c.entity_id, audit_events.c.id)

correlation_keys = Table(
    "correlation_keys",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("payload_id", ID, ForeignKey("payloads.id"), nullable=False, index=True),
    Column("document_id", ID, nullable=True),
    Column("kind", String(24), nullable=False),
    Column("value", String(255), nullable=False),
)
Index("ix_correlation_lookup", correlation_keys.c.kind, correlation_keys.c.value)

control_sequences = Table(
    "control_sequences",
    metadata,
    Column("partner_id", String(64), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

control_numbers_issued = Table(
    "control_numbers_issued",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("partner_id", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("issued_at", TS, nullable=False),
    Column("payload_id", ID, nullable=True),
    Column("allocation", String(36), nullable=True, index=True),
)
Index(
    "ix_issued_lookup",
    control_numbers_issued.c.partner_id,
    control_numbers_issued.c.kind,
    control_numbers_issued.c.value,
)

locks = Table(
    "locks",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("until", TS, nullable=False),
)

#: Replay jobs, so any instance (and a restarted one) shows their progress and summary. A
#: job's summary is one JSON document; ``updated_at`` is its heartbeat while it runs.
replay_jobs = Table(
    "replay_jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("started_at", TS, nullable=False, index=True),
    Column("updated_at", TS, nullable=False),
    Column("finished_at", TS, nullable=True),
    Column("summary", JSON, nullable=False),
)
