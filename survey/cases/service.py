"""Opening and working cases: one place for every rule, used by the write path and the views."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import date

import sqlalchemy as sa
from flask import current_app, url_for

from survey.audit import audit
from survey.cases.models import CODE_LENGTH, OPEN_STATUSES, Case, CaseStatus
from survey.cases.workdays import add_working_days
from survey.extensions import db
from survey.models import Agency, Response, Role, Status, User, utcnow
from survey.periods import local_today, to_local

# Crockford's base 32: no I, L, O or U, so that a code read out or copied by hand survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# An HTML tag (or comment, or doctype): a reply is plain text, shown as written.
HTML_TAG = re.compile(r"<\s*(?:[a-zA-Z][\w:-]*|/\s*[a-zA-Z][\w:-]*|!)[^<>]*>")


class CaseError(ValueError):
    """A change that the case's state does not allow; the message is for people."""


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str | None) -> str | None:
    """A code as typed ("7kq2m-9xd3f", "7KQ2M 9XD3F", with O for 0): the stored form, or None
    when it cannot be a code."""
    if not text or len(text) > 40:
        return None
    code = re.sub(r"[\s-]", "", text).upper().translate(_LOOKALIKES)
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def opens_case(response: Response) -> bool:
    """Whether a stored rating opens a case: it has a comment, it counts (flagged ratings wait
    for the review), and it is dissatisfied unless CASE_OPEN_FOR is "comment"."""
    if not (response.comment or "").strip() or response.status != Status.VALID:
        return False
    return current_app.config["CASE_OPEN_FOR"] == "comment" or not response.satisfied


def due_date(opened: date) -> date:
    return add_working_days(opened, current_app.config["CASE_DUE_WORKING_DAYS"])


def open_case(response: Response) -> Case | None:
    """Add the case `response` opens (if it opens one) to the session, in the transaction that
    stores or validates the response; the caller commits."""
    if not opens_case(response):
        return None
    now = utcnow()
    case = Case(
        code=new_code(),
        response_id=response.id,
        agency_id=response.agency_id,
        status=CaseStatus.NEW,
        opened_at=now,
        due_on=due_date(to_local(now).date()),
        updated_at=now,
    )
    db.session.add(case)
    audit("case.open", target=case.code, user=None, response=str(response.id))
    return case


def open_cases_for(response_ids: list[uuid.UUID], batch: int = 500) -> int:
    """Open the cases of the stored responses `response_ids` (a bulk import's new forms with a
    comment), in the caller's transaction; return how many were opened."""
    opened = 0
    for start in range(0, len(response_ids), batch):
        chunk = response_ids[start : start + batch]
        query = sa.select(Response).where(Response.id.in_(chunk)).order_by(Response.occurred_at)
        opened += sum(open_case(response) is not None for response in db.session.scalars(query))
    return opened


def case_for_response(response_id: uuid.UUID | str | None) -> Case | None:
    if response_id is None:
        return None
    try:
        key = response_id if isinstance(response_id, uuid.UUID) else uuid.UUID(response_id)
    except ValueError:
        return None
    return db.session.scalar(sa.select(Case).where(Case.response_id == key))


def case_for_code(code: str | None) -> Case | None:
    code = normalise_code(code)
    if code is None:
        return None
    return db.session.scalar(sa.select(Case).where(Case.code == code))


# ---- staff actions ---------------------------------------------------------------------------


def _touch(case: Case, action: str, **detail) -> None:
    case.updated_at = utcnow()
    audit(action, target=case.code, agency_id=case.agency_id, **detail)


def _check_open(case: Case) -> None:
    if case.status == CaseStatus.CLOSED:
        raise CaseError("closed")


def assign(case: Case, assignee: User) -> None:
    _check_open(case)
    previous = case.assignee.email if case.assignee else None
    case.assignee = assignee
    case.assigned_at = utcnow()
    if case.status == CaseStatus.NEW:
        case.status = CaseStatus.ASSIGNED
    _touch(case, "case.assign", assignee=assignee.email, previous=previous)


def reply(case: Case, text: str, publish: bool) -> None:
    """Save the reply; publishing shows it on the citizen's page. The first reply marks the
    case answered (and stops its overdue clock)."""
    _check_open(case)
    now = utcnow()
    changed = text != case.reply
    case.reply = text
    if case.answered_at is None:
        case.answered_at = now
    if case.status in OPEN_STATUSES:
        case.status = CaseStatus.ANSWERED
    was_published = case.published_at is not None
    if publish and (changed or not was_published):
        case.published_at = now
    elif not publish:
        case.published_at = None
    _touch(
        case,
        "case.reply",
        reply=text,
        published=case.published_at is not None,
        was_published=was_published,
    )


def close(case: Case, note: str | None) -> None:
    _check_open(case)
    previous = str(case.status)
    case.status = CaseStatus.CLOSED
    case.closed_at = utcnow()
    _touch(case, "case.close", note=note, previous=previous)


def reopen(case: Case) -> None:
    if case.status != CaseStatus.CLOSED:
        raise CaseError("not closed")
    case.closed_at = None
    if case.answered_at is not None:
        case.status = CaseStatus.ANSWERED
    elif case.assignee_id is not None:
        case.status = CaseStatus.ASSIGNED
    else:
        case.status = CaseStatus.NEW
    _touch(case, "case.reopen", status=str(case.status))


def is_overdue(case: Case, today: date | None = None) -> bool:
    return case.is_open and case.due_on < (today or local_today())


def overdue_filter(today: date | None = None):
    return sa.and_(Case.status.in_(OPEN_STATUSES), Case.due_on < (today or local_today()))


def overdue_count(scope: set[int] | None) -> int:
    query = sa.select(sa.func.count()).select_from(Case).where(overdue_filter())
    if scope is not None:
        query = query.where(Case.agency_id.in_(scope))
    return db.session.scalar(query) or 0


def ancestor_ids(agency_id: int) -> set[int]:
    """An agency and every agency above it (a recursive CTE, one query)."""
    up = sa.select(Agency.id, Agency.parent_id).where(Agency.id == agency_id).cte(recursive=True)
    up = up.union_all(sa.select(Agency.id, Agency.parent_id).join(up, Agency.id == up.c.parent_id))
    return set(db.session.scalars(sa.select(up.c.id)))


def assignable_users(case: Case) -> list[User]:
    """Active staff whose scope covers the case's agency (their agency is it or above it, or
    they see every agency)."""
    above = ancestor_ids(case.agency_id)
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.active,
                User.role.in_(CASE_ROLES),
                sa.or_(User.agency_id.is_(None), User.agency_id.in_(above)),
            )
            .order_by(User.name, User.email)
        )
    )


# Who works cases.
CASE_ROLES = (Role.ADMIN, Role.ANALYST, Role.LEADER)


def public_url(case: Case) -> str:
    """The citizen's page of a case, on PUBLIC_BASE_URL when that is configured."""
    path = url_for("cases.public", code=case.code)
    base = current_app.config.get("PUBLIC_BASE_URL")
    return base + path if base else url_for("cases.public", code=case.code, _external=True)
