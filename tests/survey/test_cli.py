"""Command-line set-up: demo seeding and user creation."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from survey import demo
from survey.extensions import db
from survey.models import Agency, Desk, Level, Response, Role, User
from survey.security import verify_password
from tests.conftest import count


def test_seed_demo_creates_the_province_and_prints_where_to_go(runner, app, tmp_path):
    app.instance_path = str(tmp_path)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Seeded 24 agencies" in result.output
    assert "Citizen survey: http://127.0.0.1:5000/s/" in result.output
    password = (tmp_path / "demo-password.txt").read_text().strip()
    assert f"{demo.ANALYST_EMAIL} / {password}" in result.output
    analyst = db.session.scalar(sa.select(User).where(User.email == demo.ANALYST_EMAIL))
    assert verify_password(analyst.password_hash, password)
    levels = {a.level for a in db.session.scalars(sa.select(Agency))}
    assert levels == {Level.PROVINCE, Level.DEPARTMENT, Level.COMMUNE, Level.SERVICE_UNIT}
    assert count(Response) > 3000


def test_seed_demo_prints_the_port_make_run_serves_on(runner, app, tmp_path, monkeypatch):
    # `make run PORT=5102` exports HOST and PORT; the printed addresses follow them.
    app.instance_path = str(tmp_path)
    monkeypatch.setenv("HOST", "127.0.0.1")
    monkeypatch.setenv("PORT", "5102")
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Citizen survey: http://127.0.0.1:5102/s/" in result.output
    assert ":5000" not in result.output


def test_seed_demo_is_idempotent(runner, app, tmp_path):
    app.instance_path = str(tmp_path)
    runner.invoke(args=["seed-demo"])
    before = (count(Agency), count(Desk), count(Response), count(User))
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0
    assert "already present" in result.output
    assert (count(Agency), count(Desk), count(Response), count(User)) == before


def test_printed_survey_url_opens_the_form(runner, app, client, tmp_path):
    app.instance_path = str(tmp_path)
    output = runner.invoke(args=["seed-demo"]).output
    url = next(line.split()[2] for line in output.splitlines() if "Citizen survey:" in line)
    path = url.removeprefix("http://127.0.0.1:5000")
    assert client.get(path).status_code == 200


def test_demo_rates_are_spread_around_the_targets(app):
    demo.seed("pw-for-tests", today=date(2026, 11, 21))
    rows = db.session.execute(
        sa.select(
            Response.agency_id, sa.func.avg(sa.case((Response.satisfied, 1.0), else_=0.0))
        ).group_by(Response.agency_id)
    ).all()
    rates = [rate for _, rate in rows]
    assert min(rates) < 0.6 and max(rates) > 0.95
    assert any(0.8 < rate < 0.9 for rate in rates)


def test_create_user_hashes_the_password_and_scopes_to_an_agency(runner, make_agency):
    agency = make_agency(code="SYT")
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Head@SYT.gov.vn",
            "--agency",
            "SYT",
            "--password",
            "a-long-password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "head@syt.gov.vn"))
    assert user.role == Role.ANALYST and user.agency_id == agency.id
    assert user.password_hash != "a-long-password"
    assert verify_password(user.password_hash, "a-long-password")


def test_create_user_refuses_bad_input_and_writes_nothing(runner, app):
    cases = [
        ["--email", "not-an-email", "--password", "a-long-password"],
        ["--email", "a@b.vn", "--password", "short"],
        ["--email", "a@b.vn", "--password", "a-long-password", "--agency", "NOPE"],
        ["--email", "a@b.vn", "--password", "a-long-password", "--role", "boss"],
    ]
    for args in cases:
        result = runner.invoke(args=["create-user", *args])
        assert result.exit_code != 0, args
    assert count(User) == 0


def test_create_user_refuses_a_duplicate_email(runner, make_user):
    make_user(email="x@example.org")
    result = runner.invoke(
        args=["create-user", "--email", "x@example.org", "--password", "a-long-password"]
    )
    assert result.exit_code != 0
    assert "already exists" in result.output
