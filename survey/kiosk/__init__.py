"""Kiosk mode: a tablet at a desk that rates one desk, resets itself and works offline.

Two blueprints: `kiosk` serves the device (the shell page, its service worker and manifest,
enrolment); `kiosks` is the administrators' page at /admin/kiosks. That page stays here rather
than in `survey/admin/`: it is made of the kiosk's own parts (enrolment codes, the settings a
device downloads, their forms), which the device side uses too, and its own blueprint keeps it
under /admin/ with the same administrator guard (`admin_required` on each view).
"""

from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")
admin_bp = Blueprint("kiosks", __name__, url_prefix="/admin/kiosks")

from survey.kiosk import admin, views  # noqa: E402,F401  (views register routes on the blueprints)
