"""replay jobs in the store

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 10:00:00.000000

Bulk replay jobs were kept in the memory of the process that ran them: another instance
behind the same load balancer answered 404 for them, and a restart lost their summaries.
``replay_jobs`` keeps each job's summary (one JSON document) with a heartbeat while it runs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "replay_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_replay_jobs_started_at"), "replay_jobs", ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_replay_jobs_started_at"), table_name="replay_jobs")
    op.drop_table("replay_jobs")
