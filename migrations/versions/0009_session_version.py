"""user_account.session_version ends sessions; login_attempt.client throttles per address

- `user_account.session_version`: part of the id stored in the session and the remember
  cookie; sign-out, a password change or reset and disabling the account raise it, which ends
  every session and remember cookie of that user.
- `login_attempt.client`: the hashed client address of a failed sign-in, so that throttling
  counts per (account, address) and per address, and never locks the owner out from elsewhere.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("login_attempt") as batch:
        batch.add_column(sa.Column("client", sa.String(length=64), nullable=True))
        batch.create_index("ix_login_attempt_client", ["client"], unique=False)


def downgrade():
    with op.batch_alter_table("login_attempt") as batch:
        batch.drop_index("ix_login_attempt_client")
        batch.drop_column("client")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("session_version")
