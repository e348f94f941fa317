"""finances: tariffs per option with penalty prices, credit-note reasons, reminders,
online payments, tax certificates as issued, staff notices

Revision ID: f4dcc44e5370
Revises: c4e8a2f61d07
Create Date: 2026-11-30 05:20:17.581192

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f4dcc44e5370"
down_revision = "c4e8a2f61d07"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tax_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("children_json", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_tax_certificate_family_id_family")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["staff_user.id"],
            name=op.f("fk_tax_certificate_issued_by_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_certificate")),
        sa.UniqueConstraint("family_id", "year", name=op.f("uq_tax_certificate_family_id_year")),
    )
    op.create_table(
        "staff_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_staff_notice_family_id_family")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_staff_notice_payment_id_payment")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_notice_resolved_by_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notice")),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_column("penalty_price_cents")

    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reason", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("reminder_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("last_reminder_at", sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(op.f("ck_invoice_non_negative_total"), "total_cents >= 0")
        batch_op.create_index(
            "uq_invoice_family_month",
            ["family_id", "period_month"],
            unique=True,
            sqlite_where=sa.text("kind = 'invoice'"),
            postgresql_where=sa.text("kind = 'invoice'"),
        )

    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("option_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_invoice_line_option_id_activity_option"),
            "activity_option",
            ["option_id"],
            ["id"],
        )

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("charged_back_cents", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("checkout_url", sa.String(length=500), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("paid_at", sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_payment_idempotency_key"), ["idempotency_key"]
        )
        batch_op.create_check_constraint(
            op.f("ck_payment_returned_within_amount"),
            "refunded_cents >= 0 AND charged_back_cents >= 0 "
            "AND refunded_cents + charged_back_cents <= amount_cents",
        )

    with op.batch_alter_table("tariff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("option_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("walk_in_price_cents", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("late_cancel_price_cents", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_tariff_option_id_activity_option"),
            "activity_option",
            ["option_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            op.f("ck_tariff_non_negative_walk_in_price"), "walk_in_price_cents >= 0"
        )
        batch_op.create_check_constraint(
            op.f("ck_tariff_non_negative_late_cancel_price"), "late_cancel_price_cents >= 0"
        )


def downgrade():
    with op.batch_alter_table("tariff", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_tariff_non_negative_late_cancel_price"), type_="check")
        batch_op.drop_constraint(op.f("ck_tariff_non_negative_walk_in_price"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_tariff_option_id_activity_option"), type_="foreignkey"
        )
        batch_op.drop_column("late_cancel_price_cents")
        batch_op.drop_column("walk_in_price_cents")
        batch_op.drop_column("option_id")

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payment_returned_within_amount"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_payment_idempotency_key"), type_="unique")
        batch_op.drop_column("paid_at")
        batch_op.drop_column("checkout_url")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("charged_back_cents")

    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_invoice_line_option_id_activity_option"), type_="foreignkey"
        )
        batch_op.drop_column("option_id")

    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_invoice_family_month",
            sqlite_where=sa.text("kind = 'invoice'"),
            postgresql_where=sa.text("kind = 'invoice'"),
        )
        batch_op.drop_constraint(op.f("ck_invoice_non_negative_total"), type_="check")
        batch_op.drop_column("last_reminder_at")
        batch_op.drop_column("reminder_count")
        batch_op.drop_column("reason")

    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("penalty_price_cents", sa.INTEGER(), nullable=False, server_default="0")
        )

    op.drop_table("staff_notice")
    op.drop_table("tax_certificate")
