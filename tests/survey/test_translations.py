"""Every user-facing string has a Vietnamese translation, and the catalogues compile."""

from survey.i18n_tools import area_dirs, untranslated


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
