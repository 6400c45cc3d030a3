"""The province's indicator-score settings: the points of each rating level and the class
thresholds (Xuất sắc, Tốt, Khá, Trung bình; below them Yếu).

Provincial practice, not national law. Administrators edit them at /admin/scoring; until they
do, the installation's settings apply (`POINTS_BY_LEVEL`, `POINTS_THRESHOLDS`, default
Không hài lòng 0, Hài lòng 1, Rất hài lòng 2 and 15/12/9/6). A questionnaire version whose
levels carry their own points uses those instead of the province's (survey.reporting.official).
Every channel (pages, exports, the official document, the API, the CLI) reads them here, on
each report, so a change applies to the next report everywhere.
"""

from __future__ import annotations

import math

from flask import current_app

from survey.extensions import db
from survey.models import Setting

POINTS_BY_LEVEL = "points_by_level"
POINTS_THRESHOLDS = "points_thresholds"
MAX_LEVEL_POINTS = 10


def stored(key: str):
    row = db.session.get(Setting, key)
    return None if row is None else row.value


def points_by_level() -> dict[str, float]:
    """Points of each level code (levels missing here have none)."""
    found = stored(POINTS_BY_LEVEL)
    if found is None:
        found = current_app.config.get("POINTS_BY_LEVEL", {})
    return {code: float(points) for code, points in found.items()}


def points_thresholds() -> tuple[float, float, float, float]:
    """The lower bounds of Xuất sắc (exclusive), Tốt, Khá and Trung bình (inclusive)."""
    found = stored(POINTS_THRESHOLDS)
    if found is None:
        found = current_app.config.get("POINTS_THRESHOLDS", (15.0, 12.0, 9.0, 6.0))
    excellent, good, fair, average = (float(v) for v in found)
    return excellent, good, fair, average


def check_thresholds(values) -> tuple[float, float, float, float]:
    """Four decreasing, non-negative, finite numbers, or ValueError."""
    values = tuple(float(v) for v in values)
    if (
        len(values) != 4
        or not all(math.isfinite(v) and v >= 0 for v in values)
        or any(a <= b for a, b in zip(values, values[1:], strict=False))
    ):
        raise ValueError("four strictly decreasing numbers from 0 up")
    return values  # type: ignore[return-value]


def save(points: dict[str, float], thresholds) -> None:
    """Store both settings (the caller audits and commits)."""
    for key, value in (
        (POINTS_BY_LEVEL, {code: float(p) for code, p in points.items()}),
        (POINTS_THRESHOLDS, list(check_thresholds(thresholds))),
    ):
        row = db.session.get(Setting, key)
        if row is None:
            db.session.add(Setting(key=key, value=value))
        else:
            row.value = value


def reset() -> None:
    """Back to the installation's settings."""
    for key in (POINTS_BY_LEVEL, POINTS_THRESHOLDS):
        row = db.session.get(Setting, key)
        if row is not None:
            db.session.delete(row)
