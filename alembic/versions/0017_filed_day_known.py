"""Whether a record's document date has its day

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

A document dated by its month only (``2014-06``) counts its retention from the month's
last day, so it is never kept shorter than its period; that day was then shown as the
document's own date, which nobody gave. ``records.filed_day_known`` says whether the day
was given; records filed before this revision are taken as having it, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filed_day_known", sa.Boolean(), nullable=True))
    records = sa.table("records", sa.column("filed_day_known", sa.Boolean()))
    op.execute(records.update().values(filed_day_known=True))
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.alter_column("filed_day_known", existing_type=sa.Boolean(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_column("filed_day_known")
