"""Signed desk tokens: a desk's survey URL can't be forged by editing it."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "hailong.desk-survey"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def desk_token(desk_id: int) -> str:
    return _serializer().dumps(desk_id)


def desk_id_from_token(token: str) -> int | None:
    """The desk id in a token, or None when the token is malformed or not ours."""
    if not token or len(token) > 200:
        return None
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
