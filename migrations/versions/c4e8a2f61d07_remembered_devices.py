"""remembered devices: "rester connecté sur ce téléphone", and the sessions they open

Revision ID: c4e8a2f61d07
Revises: b7d2e4a1c903
Create Date: 2026-11-30 03:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c4e8a2f61d07"
down_revision = "b7d2e4a1c903"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "remembered_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_account_id", sa.Integer(), nullable=False),
        sa.Column("series_hash", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("previous_token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_account_id"],
            ["family_account.id"],
            name=op.f("fk_remembered_device_family_account_id_family_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remembered_device")),
        sa.UniqueConstraint("series_hash", name=op.f("uq_remembered_device_series_hash")),
    )
    with op.batch_alter_table("remembered_device") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remembered_device_family_account_id"), ["family_account_id"]
        )
    with op.batch_alter_table("auth_session") as batch_op:
        batch_op.add_column(sa.Column("remembered_device_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_auth_session_remembered_device_id"), ["remembered_device_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_auth_session_remembered_device_id_remembered_device"),
            "remembered_device",
            ["remembered_device_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("auth_session") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_auth_session_remembered_device_id_remembered_device"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_auth_session_remembered_device_id"))
        batch_op.drop_column("remembered_device_id")
    with op.batch_alter_table("remembered_device") as batch_op:
        batch_op.drop_index(batch_op.f("ix_remembered_device_family_account_id"))
    op.drop_table("remembered_device")
