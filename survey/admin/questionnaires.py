"""Questionnaire versions: list, copy to a draft, edit the draft, publish, choose the default.

A published version never changes: responses point at the version they answered, so editing
one would rewrite what past citizens were asked. A change is a new version.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import attributes

from survey.admin import bp
from survey.admin.common import get_or_404, questionnaire_title, require_confirm
from survey.admin.forms import ConfirmForm, parse_points
from survey.admin.questionnaire_forms import MAX_CRITERIA, MAX_LEVELS, QuestionnaireForm
from survey.audit import audit
from survey.errors import abort_with
from survey.extensions import db
from survey.languages.models import LanguagePack
from survey.languages.packs import copy_packs
from survey.languages.prompts import copy_prompts
from survey.models import Agency, Desk, Questionnaire, Response, utcnow

CONTENT = ("key", "version", "title", "levels", "satisfied", "criteria")


class PublishedQuestionnaireChanged(RuntimeError):
    """A published version's content was about to change: a bug, never a user action."""


@sa.event.listens_for(Questionnaire, "before_update")
def _published_versions_are_immutable(mapper, connection, target: Questionnaire) -> None:
    """Defence in depth beside the views: refuse to write a change to published content."""
    state = sa.inspect(target)
    published_before = attributes.get_history(target, "published_at").deleted
    was_published = target.published_at is not None and not (
        published_before and published_before[0] is None
    )
    if not was_published:
        return
    changed = [name for name in CONTENT if state.attrs[name].history.has_changes()]
    if changed:
        raise PublishedQuestionnaireChanged(
            f"{target!r} is published; cannot change {', '.join(changed)}"
        )


def _usage() -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    responses = dict(
        db.session.execute(
            sa.select(Response.questionnaire_id, sa.func.count()).group_by(
                Response.questionnaire_id
            )
        ).all()
    )
    agencies = dict(
        db.session.execute(
            sa.select(Agency.questionnaire_id, sa.func.count())
            .where(Agency.questionnaire_id.is_not(None))
            .group_by(Agency.questionnaire_id)
        ).all()
    )
    desks = dict(
        db.session.execute(
            sa.select(Desk.questionnaire_id, sa.func.count())
            .where(Desk.questionnaire_id.is_not(None))
            .group_by(Desk.questionnaire_id)
        ).all()
    )
    return responses, agencies, desks


@bp.route("/questionnaires")
def questionnaires():
    versions = list(
        db.session.scalars(
            sa.select(Questionnaire).order_by(Questionnaire.key, Questionnaire.version.desc())
        )
    )
    responses, agencies, desks = _usage()
    return render_template(
        "admin/questionnaires.html",
        versions=versions,
        responses=responses,
        agencies=agencies,
        desks=desks,
        title=questionnaire_title,
    )


@bp.route("/questionnaires/<int:questionnaire_id>")
def questionnaire(questionnaire_id: int):
    version = get_or_404(Questionnaire, questionnaire_id)
    responses, _agencies, _desks = _usage()
    used_by_agencies = list(
        db.session.scalars(
            sa.select(Agency).where(Agency.questionnaire_id == version.id).order_by(Agency.code)
        )
    )
    used_by_desks = list(
        db.session.scalars(
            sa.select(Desk).where(Desk.questionnaire_id == version.id).order_by(Desk.code)
        )
    )
    return render_template(
        "admin/questionnaire.html",
        q=version,
        responses=responses.get(version.id, 0),
        used_by_agencies=used_by_agencies,
        used_by_desks=used_by_desks,
        form=ConfirmForm(),
        title=questionnaire_title,
    )


@bp.post("/questionnaires/<int:questionnaire_id>/copy")
def questionnaire_copy(questionnaire_id: int):
    source = get_or_404(Questionnaire, questionnaire_id)
    require_confirm()
    latest = db.session.scalar(
        sa.select(sa.func.max(Questionnaire.version)).where(Questionnaire.key == source.key)
    )
    draft = Questionnaire(
        key=source.key,
        version=latest + 1,
        title=dict(source.title),
        levels=[dict(level, label=dict(level["label"])) for level in source.levels],
        satisfied=list(source.satisfied),
        criteria=[dict(item, label=dict(item["label"])) for item in source.criteria],
        published_at=None,
        is_default=False,
    )
    db.session.add(draft)
    db.session.flush()
    copy_packs(source, draft)
    copy_prompts(source, draft)
    audit("questionnaire.copy", target=f"{draft.key} v{draft.version}", source=source.version)
    db.session.commit()
    flash(
        _("Draft version %(version)d created: edit it, then publish it.", version=draft.version),
        "success",
    )
    return redirect(url_for("admin.questionnaire_edit", questionnaire_id=draft.id), 303)


def _refuse_published(version: Questionnaire) -> None:
    if version.is_published:
        abort_with(
            409,
            _(
                "Version %(version)d is published and can no longer change. Copy it to a new draft version instead.",
                version=version.version,
            ),
        )


def _fill(form: QuestionnaireForm, version: Questionnaire) -> None:
    form.title_vi.data = version.title.get("vi", "")
    form.title_en.data = version.title.get("en", "")
    for row, level in zip(form.levels, version.levels[:MAX_LEVELS], strict=False):
        row.code.data = level["code"]
        row.label_vi.data = level["label"].get("vi", "")
        row.label_en.data = level["label"].get("en", "")
        row.face.data = level.get("face", "")
        row.satisfied.data = level["code"] in version.satisfied
        if isinstance(level.get("points"), int | float):
            row.points.data = f"{level['points']:g}"
    for row, item in zip(form.criteria, version.criteria[:MAX_CRITERIA], strict=False):
        row.code.data = item["code"]
        row.label_vi.data = item["label"].get("vi", "")
        row.label_en.data = item["label"].get("en", "")


def _level(row: dict) -> dict:
    level = {"code": row["code"], "face": (row["face"] or "").strip(), "label": _labels(row)}
    points = parse_points(row["points"]) if (row["points"] or "").strip() else None
    if points is not None:  # the form checked that every level has points, or none
        level["points"] = int(points) if points.is_integer() else points
    return level


def _labels(row: dict) -> dict:
    labels = {"vi": row["label_vi"].strip()}
    if (row["label_en"] or "").strip():
        labels["en"] = row["label_en"].strip()
    return labels


@bp.route("/questionnaires/<int:questionnaire_id>/edit", methods=["GET", "POST"])
def questionnaire_edit(questionnaire_id: int):
    version = get_or_404(Questionnaire, questionnaire_id)
    _refuse_published(version)
    form = QuestionnaireForm()
    if request.method == "GET":
        _fill(form, version)
    elif form.validate_on_submit():
        levels = form.filled_levels()
        version.title = {"vi": form.title_vi.data.strip(), "en": (form.title_en.data or "").strip()}
        version.levels = [_level(row) for row in levels]
        version.satisfied = [row["code"] for row in levels if row["satisfied"]]
        version.criteria = [
            {"code": row["code"], "label": _labels(row)} for row in form.filled_criteria()
        ]
        audit("questionnaire.edit", target=f"{version.key} v{version.version}")
        db.session.commit()
        flash(_("Draft saved."), "success")
        return redirect(url_for("admin.questionnaire", questionnaire_id=version.id), 303)
    status = 400 if request.method == "POST" else 200
    return (
        render_template("admin/questionnaire_form.html", form=form, q=version),
        status,
    )


@bp.post("/questionnaires/<int:questionnaire_id>/publish")
def questionnaire_publish(questionnaire_id: int):
    version = get_or_404(Questionnaire, questionnaire_id)
    require_confirm()
    _refuse_published(version)
    version.published_at = utcnow()
    audit("questionnaire.publish", target=f"{version.key} v{version.version}")
    db.session.commit()
    flash(
        _(
            "Version %(version)d is published. Choose it for agencies or desks, or make it the default.",
            version=version.version,
        ),
        "success",
    )
    return redirect(url_for("admin.questionnaire", questionnaire_id=version.id), 303)


@bp.post("/questionnaires/<int:questionnaire_id>/default")
def questionnaire_default(questionnaire_id: int):
    version = get_or_404(Questionnaire, questionnaire_id)
    require_confirm()
    if not version.is_published:
        abort_with(409, _("Publish this version before making it the default."))
    db.session.execute(
        sa.update(Questionnaire).where(Questionnaire.id != version.id).values(is_default=False)
    )
    version.is_default = True
    audit("questionnaire.default", target=f"{version.key} v{version.version}")
    db.session.commit()
    flash(_("Desks without their own questionnaire now use this version."), "success")
    return redirect(url_for("admin.questionnaire", questionnaire_id=version.id), 303)


@bp.post("/questionnaires/<int:questionnaire_id>/delete")
def questionnaire_delete(questionnaire_id: int):
    version = get_or_404(Questionnaire, questionnaire_id)
    require_confirm()
    _refuse_published(version)
    label = f"{version.key} v{version.version}"
    db.session.execute(sa.delete(LanguagePack).where(LanguagePack.questionnaire_id == version.id))
    db.session.delete(version)
    audit("questionnaire.delete", target=label)
    db.session.commit()
    flash(_("Draft deleted."), "success")
    return redirect(url_for("admin.questionnaires"), 303)
