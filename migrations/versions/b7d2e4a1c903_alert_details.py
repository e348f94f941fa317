"""alert details: the lines of an alert that sums up several items

Revision ID: b7d2e4a1c903
Revises: ffa88a5e9c51
Create Date: 2026-11-30 00:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b7d2e4a1c903"
down_revision = "ffa88a5e9c51"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("alert") as batch_op:
        batch_op.add_column(sa.Column("details", sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("alert") as batch_op:
        batch_op.drop_column("details")
