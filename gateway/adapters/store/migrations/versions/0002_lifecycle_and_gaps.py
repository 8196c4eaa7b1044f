"""envelope history, document failures and routing type, control-number allocations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00.000000

* ``interchanges``, ``groups``, ``transaction_sets``: ``superseded_at`` (a replay from raw
  keeps the earlier records instead of deleting them);
* ``documents``: ``source_type`` (the partner-profile document type, for routing a replay
  from canonical again), ``reason`` and ``failed_step``;
* ``control_numbers_issued``: ``allocation`` (links each issued number to the payload that
  used it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    for table in ("interchanges", "groups", "transaction_sets"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("superseded_at", _TS, nullable=True))
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_type", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("failed_step", sa.String(length=16), nullable=True))
    with op.batch_alter_table("control_numbers_issued", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allocation", sa.String(length=36), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_control_numbers_issued_allocation"), ["allocation"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("control_numbers_issued", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_control_numbers_issued_allocation"))
        batch_op.drop_column("allocation")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("failed_step")
        batch_op.drop_column("reason")
        batch_op.drop_column("source_type")
    for table in ("transaction_sets", "groups", "interchanges"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("superseded_at")
