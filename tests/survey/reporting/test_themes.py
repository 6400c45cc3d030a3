"""Comments' themes in the official document: a keyword grouping, counted on planted comments."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import datetime

import docx
import sqlalchemy as sa

from survey import reporting
from survey.extensions import db
from survey.models import Level, Questionnaire, Response
from survey.reporting import exports, themes

AT = datetime(2026, 8, 3, 3)  # in 2026-Q3


def test_keywords_match_whole_words_with_or_without_accents_when_unambiguous():
    assert themes.themes_of("Cán bộ thái độ cáu gắt, chờ rất lâu") == ["thoi_gian", "thai_do"]
    assert themes.themes_of("thai do khong tot, ho so phai bo sung") == ["thai_do", "ho_so"]
    assert themes.themes_of("Nộp TRỰC TUYẾN bị lỗi hệ thống") == ["truc_tuyen"]
    # A single syllable without accents is ambiguous (chăm / chậm): not matched.
    assert themes.themes_of("cham qua") == [] and themes.themes_of("Cán bộ chăm chỉ") == []
    assert themes.themes_of("lâu") == ["thoi_gian"] and themes.themes_of("lâu đài") != []
    assert themes.themes_of("Cảm ơn") == [] and themes.themes_of("phíếu") == []


def _comment(desk, text: str | None, satisfied: bool, status: str = "valid") -> None:
    rid = uuid.uuid4()
    db.session.execute(
        sa.insert(Response),
        [
            {
                "id": rid,
                "desk_id": desk.id,
                "agency_id": desk.agency_id,
                "questionnaire_id": Questionnaire.default().id,
                "channel": "qr",
                "level": "hai_long" if satisfied else "khong_hai_long",
                "satisfied": satisfied,
                "occurred_at": AT,
                "received_at": AT,
                "status": status,
                "comment": text,
                "content_hash": hashlib.sha256(rid.bytes).hexdigest(),
            }
        ],
    )
    db.session.commit()


def test_the_document_counts_the_comments_by_theme(app, make_agency, make_desk):
    province = make_agency("P", level=Level.PROVINCE)
    desk = make_desk(agency=make_agency("A", parent=province))
    _comment(desk, "Chờ quá lâu, trễ hẹn hai ngày", False)
    _comment(desk, "Làm nhanh, cán bộ nhiệt tình", True)
    _comment(desk, "Thái độ không tốt", False)
    _comment(desk, "Cảm ơn", True)
    _comment(desk, None, True)
    _comment(desk, "   ", True)
    _comment(desk, "chờ lâu", False, status="excluded")  # not counted
    with app.test_request_context():
        report = reporting.build_report(reporting.parse_options({"period": "2026-Q3"}, None))
        found = themes.comment_themes(report.period, {row.id for row in report.rows})
        word = docx.Document(io.BytesIO(exports.export(report, "docx")))
    assert found.comments == 4 and found.ungrouped == 1
    assert [(t.code, t.comments, t.unsatisfied) for t in found.themes] == [
        ("thoi_gian", 2, 1),
        ("thai_do", 2, 1),
    ]
    text = [p.text for p in word.paragraphs]
    assert "V. Ý KIẾN GÓP Ý CỦA NGƯỜI DÂN THEO CHỦ ĐỀ" in text
    assert any(line.startswith("Trong kỳ có 4 phiếu hợp lệ kèm ý kiến") for line in text)
    table = next(t for t in word.tables if t.rows[0].cells[1].text == "Chủ đề")
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert rows == [
        ["1", "Thời gian giải quyết, trễ hẹn, chờ đợi", "2", "1"],
        ["2", "Thái độ của công chức", "2", "1"],
        ["", "Chưa xếp được chủ đề", "1", ""],
    ]
