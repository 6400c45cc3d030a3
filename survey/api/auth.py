"""Bearer authentication for the API: integrators' API keys and kiosks' device tokens.

Keys look like ``hl_<prefix>_<secret>`` and kiosk tokens like ``hk_<prefix>_<secret>``.
Only a SHA-256 digest of each is stored; the prefix finds the row in one indexed lookup.
"""

from __future__ import annotations

import functools
import hmac
import json

import sqlalchemy as sa
from flask import g, request
from flask_babel import gettext as _

from survey import cache
from survey.errors import ApiError
from survey.extensions import db
from survey.models import Kiosk
from survey.security import hash_token


def _parse(header: str | None) -> tuple[str, str, str] | None:
    if not header or not header.startswith("Bearer "):
        return None
    token = header[7:].strip()
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] not in ("hl", "hk") or len(token) > 200:
        return None
    return parts[0], parts[1], token


def authenticate() -> cache.ApiKeyInfo | Kiosk | None:
    """The API key (a cached snapshot) or kiosk behind the request's bearer token, or None."""
    parsed = _parse(request.headers.get("Authorization"))
    if parsed is None:
        return None
    kind, prefix, token = parsed
    if kind == "hl":  # a snapshot of the key, cached per process (survey/cache.py)
        row = cache.api_key(prefix)
    else:
        row = db.session.scalar(sa.select(Kiosk).where(Kiosk.token_prefix == prefix))
    if row is None or row.revoked_at is not None:
        return None
    stored = row.key_hash if kind == "hl" else row.token_hash
    if not stored or not hmac.compare_digest(stored, hash_token(token)):
        return None
    return row


def require(*, scope: str | None = None, kiosk: bool = False):
    """Decorator: the request needs an API key with `scope`, or (if `kiosk`) a kiosk token."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            client = authenticate()
            if client is None:
                return ApiError(
                    401, _("A valid bearer API key or kiosk token is required.")
                ).response()
            if isinstance(client, Kiosk):
                if not kiosk:
                    return ApiError(403, _("Kiosk tokens cannot use this endpoint.")).response()
            elif kiosk and scope is None:  # kiosk-only: no API key may use it, whatever its scopes
                return ApiError(
                    403, _("Only a kiosk device token can use this endpoint.")
                ).response()
            elif scope is not None and scope not in client.scopes:
                return ApiError(
                    403, _("This API key lacks the scope %(scope)s.", scope=scope)
                ).response()
            g.api_client = client
            try:
                return view(*args, **kwargs)
            except ApiError as error:
                db.session.rollback()
                return error.response()

        return wrapped

    return decorator


# No API body nests deeper than this; a deeper one is refused before anything reads it.
MAX_JSON_DEPTH = 20


def json_body() -> dict:
    """The request's JSON object, or an ApiError (415 wrong type, 400 malformed).

    Every API route reads its body here, so what counts as valid JSON is decided once: strict
    UTF-8, no nesting deeper than MAX_JSON_DEPTH (a body of 100,000 `[` would otherwise raise
    RecursionError), and no lone surrogate escapes such as `"\\ud800"` (valid JSON syntax,
    but not text: it cannot be stored, hashed or compared)."""
    if request.mimetype != "application/json":
        raise ApiError(415, _("Send the body as application/json."))
    invalid = ApiError(400, _("The body is not valid JSON (UTF-8)."))
    try:
        data = json.loads(request.get_data(cache=True).decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        raise invalid from None
    if not _plain_json(data):
        raise invalid
    if not isinstance(data, dict):
        raise ApiError(400, _("The body must be a JSON object."))
    return data


def _plain_json(data) -> bool:
    """No nesting deeper than MAX_JSON_DEPTH, no lone surrogates in keys or strings (walked
    without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _has_surrogate(value):
                return False
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                return False
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _has_surrogate(key):
                    return False
                stack.append((item, depth + 1))
    return True


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
