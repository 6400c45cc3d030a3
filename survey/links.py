"""Links that several areas print: the public survey address of a desk (posters, the desk
list, the directory API, the `poster` command)."""

from __future__ import annotations

from flask import current_app, url_for

from survey.models import Desk
from survey.tokens import desk_token


def survey_url(desk: Desk, external: bool = True) -> str:
    """The public survey URL of a desk, on PUBLIC_BASE_URL when that is configured."""
    path = url_for("citizen.survey", token=desk_token(desk.id))
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base + path
    return url_for("citizen.survey", token=desk_token(desk.id), _external=external)
