"""`flask report`: the same reports from the command line."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from openpyxl import load_workbook

from survey.extensions import db
from survey.models import AuditLog
from tests.survey.dashboard.conftest import QUARTER


def test_report_help_explains_the_options(runner):
    result = runner.invoke(args=["report", "--help"])
    assert result.exit_code == 0
    for option in ("--period", "--format", "--out", "--agency"):
        assert option in result.output


def test_report_writes_json_csv_and_excel_with_the_same_numbers(runner, tmp_path):
    files = {}
    for fmt in ("json", "csv", "xlsx"):
        out = tmp_path / f"q3.{fmt}"
        result = runner.invoke(
            args=["report", "--period", QUARTER, "--format", fmt, "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        files[fmt] = out.read_bytes()
    agencies = json.loads(files["json"])["agencies"]
    rows = list(csv.reader(io.StringIO(files["csv"].decode("utf-8-sig"))))[1:]
    sheet = load_workbook(io.BytesIO(files["xlsx"])).worksheets[0]
    assert (
        [a["code"] for a in agencies] == [r[0] for r in rows] == [c.value for c in sheet["A"][1:]]
    )
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "report.export")
        )
        == 3
    )


def test_report_writes_a_pdf_with_a_progress_bar(runner, tmp_path):
    out = tmp_path / "q3.pdf"
    result = runner.invoke(
        args=[
            "report",
            "--period",
            QUARTER,
            "--format",
            "pdf",
            "--out",
            str(out),
            "--agency",
            "SYT",
        ]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert "Writing the PDF" in result.output


def test_report_refuses_bad_input_with_a_message(runner, tmp_path):
    out = tmp_path / "x.csv"
    result = runner.invoke(
        args=["report", "--period", "2026-Q7", "--format", "csv", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "2026-Q7" in result.output
    result = runner.invoke(
        args=[
            "report",
            "--period",
            QUARTER,
            "--format",
            "csv",
            "--out",
            str(out),
            "--agency",
            "NOPE",
        ]
    )
    assert result.exit_code == 2 and "NOPE" in result.output
    assert not out.exists()
