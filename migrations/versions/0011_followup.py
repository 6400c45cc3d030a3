"""follow-up sample: draws of returned dossiers, their outcomes, and the channel `followup`

`followup_draw` is one stratified random draw (period, size, seed, allocation per agency);
`followup_item` a sampled dossier (by its ticket) with the call's outcome and, when the
citizen answered, the response stored with channel `followup`.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _channel(*values: str) -> sa.Enum:
    return sa.Enum(
        *values, name="response_channel", native_enum=False, create_constraint=True, length=20
    )


OLD = ("qr", "kiosk", "paper", "api")
NEW = (*OLD, "followup")


def upgrade():
    with op.batch_alter_table("response") as batch:
        batch.alter_column(
            "channel", type_=_channel(*NEW), existing_type=_channel(*OLD), existing_nullable=False
        )
    op.create_table(
        "followup_draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("allocation", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_followup_draw_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_draw")),
    )
    op.create_table(
        "followup_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("response_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=True),
        sa.Column("recorded_by", sa.String(length=254), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('pending', 'answered', 'refused', 'unreachable')",
            name=op.f("ck_followup_item_outcome_values"),
        ),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["followup_draw.id"],
            name=op.f("fk_followup_item_draw_id_followup_draw"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name=op.f("fk_followup_item_ticket_id_ticket"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_followup_item_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
            name=op.f("fk_followup_item_response_id_response"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_item")),
        sa.UniqueConstraint("draw_id", "ticket_id", name="uq_followup_item_draw_ticket"),
    )


def downgrade():
    op.drop_table("followup_item")
    op.drop_table("followup_draw")
    op.execute("DELETE FROM answer WHERE response_id IN (SELECT id FROM response WHERE channel = 'followup')")
    op.execute("DELETE FROM response WHERE channel = 'followup'")
    with op.batch_alter_table("response") as batch:
        batch.alter_column(
            "channel", type_=_channel(*OLD), existing_type=_channel(*NEW), existing_nullable=False
        )
