"""Charts render to PNG and SVG with Vietnamese text and no missing glyphs.

pyproject.toml turns warnings into errors, so matplotlib's "Glyph ... missing from font"
warning would fail these tests.
"""

import io
import re
import xml.etree.ElementTree as ET

import matplotlib
import pytest
from matplotlib.figure import Figure

from analysis.plots import FONT_FAMILY, forest_plot, funnel_plot, trend_plot

NAMES = ["Sở Tư pháp", "UBND phường Hải Châu", "Bệnh viện Đa khoa tỉnh", "Trường THCS Lê Lợi"]


def figures():
    return {
        "funnel": funnel_plot([40, 170, 75, 8], [50, 200, 100, 10], target=0.8),
        "forest": forest_plot([95, 70, 30, 0], [100, 100, 40, 0], 0.8, NAMES),
        "trend": trend_plot(
            [80, 85, 60, 82], [100, 100, 100, 100], ["Quý 1", "Quý 2", "Quý 3", "Quý 4"], 0.8
        ),
    }


def svg_text(fig):
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg")
    root = ET.fromstring(buffer.getvalue())
    return " ".join(
        "".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")
    )


@pytest.mark.parametrize("name", ["funnel", "forest", "trend"])
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_figures_render_without_missing_glyph_warnings(name, fmt):
    fig = figures()[name]
    assert isinstance(fig, Figure)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt)
    head = buffer.getvalue()[:200]
    assert head.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in buffer.getvalue()


def test_funnel_plot_svg_carries_vietnamese_default_labels():
    text = svg_text(figures()["funnel"])
    for expected in ("Tỷ lệ hài lòng", "Số phản hồi", "Mục tiêu", "Giới hạn 99,8%"):
        assert expected in text


def test_forest_plot_svg_carries_agency_names_and_verdicts():
    text = svg_text(figures()["forest"])
    for expected in NAMES + ["Đạt mục tiêu", "Dưới mục tiêu", "Chưa đủ bằng chứng"]:
        assert expected in text


def test_trend_plot_marks_target_band_and_control_limits():
    fig = figures()["trend"]
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "Mục tiêu" in legend
    assert "Khoảng tin cậy 95%" in legend
    assert "Giới hạn kiểm soát (3σ)" in legend
    assert "Bất thường" in legend  # quarter 3 is out of control


def test_every_text_uses_dejavu_sans():
    for fig in figures().values():
        fig.canvas.draw()  # create every tick label
        for text in fig.findobj(matplotlib.text.Text):
            if text.get_text():
                assert text.get_fontname() == FONT_FAMILY


def test_labels_are_parameters_so_the_web_app_can_translate_them():
    fig = funnel_plot(
        [40, 170],
        [50, 200],
        0.8,
        title="Funnel",
        xlabel="Responses",
        ylabel="Satisfied",
        target_label="Target",
        limit_label="{coverage} limits",
    )
    ax = fig.axes[0]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == (
        "Funnel",
        "Responses",
        "Satisfied",
    )
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Target" in legend and "95% limits" in legend
    fig = forest_plot([9, 1], [10, 10], 0.5, ["A", "B"], verdict_labels={"meets": "Meets"})
    assert "Meets" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_plots_reject_mismatched_labels():
    with pytest.raises(ValueError, match="one name per agency"):
        forest_plot([9, 1], [10, 10], 0.5, ["A"])
    with pytest.raises(ValueError, match="one label per period"):
        trend_plot([9, 1], [10, 10], ["Q1"])


def test_funnel_points_carry_svg_titles_and_parents_are_squares():
    from analysis.plots import svg_with_titles

    fig = funnel_plot(
        [40, 170, 75],
        [50, 200, 100],
        0.8,
        names=["Xã A", "Sở <B>", "Xã C"],
        parents=[False, True, False],
        point_label="leaves",
        parent_label="parents",
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    svg = svg_with_titles(buffer.getvalue(), fig.point_titles).decode()
    titles = re.findall(r'<g id="funnel-point-\d+">\s*<title>([^<]*)</title>', svg)
    assert titles == ["Xã A: 80% (50)", "Sở &lt;B&gt;: 85% (200)", "Xã C: 75% (100)"]
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "leaves" in legend and "parents" in legend
    markers = [c.get_paths()[0].vertices.shape[0] for c in fig.axes[0].collections]
    assert markers[1] != markers[0] == markers[2]  # the parent's square is not a circle
