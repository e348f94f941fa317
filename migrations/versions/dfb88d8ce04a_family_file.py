"""the family file: registrations with usual days and option, children's allergies and
pickup people, change-request reasons, documents justifying an absence, the quotient's
validity, anonymised families, who sees health documents, resources and news by school,
activity and validity

Revision ID: dfb88d8ce04a
Revises: f4dcc44e5370
Create Date: 2026-11-30 06:03:11.931432

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "dfb88d8ce04a"
down_revision = "f4dcc44e5370"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reason", sa.String(length=300), nullable=False, server_default="")
        )

    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allergies", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("pickup_people", sa.Text(), nullable=False, server_default="")
        )

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("booking_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_document_booking_id_booking"), "booking", ["booking_id"], ["id"]
        )

    with op.batch_alter_table("family", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quotient_valid_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("anonymised_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("news_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("activity_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_news_item_school_id_school"), "school", ["school_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_news_item_activity_id_activity"), "activity", ["activity_id"], ["id"]
        )

    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("weekdays", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("option_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_registration_option_id_activity_option"),
            "activity_option",
            ["option_id"],
            ["id"],
        )

    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("size_bytes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("valid_to", sa.Date(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_resource_school_id_school"), "school", ["school_id"], ["id"]
        )

    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sees_health_documents", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade():
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("sees_health_documents")

    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_resource_school_id_school"), type_="foreignkey")
        batch_op.drop_column("valid_to")
        batch_op.drop_column("valid_from")
        batch_op.drop_column("size_bytes")
        batch_op.drop_column("school_id")

    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_registration_option_id_activity_option"), type_="foreignkey"
        )
        batch_op.drop_column("option_id")
        batch_op.drop_column("weekdays")

    with op.batch_alter_table("news_item", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_news_item_activity_id_activity"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_news_item_school_id_school"), type_="foreignkey")
        batch_op.drop_column("activity_id")
        batch_op.drop_column("school_id")
        batch_op.drop_column("ends_on")

    with op.batch_alter_table("family", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
        batch_op.drop_column("quotient_valid_until")

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_document_booking_id_booking"), type_="foreignkey")
        batch_op.drop_column("booking_id")

    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.drop_column("pickup_people")
        batch_op.drop_column("allergies")

    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.drop_column("reason")
