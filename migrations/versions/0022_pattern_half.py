"""response.answer_pattern and pattern_half: the indicator score's roll-up, kept by triggers

The indicator score of a report reads, per agency, the counts of its responses' answer
patterns; without a roll-up that is every answer of the period, and a province's yearly
report grew ten times from 1M to 10M responses (docs/performance.md, "The indicator score at
scale"). This migration keeps, per half month (`yyyymm01`: days 1-14, `yyyymm15`: the rest,
Vietnam time, so that calendar and reporting-regime periods, which start on the 1st or the
15th, are whole halves), agency, questionnaire and status, how many responses answered each
pair of criteria at each pair of levels (`survey.patterns`): a fixed number of counts per row
whatever the data, from which the score's moments follow for any points.

- `response.answer_pattern`: the response's answers as one short text (`survey.patterns`).
  The writers set it. A trigger on `answer` recomputes it from the answers and the
  questionnaire when an answer is inserted that it does not account for (fewer answered
  criteria in it than the response has answers: a writer that left it out), and whenever an
  answer is changed or deleted.
- `pattern_half`: triggers on `response` add each response's pattern under its key, move it
  when the key or the pattern changes (review decisions, exclusions, mergers, retimes, the
  trigger above) and remove it on DELETE (purges). The counts are added by `pattern_half_add`,
  in PL/pgSQL on PostgreSQL and a Python function registered on every SQLite connection
  (`survey.extensions`): a SQLite connection without it cannot write responses.

On PostgreSQL, `pattern_half_keep` is a constraint trigger deferred to the commit, named to
fire after `agency_month_keep` (0021): a transaction holding a half's row already holds the
agency month of the same response, so writers cannot wait for each other on these rows.

On SQLite, a later migration that rebuilds `response` or `answer` with `batch_alter_table`
drops these triggers: such a migration must create them again (`create_triggers` below);
tests/survey/test_rollup.py fails at head if they are missing.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

KEY = ("half", "agency_id", "questionnaire_id", "status")
#: The columns of `response` that decide its row in `pattern_half`, or what it adds there.
WATCHED = ("occurred_at", "agency_id", "questionnaire_id", "status", "answer_pattern")
#: Whether the response `row` has a pattern that accounts for fewer answered criteria than it
#: has answers (a writer left it out): checked before the pattern is recomputed, which reads
#: the questionnaire's JSON.
BEHIND = (
    "(SELECT r.answer_pattern IS NULL OR length(replace(substr(r.answer_pattern, 2), '0', '')) "
    "< (SELECT count(*) FROM answer AS n WHERE n.response_id = r.id) "
    "FROM response AS r WHERE r.id = {row}.response_id)"
)

# ---- SQLite --------------------------------------------------------------------------------

SQLITE_HALF = (
    "(CAST(strftime('%Y%m', {row}.occurred_at, '+7 hours') AS INTEGER) * 100 + CASE WHEN "
    "CAST(strftime('%d', {row}.occurred_at, '+7 hours') AS INTEGER) < 15 THEN 1 ELSE 15 END)"
)
SQLITE_PATTERN_OF = (
    "(SELECT answer_pattern_of(q.levels, q.criteria, (SELECT json_group_object(a.criterion, "
    "a.level) FROM answer AS a WHERE a.response_id = response.id)) FROM questionnaire AS q "
    "WHERE q.id = response.questionnaire_id)"
)


def _sqlite_add(row: str) -> str:
    return f"""
    INSERT INTO pattern_half ({", ".join(KEY)}, counts)
    SELECT {SQLITE_HALF.format(row=row)}, {row}.agency_id, {row}.questionnaire_id, {row}.status,
           pattern_half_add(NULL, {row}.answer_pattern, 1)
    WHERE {row}.answer_pattern IS NOT NULL
    ON CONFLICT ({", ".join(KEY)})
    DO UPDATE SET counts = pattern_half_add(counts, {row}.answer_pattern, 1);
"""


def _sqlite_remove(row: str) -> str:
    return f"""
    UPDATE pattern_half SET counts = pattern_half_add(counts, {row}.answer_pattern, -1)
    WHERE {row}.answer_pattern IS NOT NULL AND half = {SQLITE_HALF.format(row=row)}
      AND agency_id = {row}.agency_id AND questionnaire_id = {row}.questionnaire_id
      AND status = {row}.status;
"""


def _sqlite_recompute(response_id: str) -> str:
    return f"""
    UPDATE response SET answer_pattern = {SQLITE_PATTERN_OF}
    WHERE response.id = {response_id} AND response.answer_pattern IS NOT {SQLITE_PATTERN_OF};
"""


SQLITE_SAME = " AND ".join(f"OLD.{column} IS NEW.{column}" for column in WATCHED)
SQLITE_TRIGGERS = {
    "pattern_half_insert": f"AFTER INSERT ON response BEGIN {_sqlite_add('NEW')} END",
    "pattern_half_delete": f"AFTER DELETE ON response BEGIN {_sqlite_remove('OLD')} END",
    "pattern_half_update": (
        f"AFTER UPDATE OF {', '.join(WATCHED)} ON response WHEN NOT ({SQLITE_SAME}) "
        f"BEGIN {_sqlite_remove('OLD')} {_sqlite_add('NEW')} END"
    ),
    # WHEN first: a writer that set the pattern costs one look-up per answer.
    "answer_pattern_insert": (
        f"AFTER INSERT ON answer WHEN {BEHIND.format(row='NEW')} "
        f"BEGIN {_sqlite_recompute('NEW.response_id')} END"
    ),
    "answer_pattern_update": (
        "AFTER UPDATE OF response_id, criterion, level ON answer BEGIN "
        f"{_sqlite_recompute('OLD.response_id')} {_sqlite_recompute('NEW.response_id')} END"
    ),
    "answer_pattern_delete": (
        f"AFTER DELETE ON answer BEGIN {_sqlite_recompute('OLD.response_id')} END"
    ),
}

# ---- PostgreSQL ----------------------------------------------------------------------------

PG_HALF = (
    "to_char({row}.occurred_at + interval '7 hours', 'YYYYMM')::int * 100 + CASE WHEN "
    "extract(day FROM {row}.occurred_at + interval '7 hours') < 15 THEN 1 ELSE 15 END"
)
PG_FUNCTIONS = [
    # survey.patterns.add: the counts are big-endian 32-bit integers (int4send's bytes).
    """
CREATE FUNCTION pattern_half_add(counts bytea, pattern text, s int) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    levels int;
    k int;
    out bytea;
    a int;
    b int;
    o int;
    answered boolean := false;
BEGIN
    IF pattern IS NULL THEN
        RETURN counts;
    END IF;
    levels := substr(pattern, 1, 1)::int;
    k := length(pattern) - 1;
    out := coalesce(counts, decode(repeat('00', 4 * (1 + k * (k + 1) / 2 * levels * levels)),
                                   'hex'));
    FOR i IN 0 .. k - 1 LOOP
        a := substr(pattern, i + 2, 1)::int;
        CONTINUE WHEN a = 0;
        answered := true;
        FOR j IN i .. k - 1 LOOP
            b := substr(pattern, j + 2, 1)::int;
            CONTINUE WHEN b = 0;
            o := 4 * (1 + (i * k - i * (i - 1) / 2 + j - i) * levels * levels
                      + (a - 1) * levels + b - 1);
            out := overlay(out PLACING int4send((get_byte(out, o) << 24)
                   + (get_byte(out, o + 1) << 16) + (get_byte(out, o + 2) << 8)
                   + get_byte(out, o + 3) + s) FROM o + 1 FOR 4);
        END LOOP;
    END LOOP;
    IF answered THEN
        out := overlay(out PLACING int4send((get_byte(out, 0) << 24) + (get_byte(out, 1) << 16)
               + (get_byte(out, 2) << 8) + get_byte(out, 3) + s) FROM 1 FOR 4);
    END IF;
    RETURN out;
END
$$
""",
    # survey.patterns.pattern, from the answers stored and the questionnaire.
    """
CREATE FUNCTION answer_pattern_of(r uuid) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN max(l.pos) IS NULL THEN NULL
                ELSE jsonb_array_length(q.levels::jsonb)::text
                     || string_agg(coalesce(l.pos, 0)::text, '' ORDER BY c.pos) END
    FROM response AS x
    JOIN questionnaire AS q ON q.id = x.questionnaire_id
    CROSS JOIN LATERAL jsonb_array_elements(coalesce(q.criteria::jsonb, '[]'))
        WITH ORDINALITY AS c(item, pos)
    LEFT JOIN answer AS a ON a.response_id = x.id AND a.criterion = c.item ->> 'code'
    LEFT JOIN LATERAL (
        SELECT v.pos FROM jsonb_array_elements(q.levels::jsonb) WITH ORDINALITY AS v(item, pos)
        WHERE v.item ->> 'code' = a.level
    ) AS l ON true
    WHERE x.id = r
    GROUP BY q.id
$$
""",
    f"""
CREATE FUNCTION answer_pattern_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- In an IF, not the UPDATE's WHERE: the planner orders a WHERE's conditions by cost
        -- and called answer_pattern_of (the questionnaire's JSON) for every answer.
        IF {BEHIND.format(row="NEW")} THEN
            UPDATE response SET answer_pattern = answer_pattern_of(response.id)
            WHERE response.id = NEW.response_id
              AND response.answer_pattern IS DISTINCT FROM answer_pattern_of(response.id);
        END IF;
        RETURN NULL;
    END IF;
    UPDATE response SET answer_pattern = answer_pattern_of(response.id)
    WHERE response.id = OLD.response_id
      AND response.answer_pattern IS DISTINCT FROM answer_pattern_of(response.id);
    IF TG_OP = 'UPDATE' AND NEW.response_id <> OLD.response_id THEN
        UPDATE response SET answer_pattern = answer_pattern_of(response.id)
        WHERE response.id = NEW.response_id
          AND response.answer_pattern IS DISTINCT FROM answer_pattern_of(response.id);
    END IF;
    RETURN NULL;
END
$$
""",
    f"""
CREATE FUNCTION pattern_half_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF ({", ".join(f"OLD.{c}" for c in WATCHED)}) IS NOT DISTINCT FROM
           ({", ".join(f"NEW.{c}" for c in WATCHED)}) THEN
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.answer_pattern IS NOT NULL THEN
        UPDATE pattern_half SET counts = pattern_half_add(counts, OLD.answer_pattern, -1)
        WHERE half = {PG_HALF.format(row="OLD")} AND agency_id = OLD.agency_id
          AND questionnaire_id = OLD.questionnaire_id AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.answer_pattern IS NOT NULL THEN
        INSERT INTO pattern_half AS p ({", ".join(KEY)}, counts)
        VALUES ({PG_HALF.format(row="NEW")}, NEW.agency_id, NEW.questionnaire_id, NEW.status,
                pattern_half_add(NULL, NEW.answer_pattern, 1))
        ON CONFLICT ({", ".join(KEY)})
        DO UPDATE SET counts = pattern_half_add(p.counts, NEW.answer_pattern, 1);
    END IF;
    RETURN NULL;
END
$$
""",
]
PG_TRIGGERS = [
    # Deferred to the commit and named to fire after agency_month_keep: the module docstring.
    f"CREATE CONSTRAINT TRIGGER pattern_half_keep AFTER INSERT OR DELETE "
    f"OR UPDATE OF {', '.join(WATCHED)} ON response DEFERRABLE INITIALLY DEFERRED "
    "FOR EACH ROW EXECUTE FUNCTION pattern_half_keep()",
    "CREATE TRIGGER answer_pattern_keep AFTER INSERT OR DELETE "
    "OR UPDATE OF response_id, criterion, level ON answer "
    "FOR EACH ROW EXECUTE FUNCTION answer_pattern_keep()",
]


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in (*PG_FUNCTIONS, *PG_TRIGGERS):
            op.execute(statement)
        return
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS answer_pattern_keep ON answer")
        op.execute("DROP TRIGGER IF EXISTS pattern_half_keep ON response")
        op.execute("DROP FUNCTION IF EXISTS answer_pattern_keep()")
        op.execute("DROP FUNCTION IF EXISTS pattern_half_keep()")
        op.execute("DROP FUNCTION IF EXISTS answer_pattern_of(uuid)")
        op.execute("DROP FUNCTION IF EXISTS pattern_half_add(bytea, text, int)")
        return
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def backfill(connection: sa.Connection) -> None:
    """Each response's pattern, one UPDATE per questionnaire, then `pattern_half` from the
    patterns (survey.patterns.counts_of): before the triggers exist, so that nothing is
    counted twice. The benchmark's bulk loads run it too."""
    meta = sa.MetaData()
    response = sa.Table(
        "response",
        meta,
        sa.Column("id", sa.Uuid),
        sa.Column("questionnaire_id", sa.Integer),
        sa.Column("answer_pattern", sa.String),
        sa.Column("agency_id", sa.Integer),
        sa.Column("status", sa.String),
        sa.Column("occurred_at", sa.DateTime),
    )
    answer = sa.Table(
        "answer",
        meta,
        sa.Column("response_id", sa.Uuid),
        sa.Column("criterion", sa.String),
        sa.Column("level", sa.String),
    )
    questionnaire = sa.Table(
        "questionnaire",
        meta,
        sa.Column("id", sa.Integer),
        sa.Column("levels", sa.JSON),
        sa.Column("criteria", sa.JSON),
    )
    for qid, levels, criteria in connection.execute(sa.select(questionnaire)).all():
        level_codes = [item["code"] for item in levels or []]
        codes = [item["code"] for item in criteria or []]
        if not level_codes or not codes:
            continue
        place = sa.case(
            {code: i + 1 for i, code in enumerate(level_codes)}, value=answer.c.level, else_=0
        )
        digits = [
            sa.func.max(sa.case((answer.c.criterion == code, place), else_=0)) for code in codes
        ]
        text = sa.literal(str(len(level_codes)))
        for digit in digits:
            text = text + sa.cast(digit, sa.String)
        per_response = (
            sa.select(answer.c.response_id.label("id"), text.label("pattern"))
            .join(response, response.c.id == answer.c.response_id)
            .where(response.c.questionnaire_id == qid)
            .group_by(answer.c.response_id)
            .having(sa.func.max(sa.case((answer.c.criterion.in_(codes), place), else_=0)) > 0)
            .subquery()
        )
        connection.execute(
            sa.update(response)
            .values(answer_pattern=per_response.c.pattern)
            .where(response.c.id == per_response.c.id)
        )
    fill_halves(connection)


def fill_halves(connection: sa.Connection, groups_per_pass: int = 2000) -> None:
    """`pattern_half` from `response.answer_pattern` (emptied first): per questionnaire, the
    distinct patterns of each half month, agency and status, counted by
    `survey.patterns.grouped_counts` for `groups_per_pass` rows of `pattern_half` at a time."""
    import numpy as np

    from survey import patterns

    half = (PG_HALF if connection.dialect.name == "postgresql" else SQLITE_HALF).format(
        row="response"
    )
    connection.execute(sa.text("DELETE FROM pattern_half"))
    table = sa.table(
        "pattern_half", *(sa.column(c) for c in KEY), sa.column("counts", sa.LargeBinary)
    )
    qids = connection.scalars(
        sa.text(
            "SELECT DISTINCT questionnaire_id FROM response WHERE answer_pattern IS NOT NULL "
            "ORDER BY 1"
        )
    ).all()
    for qid in qids:
        rows = connection.execute(
            sa.text(
                f"SELECT {half}, agency_id, status, answer_pattern, count(*) FROM response "
                "WHERE answer_pattern IS NOT NULL AND questionnaire_id = :qid "
                "GROUP BY 1, agency_id, status, answer_pattern ORDER BY 1, 2, 3"
            ),
            {"qid": qid},
        ).all()
        # Rows come sorted by their key: a new group starts where the key changes.
        starts = [0] + [r for r in range(1, len(rows)) if rows[r][:3] != rows[r - 1][:3]]
        group = np.zeros(len(rows), dtype=np.int64)
        group[starts[1:]] = 1
        group = np.cumsum(group)
        for first in range(0, len(starts), groups_per_pass):
            last = min(first + groups_per_pass, len(starts))
            lo = starts[first]
            hi = starts[last] if last < len(starts) else len(rows)
            counts = patterns.grouped_counts(
                [r[3] for r in rows[lo:hi]],
                [r[4] for r in rows[lo:hi]],
                group[lo:hi] - first,
                last - first,
            ).astype(patterns.COUNTS)
            connection.execute(
                sa.insert(table),
                [
                    dict(zip(KEY, (*rows[s][:2], qid, rows[s][2]), strict=True), counts=c.tobytes())
                    for s, c in zip(starts[first:last], counts, strict=True)
                ],
            )


def upgrade():
    op.add_column("response", sa.Column("answer_pattern", sa.String(length=24), nullable=True))
    op.create_table(
        "pattern_half",
        sa.Column("half", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("counts", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name="pk_pattern_half"),
    )
    backfill(op.get_bind())
    create_triggers()


def downgrade():
    drop_triggers()
    op.drop_table("pattern_half")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE response DROP COLUMN answer_pattern")  # keeps the triggers
    else:
        op.drop_column("response", "answer_pattern")
