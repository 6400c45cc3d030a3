"""Comments' themes for the official document: a simple keyword grouping, said to be one.

Each valid response's comment in the period is matched against a short list of Vietnamese
keywords per theme (the official criteria's subjects: time, attitude, the dossier, online
services, guidance, premises, fees, complaints). A comment may fall under several themes, or
under none ("not grouped"). Keywords match whole words in the lower-cased text; keywords of two
syllables or more also match when typed without accents (single syllables without accents are
too ambiguous in Vietnamese: "cham" is chậm and chăm). This is a rough guide to where citizens'
remarks point, not an analysis of their content: it misses paraphrases and negations
("không chậm" counts under time). docs/reporting.md says so.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from survey.reporting import counts as sql

# (code, label in Vietnamese, keywords)
THEMES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "thoi_gian",
        "Thời gian giải quyết, trễ hẹn, chờ đợi",
        (
            "chậm",
            "lâu",
            "trễ",
            "trễ hẹn",
            "quá hạn",
            "đúng hẹn",
            "sớm hẹn",
            "chờ",
            "chờ đợi",
            "mất thời gian",
            "nhanh",
            "nhanh chóng",
        ),
    ),
    (
        "thai_do",
        "Thái độ của công chức",
        (
            "thái độ",
            "nhiệt tình",
            "thân thiện",
            "lịch sự",
            "cáu",
            "gắt",
            "quát",
            "hách dịch",
            "khó chịu",
            "chu đáo",
            "tận tình",
            "niềm nở",
            "vui vẻ",
        ),
    ),
    (
        "ho_so",
        "Thủ tục, hồ sơ, giấy tờ",
        ("thủ tục", "hồ sơ", "giấy tờ", "bổ sung", "rườm rà", "phức tạp", "nhiều lần", "đi lại"),
    ),
    (
        "truc_tuyen",
        "Dịch vụ công trực tuyến",
        (
            "trực tuyến",
            "online",
            "dịch vụ công",
            "cổng dịch vụ",
            "website",
            "ứng dụng",
            "vneid",
            "lỗi hệ thống",
            "mạng",
        ),
    ),
    (
        "huong_dan",
        "Hướng dẫn, công khai thông tin",
        ("hướng dẫn", "công khai", "niêm yết", "giải thích", "thông tin"),
    ),
    (
        "co_so",
        "Cơ sở vật chất, chỗ ngồi, gửi xe",
        (
            "chỗ ngồi",
            "ghế",
            "nóng",
            "chật",
            "bãi xe",
            "gửi xe",
            "điều hòa",
            "nhà vệ sinh",
            "nước uống",
            "máy lấy số",
        ),
    ),
    (
        "chi_phi",
        "Phí, lệ phí, tiêu cực",
        ("phí", "lệ phí", "tiền", "bồi dưỡng", "phong bì", "tiêu cực", "nhũng nhiễu"),
    ),
    (
        "phan_anh",
        "Tiếp nhận, xử lý phản ánh, kiến nghị",
        ("phản ánh", "khiếu nại", "kiến nghị"),
    ),
)


def _fold(text: str) -> str:
    """Lower case without accents (đ as d)."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def _pattern(words) -> re.Pattern | None:
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


_MATCHERS = [
    (
        code,
        _pattern([unicodedata.normalize("NFC", w) for w in words]),
        _pattern([_fold(w) for w in words if " " in w]),
    )
    for code, _label, words in THEMES
]


def themes_of(text: str) -> list[str]:
    """The theme codes whose keywords occur in `text`, in `THEMES` order."""
    plain = unicodedata.normalize("NFC", text.lower())
    folded = _fold(text)
    return [
        code
        for code, accented, unaccented in _MATCHERS
        if accented.search(plain) or (unaccented is not None and unaccented.search(folded))
    ]


@dataclass(frozen=True)
class ThemeCount:
    code: str
    label: str
    comments: int
    unsatisfied: int  # of which on responses that were not satisfied


@dataclass(frozen=True)
class CommentThemes:
    comments: int  # valid responses with a comment
    themes: list[ThemeCount]  # every theme with at least one comment, most comments first
    ungrouped: int


def comment_themes(period, agency_ids) -> CommentThemes:
    """Comments of the valid responses of `agency_ids` in `period`, grouped by theme."""
    rows = sql.comment_texts(period, agency_ids)
    counts = {code: [0, 0] for code, _label, _words in THEMES}
    ungrouped = 0
    for text, satisfied in rows:
        found = themes_of(text)
        ungrouped += not found
        for code in found:
            counts[code][0] += 1
            counts[code][1] += not satisfied
    labels = {code: label for code, label, _words in THEMES}
    themes = [
        ThemeCount(code, labels[code], n, unhappy) for code, (n, unhappy) in counts.items() if n
    ]
    themes.sort(key=lambda t: -t.comments)  # stable: THEMES order among equals
    return CommentThemes(len(rows), themes, ungrouped)
