"""indexes for finding payloads by document type

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 09:40:00.000000

Support staff list and replay payloads by type, which matches a canonical document type
(``documents.document_type``) or an X12 set ID (``transaction_sets.set_id``, so payloads
that failed before mapping are found too). Both lookups get an index leading with the type,
so such a search does not read every document and transaction set.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_documents_type", "documents", ["document_type", "payload_id"])
    op.create_index("ix_transaction_sets_set_id", "transaction_sets", ["set_id", "payload_id"])


def downgrade() -> None:
    op.drop_index("ix_transaction_sets_set_id", table_name="transaction_sets")
    op.drop_index("ix_documents_type", table_name="documents")
