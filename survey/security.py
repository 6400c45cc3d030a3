"""Password and token hashing, the client-address hash, and security headers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, request

from survey.periods import local_today

_hasher = PasswordHasher()

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; media-src 'self' blob:; manifest-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """Tokens are long and random, so a fast keyless digest is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def client_hash(address: str | None, day: date | None = None) -> str | None:
    """A keyed hash of the client address that changes every (local) day; the raw address is
    never kept, not in the database, the rate-limit storage or the logs."""
    if not address:
        return None
    day = day or local_today()  # rotates at midnight in Vietnam, not in office hours
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{day:%Y-%m-%d}|{address}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def rate_limit_key() -> str:
    """Flask-Limiter's key: the hashed client address (its log lines and Redis keys show it)."""
    return client_hash(request.remote_addr) or "unknown-client"


def page_rate_limit_key() -> str:
    """One count per client and page: citizens behind one address (a desk's Wi-Fi, a mobile
    carrier's NAT) who rate different desks do not share a limit."""
    return f"{rate_limit_key()}|{request.path[:120]}"


def citizen_rate_limit() -> str:
    return current_app.config["CITIZEN_RATE_LIMIT"]


def _signed_in() -> bool:
    """Whether a user is signed in on this request (no database query when nobody is)."""
    from flask import session
    from flask_login import current_user

    return "_user_id" in session and current_user.is_authenticated


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if "Cache-Control" not in headers and _signed_in():
            # A staff page (dashboard, review, administration): never kept by a shared cache
            # or on disk, where the next user of the computer could read it back.
            headers["Cache-Control"] = "private, no-store"
            headers.add("Vary", "Cookie")
        return response

    del security_headers
