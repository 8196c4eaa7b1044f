"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 21:23:09.797072
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("entity_type", sa.String(length=24), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entity", ["entity_type", "entity_id", "id"], unique=False)

    op.create_table(
        "control_numbers_issued",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("control_numbers_issued", schema=None) as batch_op:
        batch_op.create_index("ix_issued_lookup", ["partner_id", "kind", "value"], unique=False)

    op.create_table(
        "control_sequences",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", "kind"),
    )
    op.create_table(
        "locks",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("destination", sa.String(length=40), nullable=False),
        sa.Column("routing_key", sa.String(length=255), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claim_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_document_id"), ["document_id"], unique=False)
        batch_op.create_index("ix_outbox_pending", ["state", "not_before"], unique=False)

    op.create_table(
        "payloads",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("as2_message_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("failed_step", sa.String(length=16), nullable=True),
        sa.Column("duplicate_of", sa.String(length=64), nullable=True),
        sa.Column("replay_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claim_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payloads", schema=None) as batch_op:
        batch_op.create_index("ix_payloads_dup", ["partner_id", "sha256"], unique=False)
        batch_op.create_index("ix_payloads_partner", ["partner_id", "received_at"], unique=False)
        batch_op.create_index("ix_payloads_state", ["state", "direction", "claim_until"], unique=False)
        batch_op.create_index(
            "uq_payloads_as2",
            ["partner_id", "as2_message_id", "direction"],
            unique=True,
            sqlite_where=sa.text("as2_message_id IS NOT NULL"),
            postgresql_where=sa.text("as2_message_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_payloads_idempotency",
            ["partner_id", "channel", "idempotency_key"],
            unique=True,
            sqlite_where=sa.text("idempotency_key IS NOT NULL"),
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
        )

    op.create_table(
        "correlation_keys",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("payload_id", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["payload_id"],
            ["payloads.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("correlation_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_correlation_keys_payload_id"), ["payload_id"], unique=False)
        batch_op.create_index("ix_correlation_lookup", ["kind", "value"], unique=False)

    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("payload_id", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("document_type", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("schema_version", sa.String(length=16), nullable=False),
        sa.Column("business_number", sa.String(length=80), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("replay_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payload_id"],
            ["payloads.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_business_number"), ["business_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_correlation_id"), ["correlation_id"], unique=False)
        batch_op.create_index("ix_documents_partner", ["partner_id", "document_type", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_payload_id"), ["payload_id"], unique=False)

    op.create_table(
        "interchanges",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("payload_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("sender_qualifier", sa.String(length=2), nullable=False),
        sa.Column("sender", sa.String(length=15), nullable=False),
        sa.Column("receiver_qualifier", sa.String(length=2), nullable=False),
        sa.Column("receiver", sa.String(length=15), nullable=False),
        sa.Column("isa13", sa.String(length=9), nullable=False),
        sa.Column("version", sa.String(length=5), nullable=False),
        sa.Column("usage", sa.String(length=1), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("ack_kind", sa.String(length=8), nullable=True),
        sa.Column("ack_status", sa.String(length=24), nullable=True),
        sa.Column("ack_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["payload_id"],
            ["payloads.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("interchanges", schema=None) as batch_op:
        batch_op.create_index("ix_interchanges_ctrl", ["partner_id", "isa13", "direction"], unique=False)
        batch_op.create_index(batch_op.f("ix_interchanges_payload_id"), ["payload_id"], unique=False)

    op.create_table(
        "groups",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("interchange_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payload_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("functional_id", sa.String(length=2), nullable=False),
        sa.Column("gs06", sa.String(length=9), nullable=False),
        sa.Column("version", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("ack_kind", sa.String(length=8), nullable=True),
        sa.Column("ack_status", sa.String(length=24), nullable=True),
        sa.Column("ack_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["interchange_id"],
            ["interchanges.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payload_id"],
            ["payloads.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.create_index("ix_groups_ack_due", ["ack_status", "ack_due_at"], unique=False)
        batch_op.create_index("ix_groups_ctrl", ["partner_id", "gs06", "direction"], unique=False)
        batch_op.create_index(batch_op.f("ix_groups_interchange_id"), ["interchange_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_groups_payload_id"), ["payload_id"], unique=False)

    op.create_table(
        "transaction_sets",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payload_id", sa.String(length=64), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.String(length=3), nullable=False),
        sa.Column("st02", sa.String(length=9), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=True),
        sa.Column("ack_status", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payload_id"],
            ["payloads.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("transaction_sets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transaction_sets_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transaction_sets_payload_id"), ["payload_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("transaction_sets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transaction_sets_payload_id"))
        batch_op.drop_index(batch_op.f("ix_transaction_sets_group_id"))

    op.drop_table("transaction_sets")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_groups_payload_id"))
        batch_op.drop_index(batch_op.f("ix_groups_interchange_id"))
        batch_op.drop_index("ix_groups_ctrl")
        batch_op.drop_index("ix_groups_ack_due")

    op.drop_table("groups")
    with op.batch_alter_table("interchanges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interchanges_payload_id"))
        batch_op.drop_index("ix_interchanges_ctrl")

    op.drop_table("interchanges")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_payload_id"))
        batch_op.drop_index("ix_documents_partner")
        batch_op.drop_index(batch_op.f("ix_documents_correlation_id"))
        batch_op.drop_index(batch_op.f("ix_documents_business_number"))

    op.drop_table("documents")
    with op.batch_alter_table("correlation_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_correlation_lookup")
        batch_op.drop_index(batch_op.f("ix_correlation_keys_payload_id"))

    op.drop_table("correlation_keys")
    with op.batch_alter_table("payloads", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_payloads_idempotency",
            sqlite_where=sa.text("idempotency_key IS NOT NULL"),
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_payloads_as2",
            sqlite_where=sa.text("as2_message_id IS NOT NULL"),
            postgresql_where=sa.text("as2_message_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_payloads_state")
        batch_op.drop_index("ix_payloads_partner")
        batch_op.drop_index("ix_payloads_dup")

    op.drop_table("payloads")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")
        batch_op.drop_index(batch_op.f("ix_outbox_document_id"))

    op.drop_table("outbox")
    op.drop_table("locks")
    op.drop_table("control_sequences")
    with op.batch_alter_table("control_numbers_issued", schema=None) as batch_op:
        batch_op.drop_index("ix_issued_lookup")

    op.drop_table("control_numbers_issued")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entity")

    op.drop_table("audit_events")
