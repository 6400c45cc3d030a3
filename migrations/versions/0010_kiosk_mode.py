"""response.mode: how a kiosk asked (faces only, or the standard screen)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("response") as batch:
        batch.add_column(sa.Column("mode", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("response") as batch:
        batch.drop_column("mode")
