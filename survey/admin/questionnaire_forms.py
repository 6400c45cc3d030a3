"""The questionnaire editor's form: its levels and criteria as rows."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    StringField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    Optional,
    Regexp,
)

from survey.admin.forms import ITEM_CODE_MESSAGE, ITEM_CODE_PATTERN, TOO_LONG, parse_points


def item_code_field() -> StringField:
    """The code of a questionnaire level or criterion (blank rows are dropped)."""
    return StringField(
        _l("Code"),
        validators=[
            Optional(),
            Length(max=40, message=TOO_LONG),
            Regexp(ITEM_CODE_PATTERN, message=ITEM_CODE_MESSAGE),
        ],
    )


class LevelRow(Form):
    code = item_code_field()
    label_vi = StringField(_l("Vietnamese label"), validators=[Length(max=120, message=TOO_LONG)])
    label_en = StringField(_l("English label"), validators=[Length(max=120, message=TOO_LONG)])
    face = StringField(_l("Face"), validators=[Length(max=8, message=TOO_LONG)])
    satisfied = BooleanField(_l("Counts as satisfied"))
    points = StringField(_l("Points"), validators=[Length(max=6, message=TOO_LONG)])


class CriterionRow(Form):
    code = item_code_field()
    label_vi = StringField(_l("Vietnamese label"), validators=[Length(max=300, message=TOO_LONG)])
    label_en = StringField(_l("English label"), validators=[Length(max=300, message=TOO_LONG)])


MAX_LEVELS = 7
MAX_CRITERIA = 20


class QuestionnaireForm(FlaskForm):
    title_vi = StringField(
        _l("Title in Vietnamese"),
        validators=[
            InputRequired(message=_l("Please enter a title.")),
            Length(max=200, message=TOO_LONG),
        ],
    )
    title_en = StringField(
        _l("Title in English"), validators=[Optional(), Length(max=200, message=TOO_LONG)]
    )
    levels = FieldList(FormField(LevelRow), min_entries=MAX_LEVELS, max_entries=MAX_LEVELS)
    criteria = FieldList(
        FormField(CriterionRow), min_entries=MAX_CRITERIA, max_entries=MAX_CRITERIA
    )

    def filled_levels(self) -> list[dict]:
        return [row.data for row in self.levels if row.code.data]

    def filled_criteria(self) -> list[dict]:
        return [row.data for row in self.criteria if row.code.data]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        levels = self.filled_levels()
        problems = []
        if len(levels) < 2:
            problems.append(_l("A scale needs at least two levels."))
        pointed = [row for row in self.levels if row.code.data and (row.points.data or "").strip()]
        for row in pointed:
            value = parse_points(row.points.data)
            if value is None or value > 10:
                row.points.errors.append(_l("Enter a number of points from 0 to 10."))
                ok = False
        if pointed and len(pointed) != len(levels):
            problems.append(
                _l(
                    "Give points to every level or to none (then the province's points apply, "
                    "under Indicator score)."
                )
            )
        satisfied = [level for level in levels if level["satisfied"]]
        if not satisfied:
            problems.append(_l("At least one level must count as satisfied."))
        elif len(satisfied) == len(levels):
            problems.append(_l("At least one level must count as not satisfied."))
        for rows in (self.levels, self.criteria):
            codes: set[str] = set()
            for row in rows:
                code = row.code.data
                if not code:
                    if (row.label_vi.data or "").strip():
                        row.code.errors.append(_l("Please enter a code for this row."))
                        ok = False
                    continue
                if code in codes:
                    row.code.errors.append(_l("This code is used twice."))
                    ok = False
                codes.add(code)
                if not (row.label_vi.data or "").strip():
                    row.label_vi.errors.append(_l("Please enter the Vietnamese label."))
                    ok = False
        self.form_errors.extend(problems)
        return ok and not problems
