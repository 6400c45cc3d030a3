"""The citizen page in an admin-added language, with per-string fallback to Vietnamese."""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Response
from survey.tokens import desk_token
from tests.conftest import form_fields, html, text_of


def rate_in(client, desk, lang: str, level: str = "rat_hai_long"):
    path = f"/s/{desk_token(desk.id)}"
    page = client.get(f"{path}?lang={lang}&new=1")
    response = client.post(path, data={**form_fields(page), "rating": level})
    assert response.status_code == 303, response.text
    return response


def test_a_desk_offers_only_the_languages_it_enables(client, desk, tay_pack, survey_path):
    links = html(client.get(survey_path)).select("header a[hreflang]")
    assert [a["hreflang"] for a in links] == ["en"]
    desk.languages = ["tay"]
    db.session.commit()
    links = html(client.get(survey_path)).select("header a[hreflang]")
    assert [(a["hreflang"], a.get_text()) for a in links] == [("en", "English"), ("tay", "Tày")]


def test_the_page_speaks_tay_and_falls_back_to_vietnamese_per_string(
    client, desk, tay_pack, survey_path
):
    desk.languages = ["tay"]
    db.session.commit()
    page = client.get(f"{survey_path}?lang=tay")
    doc = html(page)
    assert doc.html["lang"] == "tay"
    assert text_of(page, "fieldset.rating legend") == "Mình hài lòng dá đảy?"
    labels = [node.get_text() for node in doc.select("fieldset.rating .text")]
    assert labels == ["Hài lòng lai", "Hài lòng", "Không hài lòng"]  # two fall back
    assert text_of(page, "button[type=submit]") == "Sống"
    assert text_of(page, "h1") == "Đánh giá mức độ hài lòng"  # not translated: Vietnamese
    # Remembered: the next page without ?lang stays in Tày, ?lang=vi leaves it.
    assert html(client.get(survey_path)).html["lang"] == "tay"
    assert html(client.get(f"{survey_path}?lang=vi")).html["lang"] == "vi"


def test_a_language_that_is_not_enabled_is_ignored(client, desk, tay_pack, survey_path):
    assert html(client.get(f"{survey_path}?lang=tay")).html["lang"] == "vi"


def test_a_rating_records_its_language(client, desk, tay_pack):
    desk.languages = ["tay"]
    db.session.commit()
    rate_in(client, desk, "tay")
    rate_in(client, desk, "vi", "hai_long")  # the same browser: flagged, still recorded
    languages = sorted(db.session.scalars(sa.select(Response.language)))
    assert languages == ["tay", "vi"]


def test_a_missing_answer_is_explained_in_the_pack_or_in_vietnamese(
    client, desk, tay_pack, survey_path
):
    desk.languages = ["tay"]
    db.session.commit()
    page = client.get(f"{survey_path}?lang=tay")
    response = client.post(survey_path, data=form_fields(page))
    assert response.status_code == 400
    assert text_of(response, "#rating-error") == "Vui lòng chọn mức độ hài lòng."
