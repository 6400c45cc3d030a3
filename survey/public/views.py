"""The public results page: per agency, the rate, interval and verdict of the last closed
quarter. Aggregated counts only (no comments, no desks); small agencies show no rate."""

from __future__ import annotations

from flask import current_app, render_template

from survey import periods, reporting
from survey.public import bp
from survey.reporting import formatting, html, labels


@bp.route("/results")
def results():
    period = periods.last_closed_quarter()
    options = reporting.ReportOptions(period=period, adjust=current_app.config["PUBLIC_ADJUST"])
    report = reporting.build_report(options)
    minimum = int(current_app.config["PUBLIC_MIN_RESPONSES"])
    small, complement = suppressed(report.rows, minimum)
    response = current_app.make_response(
        render_template(
            "public/results.html",
            report=report,
            rows=report.rows,
            minimum=minimum,
            small=small,
            complement=complement,
            fmt=formatting,
            labels=labels,
            present=html,
        )
    )
    response.headers["Cache-Control"] = "public, max-age=600"
    return response


def suppressed(rows, minimum: int) -> tuple[set[str], set[str]]:
    """(codes of rows too small to show a rate, codes hidden to protect them).

    A parent's counts pool its children's, so with a parent and all but one child shown, the
    hidden child is the difference (parent − siblings). Complementary suppression: wherever
    a parent and its children hide exactly one cell, the smallest shown child is hidden too;
    that child's own children then hide one cell less than needed, so the rule repeats down
    the tree until every family hides none or at least two. Parents keep their rate, so the
    province's and the departments' totals stay on the page.
    """
    small = {row.code for row in rows if row.valid < minimum}
    hidden = set(small)
    children: dict[str | None, list] = {}
    for row in rows:
        children.setdefault(row.parent_code, []).append(row)
    by_code = {row.code: row for row in rows}
    changed = True
    while changed:
        changed = False
        for parent_code, kids in children.items():
            family = [*kids, *([by_code[parent_code]] if parent_code in by_code else [])]
            if parent_code is None or len(family) < 2:
                continue
            if sum(row.code in hidden for row in family) != 1:
                continue
            shown = [row for row in kids if row.code not in hidden]
            if shown:
                hidden.add(min(shown, key=lambda row: (row.valid, row.code)).code)
            else:  # an only child is hidden: its parent would show it
                hidden.add(parent_code)
            changed = True
    return small, hidden - small
