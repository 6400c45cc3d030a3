"""The official report document (DOCX), in the administrative format of Decree 30/2020/NĐ-CP,
from a finished `Report`; `to_pdf` prints the same document to PDF with LibreOffice.

The document is Vietnamese, as official documents are: Quốc hiệu and tiêu ngữ, the issuing
agency, số/ký hiệu (left blank to fill in), place and date, trích yếu; a body of sentences
written from the figures; tables (column headers repeated on every page) of the agencies with
their counts by level, rate, both verdicts and indicator score, the points of each indicator,
and the agencies below target with their weakest indicators; nơi nhận, the signer's position
and a signature block; page numbers. Times New Roman 13 pt (14 pt for the headings); tables
in 11 pt. Where Times New Roman is not installed, LibreOffice prints it with the metric-
compatible Liberation Serif (embedded in the PDF).

The issuer, its superior, the place, the signer and the recipients are the installation's
settings (`REPORT_ISSUER`, `REPORT_SUPERIOR`, `REPORT_PLACE`, `REPORT_SIGNER`,
`REPORT_RECIPIENTS`; docs/reporting.md): officials edit the DOCX in Word before signing.

One cohesive thing, the official document section by section (how Word is written is
`survey.reporting.word`), hence over 400 lines.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from datetime import date

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from flask import current_app
from flask_babel import force_locale

from survey import periods
from survey.periods import to_local
from survey.reporting import labels, word
from survey.reporting.formatting import Numbers
from survey.reporting.official import ADMINISTRATIVE_LABELS, CLASS_LABELS, shares, verdict_note
from survey.reporting.table import Report, Row
from survey.reporting.word import FONT

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Vietnamese numbers in the document, whatever the reader's language: 85,0% and 1.234.
VI = Numbers("vi")


def _settings(report: Report) -> dict:
    config = current_app.config
    recipients = config.get("REPORT_RECIPIENTS") or (
        "UBND tỉnh (để báo cáo)",
        "Bộ Nội vụ (để báo cáo)",
        "Các cơ quan, đơn vị trong báo cáo",
        "Lưu: VT",
    )
    return {
        "superior": config.get("REPORT_SUPERIOR") or f"UBND {report.root_name.upper()}",
        "issuer": config.get("REPORT_ISSUER") or "SỞ NỘI VỤ",
        "symbol": config.get("REPORT_SYMBOL") or "BC-SNV",
        "place": config.get("REPORT_PLACE") or "……………",
        "signer": config.get("REPORT_SIGNER") or "GIÁM ĐỐC",
        "recipients": list(recipients),
    }


def document_date(day: date) -> str:
    """ "ngày 05 tháng 01 năm 2026": Decree 30 writes days below 10 and months below 3 with a
    leading zero."""
    d = f"{day.day:02d}" if day.day < 10 else str(day.day)
    m = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {d} tháng {m} năm {day.year}"


def period_phrase(report: Report) -> str:
    """The period as the trích yếu writes it: "quý 3/2026", "6 tháng đầu năm 2026"."""
    label = report.period.label()
    return label[:1].lower() + label[1:]


# ---- the figures as sentences ----------------------------------------------------------------


def judged_rows(report: Report) -> list[Row]:
    """The agencies a report judges: those under the root (the root alone when it is all)."""
    rows = [r for r in report.visible_rows() if r.depth > 0] or report.visible_rows()
    return [r for r in rows if r.valid > 0]


def body_sentences(report: Report) -> list[str]:
    """The body of the report, written from its figures."""
    s = report.summary
    period = period_phrase(report)
    if report.is_empty:
        return [f"Trong {period}, chưa ghi nhận phiếu đánh giá hợp lệ nào."]
    rows = judged_rows(report)
    out = []
    not_counted = s.flagged + s.excluded
    target = VI.percent(s.target) if s.target is not None else "chưa quy định"
    out.append(
        f"Trong {period}, hệ thống ghi nhận {VI.integer(s.valid)} phiếu đánh giá hợp lệ"
        + (
            f" ({VI.integer(not_counted)} phiếu bị gắn cờ hoặc loại, không tính)"
            if not_counted
            else ""
        )
        + f"; tỷ lệ hài lòng chung là {VI.percent(s.rate)} (khoảng tin cậy "
        f"{report.options.confidence}%: {VI.percent(s.low)}–{VI.percent(s.high)}), chỉ tiêu "
        f"{target}."
    )
    targets = {r.target for r in rows if r.target is not None}
    goal = f"mục tiêu {VI.percent(targets.pop(), 0)}" if len(targets) == 1 else "chỉ tiêu"
    meets = [r for r in rows if r.verdict == "meets"]
    below = [r for r in rows if r.verdict == "below"]
    unsure = [r for r in rows if r.verdict == "inconclusive"]
    parts = [f"{len(meets)}/{len(rows)} cơ quan, đơn vị đạt {goal}"]
    if below:
        parts.append(f"{len(below)} cơ quan, đơn vị chưa đạt: " + ", ".join(r.name for r in below))
    if unsure:
        parts.append(f"{len(unsure)} cơ quan, đơn vị chưa đủ số phiếu để kết luận")
    out.append(f"Trong {period}, " + "; ".join(parts) + ".")
    met = sum(1 for r in rows if r.administrative_verdict == "dat")
    judged = sum(1 for r in rows if r.administrative_verdict is not None)
    if judged:
        out.append(
            f"Xét riêng theo tỷ lệ (đánh giá hành chính: tỷ lệ hài lòng so với chỉ tiêu), "
            f"{met}/{judged} cơ quan, đơn vị Đạt và {judged - met} Không đạt; kết luận thống kê "
            "nêu trên còn xét đến số phiếu, nên một cơ quan Đạt theo tỷ lệ có thể chưa đủ căn "
            "cứ để khẳng định."
        )
    if s.levels and sum(s.levels.values()):
        level_shares = shares(s.levels)
        names = dict(report.scale.levels)
        items = [
            f"{names.get(code, code)} {VI.integer(n)} phiếu ({VI.percent(level_shares[code])})"
            for code, n in s.levels.items()
        ]
        out.append("Theo mức độ hài lòng: " + "; ".join(items) + ".")
    points = s.points
    if points is not None and points.total is not None:
        names = dict(report.scale.indicators)
        weakest = ", ".join(
            f"{names.get(c, c).lower()} ({VI.number(m, 2)} điểm)" for c, m in points.weakest(3)
        )
        out.append(
            f"Điểm chỉ số bình quân đạt {VI.number(points.total, 2)}/{points.maximum:g} điểm "
            f"(khoảng tin cậy {VI.number(points.low, 2)}–{VI.number(points.high, 2)}), xếp loại "
            f"{CLASS_LABELS[points.cls]}; các chỉ số thấp điểm nhất: {weakest}."
        )
    if uptake := uptake_sentence(s, report.response_warning):
        out.append(uptake)
    if s.cases:
        out.append(
            f"Về tiếp nhận, xử lý phản ánh, kiến nghị (tiêu chí 8): {VI.integer(s.cases)} phản "
            f"ánh được tiếp nhận, {VI.percent(s.cases_answered_share)} đã được trả lời, "
            f"{VI.percent(s.cases_on_time_share)} số phản ánh đến hạn được trả lời đúng hạn."
        )
    return out


def uptake_cell(r) -> str:
    """The response rate of a row for the table: rate (answered/out of), a mark when low."""
    if r.response_rate is None:
        return "–"
    text = (
        f"{VI.percent(r.response_rate)} ({VI.integer(r.response_answered)}/"
        f"{VI.integer(r.response_base)})"
    )
    return text + " (thấp)" if r.low_response_rate else text


def uptake_sentence(s, warning: float) -> str:
    """The response rate of the report, in one sentence."""
    text = ""
    if s.response_rate is not None:
        text = (
            f"Tỷ lệ phản hồi: {VI.percent(s.response_rate)} ({VI.integer(s.response_answered)}/"
            f"{VI.integer(s.response_base)}; {VI.integer(s.tickets_issued)} phiếu khảo sát "
            f"phát hành kèm hồ sơ, {VI.integer(s.tickets_used)} phiếu đã được sử dụng"
            + (
                f"; {VI.integer(s.dossiers_handled)} hồ sơ đã tiếp nhận theo số liệu của hệ "
                "thống một cửa điện tử"
                if s.dossiers_handled
                else ""
            )
            + ")"
        )
        if s.low_response_rate:
            text += (
                f", thấp hơn mức cảnh báo {VI.percent(warning, 0)}: kết quả có thể chưa phản ánh "
                "đúng ý kiến của người dân được phục vụ"
            )
        text += "."
    if s.no_denominator:
        text += (
            f"{' ' if text else ''}{VI.integer(s.no_denominator)} phiếu đánh giá qua mã QR tại quầy, máy đánh giá hoặc "
            "phiếu giấy không có mẫu số (không biết số người được phục vụ mà không đánh giá)."
        )
    return text


# ---- the document ----------------------------------------------------------------------------


#: Progress steps of `to_docx` (and `to_pdf`, which adds one).
STEPS = 3


def _noop(_step: str) -> None:
    return None


def to_docx(report: Report, progress=_noop) -> bytes:
    """The official report of `report` as a DOCX file. The report needs its comment themes,
    dossier splits and follow-up check attached (`survey.reporting.exports.export` does it,
    through `prepare`): the renderer never queries."""
    if report.themes is None:
        raise ValueError("attach the comment themes first: exports.prepare(report, 'docx')")
    with force_locale("vi"):
        return _build(report, progress)


def _chart_png(figure) -> bytes:
    import matplotlib

    from survey.reporting.pdf import _PDF_RC

    buffer = io.BytesIO()
    with matplotlib.rc_context(_PDF_RC):
        figure.savefig(buffer, format="png", dpi=150)
    return buffer.getvalue()


def _build(report: Report, progress=_noop) -> bytes:
    settings = _settings(report)
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    doc.core_properties.title = f"Báo cáo kết quả đánh giá mức độ hài lòng {period_phrase(report)}"
    doc.core_properties.author = settings["issuer"]
    doc.core_properties.comments = "hailong"

    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    # Decree 30, Appendix I: top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm.
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    section.different_first_page_header_footer = True  # no number on the first page
    number = section.header.paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    word.page_field(number)

    # Header: the issuer on the left, Quốc hiệu and tiêu ngữ on the right.
    head = doc.add_table(rows=2, cols=2)
    word.no_borders(head)
    widths = (6.2, 10.3)
    left, right = head.rows[0].cells
    word.fill_cell(left, settings["superior"], 12, align=WD_ALIGN_PARAGRAPH.CENTER)
    word.set_font(left.add_paragraph().add_run(settings["issuer"]), 12.5, bold=True)
    left.paragraphs[1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    word.set_font(left.add_paragraph().add_run("_______"), 12, bold=True)
    left.paragraphs[2].alignment = WD_ALIGN_PARAGRAPH.CENTER
    word.fill_cell(right, NATION, 12.5, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    motto = right.add_paragraph()
    motto.alignment = WD_ALIGN_PARAGRAPH.CENTER
    word.set_font(motto.add_run(MOTTO), 13.5, bold=True)
    line = right.add_paragraph()
    line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    word.set_font(line.add_run("_______________________"), 12, bold=True)
    symbol, when = head.rows[1].cells
    word.fill_cell(symbol, f"Số:       /{settings['symbol']}", 13, align=WD_ALIGN_PARAGRAPH.CENTER)
    local_day = periods.local_today()
    word.fill_cell(
        when,
        f"{settings['place']}, {document_date(local_day)}",
        13,
        italic=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    word.fix_widths(head, widths)

    word.add_paragraph(doc, "", after=6)
    word.add_paragraph(doc, "BÁO CÁO", 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    word.add_paragraph(
        doc,
        "Kết quả đánh giá mức độ hài lòng của người dân, tổ chức đối với sự phục vụ của "
        f"cơ quan hành chính nhà nước {period_phrase(report)}",
        14,
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        after=0,
    )
    word.add_paragraph(doc, "_______", 13, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)

    p = report.period
    word.add_paragraph(
        doc,
        f"Phạm vi: {report.root_name}. Số liệu từ ngày {p.start:%d/%m/%Y} đến ngày "
        f"{p.end:%d/%m/%Y}, theo giờ Việt Nam; so sánh với {report.previous.label().lower()}.",
    )
    word.heading(doc, "I. KẾT QUẢ CHUNG")
    for sentence in body_sentences(report):
        word.add_paragraph(doc, sentence)

    # The tables, on landscape pages.
    wide = doc.add_section(WD_SECTION.NEW_PAGE)
    wide.orientation = WD_ORIENT.LANDSCAPE
    wide.page_width, wide.page_height = Cm(29.7), Cm(21)
    wide.left_margin, wide.right_margin = Cm(2), Cm(1.5)
    wide.different_first_page_header_footer = False
    word.heading(doc, "II. KẾT QUẢ THEO CƠ QUAN, ĐƠN VỊ")
    _agency_table(doc, report)
    word.add_paragraph(
        doc,
        "Ghi chú: Đạt/Không đạt là đánh giá hành chính, chỉ xét tỷ lệ so với chỉ tiêu; kết "
        "luận thống kê xét cả khoảng tin cậy (đạt khi cả khoảng nằm trên chỉ tiêu). Cơ quan cấp "
        "trên gộp số phiếu của các đơn vị trực thuộc.",
        11,
        italic=True,
        indent=False,
    )
    if report.summary.points is not None and report.scale.indicators:
        word.heading(doc, "III. ĐIỂM THEO TỪNG CHỈ SỐ")
        _indicator_table(doc, report)
    word.heading(doc, "IV. CÁC CƠ QUAN, ĐƠN VỊ CHƯA ĐẠT CHỈ TIÊU")
    _below_table(doc, report)
    word.heading(doc, "V. Ý KIẾN GÓP Ý CỦA NGƯỜI DÂN THEO CHỦ ĐỀ")
    _themes(doc, report)
    word.heading(doc, "VI. KIỂM TRA KẾT QUẢ BẰNG KHẢO SÁT GỌI LẠI")
    _followup(doc, report)
    word.heading(doc, "VII. KẾT QUẢ THEO HỒ SƠ: TRẢ KẾT QUẢ ĐÚNG HẸN, THỦ TỤC, LĨNH VỰC")
    _dossiers(doc, report)
    progress("tables")

    # Closing: nơi nhận and the signature block, portrait again.
    end = doc.add_section(WD_SECTION.NEW_PAGE)
    end.orientation = WD_ORIENT.PORTRAIT
    end.page_width, end.page_height = Cm(21), Cm(29.7)
    end.left_margin, end.right_margin = Cm(3), Cm(1.5)
    word.heading(doc, "VIII. PHƯƠNG PHÁP")
    word.add_paragraph(
        doc,
        "Tỷ lệ hài lòng là số phiếu Hài lòng và Rất hài lòng chia cho số phiếu hợp lệ; phiếu bị "
        "hệ thống gắn cờ hoặc bị loại không được tính. Kết luận đạt hoặc không đạt chỉ tiêu "
        "theo kiểm định nhị thức chính xác một phía ở mức "
        f"{VI.number((100 - report.options.confidence) / 2, 1)}%; khoảng tin cậy "
        f"{report.options.confidence}% đi kèm kết luận là khoảng chính xác Clopper-Pearson "
        "tương ứng với kiểm định đó, nên không bao giờ mâu thuẫn với kết luận; khoảng ước lượng "
        f"tính theo phương pháp {labels.METHOD_LABELS[report.options.method]}. Điểm chỉ số: mỗi chỉ số được 0 điểm "
        "(Không hài lòng), 1 điểm (Hài lòng) hoặc 2 điểm (Rất hài lòng) theo mặc định; điểm "
        "từng chỉ số là điểm bình quân của các phiếu trả lời chỉ số đó, tổng điểm tối đa "
        f"{report.scale.maximum:g} điểm; khoảng tin cậy của tổng điểm tính theo phương pháp "
        f"delta. Xếp loại: {_classes_text(report)} (ngưỡng trên thang 18 điểm, do tỉnh quy "
        "định).",
        12,
    )
    word.add_paragraph(doc, "", after=6)
    closing = doc.add_table(rows=1, cols=2)
    word.no_borders(closing)
    to, sign = closing.rows[0].cells
    word.fill_cell(to, "Nơi nhận:", 12, bold=True, italic=True)
    for recipient in settings["recipients"]:
        item = to.add_paragraph()
        item.paragraph_format.space_after = Pt(0)
        word.set_font(
            item.add_run(f"- {recipient}{'.' if recipient.startswith('Lưu') else ';'}"), 11
        )
    word.fill_cell(sign, settings["signer"], 13, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    hint = sign.add_paragraph()
    hint.alignment = WD_ALIGN_PARAGRAPH.CENTER
    word.set_font(hint.add_run("(Ký, ghi rõ họ tên, đóng dấu)"), 12, italic=True)
    for _ in range(4):
        sign.add_paragraph()
    word.fix_widths(closing, (8.0, 8.5))
    word.add_paragraph(
        doc,
        f"Báo cáo lập bằng hailong lúc {to_local(report.generated_at):%H:%M %d/%m/%Y} (giờ Việt "
        "Nam).",
        9,
        italic=True,
        indent=False,
        align=WD_ALIGN_PARAGRAPH.LEFT,
    )

    # Annex: the funnel and forest plots.
    from survey.reporting import charts

    figures = [
        (title, figure)
        for title, figure in (
            (
                "Biểu đồ phễu: tỷ lệ hài lòng của từng cơ quan so với chỉ tiêu",
                charts.funnel_figure(report),
            ),
            (
                "Biểu đồ rừng: tỷ lệ và khoảng tin cậy của từng cơ quan",
                charts.forest_figure(report),
            ),
        )
        if figure is not None
    ]
    if figures:
        annex = doc.add_section(WD_SECTION.NEW_PAGE)
        annex.orientation = WD_ORIENT.PORTRAIT
        word.add_paragraph(doc, "PHỤ LỤC: BIỂU ĐỒ", 13, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        for title, figure in figures:
            word.add_paragraph(
                doc, title, 12, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=2
            )
            doc.add_picture(io.BytesIO(_chart_png(figure)), width=Cm(15.5))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    progress("charts")

    buffer = io.BytesIO()
    doc.save(buffer)
    progress("docx")
    return buffer.getvalue()


def _classes_text(report: Report) -> str:
    bounds = [bound for _code, bound, _included in report.scale.classes]
    if len(bounds) != 5:
        return "theo quy định của tỉnh"
    a, b, c, d = (VI.number(x, 0) if x == int(x) else VI.number(x, 1) for x in bounds[:4])
    return (
        f"Xuất sắc (trên {a} điểm), Tốt (từ {b} đến {a}), Khá (từ {c} đến dưới {b}), "
        f"Trung bình (từ {d} đến dưới {c}), Yếu (dưới {d})"
    )


def _agency_table(doc, report: Report) -> None:
    level_codes = report.scale.level_codes
    level_names = [name for _code, name in report.scale.levels]
    headers = [
        "TT",
        "Cơ quan, đơn vị",
        "Số phiếu hợp lệ",
        *level_names,
        "Tỷ lệ hài lòng (khoảng tin cậy)",
        "Tỷ lệ phản hồi",
        "Chỉ tiêu",
        "Đạt / Không đạt",
        "Kết luận thống kê",
        f"Điểm /{report.scale.maximum:g} (xếp loại)",
    ]
    rows = []
    for i, r in enumerate(report.visible_rows(), start=1):
        points = r.points
        score = (
            f"{VI.number(points.total, 2)} ({CLASS_LABELS[points.cls]})"
            if points is not None and points.total is not None
            else "–"
        )
        verdict = str(labels.VERDICT_LABELS[r.verdict])
        if r.responses_needed and r.responses_needed > 0:
            verdict += f" (cần thêm {VI.integer(r.responses_needed)} phiếu)"
        rows.append(
            [
                str(i),
                ("   " * min(r.depth, 3)) + r.name,
                VI.integer(r.valid),
                *[VI.integer(r.levels.get(code, 0)) for code in level_codes],
                f"{VI.percent(r.rate)} ({VI.percent(r.low)}–{VI.percent(r.high)})"
                if r.rate is not None
                else "–",
                uptake_cell(r),
                VI.percent(r.target, 0) if r.target is not None else "–",
                str(ADMINISTRATIVE_LABELS[r.administrative_verdict])
                if r.administrative_verdict
                else "–",
                verdict,
                score,
            ]
        )
    level_width = 1.9
    widths = [1.2, 5.6, 1.8, *[level_width] * len(level_codes), 3.4, 2.4, 1.5, 1.8, 3.6, 2.6]
    spare = 26.2 - sum(widths)
    widths[1] += max(spare, -2.5)
    numeric = {
        0,
        2,
        *range(3, 3 + len(level_codes)),
        3 + len(level_codes),
        4 + len(level_codes),
        5 + len(level_codes),
    }
    word.add_table(doc, headers, rows, widths, numeric)


def _indicator_table(doc, report: Report) -> None:
    points = report.summary.points
    names = dict(report.scale.indicators)
    rows = [
        [str(i), names.get(code, code), VI.number(mean, 2), VI.integer(points.answers[code])]
        for i, (code, mean) in enumerate(points.weakest(len(points.indicators)), start=1)
    ]
    rows.append(
        [
            "",
            "Tổng điểm (khoảng tin cậy)",
            f"{VI.number(points.total, 2)} ({VI.number(points.low, 2)}–{VI.number(points.high, 2)})",
            VI.integer(points.responses),
        ]
    )
    word.add_table(
        doc,
        ["TT", "Chỉ số (từ thấp đến cao)", "Điểm bình quân (0–2)", "Số phiếu trả lời"],
        rows,
        [1.2, 15.0, 5.0, 4.0],
        {0, 2, 3},
    )


def _themes(doc, report: Report) -> None:
    found = report.themes
    if not found.comments:
        word.add_paragraph(
            doc, "Trong kỳ không có ý kiến góp ý bằng chữ trên các phiếu hợp lệ.", 13
        )
        return
    word.add_paragraph(
        doc,
        f"Trong kỳ có {VI.integer(found.comments)} phiếu hợp lệ kèm ý kiến góp ý bằng chữ. Chủ "
        "đề được nhận biết tự động theo từ khóa (một ý kiến có thể thuộc nhiều chủ đề hoặc "
        "không thuộc chủ đề nào); đây là cách phân nhóm gợi ý, không thay cho việc đọc từng ý "
        "kiến.",
        13,
    )
    rows = [
        [str(i), t.label, VI.integer(t.comments), VI.integer(t.unsatisfied)]
        for i, t in enumerate(found.themes, start=1)
    ]
    rows.append(["", "Chưa xếp được chủ đề", VI.integer(found.ungrouped), ""])
    word.add_table(
        doc,
        ["TT", "Chủ đề", "Số ý kiến", "Trong đó: phiếu chưa hài lòng"],
        rows,
        [1.2, 14.0, 4.0, 6.0],
        {0, 2, 3},
    )


def followup_sentences(report: Report) -> list[str]:
    """The follow-up check (`report.followup`) in sentences: what the sample is, how the two
    estimates are compared, and which agencies differ."""
    found = report.followup
    if found is None:
        return [
            f"Trong {period_phrase(report)} chưa rút mẫu khảo sát gọi lại, nên chưa có căn cứ "
            "kiểm tra các phiếu đánh giá tự nguyện: người dân tự chọn có đánh giá hay không, "
            "nên tỷ lệ hài lòng có thể cao hoặc thấp hơn thực tế."
        ]
    confidence = VI.percent(found.confidence, 0)
    out = [
        f"Đợt rút mẫu số {found.draw} (hạt giống {found.seed}) chọn ngẫu nhiên các hồ sơ đã "
        "trả kết quả trong kỳ, phân tầng theo cơ quan, đơn vị; cán bộ gọi điện lại hỏi ý kiến "
        "người dân. Tỷ lệ hài lòng qua gọi lại là ước lượng từ mẫu xác suất; tỷ lệ hài lòng tự "
        "nguyện tính từ những người tự chọn đánh giá. Hai tỷ lệ khác biệt vượt mức ngẫu nhiên "
        f"khi khoảng tin cậy {confidence} (Newcombe) của chênh lệch không chứa 0: khi đó kết "
        "quả đánh giá tự nguyện của cơ quan, đơn vị có thể bị lệch do ai chọn đánh giá."
    ]
    differ = [c for c in found.agencies if c.differs]
    if differ:
        out.append(
            f"Có {len(differ)}/{len(found.agencies)} cơ quan, đơn vị có tỷ lệ hài lòng tự "
            "nguyện khác biệt vượt mức ngẫu nhiên so với khảo sát gọi lại: "
            + "; ".join(
                f"{c.name} (tự nguyện {VI.percent(c.self_rate)}, gọi lại "
                f"{VI.percent(c.followup_rate)})"
                for c in differ
            )
            + "."
        )
    else:
        out.append(
            "Không có cơ quan, đơn vị nào có tỷ lệ hài lòng tự nguyện khác biệt vượt mức ngẫu "
            "nhiên so với khảo sát gọi lại."
        )
    return out


def _followup(doc, report: Report) -> None:
    for sentence in followup_sentences(report):
        word.add_paragraph(doc, sentence, 13)
    found = report.followup
    if found is None or not found.agencies:
        return
    rows = []
    for i, c in enumerate(found.agencies, start=1):
        low, high = c.followup_interval()
        check = c.check
        rows.append(
            [
                str(i),
                c.name,
                VI.integer(c.sampled),
                f"{VI.percent(c.response_rate, 0)} ({VI.integer(c.answered)}/"
                f"{VI.integer(c.called)})"
                if c.response_rate is not None
                else "–",
                f"{VI.percent(c.followup_rate)} ({VI.integer(c.followup_satisfied)}/"
                f"{VI.integer(c.answered)}; {VI.percent(low)}–{VI.percent(high)})"
                if c.answered
                else "–",
                f"{VI.percent(c.self_rate)} ({VI.integer(c.self_satisfied)}/"
                f"{VI.integer(c.self_responses)})"
                if c.self_responses
                else "–",
                f"{VI.points(check.difference)} ({VI.points(check.low)} … {VI.points(check.high)})"
                if check is not None
                else "–",
                "Chưa đủ câu trả lời"
                if check is None
                else ("Khác biệt vượt mức ngẫu nhiên" if check.differs else "Phù hợp"),
            ]
        )
    word.add_table(
        doc,
        [
            "TT",
            "Cơ quan, đơn vị",
            "Số hồ sơ được chọn",
            "Tỷ lệ trả lời gọi lại",
            "Tỷ lệ hài lòng qua gọi lại (khoảng tin cậy)",
            "Tỷ lệ hài lòng tự nguyện",
            "Chênh lệch tự nguyện trừ gọi lại, điểm % (khoảng tin cậy)",
            "Kết luận",
        ],
        rows,
        [1.2, 4.6, 2.0, 2.4, 5.2, 3.2, 4.6, 3.0],
        {0, 2, 3, 4, 5, 6},
    )


#: Fields and procedures the document names per agency, the worst first (all in Excel).
WORST_SHOWN = 3


def dossier_rows(report: Report) -> list[tuple[Row, object]]:
    """The table's agencies with their dossier splits (`report.dossiers`), leaving out those
    without a ticket, a ticket rating or a returned dossier in the period."""
    out = []
    for row in report.visible_rows():
        splits = report.dossiers.get(row.code)
        if splits is not None and not splits.is_empty:
            out.append((row, splits))
    return out


def dossier_sentences(report: Report) -> list[str]:
    """What the dossier splits are, and the agencies whose citizens with late dossiers are
    less satisfied beyond chance."""
    found = dossier_rows(report)
    period = period_phrase(report)
    if not found:
        return [
            f"Trong {period} không có phiếu khảo sát nào được phát hành kèm hồ sơ và không có "
            "hồ sơ nào được trả kết quả, nên chưa tách được kết quả theo hồ sơ."
        ]
    confidence = VI.percent(report.confidence, 0)
    early = found[0][1].before_return_responses if found[0][0].depth == 0 else None
    out = [
        "Các phiếu đánh giá qua phiếu khảo sát phát hành kèm hồ sơ được tách theo hồ sơ: trả "
        "kết quả đúng hẹn (ngày trả không muộn hơn ngày hẹn trả) hoặc trễ hẹn, kèm chênh lệch "
        f"tỷ lệ hài lòng giữa hai nhóm với khoảng tin cậy {confidence} (Newcombe). Tỷ lệ hồ sơ "
        "trả đúng hẹn là chỉ số phục vụ, tính trên các hồ sơ đã trả kết quả trong kỳ có ngày "
        "hẹn trả, không phải tỷ lệ hài lòng. Tỷ lệ phản hồi của phiếu là tỷ lệ phiếu khảo sát phát "
        "hành trong kỳ đã được người dân sử dụng; phiếu đánh giá qua mã QR tại quầy, máy đánh "
        "giá hoặc phiếu giấy không có mẫu số nên không được tính."
        + (
            f" Các phiếu đánh giá trước khi nhận kết quả được tính ({VI.integer(early)} phiếu "
            "trong phạm vi báo cáo)."
            if early
            else ""
        )
    ]
    worse = [
        (row, splits)
        for row, splits in found
        if splits.difference.low is not None and splits.difference.low > 0
    ]
    if worse:
        out.append(
            "Người dân có hồ sơ trả trễ hẹn kém hài lòng hơn người có hồ sơ trả đúng hẹn, vượt "
            "mức ngẫu nhiên, tại: "
            + "; ".join(
                f"{row.name} (đúng hẹn {VI.percent(s.on_time.rate)}, trễ hẹn "
                f"{VI.percent(s.late.rate)})"
                for row, s in worse
            )
            + "."
        )
    else:
        out.append(
            "Không có cơ quan, đơn vị nào có tỷ lệ hài lòng của hồ sơ trả trễ hẹn thấp hơn hồ sơ "
            "trả đúng hẹn vượt mức ngẫu nhiên."
        )
    return out


def _share(x: int, n: int, rate, low=None, high=None) -> str:
    """ "78,0% (39/50)", with the interval on a second line when given; "–" without a
    denominator."""
    if not n:
        return "–"
    interval = f"\n{VI.percent(low)}–{VI.percent(high)}" if low is not None else ""
    return f"{VI.percent(rate)} ({VI.integer(x)}/{VI.integer(n)}){interval}"


def _worst(groups, named: bool) -> str:
    lines = []
    for g in groups[:WORST_SHOWN]:
        label = f"{g.code} {g.name}" if named and g.name else g.code
        lines.append(f"{label}: {_share(g.rate.satisfied, g.rate.responses, g.rate.rate)}")
    if len(groups) > WORST_SHOWN:
        lines.append(f"… và {len(groups) - WORST_SHOWN} mục khác")
    return "\n".join(lines) or "–"


def _dossiers(doc, report: Report) -> None:
    for sentence in dossier_sentences(report):
        word.add_paragraph(doc, sentence, 13)
    found = dossier_rows(report)
    if not found:
        return
    rows = []
    for i, (row, s) in enumerate(found, start=1):
        d = s.difference
        uptake = _share(s.used, s.issued, s.response_rate)
        rows.append(
            [
                str(i),
                ("   " * min(row.depth, 3)) + row.name,
                _share(
                    s.on_time.satisfied,
                    s.on_time.responses,
                    s.on_time.rate,
                    s.on_time.low,
                    s.on_time.high,
                ),
                _share(s.late.satisfied, s.late.responses, s.late.rate, s.late.low, s.late.high),
                f"{VI.points(d.difference)}\n({VI.points(d.low)} … {VI.points(d.high)})"
                if d.difference is not None
                else "–",
                _share(
                    s.returned_on_time,
                    s.returned,
                    s.on_time_rate.rate,
                    s.on_time_rate.low,
                    s.on_time_rate.high,
                ),
                uptake + " (thấp)" if s.low_response else uptake,
            ]
        )
    word.add_table(
        doc,
        [
            "TT",
            "Cơ quan, đơn vị",
            "Hồ sơ trả đúng hẹn: tỷ lệ hài lòng (hài lòng/số phiếu), khoảng tin cậy",
            "Hồ sơ trả trễ hẹn: tỷ lệ hài lòng (hài lòng/số phiếu), khoảng tin cậy",
            "Chênh lệch đúng hẹn trừ trễ hẹn, điểm % (khoảng tin cậy)",
            "Tỷ lệ hồ sơ trả đúng hẹn (đúng hẹn/đã trả), khoảng tin cậy",
            "Tỷ lệ phản hồi của phiếu (đã dùng/đã phát)",
        ],
        rows,
        [1.2, 5.2, 4.2, 4.2, 3.8, 4.0, 3.6],
        {0, 2, 3, 4, 5, 6},
    )
    ranked = [(row, s) for row, s in found if s.by_procedure or s.by_field]
    if not ranked:
        word.add_paragraph(doc, "Trong kỳ không có phiếu đánh giá nào ghi thủ tục của hồ sơ.", 13)
        return
    word.add_paragraph(doc, "", after=0)
    word.add_paragraph(
        doc,
        f"Lĩnh vực và thủ tục có tỷ lệ hài lòng thấp nhất của từng cơ quan, đơn vị (tối đa "
        f"{WORST_SHOWN} mỗi loại), xếp theo ước lượng co rút (Bayes thực nghiệm) để một thủ tục chỉ "
        "có vài phiếu không đứng đầu danh sách; danh sách đầy đủ, kèm khoảng tin cậy, ở trang "
        "“Theo hồ sơ” của tệp Excel báo cáo.",
        12,
        italic=True,
        indent=False,
    )
    word.add_table(
        doc,
        [
            "TT",
            "Cơ quan, đơn vị",
            "Lĩnh vực (tỷ lệ hài lòng, hài lòng/số phiếu)",
            "Thủ tục (mã, tên; tỷ lệ hài lòng, hài lòng/số phiếu)",
        ],
        [
            [
                str(i),
                ("   " * min(row.depth, 3)) + row.name,
                _worst(s.by_field, named=False),
                _worst(s.by_procedure, named=True),
            ]
            for i, (row, s) in enumerate(ranked, start=1)
        ],
        [1.2, 5.6, 7.0, 12.4],
        {0},
    )


def _below_table(doc, report: Report) -> None:
    below = [
        r
        for r in judged_rows(report)
        if r.administrative_verdict == "khong_dat" or r.verdict == "below"
    ]
    if not below:
        word.add_paragraph(doc, "Không có cơ quan, đơn vị nào chưa đạt chỉ tiêu.", 13)
        return
    names = dict(report.scale.indicators)
    rows = []
    for i, r in enumerate(below, start=1):
        weakest = (
            "; ".join(f"{names.get(c, c)} ({VI.number(m, 2)})" for c, m in r.points.weakest(3))
            if r.points is not None
            else "–"
        )
        rows.append(
            [
                str(i),
                r.name,
                VI.percent(r.rate),
                VI.percent(r.target, 0) if r.target is not None else "–",
                str(labels.VERDICT_LABELS[r.verdict]),
                weakest,
                verdict_note(r) or "",
            ]
        )
    word.add_table(
        doc,
        [
            "TT",
            "Cơ quan, đơn vị",
            "Tỷ lệ hài lòng",
            "Chỉ tiêu",
            "Kết luận thống kê",
            "Ba chỉ số thấp điểm nhất (điểm bình quân)",
            "Ghi chú",
        ],
        rows,
        [1.2, 5.0, 2.2, 1.6, 3.0, 8.2, 5.0],
        {0, 2, 3},
    )


# ---- PDF: the same document, printed by LibreOffice ------------------------------------------


class ConversionError(RuntimeError):
    """LibreOffice is missing or could not print the document."""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(data: bytes, timeout: int = 120) -> bytes:
    """Print a DOCX to PDF with LibreOffice (fonts embedded), in a private profile so that
    conversions can run side by side."""
    binary = soffice()
    if binary is None:
        raise ConversionError("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="hailong-doc-") as work:
        source = os.path.join(work, "report.docx")
        with open(source, "wb") as handle:
            handle.write(data)
        profile = "file://" + os.path.join(work, "profile")
        result = subprocess.run(  # noqa: S603 (a fixed program and our own temporary files)
            [
                binary,
                f"-env:UserInstallation={profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                work,
                source,
            ],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        target = os.path.join(work, "report.pdf")
        if result.returncode != 0 or not os.path.exists(target):
            raise ConversionError(result.stderr.decode(errors="replace")[-500:])
        with open(target, "rb") as handle:
            return handle.read()


def to_pdf(report: Report, progress=_noop) -> bytes:
    """The official document as PDF: the DOCX, printed by LibreOffice."""
    body = docx_to_pdf(to_docx(report, progress))
    progress("pdf")
    return body
