"""The kiosk device: the shell page, its service worker and manifest, and enrolment.

The shell is the same for every kiosk and every request (no cookies, no token, both languages),
so that the service worker can keep it and a tablet without network still starts. Everything
specific to a kiosk comes from GET /api/v1/kiosk/config with the device's bearer token.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import current_app, jsonify, make_response, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from survey import PROJECT_ROOT, __version__
from survey.audit import audit
from survey.errors import abort_with
from survey.extensions import db, limiter
from survey.kiosk import bp, enrolment
from survey.kiosk.forms import EnrolForm

# Every text on the kiosk screen, rendered in each language so that the toggle works offline.
STRINGS = {
    "loading": _l("Starting…"),
    "question": _l("How satisfied are you with the service today?"),
    "hint": _l("Touch a face to rate."),
    "privacy": _l("Your answer is anonymous: the staff at the desk cannot see it."),
    "criterion_step": _l("One more question (you may skip it)"),
    "skip": _l("Skip"),
    "thanks": _l("Thank you for your rating!"),
    "thanks_more": _l("Your opinion helps us serve you better."),
    "closed": _l("Ratings are closed now"),
    "closed_more": _l("Please come back during opening hours."),
    "hours": _l("Opening hours"),
    "closed_day": _l("Closed"),
    "listen": _l("Listen"),
    "start": _l("Touch the screen to start"),
    "not_enrolled": _l("This device is not enrolled"),
    "not_enrolled_more": _l("An administrator can enrol it with a one-time enrolment code."),
    "enrol": _l("Enter an enrolment code"),
    "staff": _l("For staff"),
    "waiting": _l("Waiting to send"),
    "rejected": _l("Refused by the server"),
    "last_sent": _l("Last sent"),
    "clock": _l("Tablet clock ahead by (seconds)"),
    "version": _l("App version"),
    "send_now": _l("Send now"),
    "fullscreen": _l("Full screen"),
    "close": _l("Close"),
}
STATIC_FILES = ("js/kiosk.js", "css/kiosk.css", "img/kiosk.svg")
TEMPLATES = ("kiosk/shell.html", "kiosk/sw.js")


def languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def strings() -> dict[str, dict[str, str]]:
    texts = {}
    for lang in languages():
        with force_locale(lang):
            texts[lang] = {key: str(value) for key, value in STRINGS.items()}
    return texts


def app_version() -> str:
    """The package version plus a digest of everything the shell is made of.

    It names the service worker's cache and the assets' ?v=, so that any change (code, style,
    translation) installs a new service worker, which fetches the new shell: a kiosk never
    mixes an old page with new scripts.
    """
    cached = current_app.extensions.get("hailong_kiosk_version")
    if cached and not current_app.debug:
        return cached
    digest = hashlib.sha256(__version__.encode())
    for name in STATIC_FILES:
        digest.update((Path(current_app.static_folder) / name).read_bytes())
    for name in TEMPLATES:
        digest.update((PROJECT_ROOT / "templates" / name).read_bytes())
    digest.update(json.dumps(strings(), sort_keys=True).encode())
    version = f"{__version__}+{digest.hexdigest()[:10]}"
    current_app.extensions["hailong_kiosk_version"] = version
    return version


def asset(name: str) -> str:
    return url_for("static", filename=name, v=app_version().split("+")[1])


def _no_cache(response, value: str = "no-cache"):
    response.headers["Cache-Control"] = value
    return response


@bp.get("")
def shell():
    html = render_template(
        "kiosk/shell.html",
        texts=strings(),
        langs=languages(),
        version=app_version(),
        asset=asset,
    )
    return _no_cache(make_response(html))


@bp.get("/sw.js")
def service_worker():
    """Served from /kiosk/ with a header that lets its scope cover /kiosk itself."""
    shell_url = url_for("kiosk.shell")
    precache = [
        shell_url,
        url_for("kiosk.manifest"),
        *(asset(name) for name in STATIC_FILES),
    ]
    prompts = url_for("main.prompt", digest="0" * 64, ext="ogg").rsplit("/", 1)[0] + "/"
    body = render_template(
        "kiosk/sw.js", version=app_version(), shell=shell_url, precache=precache, prompts=prompts
    )
    response = make_response(body)
    response.mimetype = "text/javascript"
    response.headers["Service-Worker-Allowed"] = shell_url
    return _no_cache(response)


@bp.get("/manifest.webmanifest")
def manifest():
    with force_locale(languages()[0]):
        name = _("hailong kiosk")
    response = jsonify(
        {
            "name": name,
            "short_name": "hailong",
            "lang": languages()[0],
            "start_url": url_for("kiosk.shell"),
            "scope": url_for("kiosk.shell"),
            "display": "fullscreen",
            "orientation": "landscape",
            "background_color": "#f5f6f7",
            "theme_color": "#0b4f8a",
            "icons": [{"src": asset("img/kiosk.svg"), "sizes": "any", "type": "image/svg+xml"}],
        }
    )
    response.mimetype = "application/manifest+json"
    return _no_cache(response)


def _invalid_code():
    abort_with(
        404,
        _(
            "This enrolment code is not valid or has expired. Please ask an administrator for a new one."
        ),
    )


@bp.get("/enrol/<code>")
def enrol_link(code: str):
    """Opened from the QR code: show which desk this tablet will rate, and ask to confirm.

    Only the POST uses the code, so that a link preview or a prefetch can't spend it.
    """
    kiosk = enrolment.pending(code)
    if kiosk is None:
        _invalid_code()
    form = EnrolForm(data={"code": code})
    return _no_cache(
        make_response(render_template("kiosk/confirm.html", form=form, kiosk=kiosk)), "no-store"
    )


@bp.route("/enrol", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def enrol():
    form = EnrolForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("kiosk/enrol.html", form=form), status
    redeemed = enrolment.redeem(form.code.data)
    if redeemed is None:
        form.code.errors.append(
            _(
                "This enrolment code is not valid or has expired. Please ask an administrator for a new one."
            )
        )
        return render_template("kiosk/enrol.html", form=form), 400
    kiosk, token = redeemed
    audit("kiosk.enrol", target=f"kiosk:{kiosk.id}", desk=kiosk.desk.code)
    db.session.commit()
    # The token is in this page only; kiosk.js stores it on the device and opens the kiosk.
    page = render_template(
        "kiosk/enrolled.html", kiosk=kiosk, token=token, next_url=url_for("kiosk.shell")
    )
    return _no_cache(make_response(page), "no-store")
