"""Privacy: phone and ID numbers are masked in comments before storage, for every channel."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Response
from survey.responses import MASK, mask_personal_numbers
from tests.conftest import form_fields
from tests.survey.integrity.conftest import bearer


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Gọi tôi 0912345678 nhé", f"Gọi tôi {MASK} nhé"),
        ("sđt 0912 345 678.", f"sđt {MASK}."),
        ("0912.345.678", MASK),
        ("0912-345-678", MASK),
        ("+84 912 345 678", MASK),
        ("+84912345678", MASK),
        ("(+84) 24 3825 1234", MASK),
        ("84912345678", MASK),
        ("024.3825.1234", MASK),
        ("CCCD 001234567890", f"CCCD {MASK}"),
        ("CCCD 001 234 567 890", f"CCCD {MASK}"),
        ("CMND 123456789", f"CMND {MASK}"),
        ("hai số 0912345678 và 0987654321", f"hai số {MASK} và {MASK}"),
    ],
)
def test_phone_and_id_numbers_are_masked(text, masked):
    assert mask_personal_numbers(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Phí 150.000.000 đồng",
        "Lệ phí 1.500.000đ",
        "Hẹn ngày 01.02.2025 trả",
        "Hồ sơ 000.00.12.H01-261121-0001",
        "Chờ 45 phút, số thứ tự 12345678",
        "Cán bộ tận tình",
        "",
    ],
)
def test_amounts_dates_and_short_numbers_are_kept(text):
    assert mask_personal_numbers(text) == text


def test_masking_never_makes_a_comment_longer():
    text = "0912345678 " * 90
    assert len(mask_personal_numbers(text)) <= len(text)


def test_the_citizen_form_stores_the_masked_comment(client, survey_path):
    fields = form_fields(client.get(survey_path))
    comment = "Cán bộ tốt, liên hệ 0912 345 678, CCCD 001234567890"
    client.post(survey_path, data={**fields, "rating": "hai_long", "comment": comment})
    assert db.session.scalar(sa.select(Response.comment)) == (
        f"Cán bộ tốt, liên hệ {MASK}, CCCD {MASK}"
    )


def test_the_api_stores_the_masked_comment_and_a_retry_is_still_a_duplicate(
    client, desk, make_api_key
):
    _, key = make_api_key()
    body = {
        "id": str(uuid.uuid4()),
        "desk": desk.code,
        "level": "hai_long",
        "comment": "Gọi +84 912 345 678",
    }
    assert client.post("/api/v1/responses", json=body, headers=bearer(key)).status_code == 201
    again = client.post("/api/v1/responses", json=body, headers=bearer(key))
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert db.session.scalar(sa.select(Response.comment)) == f"Gọi {MASK}"
