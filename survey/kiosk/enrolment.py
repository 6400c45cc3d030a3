"""One-time enrolment codes: an administrator starts an enrolment, a tablet redeems the code for
its device token. Codes, like tokens, are stored only as hashes.

A code is 16 characters of Crockford's base 32 (80 random bits), shown as XXXX-XXXX-XXXX-XXXX
so that it can be typed on a tablet when the camera can't read the QR code.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, url_for

from survey.credentials import issue_kiosk_token
from survey.extensions import db
from survey.models import Kiosk, utcnow
from survey.security import hash_token

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16
VALID_FOR = timedelta(hours=24)
# Letters people confuse when they read a code aloud or type it (Crockford's base 32).
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise(text: str | None) -> str | None:
    """A typed or scanned code in its canonical form, or None when it can't be one."""
    if not text or len(text) > 40:
        return None
    code = "".join(text.split()).replace("-", "").upper().translate(_LOOKALIKES)
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def start(kiosk: Kiosk) -> str:
    """Give `kiosk` a fresh enrolment code (replacing any unused one); return it for display.

    The caller commits. The device token, if any, keeps working until the new code is used.
    """
    code = new_code()
    kiosk.enrol_code_hash = hash_token(code)
    kiosk.enrol_expires_at = utcnow() + VALID_FOR
    return display(code)


def pending(text: str | None) -> Kiosk | None:
    """The kiosk waiting for this code, if the code is valid and not expired."""
    code = normalise(text)
    if code is None:
        return None
    return db.session.scalar(
        sa.select(Kiosk).where(
            Kiosk.enrol_code_hash == hash_token(code), Kiosk.enrol_expires_at > utcnow()
        )
    )


def redeem(text: str | None) -> tuple[Kiosk, str] | None:
    """Use the code: return the kiosk and its new device token, or None. The caller commits.

    The code is cleared with a conditional UPDATE, so two tablets racing with the same code
    can't both get a token: the second one updates no row.
    """
    kiosk = pending(text)
    if kiosk is None:
        return None
    used = db.session.execute(
        sa.update(Kiosk)
        .where(
            Kiosk.id == kiosk.id,
            Kiosk.enrol_code_hash == kiosk.enrol_code_hash,
            Kiosk.enrol_expires_at > utcnow(),
        )
        .values(enrol_code_hash=None, enrol_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        db.session.rollback()
        return None
    kiosk.enrol_code_hash = kiosk.enrol_expires_at = None
    return kiosk, issue_kiosk_token(kiosk)


def revoke(kiosk: Kiosk) -> None:
    """The device token and any unused code stop working at once. The caller commits."""
    kiosk.revoked_at = utcnow()
    kiosk.enrol_code_hash = kiosk.enrol_expires_at = None


def code_pending(kiosk: Kiosk, now: datetime | None = None) -> bool:
    expires = kiosk.enrol_expires_at
    return bool(kiosk.enrol_code_hash and expires and expires > (now or utcnow()))


def state(kiosk: Kiosk, now: datetime | None = None) -> str:
    """One word for the admin list: enrolled, waiting (for its code), expired (code) or revoked."""
    if kiosk.token_hash is not None and kiosk.revoked_at is None:
        return "enrolled"
    if code_pending(kiosk, now):
        return "waiting"
    return "revoked" if kiosk.revoked_at is not None else "expired"


def enrol_url(code: str) -> str:
    """The link a tablet opens (from the QR code), on PUBLIC_BASE_URL when one is configured."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base + url_for("kiosk.enrol_link", code=code)
    return url_for("kiosk.enrol_link", code=code, _external=True)
