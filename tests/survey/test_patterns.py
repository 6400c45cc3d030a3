"""survey.patterns: a response's answers as a pattern, their pair counts, and the indicator
score's moments from those counts (the roll-up `pattern_half`, migration 0022)."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.points import ScoreMoments, unstack_moments
from survey import patterns
from survey.extensions import db

LEVELS = ["rat_hai_long", "hai_long", "khong_hai_long"]
CRITERIA = ["a", "b", "c", "d"]


def test_a_pattern_is_the_number_of_levels_then_a_digit_per_criterion():
    assert patterns.pattern(LEVELS, CRITERIA, {"b": "hai_long", "d": "rat_hai_long"}) == "30201"
    assert patterns.pattern(LEVELS, CRITERIA, {}) is None
    assert patterns.pattern(LEVELS, CRITERIA, {"zz": "hai_long", "a": "unknown"}) is None
    assert patterns.size(9, 3) == 406  # the official questionnaire on three levels


def test_the_half_months_start_on_the_first_and_the_fifteenth():
    from datetime import date

    assert patterns.half_key(date(2026, 6, 14)) == 20260601
    assert patterns.half_key(date(2026, 6, 15)) == 20260615
    assert patterns.half_key(date(2026, 6, 30)) == 20260615


def test_counts_of_one_response():
    counts = patterns.counts_of(["30201"])
    assert counts[0] == 1  # one response answered something
    place = patterns._pair_places(4, 3)
    # b at level 2 with itself, with d at level 1; d at level 1 with itself: nothing else.
    expected = {place[1, 1, 1, 1], place[1, 3, 1, 0], place[3, 3, 0, 0]}
    assert set(np.flatnonzero(counts[1:]) + 1) == expected
    assert counts.sum() == 4


def test_add_and_remove_are_inverse_and_additive():
    one = patterns.add(None, "30201", 1)
    both = patterns.add(one, "31113", 1)
    assert np.array_equal(
        np.frombuffer(both, dtype=patterns.COUNTS), patterns.counts_of(["30201", "31113"])
    )
    back = patterns.add(both, "31113", -1)
    assert back == one
    assert patterns.add(one, None, 1) == one


answers = st.dictionaries(st.sampled_from(CRITERIA), st.sampled_from(LEVELS), max_size=4)


@settings(max_examples=60, deadline=None)
@given(
    responses=st.lists(st.tuples(answers, st.integers(1, 5)), min_size=1, max_size=30),
    points=st.lists(st.floats(0, 10, allow_nan=False), min_size=3, max_size=3),
)
def test_the_moments_from_the_counts_equal_those_of_the_points(responses, points):
    """The oracle is `ScoreMoments.from_points`, on the points of every response; the report's
    indicators are in another order than the questionnaire's, with one more indicator that
    this questionnaire does not ask."""
    given_ = [(patterns.pattern(LEVELS, CRITERIA, a), w) for a, w in responses]
    kept = [(p, w) for p, w in given_ if p]
    columns = [2, 0, 4, 1]  # criterion i of the questionnaire is the report's indicator columns[i]
    width = 5
    matrix = np.full((len(responses), width), np.nan)
    for r, (a, _w) in enumerate(responses):
        for i, code in enumerate(CRITERIA):
            if code in a:
                matrix[r, columns[i]] = points[LEVELS.index(a[code])]
    oracle = ScoreMoments.from_points(matrix, [w for _a, w in responses])
    if not kept:
        assert oracle.responses == 0
        return
    counts = patterns.counts_of([p for p, _w in kept], [w for _p, w in kept])
    got = unstack_moments(patterns.moments(counts[None, :], columns, points, width), width)
    assert got[0][0] == oracle.responses
    # atol: the two sums add in different orders, so a product of subnormal points (5e-324,
    # which hypothesis finds) can underflow to 0 in one and not the other.
    close = {"rtol": 1e-7, "atol": 1e-12}
    np.testing.assert_allclose(got[1][0], oracle.pairs, **close)
    np.testing.assert_allclose(got[2][0], oracle.sums, **close)
    np.testing.assert_allclose(got[3][0], oracle.products, **close)


def test_grouped_counts_equal_one_group_at_a_time():
    found = ["30201", "31113", "30000", "33333", "30201"]
    groups = [2, 0, 2, 0, 1]
    weights = [1, 2, 3, 4, 5]
    grouped = patterns.grouped_counts(found, weights, groups, 4)
    for g in range(4):
        mine = [(p, w) for p, w, h in zip(found, weights, groups, strict=True) if h == g]
        expected = (
            patterns.counts_of([p for p, _w in mine], [w for _p, w in mine])
            if mine
            else np.zeros(patterns.size(4, 3))
        )
        assert np.array_equal(grouped[g], expected), g


def test_patterns_of_another_questionnaire_are_refused():
    with pytest.raises(ValueError):
        patterns.grouped_counts(["30201", "3020"], None, [0, 0], 1)
    with pytest.raises(ValueError):
        patterns.counts_of(["30401"])  # level 4 on a 3-level scale


@given(found=st.lists(st.sampled_from(["30201", "31113", "30003", "32222"]), max_size=6))
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_database_adds_as_python_does(app, found):
    """`pattern_half_add` of the database (PL/pgSQL on PostgreSQL, this module's `add`
    registered on SQLite) gives the same bytes as `add`."""
    value, expected = None, None
    for p in found:
        value = db.session.scalar(
            sa.text("SELECT pattern_half_add(:c, :p, 1)").bindparams(
                sa.bindparam("c", type_=sa.LargeBinary)
            ),
            {"c": value, "p": p},
        )
        expected = patterns.add(expected, p, 1)
        assert bytes(value) == expected
    for p in found:
        value = db.session.scalar(
            sa.text("SELECT pattern_half_add(:c, :p, -1)").bindparams(
                sa.bindparam("c", type_=sa.LargeBinary)
            ),
            {"c": value, "p": p},
        )
    if found:
        assert not np.frombuffer(bytes(value), dtype=patterns.COUNTS).any()


# ---- the writers set the pattern themselves ----------------------------------------------------


def _repair_off() -> None:
    """Disable the trigger that recomputes a pattern a writer left out (migration 0022), so
    that what is stored is what the writer wrote."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ALTER TABLE answer DISABLE TRIGGER answer_pattern_keep"))
    else:
        db.session.execute(sa.text("DROP TRIGGER answer_pattern_insert"))
    db.session.commit()


def _stored() -> dict:
    """Each response's level and answer pattern, and the pattern of its stored answers."""
    from survey.models import Answer, Questionnaire, Response

    found = {}
    for response in db.session.scalars(sa.select(Response)):
        q = db.session.get(Questionnaire, response.questionnaire_id)
        given_ = dict(
            db.session.execute(
                sa.select(Answer.criterion, Answer.level).where(Answer.response_id == response.id)
            ).all()
        )
        expected = patterns.pattern(q.level_codes(), q.criterion_codes(), given_)
        found[response.level] = (response.answer_pattern, expected)
    return found


def test_an_api_submission_writes_its_pattern(client, desk, api_key):
    from tests.survey.api.conftest import bearer

    _repair_off()
    body = {
        "id": "0d5e7f3c-96f1-4a55-9d0e-3f5c6c1e2b10",
        "desk": desk.code,
        "level": "hai_long",
        "answers": {"attitude": "rat_hai_long", "online": "khong_hai_long"},
    }
    assert client.post("/api/v1/responses", json=body, headers=bearer(api_key)).status_code == 201
    written, expected = _stored()["hai_long"]
    assert written is not None and written == expected
    assert written.count("0") == len(written) - 3  # two criteria answered of the nine


def test_a_paper_import_writes_its_patterns(app, make_agency, make_desk):
    import io
    from datetime import date

    from survey.imports import import_paper
    from tests.survey.admin.files import PAPER_HEADER, to_csv

    _repair_off()
    make_desk(agency=make_agency(code="XAB"), code="Q1")
    rows = [
        ["Q1", "2026-03-02", "hai_long", "", "", "", "", "", "", "Rất hài lòng", "", "", "", "F-1"],
        ["Q1", "2026-03-02", "khong_hai_long", *[""] * 9, "", "F-2"],
    ]
    with app.test_request_context():
        result = import_paper(io.BytesIO(to_csv(PAPER_HEADER, rows)), today=date(2026, 6, 1))
    assert result.created == 2, result.errors
    stored = _stored()
    written, expected = stored["hai_long"]
    assert written is not None and written == expected
    assert stored["khong_hai_long"] == (None, None)  # no answers, no pattern
