"""tree_move: the sub-agencies and desks a merger moved, with the date and where from

Reports of periods before a merger build the tree as it was then (survey.reporting.mergers),
so that a past report reads the same after the merger even when the merged agencies had
sub-agencies or desks. Mergers recorded before this table have no moves: their reports keep
today's tree, as before.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tree_move",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("moved_on", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("desk_id", sa.Integer(), nullable=True),
        sa.Column("from_agency_id", sa.Integer(), nullable=False),
        sa.Column("to_agency_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(agency_id IS NULL) <> (desk_id IS NULL)",
            name=op.f("ck_tree_move_moves_an_agency_or_a_desk"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_tree_move_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(["desk_id"], ["desk.id"], name=op.f("fk_tree_move_desk_id_desk")),
        sa.ForeignKeyConstraint(
            ["from_agency_id"], ["agency.id"], name=op.f("fk_tree_move_from_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["to_agency_id"], ["agency.id"], name=op.f("fk_tree_move_to_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tree_move")),
    )
    op.create_index(op.f("ix_tree_move_agency_id"), "tree_move", ["agency_id"])
    op.create_index(op.f("ix_tree_move_desk_id"), "tree_move", ["desk_id"])


def downgrade():
    op.drop_index(op.f("ix_tree_move_desk_id"), table_name="tree_move")
    op.drop_index(op.f("ix_tree_move_agency_id"), table_name="tree_move")
    op.drop_table("tree_move")
