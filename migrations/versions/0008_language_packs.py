"""language packs: admin-added languages, their texts per questionnaire version, the desks
that offer them, and the language of each rating

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "language",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_vi", sa.String(length=80), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "ltr",
                "rtl",
                name="language_direction",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "code NOT IN ('vi', 'en')", name=op.f("ck_language_not_a_compiled_locale")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_language")),
        sa.UniqueConstraint("code", name=op.f("uq_language_code")),
    )
    op.create_table(
        "language_pack",
        sa.Column("language_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["language_id"],
            ["language.id"],
            name=op.f("fk_language_pack_language_id_language"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_language_pack_questionnaire_id_questionnaire"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("language_id", "questionnaire_id", name=op.f("pk_language_pack")),
    )
    with op.batch_alter_table("desk") as batch:
        batch.add_column(
            sa.Column("languages", sa.JSON(), server_default="[]", nullable=False)
        )
    with op.batch_alter_table("response") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("response") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("desk") as batch:
        batch.drop_column("languages")
    op.drop_table("language_pack")
    op.drop_table("language")
