"""Configuration, read from the environment (and a `.env` file) when the app is created.

`HAILONG_CONFIG` picks the class: `development` (default), `testing` or `production`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from survey import replica


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


CASE_OPEN_FOR = ("dissatisfied", "comment")


def _choice(env, name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, default).strip()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _whole(env, name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit() or not low <= int(raw) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}; got {raw!r}")
    return int(raw)


def _number(env, name: str, low: float, high: float) -> float:
    raw = env[name]
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low} to {high}; got {raw!r}")
    return value


def _points_by_level(raw: str) -> dict[str, float]:
    """ "rat_hai_long:2,hai_long:1,khong_hai_long:0" -> {level code: points}."""
    found = {}
    for item in raw.split(","):
        code, sep, value = item.partition(":")
        try:
            points = float(value)
        except ValueError:
            points = float("nan")
        if not sep or not code.strip() or not 0 <= points <= 10:
            raise ValueError(
                "POINTS_BY_LEVEL must list level:points pairs with points from 0 to 10, e.g. "
                "rat_hai_long:2,hai_long:1,khong_hai_long:0"
            )
        found[code.strip()] = points
    return found


def _thresholds(raw: str) -> tuple[float, float, float, float]:
    """ "15,12,9,6" -> the lower bounds of Xuất sắc, Tốt, Khá and Trung bình, out of 18."""
    try:
        values = tuple(float(v) for v in raw.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or list(values) != sorted(values, reverse=True) or values[-1] < 0:
        raise ValueError(
            "POINTS_THRESHOLDS must be four decreasing numbers out of 18 (Xuất sắc, Tốt, Khá, "
            "Trung bình), e.g. 15,12,9,6"
        )
    return values


class Config:
    """Settings shared by every environment. Values come from `from_env`."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    # Citizens may keep the survey open a while before answering.
    WTF_CSRF_TIME_LIMIT = 4 * 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # A text field of a multipart form may hold at most this much. Not lower than Werkzeug's
    # read buffer (64 KiB) plus what it keeps between reads: at exactly 64 KiB every upload
    # larger than that got 413 (a test uploads 1.5 MB).
    MAX_FORM_MEMORY_SIZE = 500 * 1024
    # Public results hide agencies with fewer responses than this.
    PUBLIC_MIN_RESPONSES = 30
    # The public page judges every agency at once: its verdicts are adjusted for that (the
    # dashboard gives the same verdicts with ?adjust= set to this). "none", "holm", "fdr_bh".
    PUBLIC_ADJUST = "holm"
    # Base URL printed on QR posters and in CLI output; empty means "from the request".
    PUBLIC_BASE_URL = ""
    RATELIMIT_HEADERS_ENABLED = True
    # Rate limits (Flask-Limiter): per client, keyed by the hashed client address, never the
    # raw one. A storage outage (Redis down) must not lose citizens' ratings: fall back to memory.
    RATELIMIT_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    CITIZEN_RATE_LIMIT = "10 per minute;60 per hour"
    # A response rate (tickets used over tickets issued, or ratings over the dossiers handled
    # that the integrator reports) under this share carries a warning (docs/integrity.md).
    RESPONSE_RATE_WARNING = 0.10
    # One-time dossier tickets expire this many days after they are issued (or renewed).
    TICKET_TTL_DAYS = 30
    # Burst detection (survey/integrity.py, docs/integrity.md).
    INTEGRITY_CLIENT_BURST = (5, 10)  # this many QR ratings of one desk from one client, in minutes
    INTEGRITY_KIOSK_BURST = (6, 2)  # this many ratings from one kiosk, in minutes
    # At busy desks the burst count rises to what chance would give once in this many windows.
    INTEGRITY_BURST_CHANCE = 1e-4
    INTEGRITY_SURGE_MIN = 20  # a desk's live ratings in one hour before the surge rule can fire
    INTEGRITY_SURGE_FACTOR = 5  # times the desk's median busy hour
    INTEGRITY_BASELINE_DAYS = 28
    # Cases (docs/cases.md): which ratings with a comment open one ("dissatisfied", or every
    # "comment"), and how many working days the agency has to answer.
    CASE_OPEN_FOR = "dissatisfied"
    CASE_DUE_WORKING_DAYS = 10
    # Alerts (docs/alerts.md). The CUSUM of each agency's dissatisfied share is tuned to notice
    # its odds multiplied by ALERT_ODDS_RATIO, with this many false alarms a year on average.
    ALERT_ODDS_RATIO = 2.0
    ALERT_FALSE_ALARMS_PER_YEAR = 1.0
    ALERT_BASELINE_DAYS = 365  # the baseline: this many days of ratings ...
    ALERT_BASELINE_LAG_DAYS = 90  # ... ending this many days ago
    ALERT_BASELINE_MIN = 100  # fewer valid ratings in the baseline: no chart for the agency
    ALERT_DIGEST_WEEKDAY = 0  # the weekly digest goes out from Monday (0) ...
    ALERT_DIGEST_HOUR = 7  # ... at 07:00 local time, on the first run after that
    # SMTP (the standard library's smtplib). Without MAIL_SERVER, messages wait in the outbox.
    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS after connecting (port 587)
    MAIL_USE_SSL = False  # TLS from the start (port 465)
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_DEFAULT_SENDER = "hailong <noreply@localhost>"
    MAIL_TIMEOUT = 10
    # The indicator score (docs/reporting.md): points per rating level, and the lower bounds of
    # the classes Xuất sắc (strictly above), Tốt, Khá, Trung bình (at or above) on a total out
    # of 18. Provincial practice, not national law: set POINTS_BY_LEVEL and POINTS_THRESHOLDS.
    # A questionnaire version whose levels carry "points" uses those instead.
    POINTS_BY_LEVEL = {"rat_hai_long": 2, "hai_long": 1, "khong_hai_long": 0}
    POINTS_THRESHOLDS = (15.0, 12.0, 9.0, 6.0)
    # The official report document (docs/reporting.md): who issues and signs it. Empty: the
    # document's defaults (UBND + the scope's name, SỞ NỘI VỤ, BC-SNV, a dotted place, GIÁM ĐỐC).
    REPORT_SUPERIOR = ""
    REPORT_ISSUER = ""
    REPORT_SYMBOL = ""
    REPORT_PLACE = ""
    REPORT_SIGNER = ""
    REPORT_RECIPIENTS: tuple[str, ...] = ()
    REPORT_PDF = "document"  # the PDF export: the official document, or "analysis"
    # Report periods: "calendar" (Q3 = 1/7-30/9) or "regime", the reporting regime of Decree
    # 09/2019/NĐ-CP (Q3 = 15/6-14/9); a report can ask for the other with ?calendar=.
    REPORT_CALENDAR = "calendar"
    # Reports read whole months from the roll-ups `response_month`, `answer_month` and
    # `cluster_month` (kept by triggers, migrations 0014, 0018 and 0020; a period's partial
    # months come from `response`, `answer` and `desk_day`); off, they read every row
    # (benchmarks compare the two).
    REPORT_ROLLUP = True
    # With REPORTING_DATABASE_URL: after a failed check of the replica, reports read the
    # primary (a warning in the log) for this many seconds before the replica is tried again.
    REPLICA_RETRY_SECONDS = 30
    # ... and after a successful check, reports trust it for this many seconds without another
    # `SELECT 1` (0: check on every report request). A lost replica connection ends the trust.
    REPLICA_CHECK_SECONDS = 5
    # 0: the client address is the socket peer. Behind nginx set 1, so that rate limits and
    # the client hash see the citizen's address from X-Forwarded-For, not nginx's.
    TRUSTED_PROXIES = 0
    # Per-process caches of desks, questionnaires, form classes, API keys and the reports'
    # sorted agency tree (survey/cache.py):
    # each process reads the database's change counter at most this often and drops its
    # entries when it moved; entries live at most CACHE_TTL_SECONDS (API keys
    # API_KEY_CACHE_SECONDS), which bounds changes made in SQL behind the app's back.
    CACHE_CHECK_SECONDS = 1.0
    CACHE_TTL_SECONDS = 600.0
    API_KEY_CACHE_SECONDS = 10.0

    @classmethod
    def from_env(cls, instance_path: str) -> dict:
        """Return the settings for this class, with environment overrides applied."""
        settings = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        env = os.environ
        default_db = "sqlite:///" + str(Path(instance_path) / "hailong.db")
        settings["SQLALCHEMY_DATABASE_URI"] = env.get("DATABASE_URL") or cls.default_database(
            default_db
        )
        # Reports may read from a streaming replica; writes always go to DATABASE_URL.
        settings["SQLALCHEMY_BINDS"] = replica.binds(env.get("REPORTING_DATABASE_URL"))
        settings["SECRET_KEY"] = env.get("SECRET_KEY") or cls.fallback_secret(instance_path)
        settings["RATELIMIT_STORAGE_URI"] = env.get("REDIS_URL") or "memory://"
        settings["PUBLIC_BASE_URL"] = env.get("PUBLIC_BASE_URL", cls.PUBLIC_BASE_URL).rstrip("/")
        if "PUBLIC_MIN_RESPONSES" in env:
            settings["PUBLIC_MIN_RESPONSES"] = int(env["PUBLIC_MIN_RESPONSES"])
        settings["PUBLIC_ADJUST"] = _choice(
            env, "PUBLIC_ADJUST", cls.PUBLIC_ADJUST, ("none", "holm", "fdr_bh")
        )
        if "SESSION_COOKIE_SECURE" in env:
            settings["SESSION_COOKIE_SECURE"] = _bool(env["SESSION_COOKIE_SECURE"])
        # Benchmarks switch rate limits off; production leaves them on.
        if "RATELIMIT_ENABLED" in env:
            settings["RATELIMIT_ENABLED"] = _bool(env["RATELIMIT_ENABLED"])
        if "TICKET_TTL_DAYS" in env:
            settings["TICKET_TTL_DAYS"] = int(env["TICKET_TTL_DAYS"])
        settings["CASE_OPEN_FOR"] = _choice(env, "CASE_OPEN_FOR", cls.CASE_OPEN_FOR, CASE_OPEN_FOR)
        settings["CASE_DUE_WORKING_DAYS"] = _whole(
            env, "CASE_DUE_WORKING_DAYS", cls.CASE_DUE_WORKING_DAYS, 1, 60
        )
        for name in ("MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER"):
            if name in env:
                settings[name] = env[name].strip()
        settings["MAIL_PORT"] = _whole(env, "MAIL_PORT", cls.MAIL_PORT, 1, 65535)
        settings["MAIL_USE_TLS"] = _bool(env.get("MAIL_USE_TLS"), cls.MAIL_USE_TLS)
        settings["MAIL_USE_SSL"] = _bool(env.get("MAIL_USE_SSL"), cls.MAIL_USE_SSL)
        if settings["MAIL_USE_TLS"] and settings["MAIL_USE_SSL"]:
            raise ValueError(
                "Set MAIL_USE_TLS (STARTTLS, port 587) or MAIL_USE_SSL (port 465), not both"
            )
        for name, low, high in (
            ("ALERT_ODDS_RATIO", 1.1, 10.0),
            ("ALERT_FALSE_ALARMS_PER_YEAR", 0.05, 52.0),
            ("RESPONSE_RATE_WARNING", 0.0, 1.0),
        ):
            if name in env:
                settings[name] = _number(env, name, low, high)
        if "POINTS_BY_LEVEL" in env:
            settings["POINTS_BY_LEVEL"] = _points_by_level(env["POINTS_BY_LEVEL"])
        if "POINTS_THRESHOLDS" in env:
            settings["POINTS_THRESHOLDS"] = _thresholds(env["POINTS_THRESHOLDS"])
        for name in ("REPORT_SUPERIOR", "REPORT_ISSUER", "REPORT_SYMBOL", "REPORT_PLACE"):
            if name in env:
                settings[name] = env[name].strip()
        if "REPORT_SIGNER" in env:
            settings["REPORT_SIGNER"] = env["REPORT_SIGNER"].strip()
        if "REPORT_RECIPIENTS" in env:
            settings["REPORT_RECIPIENTS"] = tuple(
                item.strip() for item in env["REPORT_RECIPIENTS"].split(";") if item.strip()
            )
        settings["REPORT_CALENDAR"] = _choice(
            env, "REPORT_CALENDAR", cls.REPORT_CALENDAR, ("calendar", "regime")
        )
        settings["REPORT_PDF"] = _choice(
            env, "REPORT_PDF", cls.REPORT_PDF, ("document", "analysis")
        )
        # How many reverse proxies (nginx, a load balancer) set X-Forwarded-* in front of us.
        settings["TRUSTED_PROXIES"] = int(env.get("TRUSTED_PROXIES", cls.TRUSTED_PROXIES))
        return settings

    @classmethod
    def default_database(cls, sqlite_url: str) -> str:
        return sqlite_url

    @classmethod
    def fallback_secret(cls, instance_path: str) -> str:
        """Development keeps a random key in `instance/secret_key`, so QR codes stay valid."""
        path = Path(instance_path) / "secret_key"
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = False

    @classmethod
    def fallback_secret(cls, instance_path: str) -> str:
        return secrets.token_urlsafe(32)


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def fallback_secret(cls, instance_path: str) -> str:
        raise RuntimeError(
            "SECRET_KEY is not set. The production config refuses to start without a real "
            "secret: generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'` "
            "and set it in the environment or in .env."
        )

    @classmethod
    def from_env(cls, instance_path: str) -> dict:
        settings = super().from_env(instance_path)
        if len(settings["SECRET_KEY"]) < 32 or settings["SECRET_KEY"] in {"change-me", "secret"}:
            raise RuntimeError(
                "SECRET_KEY is too short or a placeholder; use at least 32 random characters."
            )
        return settings


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class(name: str | None = None) -> type[Config]:
    name = name or os.environ.get("HAILONG_CONFIG", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"HAILONG_CONFIG must be one of {sorted(CONFIGS)}, not {name!r}") from None
