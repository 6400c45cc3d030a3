"""response.mode: how a kiosk asked (faces only, or the standard screen)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("response") as batch:
        batch.add_column(sa.Column("mode", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("response") as batch:
        batch.drop_column("mode")
