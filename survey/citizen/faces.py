"""The faces beside the rating levels, drawn as inline SVG like the kiosk's (kiosk.js `face`):
emoji need an emoji font, and on many phones 🙂 🙁 🙏 show as empty boxes."""

from __future__ import annotations

from markupsafe import Markup

INK = "#1a1a1a"


def moods(levels: list[dict], satisfied: list[str]) -> list[float]:
    """From 1 (the happiest satisfied level) down to -1 (the unhappiest), in the questionnaire's
    order of levels: satisfied levels first, as the kiosk draws them."""
    happy = sum(1 for level in levels if level["code"] in satisfied)
    unhappy = len(levels) - happy
    out = []
    for i, level in enumerate(levels):
        if level["code"] in satisfied:
            out.append(1 - (0.5 * i / (happy - 1) if happy > 1 else 0))
        else:
            out.append(-(i - happy) / (unhappy - 1) if unhappy > 1 else -1)
    return out


def face(mood: float) -> Markup:
    """A round face whose mouth curves up (mood 1) or down (mood -1); decorative."""
    hue = round(60 + 60 * mood)
    corner = 68 - 8 * mood
    middle = 68 + 18 * mood
    return Markup(
        '<svg class="face" viewBox="0 0 100 100" aria-hidden="true" focusable="false">'
        f'<circle cx="50" cy="50" r="46" fill="hsl({hue},70%,55%)" stroke="{INK}" stroke-width="4"/>'
        f'<circle cx="35" cy="40" r="6" fill="{INK}"/><circle cx="65" cy="40" r="6" fill="{INK}"/>'
        f'<path d="M28 {corner:g} Q50 {middle:g} 72 {corner:g}" fill="none" stroke="{INK}"'
        ' stroke-width="6" stroke-linecap="round"/></svg>'
    )


def faces(questionnaire) -> list[Markup]:
    """One face per level of the questionnaire, in its order."""
    return [face(m) for m in moods(questionnaire.levels, questionnaire.satisfied)]


# The thank-you mark: a green disc with a tick, as on the kiosk's thank-you screen.
THANKS = Markup(
    '<svg class="big" viewBox="0 0 100 100" aria-hidden="true" focusable="false">'
    '<circle cx="50" cy="50" r="46" fill="#1e7b3c"/><path d="M28 52 44 68 74 36" fill="none"'
    ' stroke="#fff" stroke-width="9" stroke-linecap="round" stroke-linejoin="round"/></svg>'
)
