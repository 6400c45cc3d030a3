"""The indicator-score settings' form, built for the questionnaire's levels."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    StringField,
)
from wtforms.validators import (
    InputRequired,
    Optional,
)

from survey.admin.forms import parse_points


class ScoringForm(FlaskForm):
    """The province's indicator-score settings (survey.scoring). The level fields are added
    per request by `scoring_form`, one per level code of the published questionnaires."""

    excellent = StringField(
        _l("Xuất sắc: more than"),
        validators=[InputRequired(message=_l("Please enter a number."))],
        description=_l(
            "Points out of the maximum (18 for 9 indicators of 0-2 points). Default 15."
        ),
    )
    good = StringField(
        _l("Tốt: at least"),
        validators=[InputRequired(message=_l("Please enter a number."))],
        description=_l("Default 12."),
    )
    fair = StringField(
        _l("Khá: at least"),
        validators=[InputRequired(message=_l("Please enter a number."))],
        description=_l("Default 9."),
    )
    average = StringField(
        _l("Trung bình: at least (below it: Yếu)"),
        validators=[InputRequired(message=_l("Please enter a number."))],
        description=_l("Default 6."),
    )

    LEVEL_PREFIX = "level_"

    def level_fields(self):
        return [field for field in self if field.name.startswith(self.LEVEL_PREFIX)]

    def points(self) -> dict[str, float]:
        return {
            field.name.removeprefix(self.LEVEL_PREFIX): parse_points(field.data)
            for field in self.level_fields()
            if (field.data or "").strip()
        }

    def thresholds(self) -> list[float | None]:
        return [parse_points(f.data) for f in (self.excellent, self.good, self.fair, self.average)]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self.level_fields():
            value = parse_points(field.data) if (field.data or "").strip() else 0.0
            if value is None or value > 10:
                field.errors.append(_l("Enter a number of points from 0 to 10."))
                ok = False
        if not self.points():
            self.form_errors.append(_l("Give points to the levels of at least one questionnaire."))
            ok = False
        values = self.thresholds()
        for field, value in zip(
            (self.excellent, self.good, self.fair, self.average), values, strict=True
        ):
            if field.data and value is None:
                field.errors.append(_l("Enter a number, e.g. 12 or 12,5."))
                ok = False
        if ok and any(a <= b for a, b in zip(values, values[1:], strict=False)):
            self.form_errors.append(
                _l("The classes must go down: Xuất sắc above Tốt, above Khá, above Trung bình.")
            )
            ok = False
        return ok


def scoring_form(levels: list[tuple[str, str]], data: dict | None = None) -> ScoringForm:
    """A `ScoringForm` with one field per (level code, label), filled from `data` on GET."""

    class Form(ScoringForm):
        pass

    for code, label in levels:
        setattr(
            Form,
            ScoringForm.LEVEL_PREFIX + code,
            StringField(
                _l("Points for “%(level)s” (%(code)s)", level=label, code=code),
                validators=[Optional()],
                description=_l("Empty: this level has no points."),
            ),
        )
    return Form(data=data)
