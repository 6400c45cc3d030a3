"""A pack as a CSV or XLSX file, for translators who work in a spreadsheet.

Columns: key, where, vietnamese, translation. Only `key` and `translation` are read back; an
empty translation clears the key (it falls back to Vietnamese again). A file is checked whole
before anything changes: one bad row and nothing is written.
"""

from __future__ import annotations

from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from survey.imports import FileProblem, Table, write_table
from survey.languages.strings import MAX_TEXT, UI, all_keys
from survey.models import Questionnaire

HEADER = ["key", "where", "vietnamese", "translation"]
COLUMNS = {
    "key": "key",
    "mã": "key",
    "where": "where",
    "nơi hiện": "where",
    "vietnamese": "vietnamese",
    "tiếng việt": "vietnamese",
    "translation": "translation",
    "bản dịch": "translation",
}
MAX_ROWS = 500


def where(key: str) -> str:
    if key in UI:
        return UI[key][1]
    return "questionnaire"


def export_pack(questionnaire: Questionnaire, vietnamese: dict, texts: dict, fmt: str) -> bytes:
    rows = [
        [key, where(key), vietnamese[key], texts.get(key, "")] for key in all_keys(questionnaire)
    ]
    return write_table(fmt, HEADER, rows, sheet="hailong")


def read_pack(stream: BinaryIO, questionnaire: Questionnaire) -> dict[str, str]:
    """{key: text} from a file; FileProblem (with its row) for anything that is not right."""
    table = Table(stream)
    columns = table.columns(COLUMNS, ("key", "translation"))
    known = set(all_keys(questionnaire))
    texts: dict[str, str] = {}
    for number, cells in table.rows():
        if number > MAX_ROWS + 1:
            raise FileProblem(_l("The file has more than %(max)d rows.", max=MAX_ROWS), row=number)
        key = cells[columns["key"]]
        text = cells[columns["translation"]]
        if key not in known:
            raise FileProblem(
                _l(
                    "Unknown key %(key)s: this questionnaire version has no such text. Export the file again from this page and translate that one.",
                    key=key,
                ),
                row=number,
                column="key",
            )
        if key in texts:
            raise FileProblem(_l("The key %(key)s appears twice.", key=key), row=number)
        if len(text) > MAX_TEXT:
            raise FileProblem(
                _l("This text is longer than %(max)d characters.", max=MAX_TEXT),
                row=number,
                column="translation",
            )
        texts[key] = text
    if not texts:
        raise FileProblem(_l("The file has no rows of texts."))
    return texts
