"""agency_month and level_month: the agency table's roll-up, one row per agency and month

`response_month` (0014) keeps every dimension a report may group by, so it has as many rows as
an agency's month has combinations of questionnaire, channel, status and level: a national
yearly report read 577,291 of them at 10M responses against 150,756 at 1M, and its time grew
with the data (docs/performance.md, "Reports that do not grow with the data"). The agency
table needs far less: per agency and period, the responses by status, the satisfied ones, the
valid ones by channel (the summary's channel shares and the follow-up sample), and for the
official figures the valid ones by level. Two roll-ups keep exactly that:

- `agency_month`: one row per Vietnam-time month (yyyymm) and agency, with columns for the
  statuses (valid, satisfied among the valid, flagged, excluded) and the valid and satisfied
  responses of each channel (`valid_<channel>`, `satisfied_<channel>`). Its size is the tree times the months, whatever the data.
- `level_month`: one row per month, agency and overall rating level, with the valid responses.
  Levels are the questionnaires' own codes, so they stay a key, not columns.

A channel added to `survey.models.Channel` needs a migration that adds its columns and replaces
the trigger functions below; tests/survey/test_rollup.py fails until it has one.

Triggers on `response` keep both in the writer's transaction, on every INSERT, UPDATE (review
decisions, exclusions, mergers, retimes, corrected levels) and DELETE (purges), like 0014's.
Rows whose counts fall to zero stay (readers sum them).

On PostgreSQL, `agency_month_keep` is a constraint trigger deferred to the commit, like 0020's
`desk_day_keep`, and it sorts before it: at commit, each response's agency month is locked
before its level row and before `cluster_month`'s and `desk_day`'s rows of the same agency and
month. Any transaction holding one of those rows therefore holds its agency month, so two
writers cannot wait for each other on them; and none of them is taken before a transaction's
statements (and their `response_month` and `answer_month` locks) are done.

On SQLite, a later migration that rebuilds `response` with `batch_alter_table` drops these
triggers: such a migration must create them again (`create_triggers` below);
tests/survey/test_rollup.py fails at head if they are missing.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

#: The channels of `survey.models.Channel` when this migration was written: one column each.
CHANNELS = ("qr", "kiosk", "paper", "api", "followup")
#: The columns of `response` that decide its rows in these roll-ups.
WATCHED = ("occurred_at", "agency_id", "channel", "status", "level", "satisfied")
COUNTED = (
    "valid",
    "satisfied",
    "flagged",
    "excluded",
    *(f"valid_{c}" for c in CHANNELS),
    *(f"satisfied_{c}" for c in CHANNELS),
)


def _terms(row: str, boolean) -> dict[str, str]:
    """Each counted column's 0/1 term for the response `row` (NEW, OLD or a table name);
    `boolean(expression)` turns an SQL condition into 0 or 1."""
    valid = f"{row}.status = 'valid'"
    terms = {
        "valid": boolean(valid),
        "satisfied": boolean(f"{valid} AND {row}.satisfied"),
        "flagged": boolean(f"{row}.status = 'flagged'"),
        "excluded": boolean(f"{row}.status = 'excluded'"),
    }
    for channel in CHANNELS:
        terms[f"valid_{channel}"] = boolean(f"{valid} AND {row}.channel = '{channel}'")
        terms[f"satisfied_{channel}"] = boolean(
            f"{valid} AND {row}.satisfied AND {row}.channel = '{channel}'"
        )
    return terms


# ---- SQLite --------------------------------------------------------------------------------

SQLITE_MONTH = "CAST(strftime('%Y%m', {row}.occurred_at, '+7 hours') AS INTEGER)"


def _sqlite_shift(row: str, sign: str) -> str:
    """Add (`sign` "+") or remove ("-") the response `row` (NEW or OLD)."""
    terms = _terms(row, lambda condition: f"({condition})")
    month = SQLITE_MONTH.format(row=row)
    return f"""
    INSERT INTO agency_month (month, agency_id, {", ".join(COUNTED)})
    VALUES ({month}, {row}.agency_id, {", ".join(f"{sign}{terms[c]}" for c in COUNTED)})
    ON CONFLICT (month, agency_id) DO UPDATE SET
        {", ".join(f"{c} = {c} + excluded.{c}" for c in COUNTED)};
    INSERT INTO level_month (month, agency_id, level, valid)
    SELECT {month}, {row}.agency_id, {row}.level, {sign}1 WHERE {row}.status = 'valid'
    ON CONFLICT (month, agency_id, level) DO UPDATE SET valid = valid + excluded.valid;
"""


SQLITE_SAME = " AND ".join(f"OLD.{column} IS NEW.{column}" for column in WATCHED)
SQLITE_TRIGGERS = {
    "agency_month_insert": f"AFTER INSERT ON response BEGIN {_sqlite_shift('NEW', '+')} END",
    "agency_month_delete": f"AFTER DELETE ON response BEGIN {_sqlite_shift('OLD', '-')} END",
    "agency_month_update": (
        f"AFTER UPDATE OF {', '.join(WATCHED)} ON response WHEN NOT ({SQLITE_SAME}) "
        f"BEGIN {_sqlite_shift('OLD', '-')} {_sqlite_shift('NEW', '+')} END"
    ),
}

# ---- PostgreSQL ----------------------------------------------------------------------------

_PG_TERMS = _terms("r", lambda condition: f"({condition})::int")
PG_SHIFT = f"""
CREATE FUNCTION agency_month_shift(r response, s int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m int := to_char(r.occurred_at + interval '7 hours', 'YYYYMM')::int;
BEGIN
    -- The agency's month first (its row lock), then its level: see the module docstring.
    INSERT INTO agency_month AS a (month, agency_id, {", ".join(COUNTED)})
    VALUES (m, r.agency_id, {", ".join(f"s * {_PG_TERMS[c]}" for c in COUNTED)})
    ON CONFLICT (month, agency_id) DO UPDATE SET
        {", ".join(f"{c} = a.{c} + EXCLUDED.{c}" for c in COUNTED)};
    IF r.status = 'valid' THEN
        INSERT INTO level_month AS l (month, agency_id, level, valid)
        VALUES (m, r.agency_id, r.level, s)
        ON CONFLICT (month, agency_id, level) DO UPDATE SET valid = l.valid + EXCLUDED.valid;
    END IF;
END
$$
"""
PG_KEEP = f"""
CREATE FUNCTION agency_month_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF ({", ".join(f"OLD.{c}" for c in WATCHED)}) IS NOT DISTINCT FROM
           ({", ".join(f"NEW.{c}" for c in WATCHED)}) THEN
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM agency_month_shift(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM agency_month_shift(NEW, 1);
    END IF;
    RETURN NULL;
END
$$
"""
# Deferred to the commit, and named to fire before `desk_day_keep` (triggers of one event fire
# in the order of their names): see the module docstring.
PG_TRIGGER = (
    f"CREATE CONSTRAINT TRIGGER agency_month_keep AFTER INSERT OR DELETE "
    f"OR UPDATE OF {', '.join(WATCHED)} ON response DEFERRABLE INITIALLY DEFERRED "
    "FOR EACH ROW EXECUTE FUNCTION agency_month_keep()"
)


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in (PG_SHIFT, PG_KEEP, PG_TRIGGER):
            op.execute(statement)
        return
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS agency_month_keep ON response")
        op.execute("DROP FUNCTION IF EXISTS agency_month_keep()")
        op.execute("DROP FUNCTION IF EXISTS agency_month_shift(response, int)")
        return
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def backfill_statements() -> list[str]:
    """The statements that fill both tables from `response_month`, which holds every dimension
    they keep and is far smaller than `response` (the same on SQLite and PostgreSQL; the
    benchmark's bulk loads run them too)."""
    terms = _terms("m", lambda condition: f"CASE WHEN {condition} THEN m.responses ELSE 0 END")
    terms["satisfied"] = "CASE WHEN m.status = 'valid' THEN m.satisfied ELSE 0 END"
    for channel in CHANNELS:
        terms[f"satisfied_{channel}"] = (
            f"CASE WHEN m.status = 'valid' AND m.channel = '{channel}' THEN m.satisfied ELSE 0 END"
        )
    return [
        f"INSERT INTO agency_month (month, agency_id, {', '.join(COUNTED)}) "
        f"SELECT m.month, m.agency_id, {', '.join(f'sum({terms[c]})' for c in COUNTED)} "
        "FROM response_month AS m GROUP BY m.month, m.agency_id",
        "INSERT INTO level_month (month, agency_id, level, valid) "
        "SELECT month, agency_id, level, sum(responses) FROM response_month "
        "WHERE status = 'valid' GROUP BY month, agency_id, level",
    ]


def backfill() -> None:
    for statement in backfill_statements():
        op.execute(statement)


def upgrade():
    op.create_table(
        "agency_month",
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        *(sa.Column(column, sa.Integer(), nullable=False) for column in COUNTED),
        sa.PrimaryKeyConstraint("month", "agency_id", name="pk_agency_month"),
    )
    op.create_table(
        "level_month",
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=40), nullable=False),
        sa.Column("valid", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "agency_id", "level", name="pk_level_month"),
    )
    create_triggers()
    backfill()


def downgrade():
    drop_triggers()
    op.drop_table("level_month")
    op.drop_table("agency_month")
