"""Administrators upload spoken prompts; bad files store nothing; recordings are served to be
cached for good."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from survey.extensions import db
from survey.languages.models import SpokenPrompt
from survey.models import Questionnaire, Role
from tests.conftest import count, csrf_token, html, text_of
from tests.survey.languages.conftest import post
from tests.survey.languages.recordings import need_tools, opus, tone

pytestmark = need_tools()


def prompts_url(code: str = "tay", questionnaire=None) -> str:
    questionnaire = questionnaire or Questionnaire.default()
    return f"/admin/languages/{code}/questionnaires/{questionnaire.id}/prompts"


def field(key: str) -> str:
    """The file field of a key on the page (f0 is the question, then the levels, ...)."""
    from survey.languages.prompts import prompt_keys

    return f"f{prompt_keys(Questionnaire.default()).index(key)}"


def upload(client, code: str, files: dict[str, tuple[bytes, str]]):
    """POST the files, encoded in memory: the test client spools a body over 500 KB to a
    temporary file that it never closes when the app refuses the upload unread."""
    values = {
        field(key): FileStorage(io.BytesIO(body), name) for key, (body, name) in files.items()
    }
    body, _length, boundary = stream_encode_multipart(
        {"csrf_token": csrf_token(client.get("/admin/")), **values}, use_tempfile=False
    )
    return client.post(
        prompts_url(code), data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_an_admin_uploads_the_question_in_opus_and_a_level_in_mp3(admin_client, tay, tmp_path):
    question = opus(tmp_path, "Mình hài lòng dá đảy?")
    response = upload(
        admin_client,
        "tay",
        {"question": (question, "cau-hoi.ogg"), "level.hai_long": (tone(tmp_path, 1.5), "x.mp3")},
    )
    assert response.status_code == 303
    prompts = {p.key: p for p in db.session.scalars(sa.select(SpokenPrompt))}
    assert set(prompts) == {"question", "level.hai_long"}
    assert prompts["question"].kind == "opus" and prompts["question"].data == question
    assert prompts["question"].language == "tay" and 0.5 < prompts["question"].seconds < 5
    assert prompts["level.hai_long"].kind == "mp3"
    page = html(admin_client.get(prompts_url("tay")))
    player = page.select_one("#prompt-question audio")
    assert player["preload"] == "none"
    assert player["src"] == f"/prompts/{prompts['question'].digest}.ogg"
    assert page.select("#prompt-level-rat_hai_long audio") == []


def test_a_recording_is_served_to_be_cached_for_good(admin_client, app, tay, tmp_path):
    body = opus(tmp_path)
    upload(admin_client, "tay", {"question": (body, "q.ogg")})
    prompt = db.session.scalar(sa.select(SpokenPrompt))
    url = f"/prompts/{prompt.digest}.ogg"
    client = app.test_client()  # a citizen, signed in nowhere
    response = client.get(url)
    assert response.status_code == 200 and response.data == body
    assert response.mimetype == "audio/ogg"
    assert {"public", "immutable", "max-age=31536000"} <= {
        part.strip() for part in response.headers["Cache-Control"].split(",")
    }
    assert response.headers["ETag"] == f'"{prompt.digest}"'
    assert "Set-Cookie" not in response.headers
    again = client.get(url, headers={"If-None-Match": f'"{prompt.digest}"'})
    assert again.status_code == 304
    part = client.get(url, headers={"Range": "bytes=0-99"})  # how media players ask
    assert part.status_code == 206 and part.data == body[:100]
    assert client.get(f"/prompts/{prompt.digest}.mp3").status_code == 404
    assert client.get(f"/prompts/{'0' * 64}.ogg").status_code == 404


def test_vietnamese_has_prompts_too_for_the_faces_only_mode(admin_client, tmp_path):
    response = upload(admin_client, "vi", {"question": (opus(tmp_path), "q.ogg")})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(SpokenPrompt.language)) == "vi"
    page = admin_client.get("/admin/languages")
    assert "1" in text_of(page, "#prompts-vi")


def test_a_renamed_text_file_is_refused_and_nothing_is_stored(admin_client, tay, tmp_path):
    text = "Xin chào, đây không phải là một bản ghi âm.\n".encode() * 40
    response = upload(
        admin_client,
        "tay",
        {"question": (opus(tmp_path), "q.ogg"), "level.hai_long": (text, "hai-long.ogg")},
    )
    assert response.status_code == 400
    assert "không phải bản ghi âm OGG Opus hoặc MP3" in text_of(
        response, "#prompt-level-hai_long .errors"
    )
    assert "Chưa có gì được lưu" in text_of(response, ".error-summary")
    assert count(SpokenPrompt) == 0  # the good question was not kept either


def test_an_unknown_format_is_refused(admin_client, tay, tmp_path):
    wav = tone(tmp_path, 1, suffix="wav")
    response = upload(admin_client, "tay", {"question": (wav, "q.mp3")})
    assert response.status_code == 400
    assert "không phải bản ghi âm OGG Opus hoặc MP3" in text_of(
        response, "#prompt-question .errors"
    )
    assert count(SpokenPrompt) == 0


def test_a_ten_minute_recording_is_refused(admin_client, tay, tmp_path):
    long = tone(tmp_path, 600, rate=8000, bitrate=8)
    response = upload(admin_client, "tay", {"question": (long, "q.mp3")})
    assert response.status_code == 400
    assert "600 giây" in text_of(response, "#prompt-question .errors")
    assert count(SpokenPrompt) == 0


def test_a_50_mb_file_is_refused_before_it_is_read(admin_client, tay, app):
    big = b"ID3" + b"\0" * (50 * 1024 * 1024)
    response = upload(admin_client, "tay", {"question": (big, "q.mp3")})
    assert response.status_code == 413
    message = text_of(response, "main")
    assert "Chưa có gì được lưu" in message and "1024 KB" in message
    assert count(SpokenPrompt) == 0


def test_a_file_over_1_mb_is_refused(admin_client, tay, tmp_path):
    response = upload(admin_client, "tay", {"question": (b"ID3" + b"\0" * (2 << 20), "q.mp3")})
    assert response.status_code == 400
    assert "quá lớn" in text_of(response, "#prompt-question .errors")
    assert count(SpokenPrompt) == 0


def test_an_empty_submission_asks_for_a_file(admin_client, tay):
    response = post(admin_client, prompts_url("tay"), {}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "ít nhất một bản ghi âm" in text_of(response, ".error-summary")


def test_a_new_recording_replaces_the_old_one_and_can_be_deleted(admin_client, tay, tmp_path):
    upload(admin_client, "tay", {"question": (tone(tmp_path, 1), "a.mp3")})
    upload(admin_client, "tay", {"question": (opus(tmp_path), "b.ogg")})
    assert db.session.scalars(sa.select(SpokenPrompt.kind)).all() == ["opus"]
    response = post(admin_client, prompts_url("tay") + "/question/delete")
    assert response.status_code == 303
    assert count(SpokenPrompt) == 0


def test_an_unknown_language_is_a_404(admin_client):
    assert admin_client.get(prompts_url("xyz")).status_code == 404


@pytest.mark.parametrize("role", [Role.ANALYST, "agency admin"])
def test_only_global_administrators_manage_prompts(client, login, make_user, make_agency, role):
    if role == "agency admin":
        login(make_user(role=Role.ADMIN, agency=make_agency()))
    else:
        login(make_user(role=role))
    assert client.get(prompts_url("vi")).status_code == 403


def test_copying_a_questionnaire_copies_its_recordings(admin_client, tay, tmp_path):
    upload(admin_client, "tay", {"question": (opus(tmp_path), "q.ogg")})
    source = Questionnaire.default()
    response = post(admin_client, f"/admin/questionnaires/{source.id}/copy")
    assert response.status_code == 303
    rows = db.session.execute(sa.select(SpokenPrompt.questionnaire_id, SpokenPrompt.key)).all()
    assert len(rows) == 2 and {key for _q, key in rows} == {"question"}
