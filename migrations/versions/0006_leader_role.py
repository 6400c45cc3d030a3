"""user_account: the leader role (lãnh đạo)

The role column is a short string with a CHECK constraint listing the roles; the constraint
gains `leader`, and a leader must lead an agency (`agency_id` set).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _role(*values: str) -> sa.Enum:
    return sa.Enum(
        *values,
        name="user_role",
        native_enum=False,
        create_constraint=True,
        length=20,
    )


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column(
            "role",
            type_=_role("admin", "analyst", "leader"),
            existing_type=_role("admin", "analyst"),
            existing_nullable=False,
        )
        batch.create_check_constraint(
            "leader_has_agency", "role <> 'leader' OR agency_id IS NOT NULL"
        )


def downgrade():
    op.execute("UPDATE user_account SET role = 'analyst' WHERE role = 'leader'")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint("leader_has_agency", type_="check")
        batch.alter_column(
            "role",
            type_=_role("admin", "analyst"),
            existing_type=_role("admin", "analyst", "leader"),
            existing_nullable=False,
        )
