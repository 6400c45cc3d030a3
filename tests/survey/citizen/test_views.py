"""The citizen survey at a signed desk URL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.integrity import REPEAT_BROWSER
from survey.models import Answer, Response, Status
from survey.tokens import desk_token
from tests.conftest import count, form_fields, html, text_of


def submit(client, path, **data):
    fields = form_fields(client.get(path))
    fields.update(data)
    return client.post(path, data=fields)


def test_survey_page_is_a_vietnamese_form(client, survey_path):
    response = client.get(survey_path)
    assert response.status_code == 200
    page = html(response)
    assert page.html["lang"] == "vi"
    assert text_of(response, "h1") == "Đánh giá mức độ hài lòng"
    labels = [node.get_text(strip=True) for node in page.select("fieldset.rating label .text")]
    assert labels == ["Rất hài lòng", "Hài lòng", "Không hài lòng"]
    assert len(page.select("fieldset.criterion")) == 9


def test_every_rating_input_has_a_label(client, survey_path):
    page = html(client.get(survey_path))
    inputs = page.select("input[type=radio], textarea, input[type=text]")
    assert len(inputs) > 9 * 3, "expected the rating, the criteria and the comment"
    for node in inputs:
        assert page.select_one(f"label[for='{node['id']}']") is not None, node["id"]


def test_english_switch_translates_the_page_and_sets_lang(client, survey_path):
    response = client.get(survey_path + "?lang=en")
    assert html(response).html["lang"] == "en"
    assert text_of(response, "h1") == "Rate the service"
    assert "Very satisfied" in text_of(response, "fieldset.rating")
    # The choice sticks for the next page.
    assert html(client.get(survey_path)).html["lang"] == "en"


def test_rating_redirects_to_thanks_and_stores_one_row(client, survey_path, desk):
    response = submit(client, survey_path, rating="hai_long")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(survey_path + "/thanks")
    assert count(Response) == 1
    stored = db.session.scalar(sa.select(Response))
    assert stored.desk_id == desk.id and stored.agency_id == desk.agency_id
    assert stored.channel == "qr" and stored.level == "hai_long" and stored.satisfied is True
    assert stored.client_hash is not None and len(stored.client_hash) == 32
    thanks = client.get(response.headers["Location"])
    assert text_of(thanks, "h1") == "Cảm ơn Ông/Bà đã đánh giá"


def test_resubmitting_the_same_body_stores_nothing_more(client, survey_path):
    fields = form_fields(client.get(survey_path))
    fields["rating"] = "rat_hai_long"
    assert client.post(survey_path, data=fields).status_code == 303
    assert client.post(survey_path, data=fields).status_code == 303  # Back, then Send again
    assert count(Response) == 1


def test_same_id_with_other_answers_is_stored_flagged_not_refused(client, survey_path):
    # Someone else on the same phone, or the same person after Back: docs/integrity.md says
    # the browser cooldown flags, it does not refuse.
    fields = form_fields(client.get(survey_path))
    client.post(survey_path, data={**fields, "rating": "rat_hai_long"})
    response = client.post(survey_path, data={**fields, "rating": "khong_hai_long"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/thanks")
    rows = {
        r.level: r
        for r in db.session.scalars(sa.select(Response).execution_options(populate_existing=True))
    }
    assert set(rows) == {"rat_hai_long", "khong_hai_long"}
    assert str(rows["rat_hai_long"].id) == fields["response_id"]
    assert rows["rat_hai_long"].status == Status.VALID
    assert rows["khong_hai_long"].status == Status.FLAGGED
    assert rows["khong_hai_long"].status_reason == REPEAT_BROWSER
    # Sending those other answers again (Back, Send) stores nothing more.
    again = client.post(survey_path, data={**fields, "rating": "khong_hai_long"})
    assert again.status_code == 303
    assert count(Response) == 2


def test_satisfied_is_derived_from_the_questionnaire_not_the_client(client, survey_path):
    submit(client, survey_path, rating="khong_hai_long", satisfied="1")
    assert db.session.scalar(sa.select(Response.satisfied)) is False


def test_criteria_comment_and_dossier_code_are_stored(client, survey_path):
    response = submit(
        client,
        survey_path,
        rating="hai_long",
        c_attitude="rat_hai_long",
        c_total_time="khong_hai_long",
        comment="  Cán bộ tận tình  ",
        dossier_code="000.00.12.H01-261121-0001",
    )
    assert response.status_code == 303
    stored = db.session.scalar(sa.select(Response))
    assert stored.comment == "Cán bộ tận tình"
    assert stored.dossier_code == "000.00.12.H01-261121-0001"
    answers = {a.criterion: (a.level, a.satisfied) for a in db.session.scalars(sa.select(Answer))}
    assert answers == {"attitude": ("rat_hai_long", True), "total_time": ("khong_hai_long", False)}


def test_tampered_desk_token_shows_friendly_404(client, survey_path):
    response = client.get(survey_path[:-2] + ("AA" if not survey_path.endswith("AA") else "BB"))
    assert response.status_code == 404
    assert "quét lại mã QR" in text_of(response, "main")


def test_token_for_a_desk_that_does_not_exist_is_a_404(client, app):
    response = client.get(f"/s/{desk_token(987654)}")
    assert response.status_code == 404


def test_token_signed_with_another_key_is_refused(client, desk):
    from itsdangerous import URLSafeSerializer

    from survey.tokens import SALT

    forged = URLSafeSerializer("not-our-secret", salt=SALT).dumps(desk.id)
    assert client.get(f"/s/{forged}").status_code == 404


def test_inactive_desk_shows_410_and_stores_nothing(client, survey_path, desk):
    fields = form_fields(client.get(survey_path))
    desk.active = False
    db.session.commit()
    response = client.post(survey_path, data={**fields, "rating": "hai_long"})
    assert response.status_code == 410
    assert "không còn nhận đánh giá" in text_of(response, "main")
    assert count(Response) == 0


def test_missing_rating_is_a_400_that_keeps_what_was_typed(client, survey_path):
    response = submit(client, survey_path, comment="Chờ lâu quá", c_attitude="hai_long")
    assert response.status_code == 400
    page = html(response)
    assert "Vui lòng chọn mức độ hài lòng." in text_of(response, "fieldset.rating .errors")
    assert page.select_one("textarea[name=comment]").get_text().strip() == "Chờ lâu quá"
    assert page.select_one("input[name=c_attitude][value=hai_long]").has_attr("checked")
    assert count(Response) == 0


def test_unknown_level_is_refused(client, survey_path):
    response = submit(client, survey_path, rating="tuyet_voi")
    assert response.status_code == 400
    assert "Lựa chọn này không tồn tại" in text_of(response, "fieldset.rating .errors")
    assert count(Response) == 0


def test_unknown_criterion_level_is_refused(client, survey_path):
    response = submit(client, survey_path, rating="hai_long", c_attitude="tuyet_voi")
    assert response.status_code == 400
    assert count(Response) == 0


def test_over_long_comment_is_refused_and_kept(client, survey_path):
    long_comment = "á" * 1001
    response = submit(client, survey_path, rating="hai_long", comment=long_comment)
    assert response.status_code == 400
    assert "tối đa 1000 ký tự" in text_of(response, ".has-error .errors")
    assert html(response).select_one("textarea[name=comment]").get_text().strip() == long_comment
    assert count(Response) == 0


def test_malformed_dossier_code_is_refused(client, survey_path):
    response = submit(client, survey_path, rating="hai_long", dossier_code="<script>")
    assert response.status_code == 400
    assert count(Response) == 0


def test_non_utf8_bytes_are_a_clear_400(client, survey_path):
    fields = form_fields(client.get(survey_path))
    body = "&".join(f"{k}={v}" for k, v in fields.items()) + "&rating=hai_long&comment=%C3%28%FF"
    response = client.post(survey_path, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "UTF-8" in text_of(response, "main")
    assert count(Response) == 0


def test_missing_csrf_token_is_a_400_that_keeps_the_answers(client, survey_path):
    fields = form_fields(client.get(survey_path))
    del fields["csrf_token"]
    response = client.post(survey_path, data={**fields, "rating": "hai_long", "comment": "Tốt"})
    assert response.status_code == 400
    page = html(response)
    assert "Chưa có gì được lưu" in text_of(response, ".error-summary")
    assert page.select_one("input[name=rating][value=hai_long]").has_attr("checked")
    assert page.select_one("textarea[name=comment]").get_text().strip() == "Tốt"
    assert page.select_one("input[name=csrf_token]")["value"]
    assert count(Response) == 0


def test_wrong_content_type_is_a_415(client, survey_path):
    response = client.post(survey_path, json={"rating": "hai_long"})
    assert response.status_code == 415
    assert "biểu mẫu web" in text_of(response, "main")
    assert count(Response) == 0


def test_a_malformed_response_id_is_refused(client, survey_path):
    response = submit(client, survey_path, rating="hai_long", response_id="not-a-uuid")
    assert response.status_code == 400
    assert count(Response) == 0


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_a_405(client, survey_path, method):
    response = getattr(client, method)(survey_path, data={"x": "1"})
    assert response.status_code == 405


def test_page_weighs_at_most_30_kb_with_its_assets(client, survey_path):
    """HTML + CSS + JS of the citizen page: what a cheap phone on 3G downloads."""
    response = client.get(survey_path)
    total = len(response.data)
    page = html(response)
    assets = [link["href"] for link in page.select("link[rel=stylesheet]")]
    assets += [script["src"] for script in page.select("script[src]")]
    assert page.select("link[rel=stylesheet]"), "expected the stylesheet to be counted"
    for href in assets:
        asset = client.get(href)
        assert asset.status_code == 200
        total += len(asset.data)
        asset.close()
    assert page.select("link[href*=font], style") == []  # no web fonts, no inline styles
    assert total <= 30 * 1024, f"citizen page weighs {total} bytes"


def test_response_ids_are_unique_per_page_load(client, survey_path):
    first = form_fields(client.get(survey_path))["response_id"]
    second = form_fields(client.get(survey_path))["response_id"]
    assert first != second
    assert uuid.UUID(first) and uuid.UUID(second)


def test_form_reloaded_after_sending_reuses_the_same_id(client, survey_path):
    """Back to a form the browser fetches again, then Send again: still one response."""
    submit(client, survey_path, rating="hai_long")
    again = form_fields(client.get(survey_path))
    response = client.post(survey_path, data={**again, "rating": "hai_long"})
    assert response.status_code == 303
    assert count(Response) == 1
    changed = client.post(survey_path, data={**again, "rating": "khong_hai_long"})
    assert changed.status_code == 303
    assert count(Response) == 2
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Response.id)).where(Response.status == Status.VALID)
        )
        == 1
    )


def test_thanks_page_offers_a_fresh_form_for_someone_else(client, survey_path):
    first = submit(client, survey_path, rating="hai_long")
    thanks = html(client.get(first.headers["Location"]))
    link = thanks.select_one("a#another-link")
    assert link.get_text(strip=True) == "Đánh giá cho người khác?"
    assert link["href"].startswith(survey_path + "?new=")
    fresh = form_fields(client.get(link["href"]))
    assert fresh["response_id"] != str(db.session.scalar(sa.select(Response.id)))
    # Reloading the next person's form (or Back to it) keeps its id: sent once.
    assert form_fields(client.get(link["href"]))["response_id"] == fresh["response_id"]
    for _ in range(2):
        assert client.post(survey_path, data={**fresh, "rating": "hai_long"}).status_code == 303
    assert count(Response) == 2
    second = db.session.get(Response, uuid.UUID(fresh["response_id"]))
    assert (second.status, second.status_reason) == (Status.FLAGGED, REPEAT_BROWSER)
    # A "new" value that is not an id gives a fresh form, as `?new=1` always did.
    assert form_fields(client.get(survey_path + "?new=1"))["response_id"] != fresh["response_id"]


def _emoji(text: str) -> list[str]:
    # Pictographs, emoticons and symbols: what shows as an empty box without an emoji font.
    return [c for c in text if ord(c) >= 0x2190 and not 0x1E00 <= ord(c) <= 0x1EFF]


def test_faces_are_drawn_not_emoji(client, survey_path):
    page = client.get(survey_path)
    assert _emoji(page.text) == []
    faces = html(page).select("fieldset.rating label.choice svg.face")
    assert len(faces) == 3
    mouths = [svg.select_one("path")["d"] for svg in faces]
    assert len(set(mouths)) == 3  # happiest to unhappiest, each its own mouth
    # The happiest smiles (the mouth's middle below its corners), the unhappiest frowns.
    first, last = (
        [float(n) for n in d.replace("M", "").replace("Q", "").split()]
        for d in (mouths[0], mouths[-1])
    )
    assert first[3] > first[1] and last[3] < last[1]
    sent = submit(client, survey_path, rating="hai_long")
    thanks = client.get(sent.headers["Location"])
    assert _emoji(thanks.text) == []
    assert html(thanks).select_one(".thanks svg") is not None


def test_the_page_says_what_a_dossier_code_links(client, survey_path):
    # Issue 17, point 6: not "anonymous" under a field that identifies the dossier.
    page = client.get(survey_path)
    assert html(page).select_one("input[name=dossier_code]") is not None
    privacy = text_of(page, "p.privacy")
    assert "ẩn danh" not in privacy
    assert "mã hồ sơ" in privacy and "hồ sơ của ai" in privacy
