"""cases: a comment the agency answers; the holidays its due date skips

`feedback_case` holds one case per rating that opened one, `holiday` and `holiday_year` the
days off an admin set for a year (years never edited use the defaults computed by the
`holidays` package, so nothing is seeded here). The audit log gains an index on its target:
a case's history is read from it.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "holiday",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holiday")),
        sa.UniqueConstraint("day", name=op.f("uq_holiday_day")),
    )
    op.create_table(
        "holiday_year",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("edited_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "year >= 2000 AND year <= 2100", name=op.f("ck_holiday_year_year_range")
        ),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_holiday_year")),
    )
    op.create_table(
        "feedback_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "assigned",
                "answered",
                "closed",
                name="case_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            server_default="new",
            nullable=False,
        ),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("reply", sa.String(length=4000), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("length(code) = 10", name=op.f("ck_feedback_case_code_length")),
        sa.CheckConstraint("length(reply) <= 4000", name=op.f("ck_feedback_case_reply_length")),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_feedback_case_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user_account.id"],
            name=op.f("fk_feedback_case_assignee_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
            name=op.f("fk_feedback_case_response_id_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_case")),
        sa.UniqueConstraint("code", name=op.f("uq_feedback_case_code")),
        sa.UniqueConstraint("response_id", name=op.f("uq_feedback_case_response_id")),
    )
    op.create_index(
        "ix_feedback_case_agency_opened", "feedback_case", ["agency_id", "opened_at"]
    )
    op.create_index("ix_feedback_case_status_due", "feedback_case", ["status", "due_on"])
    op.create_index(op.f("ix_audit_log_target"), "audit_log", ["target"])


def downgrade():
    op.drop_index(op.f("ix_audit_log_target"), table_name="audit_log")
    op.drop_index("ix_feedback_case_status_due", table_name="feedback_case")
    op.drop_index("ix_feedback_case_agency_opened", table_name="feedback_case")
    op.drop_table("feedback_case")
    op.drop_table("holiday_year")
    op.drop_table("holiday")
