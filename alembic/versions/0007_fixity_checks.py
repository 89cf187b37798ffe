"""fixity checks

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

The fixity sweep's results, append-only like the audit chain.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archive.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fixity_checks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("checked_at", archive.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_fixity_checks_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fixity_checks")),
    )
    with op.batch_alter_table("fixity_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fixity_checks_checked_at"), ["checked_at"])
        batch_op.create_index(batch_op.f("ix_fixity_checks_run"), ["run"])
        batch_op.create_index(batch_op.f("ix_fixity_checks_version_id"), ["version_id"])
    for statement in archive.db.append_only_ddl(op.get_bind().dialect.name, "fixity_checks"):
        op.execute(statement)


def downgrade() -> None:
    for statement in archive.db.drop_append_only_ddl(op.get_bind().dialect.name, "fixity_checks"):
        op.execute(statement)
    op.drop_table("fixity_checks")
