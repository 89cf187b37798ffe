"""privilege changes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

三员分立: privileged changes to people wait in ``privilege_changes`` until a security
administrator approves them; a password someone else set must be changed at the next
sign-in (``users.must_change_password``).

The new role ``security_admin`` needs nothing here: roles are stored as plain strings
(``enum_column``: no native enum type, no CHECK constraint, 32 characters), on SQLite and
PostgreSQL alike.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archive.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "privilege_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("create", "change", name="privilegekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                "cancelled",
                name="privilegestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", archive.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", archive.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["target_id"], ["users.id"], name=op.f("fk_privilege_changes_target_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_privilege_changes_requested_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_privilege_changes_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privilege_changes")),
    )
    op.create_index(op.f("ix_privilege_changes_username"), "privilege_changes", ["username"])
    op.create_index(op.f("ix_privilege_changes_target_id"), "privilege_changes", ["target_id"])
    op.create_index(op.f("ix_privilege_changes_status"), "privilege_changes", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_privilege_changes_status"), table_name="privilege_changes")
    op.drop_index(op.f("ix_privilege_changes_target_id"), table_name="privilege_changes")
    op.drop_index(op.f("ix_privilege_changes_username"), table_name="privilege_changes")
    op.drop_table("privilege_changes")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
