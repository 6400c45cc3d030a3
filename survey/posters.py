"""Print-ready QR posters (PDF, one page per desk), shared by the admin pages and the CLI.

The QR code is drawn as vector squares, so it stays sharp at any printer resolution, with
high error correction (segno, level H) so that a scratched or folded poster still scans.
Text uses DejaVu Sans, shipped with matplotlib, which has every Vietnamese diacritic.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

import matplotlib
import segno
import sqlalchemy as sa
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from survey.extensions import db
from survey.models import Agency, Desk
from survey.scope import subtree_ids

INSTRUCTION = "Quét mã để đánh giá mức độ hài lòng"
# Page sizes in inches (ISO 216).
SIZES = {"A4": (8.27, 11.69), "A5": (5.83, 8.27)}
QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


@dataclass(frozen=True)
class Poster:
    agency: str
    desk: str
    url: str


def desks_for(agency: Agency | None = None, desk: Desk | None = None, subtree: bool = False):
    """The active desks a poster run covers, in a stable order (agency code, desk code)."""
    if desk is not None:
        return [desk]
    ids = subtree_ids(agency.id) if subtree else {agency.id}
    return list(
        db.session.scalars(
            sa.select(Desk)
            .join(Agency)
            .where(Desk.agency_id.in_(ids), Desk.active, Agency.active)
            .order_by(Agency.code, Desk.code)
        )
    )


def render(posters: Iterable[Poster], size: str = "A4") -> bytes:
    """A PDF with one poster per page."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; allowed: {', '.join(SIZES)}")
    buffer = io.BytesIO()
    with (
        matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}),
        PdfPages(buffer, metadata={"Title": INSTRUCTION, "Creator": "hailong"}) as pdf,
    ):
        for poster in posters:
            figure = _page(poster, size)
            pdf.savefig(figure)
    return buffer.getvalue()


def _page(poster: Poster, size: str) -> Figure:
    width, height = SIZES[size]
    scale = width / SIZES["A4"][0]
    figure = Figure(figsize=(width, height))
    y = 0.94
    for line in _wrap(poster.agency, 30):
        figure.text(0.5, y, line, ha="center", va="top", fontsize=26 * scale, weight="bold")
        y -= 0.045
    for line in _wrap(poster.desk, 40):
        figure.text(0.5, y, line, ha="center", va="top", fontsize=20 * scale)
        y -= 0.035
    # The QR code: a square 70% of the page width, centred under the names.
    side = 0.70 * width
    qr_height = side / height
    bottom = min(y - 0.02, 0.80) - qr_height
    axes = figure.add_axes((0.15, bottom, 0.70, qr_height))
    _draw_qr(axes, poster.url)
    y = bottom - 0.03
    for line in _wrap(INSTRUCTION, 34):
        figure.text(0.5, y, line, ha="center", va="top", fontsize=24 * scale, weight="bold")
        y -= 0.045
    for line in _wrap(poster.url, 70):
        figure.text(
            0.5,
            y - 0.01,
            line,
            ha="center",
            va="top",
            fontsize=12 * scale,
            family="DejaVu Sans Mono",
        )
        y -= 0.025
    return figure


def _draw_qr(axes, url: str) -> None:
    code = segno.make(url, error="h", micro=False)
    matrix = [list(row) for row in code.matrix]
    n = len(matrix)
    squares = []
    for r, row in enumerate(matrix):
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                # One rectangle per run of dark modules; y grows upwards in matplotlib.
                squares.append(Rectangle((start, n - r - 1), c - start, 1))
            else:
                c += 1
    axes.add_collection(
        PatchCollection(squares, facecolor="black", edgecolor="black", linewidth=0.2)
    )
    axes.set_xlim(-QUIET_ZONE, n + QUIET_ZONE)
    axes.set_ylim(-QUIET_ZONE, n + QUIET_ZONE)
    axes.set_aspect("equal")
    axes.axis("off")


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False) or [""]
