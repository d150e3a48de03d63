"""Charts as SVG made on the server: the same markup goes into the HTML page and into the PDF.

No <style> element and no style attributes (the pages' CSP forbids both, and
WeasyPrint does not apply the page's stylesheet inside SVG): colours and sizes
are SVG presentation attributes. Every chart has a <title> and <desc>, and the
page shows the same numbers as a table, so nothing is only in the picture.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

from dialogue.feedback.taxonomy import CATEGORIES

INK = "#1c2430"
INK_SOFT = "#4a5565"
LINE = "#d8dee6"
ACCENT = "#1d3a5f"
#: 3P colours: navy, amber, green — distinct in greyscale print as well (dark, mid, light)
CATEGORY_COLOURS = {"promotion": "#1d3a5f", "protection": "#b7791f", "partnership": "#4f9a6e"}
FONT = 'font-family="IPAexGothic, Noto Sans CJK JP, sans-serif"'

def _uid(prefix: str) -> str:
    """A fresh element id, so two charts on one page never share a <title> id."""
    return f"{prefix}-{secrets.token_hex(4)}"


def _text(x: float, y: float, body: str, *, size: int = 12, anchor: str = "start", fill: str = INK,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}">{escape(body)}</text>')


def hbar(rows: Sequence[tuple[str, int]], *, title: str, colour: str = ACCENT, label_width: int = 170,
         width: int = 560) -> Markup:
    """Horizontal bars with the value at the end of each bar."""
    tid = _uid("chart")
    peak = max((n for _l, n in rows), default=0) or 1
    bar_room = width - label_width - 50
    height = 28 * len(rows) + 12
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-labelledby="{tid}" {FONT}>',
             f'<title id="{tid}">{escape(title)}</title>',
             f'<desc>{escape("; ".join(f"{label}: {n}" for label, n in rows))}</desc>']
    for i, (label, n) in enumerate(rows):
        y = 6 + i * 28
        w = bar_room * n / peak
        parts.append(_text(label_width - 8, y + 15, _clip(label, 22), anchor="end"))
        parts.append(f'<rect x="{label_width}" y="{y + 2}" width="{w:.1f}" height="18" rx="3" fill="{colour}"/>')
        parts.append(_text(label_width + w + 6, y + 15, str(n), fill=INK_SOFT))
    parts.append("</svg>")
    return Markup("".join(parts))


def category_bars(totals: Mapping[str, int], *, title: str | None = None) -> Markup:
    """Items per 3P category, each bar in its category colour."""
    from flask_babel import gettext as _

    rows = [(str(CATEGORIES[c]), totals.get(c, 0)) for c in CATEGORIES]
    tid = _uid("chart")
    title = title or _("Feedback by 3P category")
    width, label_width = 560, 130
    peak = max((n for _l, n in rows), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} 100" width="{width}" '
             f'height="100" role="img" aria-labelledby="{tid}" {FONT}>',
             f'<title id="{tid}">{escape(title)}</title>',
             f'<desc>{escape("; ".join(f"{label}: {n}" for label, n in rows))}</desc>']
    for i, ((label, n), code) in enumerate(zip(rows, CATEGORIES, strict=True)):
        y = 6 + i * 30
        w = (width - label_width - 50) * n / peak
        parts.append(_text(label_width - 8, y + 16, label, anchor="end"))
        parts.append(f'<rect x="{label_width}" y="{y + 2}" width="{w:.1f}" height="20" rx="3" '
                     f'fill="{CATEGORY_COLOURS[code]}"/>')
        parts.append(_text(label_width + w + 6, y + 16, str(n), fill=INK_SOFT))
    parts.append("</svg>")
    return Markup("".join(parts))


def feedback_timeline(series, *, title: str | None = None) -> Markup:
    """Items per month, stacked by 3P category, with a legend."""
    from flask_babel import gettext as _

    title = title or _("Feedback per month by 3P category")
    months = series.months
    tid = _uid("chart")
    width, height, left, bottom, top = 640, 240, 36, 40, 28
    if not months:
        return Markup(
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} 60" width="{width}" '
            f'height="60" role="img" aria-labelledby="{tid}" {FONT}><title id="{tid}">{escape(title)}</title>'
            + _text(width / 2, 34, _("No feedback in this period."), anchor="middle", fill=INK_SOFT) + "</svg>")
    totals = series.totals
    peak = max(totals) or 1
    plot_w, plot_h = width - left - 8, height - top - bottom
    step = plot_w / len(months)
    bar_w = max(2.0, min(28.0, step * 0.7))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-labelledby="{tid}" {FONT}>',
             f'<title id="{tid}">{escape(title)}</title>',
             f'<desc>{escape("; ".join(f"{m}: {n}" for m, n in zip(months, totals, strict=True)))}</desc>']
    # legend
    x = left
    for code, label in CATEGORIES.items():
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{CATEGORY_COLOURS[code]}"/>')
        parts.append(_text(x + 16, 16, str(label), size=11))
        x += 16 + 12 * len(str(label)) + 18
    # gridlines at 0, half, peak
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="{LINE}" stroke-width="1"/>')
        parts.append(_text(left - 4, y + 4, str(round(peak * frac)), size=10, anchor="end", fill=INK_SOFT))
    label_every = max(1, round(len(months) / 12))
    for i, month in enumerate(months):
        cx = left + step * i + step / 2
        y = top + plot_h
        for code in CATEGORIES:
            n = series.by_category[code][i]
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(f'<rect x="{cx - bar_w / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{CATEGORY_COLOURS[code]}"/>')
        if i % label_every == 0:
            parts.append(_text(cx, height - bottom + 16, month[2:].replace("-", "/"), size=10, anchor="middle",
                               fill=INK_SOFT))
    parts.append("</svg>")
    return Markup("".join(parts))


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def heat_class(n: int, peak: int) -> str:
    """A CSS class for a cross-table cell's shade (pages and PDFs share the classes, no inline style)."""
    if n <= 0 or peak <= 0:
        return "heat-0"
    return f"heat-{min(5, 1 + int(4 * n / peak))}"
