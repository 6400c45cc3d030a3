"""Questionnaire versions: copy to a draft, edit, publish; published versions never change."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from survey.admin.questionnaires import PublishedQuestionnaireChanged
from survey.extensions import db
from survey.models import Questionnaire, Response
from tests.conftest import count, html, text_of
from tests.survey.admin.conftest import post


def default() -> Questionnaire:
    return db.session.scalar(sa.select(Questionnaire).where(Questionnaire.key == "one-stop-3"))


def draft_data(**overrides) -> dict:
    """A two-level scale with one criterion; the other rows stay empty."""
    data = {
        "title_vi": "Khảo sát rút gọn",
        "title_en": "Short survey",
        "levels-0-code": "hai_long",
        "levels-0-label_vi": "Hài lòng",
        "levels-0-label_en": "Satisfied",
        "levels-0-face": "🙂",
        "levels-0-satisfied": "y",
        "levels-1-code": "khong_hai_long",
        "levels-1-label_vi": "Không hài lòng",
        "levels-1-label_en": "Not satisfied",
        "levels-1-face": "🙁",
        "criteria-0-code": "attitude",
        "criteria-0-label_vi": "Thái độ của công chức",
        "criteria-0-label_en": "Attitude",
    }
    return {**data, **overrides}


def copy_default(client) -> Questionnaire:
    response = post(client, f"/admin/questionnaires/{default().id}/copy")
    assert response.status_code == 303
    return db.session.scalar(sa.select(Questionnaire).where(Questionnaire.published_at.is_(None)))


def test_versions_are_listed_with_their_status(admin_client):
    rows = html(admin_client.get("/admin/questionnaires")).select("#questionnaires tbody tr")
    assert {(row["data-key"], row["data-version"]) for row in rows} == {
        ("one-stop-3", "1"),
        ("sipas-5", "1"),
    }
    assert "Đã ban hành" in rows[0].get_text()


def test_copying_a_version_makes_the_next_draft_of_the_same_key(admin_client):
    draft = copy_default(admin_client)
    assert (draft.key, draft.version, draft.is_published) == ("one-stop-3", 2, False)
    assert draft.levels == default().levels and draft.criteria == default().criteria


def test_a_draft_is_edited_then_published(admin_client):
    draft = copy_default(admin_client)
    response = post(admin_client, f"/admin/questionnaires/{draft.id}/edit", draft_data())
    assert response.status_code == 303
    db.session.expire_all()
    draft = db.session.get(Questionnaire, draft.id)
    assert draft.level_codes() == ["hai_long", "khong_hai_long"]
    assert draft.satisfied == ["hai_long"]
    assert draft.criteria == [
        {"code": "attitude", "label": {"vi": "Thái độ của công chức", "en": "Attitude"}}
    ]
    assert post(admin_client, f"/admin/questionnaires/{draft.id}/publish").status_code == 303
    db.session.expire_all()
    assert db.session.get(Questionnaire, draft.id).is_published


def test_a_scale_without_a_satisfied_level_is_refused(admin_client):
    draft = copy_default(admin_client)
    data = draft_data()
    del data["levels-0-satisfied"]
    response = post(admin_client, f"/admin/questionnaires/{draft.id}/edit", data)
    assert response.status_code == 400
    assert "ít nhất một mức được tính là hài lòng" in text_of(response, ".error-summary")
    db.session.expire_all()
    assert len(db.session.get(Questionnaire, draft.id).levels) == 3


def test_duplicate_level_codes_are_refused(admin_client):
    draft = copy_default(admin_client)
    response = post(
        admin_client,
        f"/admin/questionnaires/{draft.id}/edit",
        draft_data(**{"levels-1-code": "hai_long"}),
    )
    assert response.status_code == 400
    assert "Mã này bị dùng hai lần." in text_of(response, "#questionnaire-form")


def test_a_published_version_cannot_be_edited(admin_client):
    published = default()
    before = (list(published.levels), list(published.satisfied), dict(published.title))
    assert admin_client.get(f"/admin/questionnaires/{published.id}/edit").status_code == 409
    response = post(admin_client, f"/admin/questionnaires/{published.id}/edit", draft_data())
    assert response.status_code == 409
    assert "đã ban hành" in text_of(response, ".error-page p")
    assert post(admin_client, f"/admin/questionnaires/{published.id}/delete").status_code == 409
    db.session.expire_all()
    again = default()
    assert (again.levels, again.satisfied, again.title) == before


def test_the_database_layer_also_refuses_to_change_a_published_version(app):
    published = default()
    published.satisfied = ["rat_hai_long"]
    with pytest.raises(PublishedQuestionnaireChanged):
        db.session.commit()
    db.session.rollback()


def test_a_desk_uses_the_chosen_version_and_old_responses_keep_theirs(
    admin_client, desk, survey_path, make_response
):
    old = make_response(desk, datetime(2026, 1, 5, 3))
    draft = copy_default(admin_client)
    post(admin_client, f"/admin/questionnaires/{draft.id}/edit", draft_data())
    post(admin_client, f"/admin/questionnaires/{draft.id}/publish")
    response = post(
        admin_client,
        f"/admin/desks/{desk.id}/edit",
        {
            "code": desk.code,
            "name": desk.name,
            "agency": str(desk.agency_id),
            "questionnaire": str(draft.id),
        },
    )
    assert response.status_code == 303
    labels = [
        n.get_text(strip=True)
        for n in html(admin_client.get(survey_path)).select("fieldset.rating label .text")
    ]
    assert labels == ["Hài lòng", "Không hài lòng"]
    db.session.expire_all()
    assert db.session.get(Response, old.id).questionnaire_id == default().id


def test_only_a_published_version_becomes_the_default(admin_client):
    draft = copy_default(admin_client)
    assert post(admin_client, f"/admin/questionnaires/{draft.id}/default").status_code == 409
    post(admin_client, f"/admin/questionnaires/{draft.id}/publish")
    assert post(admin_client, f"/admin/questionnaires/{draft.id}/default").status_code == 303
    db.session.expire_all()
    assert Questionnaire.default().id == draft.id
    assert count(Questionnaire) == 3


def test_a_draft_can_be_deleted(admin_client):
    draft = copy_default(admin_client)
    assert post(admin_client, f"/admin/questionnaires/{draft.id}/delete").status_code == 303
    assert count(Questionnaire) == 2


def test_a_drafts_levels_may_carry_their_own_points_all_or_none(admin_client):
    draft = copy_default(admin_client)
    path = f"/admin/questionnaires/{draft.id}/edit"
    half = draft_data(**{"levels-0-points": "2"})
    response = post(admin_client, path, half)
    assert response.status_code == 400
    assert "mọi mức" in text_of(response, ".error-summary")
    wrong = draft_data(**{"levels-0-points": "12", "levels-1-points": "0"})
    assert post(admin_client, path, wrong).status_code == 400
    both = draft_data(**{"levels-0-points": "1,5", "levels-1-points": "0"})
    assert post(admin_client, path, both).status_code == 303
    db.session.expire_all()
    levels = db.session.get(Questionnaire, draft.id).levels
    assert [level["points"] for level in levels] == [1.5, 0]
    # The form shows them again, and the version's page lists them.
    page = html(admin_client.get(path))
    assert page.select_one("#levels-0-points")["value"] == "1.5"
    assert (
        "1,5"
        in html(admin_client.get(f"/admin/questionnaires/{draft.id}"))
        .select_one("#levels")
        .get_text()
    )
