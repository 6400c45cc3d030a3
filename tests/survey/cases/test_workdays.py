"""Due dates count working days: no weekends, no public holidays (Tết and Giỗ Tổ Hùng Vương
from the Vietnamese lunar calendar), and an admin's edits of a year replace its defaults."""

from __future__ import annotations

from datetime import date

import pytest

from survey.cases import workdays
from survey.cases.models import Holiday, HolidayYear
from survey.extensions import db
from survey.models import Role
from tests.conftest import csrf_token, html, text_of


@pytest.fixture(autouse=True)
def fresh_cache():
    workdays.forget()
    yield
    workdays.forget()


def test_defaults_hold_tet_and_hung_kings_day_on_their_lunar_dates(app):
    days = workdays.holidays_of(2026)
    # Tết Bính Ngọ: 17/02/2026; Giỗ Tổ (10/3 âm lịch): 26/04/2026, a Sunday, so 27/04 is off.
    assert days[date(2026, 2, 17)] == "Tết Nguyên Đán"
    assert "Giỗ Tổ Hùng Vương" in days[date(2026, 4, 26)]
    assert "nghỉ bù" in days[date(2026, 4, 27)]
    assert {date(2026, 1, 1), date(2026, 4, 30), date(2026, 5, 1), date(2026, 9, 2)} <= set(days)
    # 2025: Tết Ất Tỵ on 29/01, Giỗ Tổ on 07/04.
    assert date(2025, 1, 29) in workdays.holidays_of(2025)
    assert "Giỗ Tổ" in workdays.holidays_of(2025)[date(2025, 4, 7)]


def test_working_days_skip_weekends_and_holidays(app):
    assert workdays.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Fri -> Mon
    # Friday 13/02/2026, then Tết from Monday 16 to Friday 20: the next working day is 23/02.
    assert workdays.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    # Ten working days from Friday 04/04/2025 skip Giỗ Tổ (Monday 07/04) and 30/04-01/05.
    assert workdays.add_working_days(date(2025, 4, 4), 10) == date(2025, 4, 21)
    assert workdays.working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1


def test_an_edited_year_replaces_the_defaults(app):
    db.session.add_all(
        [HolidayYear(year=2027), Holiday(day=date(2027, 3, 10), name="Ngày nghỉ riêng")]
    )
    db.session.commit()
    assert workdays.holidays_of(2027) == {date(2027, 3, 10): "Ngày nghỉ riêng"}
    assert workdays.is_working_day(date(2027, 1, 1))  # no longer a day off: the admin removed it
    assert not workdays.is_working_day(date(2027, 3, 10))


@pytest.fixture
def admin(make_user, login):
    user = make_user(role=Role.ADMIN)
    login(user)
    return user


def _post(client, path, **data):
    token = csrf_token(client.get("/admin/holidays/2027"))
    return client.post(path, data={"csrf_token": token, **data})


def test_admin_adds_removes_and_resets_a_years_holidays(client, admin):
    page = client.get("/admin/holidays/2027")
    assert page.status_code == 200
    defaults = html(page).select("#holidays tbody tr")
    assert len(defaults) >= 10
    added = _post(client, "/admin/holidays/2027/add", day="2027-08-31", name="Nghỉ bù Quốc khánh")
    assert added.status_code == 303
    assert workdays.is_edited(2027)
    assert not workdays.is_working_day(date(2027, 8, 31))
    assert not workdays.is_working_day(date(2027, 1, 1))  # the defaults were kept as rows
    removed = _post(client, "/admin/holidays/2027/delete", day="2027-01-01")
    assert removed.status_code == 303 and workdays.is_working_day(date(2027, 1, 1))
    rows = html(client.get("/admin/holidays/2027")).select("#holidays tbody tr")
    assert len(rows) == len(defaults)
    reset = _post(client, "/admin/holidays/2027/reset")
    assert reset.status_code == 303
    assert not workdays.is_edited(2027) and not workdays.is_working_day(date(2027, 1, 1))


def test_a_date_outside_the_year_is_refused_with_a_message(client, admin):
    refused = _post(client, "/admin/holidays/2027/add", day="2028-01-02", name="Sai năm")
    assert refused.status_code == 400
    assert "2027" in text_of(refused, ".errors")
    assert not workdays.is_edited(2027)
    assert client.get("/admin/holidays/1999").status_code == 404


def test_analysts_cannot_edit_holidays(client, make_user, login):
    login(make_user(role=Role.ANALYST))
    assert client.get("/admin/holidays/2027").status_code == 403
