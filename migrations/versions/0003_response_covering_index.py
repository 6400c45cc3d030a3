"""response: covering index for the report's counts by period

The agency table counts responses by agency, status, satisfaction and channel over a period.
With every column it reads in the index, SQLite and PostgreSQL (an index-only scan, once the
table is vacuumed) answer it without touching the table. The index starts with `occurred_at`,
so it replaces `ix_response_time` for every query that used that one.

On PostgreSQL both indexes are built and dropped CONCURRENTLY, outside the migration's
transaction, so that citizens can keep submitting while a large table is indexed. If a
concurrent build fails it leaves an INVALID index: drop it and run the upgrade again.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COVERING = "ix_response_time_covering"
COLUMNS = ["occurred_at", "agency_id", "status", "satisfied", "channel"]


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if _is_postgresql():
        with op.get_context().autocommit_block():
            op.create_index(COVERING, "response", COLUMNS, postgresql_concurrently=True)
            op.drop_index("ix_response_time", "response", postgresql_concurrently=True)
    else:
        op.create_index(COVERING, "response", COLUMNS)
        op.drop_index("ix_response_time", "response")


def downgrade():
    if _is_postgresql():
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_response_time", "response", ["occurred_at"], postgresql_concurrently=True
            )
            op.drop_index(COVERING, "response", postgresql_concurrently=True)
    else:
        op.create_index("ix_response_time", "response", ["occurred_at"])
        op.drop_index(COVERING, "response")
