"""What the kiosk API (survey/api/kiosk.py) tells a device and records from it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, g
from flask_babel import gettext as _

from survey.errors import ApiError
from survey.kiosk_settings import KioskSettings
from survey.languages import packs
from survey.languages.prompts import prompt_urls
from survey.models import Kiosk, utcnow
from survey.payloads import field, reject_unknown

# The screen texts an added language replaces on the kiosk (keys of survey.kiosk.views.STRINGS).
KIOSK_KEYS = (
    "loading",
    "question",
    "hint",
    "privacy",
    "criterion_step",
    "skip",
    "thanks",
    "thanks_more",
    "closed",
    "closed_more",
    "hours",
    "closed_day",
    "listen",
    "start",
)
HEARTBEAT_FIELDS = {"queue_length", "app_version", "rejected"}
MAX_COUNT = 1_000_000


def current_kiosk() -> Kiosk:
    """The kiosk behind the bearer token; API keys are refused (403)."""
    client = g.api_client
    if not isinstance(client, Kiosk):
        raise ApiError(403, _("Only a kiosk device token can use this endpoint."))
    return client


def utc_offset_minutes() -> int:
    """The local offset for opening hours (Asia/Ho_Chi_Minh: +420, no daylight saving)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    offset = datetime.now(zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def config_document(kiosk: Kiosk) -> dict:
    """Everything the kiosk screen needs, in both languages, so that it can run offline."""
    desk = kiosk.desk
    questionnaire = desk.current_questionnaire()
    settings = KioskSettings.from_json(kiosk.settings)
    criteria = {c["code"]: c for c in questionnaire.criteria}
    agency = desk.agency
    added = packs.offered(settings.languages, questionnaire)
    wordings = {lang.code: packs.wording(questionnaire, "vi", lang) for lang in added}

    def labels(kind: str, item: dict) -> dict:
        """The item's vi/en labels plus each added language's (Vietnamese when missing)."""
        return {**item["label"], **{c: w.label(kind, item) for c, w in wordings.items()}}

    return {
        "kiosk": {"id": kiosk.id, "name": kiosk.name},
        "desk": {
            "code": desk.code,
            "name": desk.name,
            "agency": {"vi": agency.name, "en": agency.name_en or agency.name},
            "active": bool(desk.active and agency.active),
        },
        "questionnaire": {
            "id": questionnaire.id,
            "key": questionnaire.key,
            "version": questionnaire.version,
            "levels": [
                {
                    "code": lvl["code"],
                    "face": lvl.get("face", ""),
                    "label": labels("level", lvl),
                    "satisfied": questionnaire.is_satisfied(lvl["code"]),
                }
                for lvl in questionnaire.levels
            ],
            # Only the criteria this kiosk asks, in the order chosen; stale codes are skipped.
            "criteria": [
                {"code": code, "label": labels("criterion", criteria[code])}
                for code in settings.criteria
                if code in criteria and not settings.faces_only
            ],
        },
        # The language buttons after Vietnamese: English if chosen, then the added languages
        # translated for this version, each with its screen texts (Vietnamese when missing).
        "languages": [
            *(
                [{"code": "en", "name": "English", "dir": "ltr"}]
                if "en" in settings.languages
                else []
            ),
            *(
                {
                    "code": lang.code,
                    "name": lang.name,
                    "dir": str(lang.direction),
                    "texts": {key: wordings[lang.code].ui(key) for key in KIOSK_KEYS},
                }
                for lang in added
            ),
        ],
        "settings": {
            "cooldown_seconds": settings.cooldown_seconds,
            "idle_seconds": settings.idle_seconds,
            "hours": settings.opening_minutes(),
            "utc_offset_minutes": utc_offset_minutes(),
            "faces_only": settings.faces_only,
            "speak_on_approach": settings.speak_on_approach,
        },
        # {language: {key: url}}: the recordings of Vietnamese and of each language button, for
        # the speaker button; the kiosk keeps them (service worker) to play them offline.
        "prompts": prompt_urls(
            [
                "vi",
                *(c for c in ("en",) if c in settings.languages),
                *(lang.code for lang in added),
            ],
            questionnaire,
        ),
        "server_time": server_time(),
    }


def server_time() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _count(data: dict, name: str, required: bool) -> int | None:
    value = field(data, name, int, required=required)
    if value is not None and not 0 <= value <= MAX_COUNT:
        raise ApiError(
            400,
            _(
                "The field %(field)s must be between %(min)d and %(max)d.",
                field=name,
                min=0,
                max=MAX_COUNT,
            ),
            field=name,
        )
    return value


def record_heartbeat(kiosk: Kiosk, data: dict) -> None:
    """Note that the kiosk is alive, its queue length and app version. The caller commits."""
    reject_unknown(data, HEARTBEAT_FIELDS)
    queue_length = _count(data, "queue_length", required=True)
    rejected = _count(data, "rejected", required=False) or 0
    app_version = field(data, "app_version", str, required=False, max_length=40)
    kiosk.last_seen_at = utcnow()
    kiosk.queue_length = queue_length
    if app_version is not None:
        kiosk.app_version = app_version.strip() or None
    if rejected:
        # The ratings themselves were refused with 4xx; this says that the kiosk gave up on them.
        current_app.logger.warning(
            "Kiosk %s (desk %s) dropped %d rating(s) that the server refused.",
            kiosk.id,
            kiosk.desk.code,
            rejected,
        )
