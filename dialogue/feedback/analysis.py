"""Counting feedback: category × sector / region / size, over time, sub-topics, what is still unanswered.

Everything is counted in SQL with GROUP BY; only the small result tables reach
Python. Counts never need the sealed text, so analysis works for items the
reader may not open (their text stays behind the clearance rule on drill-down).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, case, extract, func, select
from sqlalchemy.orm import Session

from clearance import bounds
from clearance.db import utcnow
from dialogue.feedback.models import FeedbackItem, feedback_sector
from dialogue.feedback.taxonomy import CATEGORIES, INSTRUMENTS, SOURCES, STATUSES, SUBTOPICS
from dialogue.registry.taxonomy import REGIONS, SECTORS, SIZE_CLASSES, TIERS


@dataclass(frozen=True)
class Filters:
    """What to count; empty tuples mean "all"."""

    date_from: date | None = None
    date_to: date | None = None
    categories: tuple[str, ...] = ()
    subtopics: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    company_id: str | None = None
    association_id: str | None = None
    dialogue_id: str | None = None
    #: unanswered items only
    open_only: bool = False

    def args(self) -> dict[str, object]:
        """As query-string arguments (for links that keep the filters)."""
        out: dict[str, object] = {}
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        for key, values in (("category", self.categories), ("subtopic", self.subtopics), ("sector", self.sectors),
                            ("region", self.regions), ("size", self.sizes), ("status", self.statuses),
                            ("source", self.sources), ("instrument", self.instruments)):
            if values:
                out[key] = list(values)
        if self.open_only:
            out["open"] = "1"
        return out


def parse_filters(args) -> Filters:
    """Filters from a query string; unknown codes and bad dates are dropped, never an error page."""

    def codes(key: str, allowed) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for v in args.getlist(key) if v in allowed))[:50]

    def day(key: str) -> date | None:
        return bounds.bounded_date(args.get(key))

    return Filters(
        date_from=day("from"), date_to=day("to"), categories=codes("category", CATEGORIES),
        subtopics=codes("subtopic", SUBTOPICS), sectors=codes("sector", SECTORS), regions=codes("region", REGIONS),
        sizes=codes("size", SIZE_CLASSES), statuses=codes("status", STATUSES), sources=codes("source", SOURCES),
        instruments=codes("instrument", INSTRUMENTS), open_only=args.get("open") == "1",
    )


def apply_filters(stmt: Select, f: Filters) -> Select:
    t = FeedbackItem
    if f.date_from:
        stmt = stmt.where(t.received_at >= datetime.combine(f.date_from, datetime.min.time()))
    if f.date_to:
        stmt = stmt.where(t.received_at < datetime.combine(f.date_to + timedelta(days=1), datetime.min.time()))
    for column, values in ((t.category, f.categories), (t.subtopic, f.subtopics), (t.region, f.regions),
                           (t.size_class, f.sizes), (t.status, f.statuses), (t.source, f.sources),
                           (t.instrument, f.instruments)):
        if values:
            stmt = stmt.where(column.in_(values))
    if f.sectors:
        stmt = stmt.where(t.id.in_(select(feedback_sector.c.item_id).where(feedback_sector.c.sector.in_(f.sectors))))
    if f.company_id:
        stmt = stmt.where(t.company_id == f.company_id, t.source != "anonymous")
    if f.association_id:
        stmt = stmt.where(t.association_id == f.association_id)
    if f.dialogue_id:
        stmt = stmt.where(t.dialogue_id == f.dialogue_id)
    if f.open_only:
        stmt = stmt.where(t.status != "answered")
    return stmt


def count(session: Session, f: Filters) -> int:
    return session.execute(apply_filters(select(func.count()).select_from(FeedbackItem), f)).scalar_one()


@dataclass
class CrossTab:
    """Counts of category (rows) × one other dimension (columns)."""

    dimension: str
    columns: list[str]
    cells: dict[tuple[str, str], int]
    row_totals: dict[str, int]
    column_totals: dict[str, int]
    total: int

    def get(self, row: str, col: str) -> int:
        return self.cells.get((row, col), 0)

    @property
    def peak(self) -> int:
        return max(self.cells.values(), default=0)


DIMENSIONS = {
    "sector": SECTORS,
    "region": REGIONS,
    "size": SIZE_CLASSES,
    "tier": {str(k): v for k, v in TIERS.items()},
    "instrument": INSTRUMENTS,
    "source": SOURCES,
    "status": STATUSES,
}
#: the value an item without the attribute is counted under
UNKNOWN = "unknown"


def crosstab(session: Session, f: Filters, dimension: str) -> CrossTab:
    """Category × dimension. An item in two sectors counts once in each sector column, once in totals."""
    t = FeedbackItem
    base = apply_filters(select(t.id), f).subquery()
    if dimension == "sector":
        stmt = (select(t.category, feedback_sector.c.sector, func.count())
                .join(feedback_sector, feedback_sector.c.item_id == t.id)
                .where(t.id.in_(select(base.c.id))).group_by(t.category, feedback_sector.c.sector))
    else:
        column = {"region": t.region, "size": t.size_class, "tier": t.tier, "instrument": t.instrument,
                  "source": t.source, "status": t.status}[dimension]
        stmt = select(t.category, column, func.count()).where(t.id.in_(select(base.c.id))).group_by(t.category, column)
    cells: dict[tuple[str, str], int] = {}
    for category, value, n in session.execute(stmt):
        key = (category, UNKNOWN if value is None else str(value))
        cells[key] = cells.get(key, 0) + n
    rows = dict(session.execute(
        select(t.category, func.count()).where(t.id.in_(select(base.c.id))).group_by(t.category)
    ).all())
    columns = list(DIMENSIONS[dimension])
    if any(col == UNKNOWN for _row, col in cells):
        columns.append(UNKNOWN)
    col_totals = Counter()
    for (_row, col), n in cells.items():
        col_totals[col] += n
    return CrossTab(dimension, columns, cells, {c: rows.get(c, 0) for c in CATEGORIES}, dict(col_totals),
                    sum(rows.values()))


@dataclass
class Series:
    """Items per month and category, every month in the range present (zeros included)."""

    months: list[str]  # "2025-04"
    by_category: dict[str, list[int]]

    @property
    def totals(self) -> list[int]:
        return [sum(v[i] for v in self.by_category.values()) for i in range(len(self.months))]


def over_time(session: Session, f: Filters, *, max_months: int = 36) -> Series:
    t = FeedbackItem
    year, month = extract("year", t.received_at), extract("month", t.received_at)
    rows = session.execute(
        apply_filters(select(year, month, t.category, func.count()), f).group_by(year, month, t.category)
    ).all()
    counts = {(int(y), int(m), c): n for y, m, c, n in rows}
    if not counts:
        return Series([], {c: [] for c in CATEGORIES})
    first = min((y, m) for y, m, _c in counts)
    last = max((y, m) for y, m, _c in counts)
    months: list[tuple[int, int]] = []
    y, m = first
    while (y, m) <= last:
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    months = months[-max_months:]
    return Series([f"{y:04d}-{m:02d}" for y, m in months],
                  {c: [counts.get((y, m, c), 0) for y, m in months] for c in CATEGORIES})


@dataclass(frozen=True)
class SubtopicCount:
    code: str
    category: str
    count: int
    open: int


def top_subtopics(session: Session, f: Filters, limit: int = 10) -> list[SubtopicCount]:
    t = FeedbackItem
    open_ = func.sum(case((t.status != "answered", 1), else_=0))
    rows = session.execute(
        apply_filters(select(t.subtopic, t.category, func.count(), open_), f)
        .group_by(t.subtopic, t.category).order_by(func.count().desc(), t.subtopic).limit(limit)
    ).all()
    return [SubtopicCount(code, cat, n, int(o or 0)) for code, cat, n, o in rows]


def subtopic_counts(session: Session, f: Filters) -> dict[str, int]:
    t = FeedbackItem
    return dict(session.execute(apply_filters(select(t.subtopic, func.count()), f).group_by(t.subtopic)).all())


#: age buckets of unanswered items, in days
AGE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 30), (30, 90), (90, 180), (180, 365), (365, None))


@dataclass
class Backlog:
    """What is still unanswered, and for how long."""

    open_items: int
    buckets: list[tuple[tuple[int, int | None], int]]
    by_status: dict[str, int]
    oldest: list[FeedbackItem] = field(default_factory=list)
    median_days: float | None = None

    def age(self, item: FeedbackItem, now: datetime | None = None) -> int:
        return ((now or utcnow()) - item.received_at).days


def backlog(session: Session, f: Filters, *, now: datetime | None = None, oldest: int = 10) -> Backlog:
    now = now or utcnow()
    t = FeedbackItem
    open_f = Filters(**{**f.__dict__, "open_only": True})
    buckets = []
    for low, high in AGE_BUCKETS:
        stmt = apply_filters(select(func.count()).select_from(t), open_f).where(t.received_at <= now - timedelta(days=low))
        if high is not None:
            stmt = stmt.where(t.received_at > now - timedelta(days=high))
        buckets.append(((low, high), session.execute(stmt).scalar_one()))
    by_status = dict(session.execute(apply_filters(select(t.status, func.count()), open_f).group_by(t.status)).all())
    total = sum(by_status.values())
    median = None
    if total:
        mid = session.execute(apply_filters(select(t.received_at), open_f).order_by(t.received_at)
                              .offset(total // 2).limit(1)).scalar_one()
        median = (now - mid).total_seconds() / 86400
    first = list(session.execute(apply_filters(select(t), open_f).order_by(t.received_at, t.ref).limit(oldest)).scalars())
    return Backlog(total, buckets, {s: by_status.get(s, 0) for s in STATUSES if s != "answered"}, first, median)


def drill_args(f: Filters, **extra: Sequence[str] | str) -> dict[str, object]:
    """Query arguments for the item list behind one cell: the page's filters narrowed by the cell."""
    args = f.args()
    for key, value in extra.items():
        args[key] = [value] if isinstance(value, str) else list(value)
    return args
