"""answer_month: the monthly roll-up of answers by criterion, kept by triggers in every write's
transaction

One row per Vietnam-time month (yyyymm), agency, status (of the answer's response) and criterion,
with the number of answers and of satisfied ones: what the report's "answers by criterion"
counts (survey/reporting/counts.py `criterion_counts`). Like `response_month` (0014), triggers
keep it equal to the raw counts, whatever code path wrote, in the writer's own transaction:

- an answer inserted, deleted or changed adds or removes itself under its response's key;
- a response whose month, agency or status changes (review decisions, exclusions, mergers,
  retimes) moves its answers from the old key to the new one;
- a response deleted (purges) removes its answers BEFORE the row goes. Its answers are then
  deleted by the foreign key's ON DELETE CASCADE (or were deleted explicitly before it); an
  answer deleted after its response is gone finds no response and changes nothing, so each
  answer is removed exactly once on both databases.

On PostgreSQL this migration replaces 0014's `response_month_keep` so that one function keeps
both roll-ups for a response's INSERT and UPDATE, `response_month` first: every writer then
takes the roll-ups' row locks in the same order and concurrent writers do not deadlock (two
separate triggers did, in the concurrent-writers test). A response's DELETE is kept by
`response_month_forget`, BEFORE DELETE, for both roll-ups. (A purge that deletes answers
before their responses takes `answer_month` first; purges touch months long closed, where no
rating is being written.)

On SQLite, a later migration that rebuilds `response` or `answer` with `batch_alter_table`
drops these triggers: such a migration must create them again (`create_triggers` below);
tests/survey/test_rollup.py fails at head if they are missing.

Revision ID: 0018
Revises: 0017
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

KEY = ("month", "agency_id", "status", "criterion")
#: The columns of `response` that decide the roll-up row of its answers.
MOVED = "occurred_at, agency_id, status"  # (SQLite; on PostgreSQL `response_month_keep` checks)

# ---- SQLite --------------------------------------------------------------------------------

SQLITE_MONTH = "CAST(strftime('%Y%m', {row}.occurred_at, '+7 hours') AS INTEGER)"
SQLITE_ANSWER_ADD = """
    INSERT INTO answer_month (month, agency_id, status, criterion, answers, satisfied)
    SELECT {month}, r.agency_id, r.status, NEW.criterion, 1, NEW.satisfied
    FROM response AS r WHERE r.id = NEW.response_id
    ON CONFLICT (month, agency_id, status, criterion)
    DO UPDATE SET answers = answers + 1, satisfied = satisfied + excluded.satisfied;
""".format(month=SQLITE_MONTH.format(row="r"))
SQLITE_ANSWER_REMOVE = """
    UPDATE answer_month SET answers = answers - 1, satisfied = satisfied - OLD.satisfied
    WHERE criterion = OLD.criterion
      AND (month, agency_id, status) = (SELECT {month}, r.agency_id, r.status
                                        FROM response AS r WHERE r.id = OLD.response_id);
""".format(month=SQLITE_MONTH.format(row="r"))
# A response's answers, removed from (OLD) or added to (NEW) its key; one answer per criterion.
SQLITE_RESPONSE_REMOVE = """
    UPDATE answer_month
    SET answers = answers - 1,
        satisfied = satisfied - (SELECT a.satisfied FROM answer AS a
                                 WHERE a.response_id = OLD.id
                                   AND a.criterion = answer_month.criterion)
    WHERE month = {month} AND agency_id = OLD.agency_id AND status = OLD.status
      AND criterion IN (SELECT a.criterion FROM answer AS a WHERE a.response_id = OLD.id);
""".format(month=SQLITE_MONTH.format(row="OLD"))
SQLITE_RESPONSE_ADD = """
    INSERT INTO answer_month (month, agency_id, status, criterion, answers, satisfied)
    SELECT {month}, NEW.agency_id, NEW.status, a.criterion, 1, a.satisfied
    FROM answer AS a WHERE a.response_id = NEW.id
    ON CONFLICT (month, agency_id, status, criterion)
    DO UPDATE SET answers = answers + 1, satisfied = satisfied + excluded.satisfied;
""".format(month=SQLITE_MONTH.format(row="NEW"))
SQLITE_KEY_CHANGED = (
    f"{SQLITE_MONTH.format(row='OLD')} IS NOT {SQLITE_MONTH.format(row='NEW')} "
    "OR OLD.agency_id IS NOT NEW.agency_id OR OLD.status IS NOT NEW.status"
)

SQLITE_TRIGGERS = {
    "answer_month_insert": f"AFTER INSERT ON answer BEGIN {SQLITE_ANSWER_ADD} END",
    "answer_month_delete": f"AFTER DELETE ON answer BEGIN {SQLITE_ANSWER_REMOVE} END",
    "answer_month_update": (
        "AFTER UPDATE OF response_id, criterion, satisfied ON answer "
        f"BEGIN {SQLITE_ANSWER_REMOVE} {SQLITE_ANSWER_ADD} END"
    ),
    "answer_month_move": (
        f"AFTER UPDATE OF {MOVED} ON response WHEN {SQLITE_KEY_CHANGED} "
        f"BEGIN {SQLITE_RESPONSE_REMOVE} {SQLITE_RESPONSE_ADD} END"
    ),
    "answer_month_forget": f"BEFORE DELETE ON response BEGIN {SQLITE_RESPONSE_REMOVE} END",
}

# ---- PostgreSQL ----------------------------------------------------------------------------

PG_MONTH = "to_char({row}.occurred_at + interval '7 hours', 'YYYYMM')::int"
POSTGRES_FUNCTIONS = [
    f"""
CREATE FUNCTION answer_month_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE answer_month AS m
        SET answers = m.answers - 1, satisfied = m.satisfied - OLD.satisfied::int
        FROM response AS r
        WHERE r.id = OLD.response_id AND m.criterion = OLD.criterion
          AND m.month = {PG_MONTH.format(row="r")} AND m.agency_id = r.agency_id
          AND m.status = r.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO answer_month AS m (month, agency_id, status, criterion, answers, satisfied)
        SELECT {PG_MONTH.format(row="r")}, r.agency_id, r.status, NEW.criterion, 1,
               NEW.satisfied::int
        FROM response AS r WHERE r.id = NEW.response_id
        ON CONFLICT (month, agency_id, status, criterion)
        DO UPDATE SET answers = m.answers + 1, satisfied = m.satisfied + EXCLUDED.satisfied;
    END IF;
    RETURN NULL;
END
$$
""",
    # Replaces 0014's function: the response's own roll-up row first, then its answers, so
    # every writer takes the roll-ups' row locks in the same order (response_month, then
    # answer_month) and concurrent writers cannot deadlock on them. DELETE is no longer
    # handled here but in response_month_forget, BEFORE the row and its answers go.
    f"""
CREATE OR REPLACE FUNCTION response_month_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE response_month
        SET responses = responses - 1, satisfied = satisfied - OLD.satisfied::int
        WHERE month = {PG_MONTH.format(row="OLD")}
          AND agency_id = OLD.agency_id AND questionnaire_id = OLD.questionnaire_id
          AND channel = OLD.channel AND status = OLD.status AND level = OLD.level;
    END IF;
    INSERT INTO response_month AS m (month, agency_id, questionnaire_id, channel, status,
                                     level, responses, satisfied)
    VALUES ({PG_MONTH.format(row="NEW")}, NEW.agency_id, NEW.questionnaire_id, NEW.channel,
            NEW.status, NEW.level, 1, NEW.satisfied::int)
    ON CONFLICT (month, agency_id, questionnaire_id, channel, status, level)
    DO UPDATE SET responses = m.responses + 1, satisfied = m.satisfied + EXCLUDED.satisfied;
    IF TG_OP = 'UPDATE' AND ({PG_MONTH.format(row="OLD")} <> {PG_MONTH.format(row="NEW")}
                             OR OLD.agency_id <> NEW.agency_id OR OLD.status <> NEW.status)
    THEN
        UPDATE answer_month AS m
        SET answers = m.answers - 1, satisfied = m.satisfied - a.satisfied::int
        FROM answer AS a
        WHERE a.response_id = OLD.id AND m.criterion = a.criterion
          AND m.month = {PG_MONTH.format(row="OLD")} AND m.agency_id = OLD.agency_id
          AND m.status = OLD.status;
        INSERT INTO answer_month AS m (month, agency_id, status, criterion, answers, satisfied)
        SELECT {PG_MONTH.format(row="NEW")}, NEW.agency_id, NEW.status, a.criterion, 1,
               a.satisfied::int
        FROM answer AS a WHERE a.response_id = NEW.id
        ORDER BY a.criterion
        ON CONFLICT (month, agency_id, status, criterion)
        DO UPDATE SET answers = m.answers + 1, satisfied = m.satisfied + EXCLUDED.satisfied;
    END IF;
    RETURN NULL;
END
$$
""",
    # BEFORE DELETE: the response's answers are still there (ON DELETE CASCADE removes them
    # after the row; AFTER triggers would fire too late, after the cascade).
    f"""
CREATE FUNCTION response_month_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE response_month
    SET responses = responses - 1, satisfied = satisfied - OLD.satisfied::int
    WHERE month = {PG_MONTH.format(row="OLD")}
      AND agency_id = OLD.agency_id AND questionnaire_id = OLD.questionnaire_id
      AND channel = OLD.channel AND status = OLD.status AND level = OLD.level;
    UPDATE answer_month AS m
    SET answers = m.answers - 1, satisfied = m.satisfied - a.satisfied::int
    FROM answer AS a
    WHERE a.response_id = OLD.id AND m.criterion = a.criterion
      AND m.month = {PG_MONTH.format(row="OLD")} AND m.agency_id = OLD.agency_id
      AND m.status = OLD.status;
    RETURN OLD;
END
$$
""",
]
#: The columns of `response` that decide its roll-up rows (as in 0014).
WATCHED = "occurred_at, agency_id, questionnaire_id, channel, status, level, satisfied"
POSTGRES_TRIGGERS = [
    "CREATE TRIGGER answer_month_keep AFTER INSERT OR DELETE "
    "OR UPDATE OF response_id, criterion, satisfied ON answer "
    "FOR EACH ROW EXECUTE FUNCTION answer_month_keep()",
    "DROP TRIGGER response_month_keep ON response",
    f"CREATE TRIGGER response_month_keep AFTER INSERT OR UPDATE OF {WATCHED} ON response "
    "FOR EACH ROW EXECUTE FUNCTION response_month_keep()",
    "CREATE TRIGGER response_month_forget BEFORE DELETE ON response FOR EACH ROW "
    "EXECUTE FUNCTION response_month_forget()",
]


def _migration_0014():
    """0014's module, whose PostgreSQL function and triggers a downgrade puts back."""
    path = Path(__file__).with_name("0014_response_month.py")
    spec = importlib.util.spec_from_file_location("migration_0014", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_FUNCTIONS + POSTGRES_TRIGGERS:
            op.execute(statement)
        return
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS answer_month_keep ON answer")
        op.execute("DROP TRIGGER IF EXISTS response_month_forget ON response")
        op.execute("DROP TRIGGER IF EXISTS response_month_keep ON response")
        op.execute("DROP FUNCTION IF EXISTS answer_month_keep()")
        op.execute("DROP FUNCTION IF EXISTS response_month_forget()")
        op.execute("DROP FUNCTION IF EXISTS response_month_keep()")
        _migration_0014().create_triggers()  # 0014's function and trigger, as they were
        return
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade():
    op.create_table(
        "answer_month",
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("criterion", sa.String(length=40), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name="pk_answer_month"),
    )
    create_triggers()
    if op.get_bind().dialect.name == "postgresql":
        month, satisfied = PG_MONTH.format(row="r"), "a.satisfied::int"
    else:
        month, satisfied = SQLITE_MONTH.format(row="r"), "a.satisfied"
    op.execute(
        f"INSERT INTO answer_month ({', '.join(KEY)}, answers, satisfied) "
        f"SELECT {month}, r.agency_id, r.status, a.criterion, count(*), sum({satisfied}) "
        "FROM answer AS a JOIN response AS r ON r.id = a.response_id "
        f"GROUP BY {month}, r.agency_id, r.status, a.criterion"
    )


def downgrade():
    drop_triggers()
    op.drop_table("answer_month")
