"""The dashboard's view form. It is sent with GET so that the URL holds the view and can be
shared; `survey.reporting.options.parse_options` validates it (one parser for every channel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SearchField, StringField
from wtforms.validators import Length, Optional

from survey.fields import SelectField, choices
from survey.models import Kind, Level
from survey.reporting import detail, labels
from survey.reporting.options import ReportOptions


class ReportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    period = StringField(
        _l("Period"),
        description=_l("2026-Q3, 2026-07, 2026-H1, 2026-9M, 2026, or 2026-07-01..2026-09-30"),
        validators=[Optional(), Length(max=40)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    target = StringField(
        _l("Target (%)"),
        description=_l("Leave empty to use the target table; enter a number to try another."),
        validators=[Optional(), Length(max=12)],
        render_kw={"inputmode": "decimal"},
    )
    calendar = SelectField(_l("Calendar"))
    history = SelectField(_l("Merged agencies in comparisons"))
    confidence = SelectField(_l("Confidence"))
    method = SelectField(_l("Estimation interval method"))
    adjust = SelectField(_l("Many agencies at once"))
    deff = SelectField(_l("Ratings at one desk on one day"))
    verdict = SelectField(_l("Verdict"))
    kind = SelectField(_l("Kind"))
    level = SelectField(_l("Level"))
    sort = HiddenField()
    agency = HiddenField()

    # The fields a person fills in: a wrong value there is shown in the form, not on a 400 page.
    VISIBLE = (
        "period",
        "target",
        "calendar",
        "history",
        "confidence",
        "method",
        "adjust",
        "deff",
        "verdict",
        "kind",
        "level",
    )

    # Statistical settings, in the filter bar's "advanced" section: most readers keep the defaults.
    ADVANCED = ("confidence", "method", "adjust", "deff")

    def advanced_open(self) -> bool:
        """Show the advanced section open when one of its settings is not the default or is
        wrong, so that nobody reads a report without seeing that it was changed."""
        defaults = {name: str(getattr(ReportOptions, name)) for name in self.ADVANCED}
        return any(
            self[name].errors or str(self[name].data) != defaults[name] for name in self.ADVANCED
        )

    def __init__(self, options: ReportOptions):
        args = options.query()
        data = {
            "period": options.period.key,
            "target": args.get("target", ""),
            "confidence": str(options.confidence),
            "method": options.method,
            "adjust": options.adjust,
            "deff": options.deff,
            "verdict": options.verdict or "",
            "kind": options.kind or "",
            "level": options.level or "",
            "sort": args.get("sort", ""),
            "agency": options.agency or "",
            "calendar": options.calendar,
            "history": options.history,
        }
        super().__init__(formdata=None, data=data)
        any_ = ("", _l("All"))
        self.calendar.choices = choices(labels.CALENDAR_LABELS.items())
        self.history.choices = choices(labels.HISTORY_CHOICES.items())
        self.confidence.choices = choices((str(c), f"{c}%") for c in labels.CONFIDENCES)
        self.method.choices = choices(labels.METHOD_LABELS.items())
        self.adjust.choices = choices(labels.ADJUST_LABELS.items())
        self.deff.choices = choices(labels.DEFF_LABELS.items())
        self.verdict.choices = choices(
            [any_, *((v, labels.VERDICT_LABELS[v]) for v in labels.VERDICTS)]
        )
        self.kind.choices = choices([any_, *((k.value, labels.KIND_LABELS[k]) for k in Kind)])
        self.level.choices = choices([any_, *((lv.value, labels.LEVEL_LABELS[lv]) for lv in Level)])


class CommentSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(
        _l("Search the comments"), validators=[Optional(), Length(max=detail.MAX_SEARCH)]
    )
