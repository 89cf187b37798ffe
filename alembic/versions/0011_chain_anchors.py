"""chain anchors

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

The hash chains become keyed (HMAC with a key from the keyring). Rows already written keep
their plain SHA-256 links; this records, per chain, the last such row, so verification
knows where the keyed part begins. The first signed checkpoint repeats these anchors.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import archive.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def upgrade() -> None:
    anchors = op.create_table(
        "chain_anchors",
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", archive.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_chain_anchors")),
    )
    connection = op.get_bind()
    now = datetime.now(UTC)
    rows = []
    for chain in ("audit_events", "access_events"):
        head = connection.execute(
            sa.text(f"SELECT seq, hash FROM {chain} ORDER BY seq DESC LIMIT 1")  # noqa: S608
        ).first()
        seq, digest = (int(head[0]), str(head[1])) if head else (0, GENESIS)
        rows.append({"chain": chain, "seq": seq, "hash": digest, "at": now})
    op.bulk_insert(anchors, rows)


def downgrade() -> None:
    op.drop_table("chain_anchors")
