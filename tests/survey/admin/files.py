"""Import files made on the fly, for the import tests and bench/bench_import.py."""

from __future__ import annotations

import codecs
import csv
import io
import random
import unicodedata
from datetime import date, timedelta

AGENCY_HEADER = ["code", "name", "parent_code", "level", "kind"]
LEVELS = ("rat_hai_long", "hai_long", "khong_hai_long")
CRITERIA = (
    "total_time",
    "agency_time",
    "contacts",
    "agencies",
    "one_stop_desk",
    "disclosure",
    "attitude",
    "feedback",
    "online",
)
PAPER_HEADER = ["desk_code", "date", "level", *CRITERIA, "comment", "form_number"]
COMMENTS = ("", "", "", "Cán bộ hướng dẫn tận tình.", "Thời gian chờ hơi lâu.", "Rất hài lòng.")


def agency_rows(n: int) -> list[list[str]]:
    """A province, then departments and communes: each agency's parent comes before it."""
    rows = [["T00000", "Tỉnh Hài Long", "", "province", "administrative"]]
    for i in range(1, n):
        parent = f"T{(i - 1) // 20:05d}"
        level = "department" if i < 20 else "commune"
        rows.append([f"T{i:05d}", f"Xã Hòa Thuận số {i}", parent, level, "administrative"])
    return rows


def paper_rows(n: int, desks: list[str], seed: int = 7, prefix: str = "P") -> list[list[str]]:
    """`n` paper forms over the last year; every other one has a form number."""
    rng = random.Random(seed)
    start = date(2025, 1, 1)
    rows = []
    for i in range(n):
        day = start + timedelta(days=rng.randrange(365))
        answers = [rng.choice(LEVELS) if rng.random() < 0.7 else "" for _ in CRITERIA]
        rows.append(
            [
                desks[i % len(desks)],
                day.isoformat() if i % 3 else day.strftime("%d/%m/%Y"),
                rng.choice(LEVELS),
                *answers,
                rng.choice(COMMENTS),
                f"{prefix}-{i:07d}" if i % 2 else "",
            ]
        )
    return rows


def to_csv(header, rows, encoding: str = "utf-8", bom: bool = False, delimiter=",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    data = windows_1258(text) if encoding == "cp1258" else text.encode(encoding)
    return (codecs.BOM_UTF8 + data) if bom else data


def windows_1258(text: str) -> bytes:
    """Encode as Excel on Vietnamese Windows does: letters like â, ơ, ư precomposed, tone marks
    as combining characters (so "ệ" is "ê" + U+0323)."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        try:
            char.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            for mark in marks:  # keep â, ê, ô, ơ, ư, ă whole; only the tone mark combines
                composed = unicodedata.normalize("NFC", base + mark)
                if len(composed) == 1 and composed.encode("cp1258", errors="ignore"):
                    base = composed
                    marks.remove(mark)
                    break
            char = base + "".join(marks)
        out.append(char)
    return "".join(out).encode("cp1258")


def to_xlsx(header, rows) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
