"""Issuing credentials: integrators' API keys and kiosks' device tokens.

Keys look like ``hl_<prefix>_<secret>`` and kiosk tokens like ``hk_<prefix>_<secret>``. Only a
SHA-256 digest of each is stored; the prefix finds the row in one indexed lookup
(`survey.api.auth` checks them). The admin pages, the `api-key` command and kiosk enrolment
issue them from here.
"""

from __future__ import annotations

import secrets

from survey.extensions import db
from survey.models import ApiKey, Kiosk, utcnow
from survey.security import hash_token

API_KEY_SCOPES = ("responses:write", "tickets:write", "reports:read", "directory:read")


def _new_secret(kind: str) -> tuple[str, str]:
    prefix = secrets.token_hex(6)
    return prefix, f"{kind}_{prefix}_{secrets.token_urlsafe(32)}"


def issue_api_key(name: str, scopes: list[str], agency_id: int | None = None) -> tuple[ApiKey, str]:
    """Create an API key; return the row and the plaintext key, which is shown only once."""
    unknown = sorted(set(scopes) - set(API_KEY_SCOPES))
    if unknown or not scopes:
        raise ValueError(f"unknown scopes {unknown}; allowed: {', '.join(API_KEY_SCOPES)}")
    prefix, key = _new_secret("hl")
    row = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=hash_token(key),
        scopes=sorted(set(scopes)),
        agency_id=agency_id,
    )
    db.session.add(row)
    return row, key


def issue_kiosk_token(kiosk: Kiosk) -> str:
    """Give `kiosk` a new device token (replacing any old one); return the plaintext."""
    prefix, token = _new_secret("hk")
    kiosk.token_prefix, kiosk.token_hash = prefix, hash_token(token)
    kiosk.enrolled_at, kiosk.revoked_at = utcnow(), None
    return token
