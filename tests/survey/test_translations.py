"""Every user-facing string has a Vietnamese translation, the catalogues compile, each msgid has
one translation across the per-area catalogues, and the Vietnamese wording follows the terms."""

import pytest

from survey import i18n_tools
from survey.i18n_tools import TERMS, area_dirs, conflicts, term_problems, untranslated


def test_every_string_has_a_vietnamese_translation():
    missing = untranslated()
    assert missing == [], "run `flask --app wsgi translate update` and translate: " + "; ".join(
        f"{area}: {msgid}" for area, msgid in missing[:20]
    )


def test_every_area_has_vi_and_en_catalogues():
    areas = area_dirs()
    assert {a.name for a in areas} >= {"core", "citizen", "auth", "main", "api"}
    for area in areas:
        for locale in ("vi", "en"):
            assert (area / locale / "LC_MESSAGES" / "messages.po").is_file(), (area.name, locale)


def test_no_catalogue_holds_merge_conflict_markers():
    """Babel reads a catalogue with `<<<<<<<` lines without complaint, dropping messages."""
    catalogues = sorted(i18n_tools.TRANSLATIONS.glob("*/*/LC_MESSAGES/messages.po"))
    assert len(catalogues) >= 20
    marked = [
        f"{path.relative_to(i18n_tools.TRANSLATIONS)}:{number}"
        for path in catalogues
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.startswith(("<<<<<<<", "=======", ">>>>>>>"))
    ]
    assert not marked, f"merge conflict markers: {marked}"


def test_no_msgid_is_translated_two_ways_across_the_area_catalogues():
    # Flask-Babel merges the areas' catalogues and the last loaded wins: a second wording of the
    # same msgid would never show.
    clashes = conflicts()
    assert clashes == [], "translate these the same way in every area: " + "; ".join(
        f"{locale} {msgid!r}: {by_area}" for locale, msgid, by_area in clashes[:10]
    )


def test_vietnamese_wording_follows_the_project_terms():
    problems = term_problems()
    assert problems == [], "; ".join(
        f"{area}: {text!r} ({rule})" for area, _msgid, text, rule in problems[:10]
    )


def _catalogue(folder, area, entries):
    po = folder / area / "vi" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    (folder / area / "sources.txt").write_text("")
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        + "".join(f'msgid "{msgid}"\nmsgstr "{text}"\n\n' for msgid, text in entries),
        encoding="utf-8",
    )


@pytest.fixture
def catalogues(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n_tools, "TRANSLATIONS", tmp_path)
    return tmp_path


def test_the_lint_finds_a_msgid_translated_two_ways(catalogues):
    _catalogue(catalogues, "admin", [("Agency", "Cơ quan"), ("Desk", "Quầy")])
    _catalogue(catalogues, "public", [("Agency", "Cơ quan, đơn vị"), ("Desk", "Quầy")])
    assert conflicts() == [("vi", "Agency", {"admin": "Cơ quan", "public": "Cơ quan, đơn vị"})]


def test_the_lint_finds_wording_against_the_terms(catalogues):
    _catalogue(
        catalogues,
        "citizen",
        [
            ("Thanks", "Cảm ơn bạn đã đánh giá"),
            ("Kiosk", "Ki-ốt"),
            ("Kiosks", "Máy kiosk"),
            ("Welcome", "Kính chào ông/bà"),
            ("Rated", "Cảm ơn Ông/Bà, máy đánh giá đã ghi nhận"),
        ],
    )
    flagged = {msgid for _area, msgid, _text, _rule in term_problems()}
    assert flagged == {"Thanks", "Kiosk", "Kiosks", "Welcome"}
    assert len(TERMS) >= 3
