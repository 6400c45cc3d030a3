"""response_month: the monthly roll-up of responses, kept by triggers in every write's transaction

One row per Vietnam-time month (yyyymm), agency, questionnaire, channel, status and level, with
the number of responses and of satisfied ones. Triggers on `response` keep it equal to the raw
counts for every INSERT, UPDATE (review decisions, exclusions) and DELETE (purges), whatever
code path wrote them, in the writer's own transaction. Reports read it for whole months
(survey/reporting/counts.py).

On SQLite, a later migration that rebuilds `response` with `batch_alter_table` drops these
triggers: such a migration must create them again (`create_triggers` below);
tests/survey/test_rollup.py fails at head if they are missing.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KEY = ("month", "agency_id", "questionnaire_id", "channel", "status", "level")
#: The columns of `response` that decide a response's roll-up row.
WATCHED = "occurred_at, agency_id, questionnaire_id, channel, status, level, satisfied"

SQLITE_MONTH = "CAST(strftime('%Y%m', {row}.occurred_at, '+7 hours') AS INTEGER)"
SQLITE_ADD = """
    INSERT INTO response_month ({key}, responses, satisfied)
    VALUES ({month}, NEW.agency_id, NEW.questionnaire_id, NEW.channel, NEW.status, NEW.level,
            1, NEW.satisfied)
    ON CONFLICT ({key}) DO UPDATE SET responses = responses + 1,
                                      satisfied = satisfied + excluded.satisfied;
""".format(key=", ".join(KEY), month=SQLITE_MONTH.format(row="NEW"))
SQLITE_REMOVE = """
    UPDATE response_month SET responses = responses - 1, satisfied = satisfied - OLD.satisfied
    WHERE month = {month} AND agency_id = OLD.agency_id
      AND questionnaire_id = OLD.questionnaire_id AND channel = OLD.channel
      AND status = OLD.status AND level = OLD.level;
""".format(month=SQLITE_MONTH.format(row="OLD"))

POSTGRES_FUNCTION = """
CREATE FUNCTION response_month_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE response_month
        SET responses = responses - 1, satisfied = satisfied - OLD.satisfied::int
        WHERE month = to_char(OLD.occurred_at + interval '7 hours', 'YYYYMM')::int
          AND agency_id = OLD.agency_id AND questionnaire_id = OLD.questionnaire_id
          AND channel = OLD.channel AND status = OLD.status AND level = OLD.level;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO response_month AS m (month, agency_id, questionnaire_id, channel, status,
                                         level, responses, satisfied)
        VALUES (to_char(NEW.occurred_at + interval '7 hours', 'YYYYMM')::int, NEW.agency_id,
                NEW.questionnaire_id, NEW.channel, NEW.status, NEW.level, 1,
                NEW.satisfied::int)
        ON CONFLICT (month, agency_id, questionnaire_id, channel, status, level)
        DO UPDATE SET responses = m.responses + 1, satisfied = m.satisfied + EXCLUDED.satisfied;
    END IF;
    RETURN NULL;
END
$$
"""


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(
            f"CREATE TRIGGER response_month_keep AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} "
            "ON response FOR EACH ROW EXECUTE FUNCTION response_month_keep()"
        )
        return
    op.execute(
        f"CREATE TRIGGER response_month_insert AFTER INSERT ON response BEGIN {SQLITE_ADD} END"
    )
    op.execute(
        f"CREATE TRIGGER response_month_delete AFTER DELETE ON response BEGIN {SQLITE_REMOVE} END"
    )
    op.execute(
        f"CREATE TRIGGER response_month_update AFTER UPDATE OF {WATCHED} ON response "
        f"BEGIN {SQLITE_REMOVE} {SQLITE_ADD} END"
    )


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS response_month_keep ON response")
        op.execute("DROP FUNCTION IF EXISTS response_month_keep()")
        return
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS response_month_{name}")


def upgrade():
    op.create_table(
        "response_month",
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=40), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name="pk_response_month"),
    )
    create_triggers()
    if op.get_bind().dialect.name == "postgresql":
        month = "to_char(occurred_at + interval '7 hours', 'YYYYMM')::int"
        satisfied = "satisfied::int"
    else:
        month = SQLITE_MONTH.format(row="response")
        satisfied = "satisfied"
    op.execute(
        f"INSERT INTO response_month ({', '.join(KEY)}, responses, satisfied) "
        f"SELECT {month}, agency_id, questionnaire_id, channel, status, level, count(*), "
        f"sum({satisfied}) FROM response "
        f"GROUP BY {month}, agency_id, questionnaire_id, channel, status, level"
    )


def downgrade():
    drop_triggers()
    op.drop_table("response_month")
