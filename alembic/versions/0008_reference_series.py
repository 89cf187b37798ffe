"""reference series

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

The 档号's series and item number beside the code, unique together, so numbering takes the
next item of a series and the integrity check finds gaps with one indexed query.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNIQUE = "uq_records_reference_series_reference_item"


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference_series", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reference_item", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_records_reference_series"), ["reference_series"])
        batch_op.create_unique_constraint(
            batch_op.f(UNIQUE), ["reference_series", "reference_item"]
        )


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(UNIQUE), type_="unique")
        batch_op.drop_index(batch_op.f("ix_records_reference_series"))
        batch_op.drop_column("reference_item")
        batch_op.drop_column("reference_series")
