"""category and volumes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

The file plan's 门类 and filing unit per schedule (``retention_schedules.category``, NULL:
the archive's ARCHIVE_CATEGORY_CODE; ``filing`` item or volume; ``volume_by`` month or year),
and the ``volumes`` (案卷) that volume-filed classes bind their records into. A volume's
records point at it through their series (``records.reference_series`` = ``volumes.code``),
so ``records`` is not touched here. Existing schedules stay as they were (WS, by item):
loading the default plan again (``archive retention plan load``) gives accounting classes KJ.

Self-contained: it only adds, so it can follow 0013 of a parallel branch once re-chained.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archive.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("retention_schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=4), nullable=True))
        batch_op.add_column(
            sa.Column(
                "filing",
                sa.Enum("item", "volume", name="filingunit", native_enum=False, length=32),
                nullable=False,
                server_default="item",
            )
        )
        batch_op.add_column(
            sa.Column(
                "volume_by",
                sa.Enum("month", "year", name="volumeperiod", native_enum=False, length=32),
                nullable=True,
            )
        )
    op.create_table(
        "volumes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("schedule_key", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("created_at", archive.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volumes")),
        sa.UniqueConstraint("code", name=op.f("uq_volumes_code")),
        sa.UniqueConstraint("series", "number", name=op.f("uq_volumes_series_number")),
        sa.UniqueConstraint(
            "series", "schedule_key", "period", name=op.f("uq_volumes_series_schedule_key_period")
        ),
    )
    with op.batch_alter_table("volumes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_volumes_series"), ["series"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("volumes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_volumes_series"))
    op.drop_table("volumes")
    with op.batch_alter_table("retention_schedules", schema=None) as batch_op:
        batch_op.drop_column("volume_by")
        batch_op.drop_column("filing")
        batch_op.drop_column("category")
