"""Small, explicit checks of JSON request bodies, shared by the API and the kiosk device
endpoints; each failure is an `ApiError` (a 400 problem) that names the field."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from flask_babel import gettext as _

from survey.errors import ApiError

MISSING = object()


def field(
    data: dict, name: str, kind: type | tuple, required: bool = True, max_length: int | None = None
):
    """The value of `name`, checked as the OpenAPI document describes it; None when an optional
    field is left out. No request field is nullable: `null` is refused here, for every field of
    every API body, rather than read as "left out"."""
    value = data.get(name, MISSING)
    if value is None:
        raise ApiError(
            400,
            _("The field %(field)s must not be null; leave it out instead.", field=name),
            field=name,
        )
    if value is MISSING:
        if required:
            raise ApiError(400, _("The field %(field)s is required.", field=name), field=name)
        return None
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise ApiError(400, _("The field %(field)s has the wrong type.", field=name), field=name)
    if max_length is not None and len(value) > max_length:
        raise ApiError(
            400,
            _("The field %(field)s is longer than %(max)d.", field=name, max=max_length),
            field=name,
        )
    return value


def uuid_field(data: dict, name: str = "id") -> uuid.UUID:
    value = field(data, name, str, max_length=36)
    return _parsed(uuid.UUID, value, name, _("The field %(field)s must be a UUID.", field=name))


def datetime_field(data: dict, name: str, required: bool = False) -> datetime | None:
    """An ISO 8601 time with a UTC offset, returned as naive UTC."""
    value = field(data, name, str, required=required, max_length=40)
    if value is None:
        return None
    parsed = _parsed(
        datetime.fromisoformat,
        value.replace("Z", "+00:00"),
        name,
        _("The field %(field)s must be an ISO 8601 time.", field=name),
    )
    if parsed.tzinfo is None:
        raise ApiError(
            400,
            _("The field %(field)s must include a UTC offset, such as +07:00.", field=name),
            field=name,
        )
    return parsed.astimezone(UTC).replace(tzinfo=None)


def date_field(data: dict, name: str, required: bool = False) -> date | None:
    value = field(data, name, str, required=required, max_length=10)
    if value is None:
        return None
    return _parsed(
        date.fromisoformat,
        value,
        name,
        _("The field %(field)s must be a date (YYYY-MM-DD).", field=name),
    )


def _parsed(parse, value: str, name: str, problem: str):
    """`parse(value)`, or a 400 naming the field `name` with `problem` when it is no such value."""
    try:
        return parse(value)
    except ValueError:
        raise ApiError(400, problem, field=name) from None


def reject_unknown(data: dict, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ApiError(
            400,
            _(
                "Unknown field %(field)s; allowed: %(allowed)s.",
                field=unknown[0],
                allowed=", ".join(sorted(allowed)),
            ),
            field=unknown[0],
        )
