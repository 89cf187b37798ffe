"""API tokens expire

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

A bearer token can be copied; one that never ends is a standing key to the archive. Every
token now has an end (``api_tokens.expires_at``). Tokens issued before this revision get
the default lifetime (90 days) from the day of the upgrade, so nothing stops at once.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import archive.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", archive.db.UTCDateTime(timezone=True), nullable=True)
        )
    tokens = sa.table("api_tokens", sa.column("expires_at", archive.db.UTCDateTime()))
    op.execute(tokens.update().values(expires_at=datetime.now(UTC) + timedelta(days=90)))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "expires_at", existing_type=archive.db.UTCDateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
