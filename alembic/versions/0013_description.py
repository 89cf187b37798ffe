"""description

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

The record description after DA/T 46 (issue 20): 责任者 (``author``), 文号 (``doc_number``,
with ``doc_number_key``, the number folded for exact lookups) and 备注 (``remarks``). All
nullable: records filed before this have none, and nothing is guessed for them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("doc_number", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("doc_number_key", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("remarks", sa.String(length=2000), nullable=True))
        batch_op.create_index(batch_op.f("ix_records_author"), ["author"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_records_doc_number_key"), ["doc_number_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_records_doc_number_key"))
        batch_op.drop_index(batch_op.f("ix_records_author"))
        batch_op.drop_column("remarks")
        batch_op.drop_column("doc_number_key")
        batch_op.drop_column("doc_number")
        batch_op.drop_column("author")
