"""spoken prompts: recordings of the question, levels, criteria and thank-you, per language
and questionnaire version, kept in the database

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "spoken_prompt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('opus', 'mp3')", name=op.f("ck_spoken_prompt_known_kind")),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_spoken_prompt_questionnaire_id_questionnaire"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spoken_prompt")),
        sa.UniqueConstraint(
            "language",
            "questionnaire_id",
            "key",
            name="uq_spoken_prompt_language_questionnaire_key",
        ),
    )
    op.create_index(op.f("ix_spoken_prompt_digest"), "spoken_prompt", ["digest"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_spoken_prompt_digest"), table_name="spoken_prompt")
    op.drop_table("spoken_prompt")
