"""The overview's charts as SVG documents, drawn with pygal.

They are served as separate image responses (<img src>): pygal writes a <style> element,
which the HTML pages' CSP forbids inline but which is harmless inside an image, and which
WeasyPrint renders when the same SVG goes into a PDF. Each page shows the same numbers in
a table beside the chart, so nothing is only in the picture.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pygal
from pygal.style import Style

FONT = "'Noto Sans CJK JP', 'Noto Sans JP', 'IPAexGothic', sans-serif"
STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#1c2430", foreground_strong="#1c2430",
    foreground_subtle="#d8dee6", opacity="1", opacity_hover="1", transition="0s",
    colors=("#1d3a5f", "#4f9a6e", "#b7791f", "#a4262c"), font_family=FONT, label_font_family=FONT,
    major_label_font_family=FONT, value_font_family=FONT, value_label_font_family=FONT, title_font_family=FONT,
    legend_font_family=FONT, label_font_size=15, major_label_font_size=15, legend_font_size=15,
    value_font_size=14, title_font_size=17,
)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)
#: the SVG responses' own policy: pygal's <style> element may apply; nothing may load or run
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _render(chart: pygal.graph.graph.Graph) -> bytes:
    svg = chart.render(is_unicode=True)
    return _SCRIPT.sub("", svg).encode()  # pygal's config script is for its optional tooltips: not wanted


def _common(title: str, height: int) -> dict:
    return {
        "title": title, "style": STYLE, "width": 560, "height": height, "js": [], "disable_xml_declaration": True,
        "print_values": False, "show_y_guides": False, "margin": 12, "legend_at_bottom": True,
        "legend_box_size": 14, "truncate_label": -1, "truncate_legend": -1, "tooltip_border_radius": 0,
    }


def reach_by_region(title: str, labels: Sequence[str], registered: Sequence[int], reached: Sequence[int],
                    series: tuple[str, str]) -> bytes:
    chart = pygal.HorizontalBar(**_common(title, 90 + 40 * len(labels)))
    # pygal draws the first label at the bottom: reverse, so the chart reads top-down like the table
    chart.x_labels = list(labels)[::-1]
    chart.add(series[0], list(registered)[::-1])
    chart.add(series[1], list(reached)[::-1])
    return _render(chart)


def share_by_size(title: str, labels: Sequence[str], shares: Sequence[float], series: str) -> bytes:
    chart = pygal.Bar(**_common(title, 320), range=(0, 100), value_formatter=lambda v: f"{v:.0f}%",
                      show_legend=False)
    chart.x_labels = list(labels)
    chart.add(series, [round(100 * s, 1) for s in shares])
    return _render(chart)


def per_month(title: str, months: Sequence[str], counts: Sequence[int], series: str) -> bytes:
    chart = pygal.Bar(**_common(title, 320), show_legend=False, x_label_rotation=0)
    chart.x_labels = list(months)
    chart.add(series, list(counts))
    return _render(chart)
