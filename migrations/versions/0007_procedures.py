"""procedure: the administrative procedures of each province, by national code and field

A ticket's `procedure` holds the procedure's code in the national database of administrative
procedures (e.g. 1.004227); this table gives its name and field (lĩnh vực), per province,
so that reports can split satisfaction by procedure and by field.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "procedure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("province_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("name_en", sa.String(length=500), nullable=True),
        sa.Column("field", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["province_id"], ["agency.id"], name=op.f("fk_procedure_province_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedure")),
        sa.UniqueConstraint("province_id", "code", name="uq_procedure_province_code"),
    )


def downgrade():
    op.drop_table("procedure")
