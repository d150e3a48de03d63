"""Supply-chain diagram: a layout computed here, drawn as SVG by templates/registry/diagram.svg.

Four columns, one per tier (一次材料 → 二次材料 → 部品 → 完成品), a box per
member and an arrow per supplier → customer link. Members in a column are
ordered by the position of their partners in the neighbouring column (a few
barycentre sweeps), which removes most crossings in chains of this size. The
SVG uses presentation attributes only (no style attributes, no <style>): it is
served under the app's strict CSP and must look the same printed, inline or
opened on its own.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from dialogue.registry.service import GroupView
from dialogue.registry.taxonomy import PREFECTURES, TIERS

MARGIN = 16
HEAD_H = 34
BOX_W = 216
BOX_H = 70
COL_GAP = 96
ROW_GAP = 18
PAD = 9
FONT = 13
META_FONT = 11
LINE_H = 17
MAX_NAME_LINES = 2


@dataclass
class Box:
    company_id: str
    x: float
    y: float
    lines: list[str]
    meta: str
    tier: int


@dataclass
class Arrow:
    d: str  # SVG path data
    skip: bool  # jumps over a tier (drawn dashed)
    supplier: str
    customer: str


@dataclass
class Column:
    tier: int
    label: str
    x: float


@dataclass
class Layout:
    width: float
    height: float
    columns: list[Column] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    box_w: int = BOX_W
    box_h: int = BOX_H


def _char_width(ch: str) -> float:
    """Rough advance in em: full-width CJK is 1, Latin about 0.6 (enough to wrap names sensibly)."""
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.6


def wrap(text: str, width_em: float, max_lines: int = MAX_NAME_LINES) -> list[str]:
    """Break a name into lines at spaces (Latin) or anywhere (Japanese); the last line ends in … if cut."""
    lines: list[str] = []
    line, used = "", 0.0
    tokens = text.split(" ") if " " in text and text.isascii() else list(text)
    joiner = " " if " " in text and text.isascii() else ""
    for token in tokens:
        w = sum(_char_width(c) for c in token) + (_char_width(" ") if line and joiner else 0)
        if line and used + w > width_em:
            lines.append(line)
            line, used = token, sum(_char_width(c) for c in token)
        else:
            line = f"{line}{joiner}{token}" if line else token
            used += w
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and sum(_char_width(c) for c in last) + 1 > width_em:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    return lines


def layout(view: GroupView, *, locale: str, tier_labels: dict[int, str], size_labels: dict[str, str]) -> Layout:
    tiers = sorted(TIERS)
    columns_members: dict[int, list] = {t: list(view.by_tier.get(t, [])) for t in tiers}
    suppliers: dict[str, list[str]] = {}
    customers: dict[str, list[str]] = {}
    for link in view.links:
        suppliers.setdefault(link.customer_id, []).append(link.supplier_id)
        customers.setdefault(link.supplier_id, []).append(link.customer_id)

    def position() -> dict[str, float]:
        return {m.company.id: i for t in tiers for i, m in enumerate(columns_members[t])}

    # Barycentre sweeps: downstream by suppliers, then upstream by customers.
    for _ in range(3):
        for t in tiers[1:]:
            pos = position()
            columns_members[t].sort(key=lambda m: _mean([pos[s] for s in suppliers.get(m.company.id, []) if s in pos],
                                                         pos[m.company.id]))
        for t in reversed(tiers[:-1]):
            pos = position()
            columns_members[t].sort(key=lambda m: _mean([pos[c] for c in customers.get(m.company.id, []) if c in pos],
                                                         pos[m.company.id]))

    tallest = max((len(v) for v in columns_members.values()), default=0)
    body_h = max(1, tallest) * (BOX_H + ROW_GAP) - ROW_GAP
    out = Layout(width=2 * MARGIN + len(tiers) * BOX_W + (len(tiers) - 1) * COL_GAP,
                 height=2 * MARGIN + HEAD_H + body_h)
    width_em = (BOX_W - 2 * PAD) / FONT
    where: dict[str, Box] = {}
    for i, t in enumerate(tiers):
        x = MARGIN + i * (BOX_W + COL_GAP)
        out.columns.append(Column(t, tier_labels[t], x))
        members = columns_members[t]
        offset = (body_h - (len(members) * (BOX_H + ROW_GAP) - ROW_GAP)) / 2  # centre shorter columns
        for j, m in enumerate(members):
            c = m.company
            name = c.name_ja if locale == "ja" else c.name_en
            pref = PREFECTURES.get(c.prefecture, ("", "", ""))
            meta = f"{size_labels.get(c.size_class, '')} · {pref[0] if locale == 'ja' else pref[1]}"
            box = Box(c.id, x, MARGIN + HEAD_H + offset + j * (BOX_H + ROW_GAP), wrap(name, width_em), meta, t)
            out.boxes.append(box)
            where[c.id] = box

    # Spread the ends of several arrows leaving or entering one box so they stay distinguishable.
    outgoing: dict[str, list] = {}
    incoming: dict[str, list] = {}
    links = [lk for lk in view.links if lk.supplier_id in where and lk.customer_id in where]
    for lk in sorted(links, key=lambda lk: where[lk.customer_id].y):
        outgoing.setdefault(lk.supplier_id, []).append(lk)
    for lk in sorted(links, key=lambda lk: where[lk.supplier_id].y):
        incoming.setdefault(lk.customer_id, []).append(lk)
    for lk in links:
        s, c = where[lk.supplier_id], where[lk.customer_id]
        y1 = s.y + BOX_H / 2 + _spread(outgoing[lk.supplier_id].index(lk), len(outgoing[lk.supplier_id]))
        y2 = c.y + BOX_H / 2 + _spread(incoming[lk.customer_id].index(lk), len(incoming[lk.customer_id]))
        x1, x2 = s.x + BOX_W, c.x - 2  # stop short so the arrowhead touches the box edge
        bend = max(30.0, (x2 - x1) / 2)
        d = f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        out.arrows.append(Arrow(d, c.tier - s.tier > 1, lk.supplier_id, lk.customer_id))
    return out


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _spread(index: int, count: int, step: float = 7.0) -> float:
    return (index - (count - 1) / 2) * step
