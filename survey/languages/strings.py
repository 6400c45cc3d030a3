"""The bounded set of texts a language pack translates, and where each one appears.

Keys are stable: they name the rows of the CSV/XLSX export and of the admin page. The English
msgids come from the compiled catalogues; the Vietnamese text of each (the fallback) is the
catalogue's `vi` translation. docs/kiosk.md lists them for translators.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: The question the citizen page and the kiosk ask; part of the questionnaire's wording.
QUESTION = _l("How satisfied are you with the service today?")

#: The screens' texts: key -> (English msgid, where it appears).
UI = {
    # The citizen page (QR code) and its thank-you page
    "rate_title": (_l("Rate the service"), "citizen"),
    "more_detail": (_l("Rate in more detail (optional)"), "citizen"),
    "comment": (_l("Comment (optional)"), "citizen"),
    "comment_hint": (_l("Please do not write your name, phone number or ID number."), "citizen"),
    "dossier": (_l("Dossier code (optional)"), "citizen"),
    "dossier_hint": (_l("Printed on your receipt; it helps the agency follow up."), "citizen"),
    "send": (_l("Send"), "citizen"),
    "choose": (_l("Please choose how satisfied you are."), "citizen"),
    "check": (_l("Please check the highlighted answers."), "citizen"),
    "thanks_title": (_l("Thank you for your rating"), "citizen"),
    "thanks_recorded": (_l("Your answer has been recorded."), "citizen"),
    "privacy": (_l("Your answer is anonymous: the staff at the desk cannot see it."), "both"),
    # What is and is not linked, where the page asks for or shows a dossier code
    "privacy_dossier": (
        _l(
            "Your name is not asked. If you give a dossier code, this rating is linked to that dossier, and the agency can tell whose dossier it is. Without one, nothing in the rating names you."
        ),
        "citizen",
    ),
    "privacy_ticket": (
        _l(
            "This rating is linked to the dossier shown above (one rating per dossier), so the agency can tell whose dossier it is. Your name is not asked."
        ),
        "citizen",
    ),
    # The kiosk
    "loading": (_l("Starting…"), "kiosk"),
    "hint": (_l("Touch a face to rate."), "kiosk"),
    "criterion_step": (_l("One more question (you may skip it)"), "kiosk"),
    "skip": (_l("Skip"), "kiosk"),
    "thanks": (_l("Thank you for your rating!"), "kiosk"),
    "thanks_more": (_l("Your opinion helps us serve you better."), "kiosk"),
    "closed": (_l("Ratings are closed now"), "kiosk"),
    "closed_more": (_l("Please come back during opening hours."), "kiosk"),
    "hours": (_l("Opening hours"), "kiosk"),
    "closed_day": (_l("Closed"), "kiosk"),
    "listen": (_l("Listen"), "both"),
    "start": (_l("Touch the screen to start"), "kiosk"),
}

#: Longest text accepted for one string (a criterion can be a long sentence).
MAX_TEXT = 500


def wording_keys(questionnaire) -> list[str]:
    """The questionnaire's wording keys, in page order: question, title, levels, criteria."""
    return [
        "question",
        "title",
        *(f"level.{level['code']}" for level in questionnaire.levels),
        *(f"criterion.{item['code']}" for item in questionnaire.criteria),
    ]


def all_keys(questionnaire) -> list[str]:
    return [*wording_keys(questionnaire), *UI]
