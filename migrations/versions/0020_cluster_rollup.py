"""desk_day and cluster_month: the design effect's desk-day clusters, kept by triggers in every
write's transaction

The design effect (docs/statistics.md, "Clustering") needs, per agency and period, the additive
moments of its desk-day clusters of valid responses: the number of clusters k, Σn, Σx, Σx²/n
and Σn² (n valid and x satisfied responses of a desk on a Vietnam-time day). Counted from
`response` they cost a GROUP BY over every valid response of the period. Two roll-ups keep them
instead, like `response_month` (0014) and `answer_month` (0018):

- `desk_day`: one row per local day (days since 1970-01-01, Vietnam time), agency and desk with
  valid responses, holding n and x. A row whose n falls to 0 is deleted.
- `cluster_month`: one row per Vietnam-time month (yyyymm) and agency, holding the sums over
  that month's desk-days of the agency: k, Σn, Σx, Σx²/n and Σn².

A write that adds a valid response to a desk-day, or removes one from it (an insert; a review
decision or exclusion that changes its status; a purge; a merger that changes its agency; a
retime; a change of `satisfied`), changes that desk-day's (n, x) by (±1, ±satisfied), and its
month's moments by the new desk-day's terms minus the old ones. Σx²/n is a float: it is kept by
adding differences of correctly rounded terms, so it can drift from a fresh sum by a few units
in the last place per write (tests compare it with a relative tolerance); it is reset to exactly
0 when a month of an agency has no cluster left.

On PostgreSQL, `desk_day_keep` is a constraint trigger deferred to the commit, so each writer
takes these tables' row locks after all of `response_month`'s and `answer_month`'s (taken row
by row as its statements run, in 0018's order), and within them an agency's month before its
desk-day (`desk_day_shift`): the order that keeps concurrent writers from deadlocking (see
PG_TRIGGER). The roll-ups are still written in the writer's own transaction, at its commit.

On SQLite, a later migration that rebuilds `response` with `batch_alter_table` drops these
triggers: such a migration must create them again (`create_triggers` below);
tests/survey/test_rollup.py fails at head if they are missing.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

#: The columns of `response` that decide its desk-day.
CLUSTERED = ("occurred_at", "agency_id", "desk_id", "status", "satisfied")

# ---- SQLite --------------------------------------------------------------------------------

# Date strings, not julianday arithmetic on the timestamp: exact to the microsecond at midnight.
SQLITE_DAY = "CAST(julianday(date({row}.occurred_at, '+7 hours')) - 2440587.5 AS INTEGER)"
SQLITE_MONTH = "CAST(strftime('%Y%m', {row}.occurred_at, '+7 hours') AS INTEGER)"
SQLITE_TERM = "(CASE WHEN {n} > 0 THEN CAST({x} AS REAL) * ({x}) / ({n}) ELSE 0.0 END)"


def _sqlite_shift(row: str, sign: str, when: str) -> str:
    """Add (`sign` "+") or remove ("-") the response `row` (NEW or OLD) to or from its
    desk-day, when `when`: the month's moments first, from the desk-day's values before the
    change, then the desk-day itself."""
    key = (
        f"day = {SQLITE_DAY.format(row=row)} AND agency_id = {row}.agency_id "
        f"AND desk_id = {row}.desk_id"
    )
    dn, dx = f"{sign}1", f"{sign}{row}.satisfied"
    n0, x0 = "k.n0", "k.x0"
    n1, x1 = f"(k.n0 {sign} 1)", f"(k.x0 {sign} {row}.satisfied)"
    return f"""
    INSERT INTO cluster_month (month, agency_id, clusters, responses, satisfied, sum_x2_n,
                               sum_n2)
    SELECT {SQLITE_MONTH.format(row=row)}, {row}.agency_id, ({n1} > 0) - ({n0} > 0), {dn},
           {dx}, {SQLITE_TERM.format(n=n1, x=x1)} - {SQLITE_TERM.format(n=n0, x=x0)},
           {n1} * {n1} - {n0} * {n0}
    FROM (SELECT coalesce((SELECT responses FROM desk_day WHERE {key}), 0) AS n0,
                 coalesce((SELECT satisfied FROM desk_day WHERE {key}), 0) AS x0) AS k
    WHERE {when}
    ON CONFLICT (month, agency_id) DO UPDATE SET
        clusters = clusters + excluded.clusters,
        responses = responses + excluded.responses,
        satisfied = satisfied + excluded.satisfied,
        sum_x2_n = CASE WHEN clusters + excluded.clusters = 0 THEN 0.0
                        ELSE sum_x2_n + excluded.sum_x2_n END,
        sum_n2 = sum_n2 + excluded.sum_n2;
    INSERT INTO desk_day (day, agency_id, desk_id, responses, satisfied)
    SELECT {SQLITE_DAY.format(row=row)}, {row}.agency_id, {row}.desk_id, {dn}, {dx}
    WHERE {when}
    ON CONFLICT (day, agency_id, desk_id) DO UPDATE SET
        responses = responses + excluded.responses, satisfied = satisfied + excluded.satisfied;
    DELETE FROM desk_day WHERE {key} AND responses = 0 AND {when};
"""


SQLITE_SAME = " AND ".join(f"OLD.{column} IS NEW.{column}" for column in CLUSTERED)
SQLITE_TRIGGERS = {
    "desk_day_insert": (
        "AFTER INSERT ON response WHEN NEW.status = 'valid' "
        f"BEGIN {_sqlite_shift('NEW', '+', '1')} END"
    ),
    "desk_day_delete": (
        "AFTER DELETE ON response WHEN OLD.status = 'valid' "
        f"BEGIN {_sqlite_shift('OLD', '-', '1')} END"
    ),
    "desk_day_update": (
        f"AFTER UPDATE OF {', '.join(CLUSTERED)} ON response "
        f"WHEN (OLD.status = 'valid' OR NEW.status = 'valid') AND NOT ({SQLITE_SAME}) BEGIN "
        + _sqlite_shift("OLD", "-", "OLD.status = 'valid'")
        + _sqlite_shift("NEW", "+", "NEW.status = 'valid'")
        + " END"
    ),
}

# ---- PostgreSQL ----------------------------------------------------------------------------

PG_DAY = "(CAST({at} + interval '25200 seconds' AS date) - DATE '1970-01-01')"
PG_SHIFT = f"""
CREATE FUNCTION desk_day_shift(p_agency int, p_desk int, p_at timestamp, dn int, dx int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m int := to_char(p_at + interval '7 hours', 'YYYYMM')::int;
    d int := {PG_DAY.format(at="p_at")};
    n1 int;
    x1 int;
    n0 int;
    x0 int;
BEGIN
    -- The agency's month first (its row lock), then the desk-day: whoever holds a desk-day
    -- holds its month, so two writers cannot wait for each other on the pair.
    INSERT INTO cluster_month AS c (month, agency_id, clusters, responses, satisfied, sum_x2_n,
                                    sum_n2)
    VALUES (m, p_agency, 0, dn, dx, 0, 0)
    ON CONFLICT (month, agency_id) DO UPDATE SET
        responses = c.responses + EXCLUDED.responses,
        satisfied = c.satisfied + EXCLUDED.satisfied;
    INSERT INTO desk_day AS k (day, agency_id, desk_id, responses, satisfied)
    VALUES (d, p_agency, p_desk, dn, dx)
    ON CONFLICT (day, agency_id, desk_id)
    DO UPDATE SET responses = k.responses + EXCLUDED.responses,
                  satisfied = k.satisfied + EXCLUDED.satisfied
    RETURNING k.responses, k.satisfied INTO n1, x1;
    n0 := n1 - dn;
    x0 := x1 - dx;
    IF n1 = 0 THEN
        DELETE FROM desk_day AS k
        WHERE k.day = d AND k.agency_id = p_agency AND k.desk_id = p_desk;
    END IF;
    UPDATE cluster_month AS c SET
        clusters = c.clusters + (n1 > 0)::int - (n0 > 0)::int,
        sum_x2_n = CASE WHEN c.clusters + (n1 > 0)::int - (n0 > 0)::int = 0 THEN 0
                        ELSE c.sum_x2_n
                             + CASE WHEN n1 > 0 THEN x1::float8 * x1 / n1 ELSE 0 END
                             - CASE WHEN n0 > 0 THEN x0::float8 * x0 / n0 ELSE 0 END END,
        sum_n2 = c.sum_n2 + n1::bigint * n1 - n0::bigint * n0
    WHERE c.month = m AND c.agency_id = p_agency;
END
$$
"""
# A response's old desk-day out, its new one in, unless nothing of its desk-day changed.
PG_KEEP = """
CREATE FUNCTION desk_day_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (OLD.status, OLD.agency_id, OLD.desk_id, OLD.occurred_at, OLD.satisfied)
           IS NOT DISTINCT FROM
           (NEW.status, NEW.agency_id, NEW.desk_id, NEW.occurred_at, NEW.satisfied) THEN
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'valid' THEN
        PERFORM desk_day_shift(OLD.agency_id, OLD.desk_id, OLD.occurred_at, -1,
                               -OLD.satisfied::int);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'valid' THEN
        PERFORM desk_day_shift(NEW.agency_id, NEW.desk_id, NEW.occurred_at, 1,
                               NEW.satisfied::int);
    END IF;
    RETURN NULL;
END
$$
"""
# Deferred to the commit: a transaction takes these two tables' row locks after every lock of
# its statements (response_month's and answer_month's, taken row by row as its statements run),
# so a multi-row writer holding a month of clusters never waits for a single-row writer's
# response_month row while that writer waits for the month (the concurrent-writers test
# deadlocked with the work done row by row in the statement).
PG_TRIGGER = (
    f"CREATE CONSTRAINT TRIGGER desk_day_keep AFTER INSERT OR DELETE "
    f"OR UPDATE OF {', '.join(CLUSTERED)} ON response DEFERRABLE INITIALLY DEFERRED "
    "FOR EACH ROW EXECUTE FUNCTION desk_day_keep()"
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
        op.execute("DROP TRIGGER IF EXISTS desk_day_keep ON response")
        op.execute("DROP FUNCTION IF EXISTS desk_day_keep()")
        op.execute("DROP FUNCTION IF EXISTS desk_day_shift(int, int, timestamp, int, int)")
        return
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def backfill() -> None:
    """Fill both tables from `response` (the migration's upgrade, and bulk loads)."""
    if op.get_bind().dialect.name == "postgresql":
        day, satisfied = PG_DAY.format(at="occurred_at"), "satisfied::int"
        month = "to_char(DATE '1970-01-01' + day, 'YYYYMM')::int"
        term, square = "satisfied::float8 * satisfied / responses", "responses::bigint * responses"
    else:
        day, satisfied = SQLITE_DAY.format(row="response"), "satisfied"
        month = "CAST(strftime('%Y%m', day + 2440587.5) AS INTEGER)"
        term = "CAST(satisfied AS REAL) * satisfied / responses"
        square = "responses * responses"
    op.execute(
        "INSERT INTO desk_day (day, agency_id, desk_id, responses, satisfied) "
        f"SELECT {day}, agency_id, desk_id, count(*), sum({satisfied}) FROM response "
        f"WHERE status = 'valid' GROUP BY {day}, agency_id, desk_id"
    )
    op.execute(
        "INSERT INTO cluster_month (month, agency_id, clusters, responses, satisfied, sum_x2_n, "
        f"sum_n2) SELECT {month}, agency_id, count(*), sum(responses), sum(satisfied), "
        f"sum({term}), sum({square}) FROM desk_day GROUP BY {month}, agency_id"
    )


def upgrade():
    op.create_table(
        "desk_day",
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "agency_id", "desk_id", name="pk_desk_day"),
    )
    op.create_table(
        "cluster_month",
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("clusters", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("sum_x2_n", sa.Double(), nullable=False),
        sa.Column("sum_n2", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "agency_id", name="pk_cluster_month"),
    )
    create_triggers()
    backfill()


def downgrade():
    drop_triggers()
    op.drop_table("cluster_month")
    op.drop_table("desk_day")
