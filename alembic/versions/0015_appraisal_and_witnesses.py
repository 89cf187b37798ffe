"""appraisal opinions of departments, and witnessed destruction (监销)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

An appraisal (鉴定) records the department's opinion beside the records manager's. After a
destruction list is executed, the people the settings name sign that they witnessed it
(``disposition_witnesses``, append-only, one slot and one person each); the list is closed
(``disposition_lists.closed_at``) only when every slot is signed. A transfer list names its
receiving party (``disposition_lists.receiver``), whose signed receipt is recorded on it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archive.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("retention_reviews", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("department_opinion", sa.Text(), nullable=False, server_default="")
        )
    with op.batch_alter_table("disposition_lists", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closed_at", archive.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("receiver", sa.String(length=200), nullable=False, server_default="")
        )
    op.create_table(
        "disposition_witnesses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=48), nullable=False),
        sa.Column("capacity", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("signed_at", archive.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["disposition_lists.id"],
            name=op.f("fk_disposition_witnesses_list_id_disposition_lists"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_disposition_witnesses_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposition_witnesses")),
        sa.UniqueConstraint("list_id", "slot", name=op.f("uq_disposition_witnesses_list_id_slot")),
        sa.UniqueConstraint(
            "list_id", "user_id", name=op.f("uq_disposition_witnesses_list_id_user_id")
        ),
    )
    with op.batch_alter_table("disposition_witnesses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disposition_witnesses_list_id"), ["list_id"], unique=False
        )
    for statement in archive.db.append_only_ddl(
        op.get_bind().dialect.name, "disposition_witnesses"
    ):
        op.execute(statement)
    # Lists executed before witnessing existed were complete as they were.
    op.execute("UPDATE disposition_lists SET closed_at = executed_at WHERE status = 'executed'")


def downgrade() -> None:
    for statement in archive.db.drop_append_only_ddl(
        op.get_bind().dialect.name, "disposition_witnesses"
    ):
        op.execute(statement)
    with op.batch_alter_table("disposition_witnesses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disposition_witnesses_list_id"))
    op.drop_table("disposition_witnesses")
    with op.batch_alter_table("disposition_lists", schema=None) as batch_op:
        batch_op.drop_column("receiver")
        batch_op.drop_column("closed_at")
    with op.batch_alter_table("retention_reviews", schema=None) as batch_op:
        batch_op.drop_column("department_opinion")
