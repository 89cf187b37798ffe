"""Who receives a record given for external use

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

A request for external use (对外提供) names the party outside the company that receives
the record; the 利用登记 (the access log's export) names it. Requests made before
this revision have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_column("recipient")
