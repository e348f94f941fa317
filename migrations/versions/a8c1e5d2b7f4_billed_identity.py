"""an invoice keeps whom it was issued to; credit notes are no longer one per invoice and month

Revision ID: a8c1e5d2b7f4
Revises: dfb88d8ce04a
Create Date: 2026-11-30 08:35:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a8c1e5d2b7f4"
down_revision = "dfb88d8ce04a"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("billed_name", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("billed_address", sa.Text(), nullable=False, server_default="")
        )
        batch_op.drop_constraint(
            "uq_invoice_family_id_period_month_kind_credits_invoice_id", type_="unique"
        )
    # Invoices issued before this column existed are printed as their family is today.
    invoice = sa.table(
        "invoice",
        sa.column("family_id", sa.Integer),
        sa.column("number", sa.String),
        sa.column("billed_name", sa.String),
        sa.column("billed_address", sa.Text),
    )
    family = sa.table(
        "family",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("address_line", sa.String),
        sa.column("postcode", sa.String),
        sa.column("city", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            family.c.id, family.c.name, family.c.address_line, family.c.postcode, family.c.city
        )
    ).all()
    for family_id, name, street, postcode, city in rows:
        town = f"{postcode or ''} {city or ''}".strip()
        address = "\n".join(line for line in (street, town) if line)
        connection.execute(
            invoice.update()
            .where(invoice.c.family_id == family_id, invoice.c.number.is_not(None))
            .values(billed_name=f"Famille {name}", billed_address=address)
        )


def downgrade():
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_invoice_family_id_period_month_kind_credits_invoice_id",
            ["family_id", "period_month", "kind", "credits_invoice_id"],
        )
        batch_op.drop_column("billed_address")
        batch_op.drop_column("billed_name")
