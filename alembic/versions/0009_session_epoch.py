"""session epoch

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

A counter per user that every web session carries: bumping it (sign-out, a password set,
a role, department or clearance changed, a deactivation, an incident freeze) ends every
session of that user on the server, whatever copies of the cookie exist.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
