"""deletions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Deleting a record filed in error takes two people: the request and its confirmation.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archive.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", archive.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(length=200), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", archive.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_deletions_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_deletions_requested_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["users.id"], name=op.f("fk_deletions_confirmed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletions")),
    )
    op.create_index(op.f("ix_deletions_record_id"), "deletions", ["record_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_deletions_record_id"), table_name="deletions")
    op.drop_table("deletions")
