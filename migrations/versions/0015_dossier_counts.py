"""dossier_count: dossiers handled per desk and span of days, reported by the integrator

The denominator of a desk's response rate where the integrator sends how many dossiers the
desk handled (POST /api/v1/dossier-counts, or the import); see docs/integrity.md.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dossier_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("handled >= 0", name=op.f("ck_dossier_count_handled_not_negative")),
        sa.CheckConstraint('"end" >= start', name=op.f("ck_dossier_count_span_order")),
        sa.ForeignKeyConstraint(["desk_id"], ["desk.id"], name=op.f("fk_dossier_count_desk_id_desk")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_count")),
        sa.UniqueConstraint("desk_id", "start", "end", name="uq_dossier_count_desk_span"),
    )


def downgrade():
    op.drop_table("dossier_count")
