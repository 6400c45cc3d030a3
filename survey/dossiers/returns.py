"""Whether a rating through a ticket came before the dossier's result was returned: in
Python for one rating (the ticket page), in SQL for many (the reports)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from survey.extensions import db
from survey.periods import LOCAL_OFFSET


def local_day(moment: datetime) -> date:
    """The date in Vietnam (UTC+7) of a UTC moment."""
    return (moment + LOCAL_OFFSET).date()


def rated_before_return(occurred_at: datetime, returned_date: date | None) -> bool:
    """A rating through a ticket is "before return" when the result had not been returned on
    the (local) day it was given: no return date yet, or a later one. A rating on the day of
    return counts as after it (the citizen usually rates at the desk when collecting it)."""
    return returned_date is None or local_day(occurred_at) < returned_date


def before_return_clause(response_table, ticket_table):
    """SQL for `rated_before_return` over a response joined to its ticket (by ticket_id).

    Compared in UTC: the rating's local day is before the return date exactly when
    occurred_at (UTC) is before local midnight of that date, i.e. returned_date - 7 h."""
    midnight = sa.func.datetime(ticket_table.c.returned_date, "-7 hours")
    if db.engine.dialect.name == "postgresql":
        midnight = sa.cast(ticket_table.c.returned_date, sa.DateTime) - sa.text(
            "interval '7 hours'"
        )
    return sa.or_(ticket_table.c.returned_date.is_(None), response_table.c.occurred_at < midnight)


# ---- provinces and procedures ----------------------------------------------------------------
