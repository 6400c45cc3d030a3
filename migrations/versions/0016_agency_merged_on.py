"""agency.merged_on: the date a merger took effect (continuity across mergers)

Existing merged agencies get the local date their successor was created, which is what reports
used as the merger date before this column existed.

Revision ID: 0016
Revises: 0015
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _recreating_agency():
    """SQLite adds the check constraint by copying the table, which its foreign-key checks
    forbid while other tables refer to agencies: they are off during the copy."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    return sqlite


def _done(sqlite: bool) -> None:
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")


def upgrade():
    sqlite = _recreating_agency()
    with op.batch_alter_table("agency") as batch:
        batch.add_column(sa.Column("merged_on", sa.Date(), nullable=True))
        batch.create_check_constraint(
            "merged_on_with_successor", "merged_on IS NULL OR merged_into_id IS NOT NULL"
        )
    _done(sqlite)
    agency = sa.table(
        "agency",
        sa.column("id", sa.Integer),
        sa.column("merged_into_id", sa.Integer),
        sa.column("created_at", sa.DateTime),
        sa.column("merged_on", sa.Date),
    )
    successor = agency.alias("successor")
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(agency.c.id, successor.c.created_at).join(
            successor, successor.c.id == agency.c.merged_into_id
        )
    ).all()
    for agency_id, created_at in rows:
        local_day = (created_at + timedelta(hours=7)).date()  # Vietnam time, UTC+7
        bind.execute(
            sa.update(agency).where(agency.c.id == agency_id).values(merged_on=local_day)
        )


def downgrade():
    sqlite = _recreating_agency()
    with op.batch_alter_table("agency") as batch:
        batch.drop_constraint("merged_on_with_successor", type_="check")
        batch.drop_column("merged_on")
    _done(sqlite)
