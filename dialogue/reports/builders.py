"""The content of each report: gathered from live data, labelled with the join of what it quotes.

A builder returns a Built: the PDF template and its context, the label, and the
same figures as spreadsheet tables (XLSX/CSV come from exactly these rows).
Builders take a session and plain values and report progress through a
callback, so the background worker, the benchmark and the tests run them alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearance import policy
from clearance.db import utcnow
from clearance.labels import PUBLIC, Label, join
from dialogue.feedback import analysis
from dialogue.feedback.access import public_ids, readable_ids
from dialogue.feedback.models import FeedbackItem, PolicyMeasure, feedback_measure, feedback_sector
from dialogue.feedback.taxonomy import (
    CATEGORIES,
    GROUPS,
    INSTRUMENTS,
    KINDS,
    SOURCES,
    STATUSES,
    SUBTOPICS,
    subtopics_of,
)
from dialogue.registry.taxonomy import REGIONS, SECTORS, SIZE_CLASSES, TIERS
from dialogue.reports import charts
from dialogue.reports.anonymise import Anonymiser

Progress = Callable[[int, str], None]

#: on request, the reactions report lists every item in an appendix, up to this many (beyond, the XLSX has
#: them): printing a thousand rows costs more than all the rest of the report together.
APPENDIX_LIMIT = 500
QUOTES_PER_SUBTOPIC = 3
#: candidates read (and decrypted) per sub-topic to pick representative quotations from
QUOTE_CANDIDATES = 24


def _noop(_pct: int, _stage: str) -> None:
    pass


@dataclass
class Table:
    """One sheet of the spreadsheet version."""

    name: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class Built:
    template: str
    context: dict[str, Any]
    label: Label
    title: str
    stem: str
    tables: list[Table] = field(default_factory=list)


def _label_of_items(session: Session, items: list[FeedbackItem]) -> Label:
    labelled = [i for i in items if i.level > 0]
    return join(*(policy.label_of(session, "feedback_item", i.id, i.level) for i in labelled)) if labelled else PUBLIC


def _period_text(f: analysis.Filters) -> str:
    if f.date_from and f.date_to:
        return _("%(a)s to %(b)s", a=f.date_from.isoformat(), b=f.date_to.isoformat())
    if f.date_from:
        return _("from %(a)s", a=f.date_from.isoformat())
    if f.date_to:
        return _("until %(b)s", b=f.date_to.isoformat())
    return _("all time")


def _scope_text(f: analysis.Filters) -> list[tuple[str, str]]:
    out = [(_("Period"), _period_text(f))]
    if f.sectors:
        out.append((_("Sectors"), ", ".join(str(SECTORS[s]) for s in f.sectors)))
    if f.regions:
        out.append((_("Regions"), ", ".join(str(REGIONS[r]) for r in f.regions)))
    if f.categories:
        out.append((_("3P categories"), ", ".join(str(CATEGORIES[c]) for c in f.categories)))
    if f.sizes:
        out.append((_("Company size"), ", ".join(str(SIZE_CLASSES[s]) for s in f.sizes)))
    return out


def _source_line(item: FeedbackItem, sectors: list[str]) -> str:
    """Where a quotation comes from, in words that name no one: sector, size, region, source."""
    parts = [str(SECTORS[s]) for s in sectors[:2]]
    if item.size_class:
        parts.append(str(SIZE_CLASSES[item.size_class]))
    if item.region:
        parts.append(str(REGIONS[item.region]))
    parts.append(str(SOURCES[item.source]))
    return " · ".join(parts)


def _sectors_of(session: Session, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for start in range(0, len(ids), 900):
        for item_id, sector in session.execute(
            select(feedback_sector.c.item_id, feedback_sector.c.sector)
            .where(feedback_sector.c.item_id.in_(ids[start:start + 900])).order_by(feedback_sector.c.sector)
        ).all():
            out[item_id].append(sector)
    return out


# ---------------------------------------------------------------------------
# 2. Main reactions from industry (産業界からの主な反応)
# ---------------------------------------------------------------------------


def reactions(session: Session, f: analysis.Filters, reader, locale: str, *, include_classified: bool = False,
              with_appendix: bool = False, progress: Progress = _noop, now: datetime | None = None) -> Built:
    """Feedback grouped by 3P and sub-topic, with counts and representative anonymised quotations."""
    now = now or utcnow()
    progress(5, "counting")
    total = analysis.count(session, f)
    counts = analysis.subtopic_counts(session, f)
    open_counts = analysis.subtopic_counts(session, analysis.Filters(**{**f.__dict__, "open_only": True}))
    cross = {d: analysis.crosstab(session, f, d) for d in ("sector", "region", "size")}
    series = analysis.over_time(session, f)
    backlog = analysis.backlog(session, f, now=now)
    anonymise = Anonymiser.from_register(session, "〔企業名〕" if locale == "ja" else "[company]")

    progress(20, "quoting")
    quoted: list[FeedbackItem] = []
    groups: list[dict[str, Any]] = []
    for code, cat_label in CATEGORIES.items():
        cat_subs = [s for s in subtopics_of(code) if counts.get(s.code)]
        cat_subs.sort(key=lambda s: (-counts[s.code], s.code))
        blocks = []
        for sub in cat_subs:
            picks = _representative(session, f, sub.code, reader, include_classified)
            quoted += picks
            sectors = _sectors_of(session, [p.id for p in picks])
            blocks.append({
                "code": sub.code, "label": str(sub.label), "group": sub.group, "count": counts[sub.code],
                "open": open_counts.get(sub.code, 0),
                "quotes": [{"text": anonymise(p.text), "source": _source_line(p, sectors.get(p.id, [])),
                            "level": p.level} for p in picks],
            })
        groups.append({"code": code, "label": str(cat_label), "count": sum(counts.get(s.code, 0) for s in subtopics_of(code)),
                       "subtopics": blocks,
                       "by_group": {g: [b for b in blocks if b["group"] == g] for g in GROUPS} if code == "partnership"
                       else None})

    progress(45, "listing")
    appendix: list[dict[str, Any]] = []
    appendix_items: list[FeedbackItem] = []
    if with_appendix and 0 < total <= APPENDIX_LIMIT:
        appendix_items = list(session.execute(analysis.apply_filters(select(FeedbackItem), f)
                                              .order_by(FeedbackItem.category, FeedbackItem.subtopic,
                                                        FeedbackItem.received_at)).scalars())
        may = readable_ids(session, reader, [i.id for i in appendix_items]) if include_classified else set()
        public = public_ids(session, appendix_items)
        for i in appendix_items:
            show = i.id in public or i.id in may
            appendix.append({"ref": i.ref, "date": i.received_at.date().isoformat(), "category": i.category,
                             "subtopic": i.subtopic, "status": i.status,
                             "text": anonymise(i.text) if show else None})
        shown = [i for i in appendix_items if i.id in public or i.id in may]
    else:
        shown = []

    label = join(_label_of_items(session, quoted), _label_of_items(session, shown))
    progress(55, "charts")
    context = {
        "scope": _scope_text(f), "total": total, "groups": groups, "cross": cross, "series": series,
        "backlog": backlog, "appendix": appendix, "appendix_limit": APPENDIX_LIMIT, "generated": now,
        "appendix_asked": with_appendix,
        "chart_categories": charts.for_pdf(charts.category_bars(_("Feedback by 3P category"),
                                                                cross["size"].row_totals)) if total else None,
        "chart_timeline": charts.for_pdf(charts.timeline(_("Feedback per month by 3P category"), series.months,
                                                         series.by_category)) if series.months else None,
        "heat": charts.heat_class, "categories": CATEGORIES, "groups_labels": GROUPS, "subtopics": SUBTOPICS,
        "statuses": STATUSES, "sectors": SECTORS, "regions": REGIONS, "sizes": SIZE_CLASSES,
    }
    tables = [
        Table(_("Sub-topics"), [_("3P category"), _("Sub-topic"), _("Items"), _("Unanswered")],
              [[str(CATEGORIES[g["code"]]), b["label"], b["count"], b["open"]] for g in groups for b in g["subtopics"]]),
        *[_crosstab_table(cross[d], d) for d in ("sector", "region", "size")],
        Table(_("Per month"), [_("Month"), *[str(v) for v in CATEGORIES.values()]],
              [[m, *[series.by_category[c][i] for c in CATEGORIES]] for i, m in enumerate(series.months)]),
    ]
    if appendix:
        tables.append(Table(_("Items"), [_("Reference"), _("Received"), _("3P category"), _("Sub-topic"), _("Status"),
                                         _("Text")],
                            [[a["ref"], a["date"], str(CATEGORIES[a["category"]]), str(SUBTOPICS[a["subtopic"]].label),
                              str(STATUSES[a["status"]]), a["text"] if a["text"] is not None else _("(classified)")]
                             for a in appendix]))
    return Built("reports/pdf_reactions.html", context, label, _("Main reactions from industry"), "reactions", tables)


def items_table(session: Session, f: analysis.Filters, locale: str) -> Table:
    """Every item of the report as a sheet: the XLSX carries what the PDF does not print. Only public
    items' words, anonymised like the quotations (a spreadsheet has no banner on every page)."""
    from clearance.labels import LabelCompartment

    anonymise = Anonymiser.from_register(session, "〔企業名〕" if locale == "ja" else "[company]")
    rows = []
    stmt = analysis.apply_filters(select(FeedbackItem), f).order_by(FeedbackItem.category, FeedbackItem.subtopic,
                                                                     FeedbackItem.received_at)
    for start in range(0, 1_000_000, 1000):
        batch = list(session.execute(stmt.offset(start).limit(1000)).scalars())
        if not batch:
            break
        labelled = set(session.execute(select(LabelCompartment.owner_id).where(
            LabelCompartment.owner_table == "feedback_item",
            LabelCompartment.owner_id.in_([i.id for i in batch]))).scalars())
        for i in batch:
            public = i.level == 0 and i.id not in labelled
            rows.append([i.ref, i.received_at.date().isoformat(), str(CATEGORIES[i.category]),
                         str(SUBTOPICS[i.subtopic].label), str(STATUSES[i.status]),
                         anonymise(i.text) if public else _("(classified)")])
    return Table(_("Items"), [_("Reference"), _("Received"), _("3P category"), _("Sub-topic"), _("Status"), _("Text")],
                 rows)


def _representative(session: Session, f: analysis.Filters, subtopic: str, reader, include_classified: bool
                    ) -> list[FeedbackItem]:
    """Up to three quotations for a sub-topic: different companies where possible, of readable length,
    newest first among equals. Only the candidates are decrypted, however many items there are."""
    stmt = analysis.apply_filters(select(FeedbackItem), analysis.Filters(**{**f.__dict__, "subtopics": (subtopic,)}))
    if not include_classified:
        stmt = stmt.where(FeedbackItem.level == 0)
    candidates = list(session.execute(stmt.order_by(FeedbackItem.received_at.desc(), FeedbackItem.ref)
                                      .limit(QUOTE_CANDIDATES)).scalars())
    if include_classified:
        may = readable_ids(session, reader, [c.id for c in candidates])  # level 0 in a compartment too
        candidates = [c for c in candidates if c.id in may]
    else:
        from dialogue.feedback.access import _has_compartments

        candidates = [c for c in candidates if not _has_compartments(session, [c.id])]
    scored = sorted(candidates, key=lambda c: abs(len(c.text) - 90))
    picks: list[FeedbackItem] = []
    seen: set[str | None] = set()
    said: set[str] = set()
    for c in scored:
        owner = c.company_id or c.region
        gist = "".join(c.text.split())[:24]  # the same point in the same words is not a second voice
        if gist in said or (owner in seen and len(scored) > QUOTES_PER_SUBTOPIC):
            continue
        seen.add(owner)
        said.add(gist)
        picks.append(c)
        if len(picks) == QUOTES_PER_SUBTOPIC:
            break
    return picks


def _crosstab_table(tab: analysis.CrossTab, dim: str) -> Table:
    labels = analysis.DIMENSIONS[dim]
    names = {"sector": _("By sector"), "region": _("By region"), "size": _("By size")}
    header = [_("3P category"), *[str(labels[c]) if c in labels else _("Not recorded") for c in tab.columns], _("Items")]
    rows = [[str(CATEGORIES[r]), *[tab.get(r, c) for c in tab.columns], tab.row_totals[r]] for r in CATEGORIES]
    return Table(names[dim], header, rows)


# ---------------------------------------------------------------------------
# 3. Dialogue activity and coverage gaps
# ---------------------------------------------------------------------------


def activity(session: Session, date_from: date | None, date_to: date | None, locale: str, *,
             progress: Progress = _noop, now: datetime | None = None) -> Built:
    """Associations, groups, companies and regions engaged; dialogues held; coverage gaps; with charts."""
    from dialogue.home.charts import per_month, share_by_size
    from dialogue.meetings.labels import FORMAT_LABELS
    from dialogue.meetings.models import CompanyReach, Dialogue, Invitation
    from dialogue.registry.models import Association, Company, CompanyGroup, GroupMember, company_sector

    now = now or utcnow()
    end = datetime.combine(date_to + timedelta(days=1), datetime.min.time()) if date_to else now
    start = datetime.combine(date_from, datetime.min.time()) if date_from else end - timedelta(days=365)
    held = (Dialogue.status.in_(("held", "closed")), Dialogue.starts_at >= start, Dialogue.starts_at < end)
    progress(10, "counting")
    dialogues = session.execute(select(Dialogue).where(*held).order_by(Dialogue.starts_at)).scalars().all()
    by_format = defaultdict(int)
    by_region = defaultdict(int)
    for d in dialogues:
        by_format[d.format] += 1
        by_region[d.region or "online"] += 1
    reached_ids = set(session.execute(
        select(Invitation.company_id).join(Dialogue, Dialogue.id == Invitation.dialogue_id)
        .where(*held, Invitation.status.in_(("accepted", "pending", "waitlisted", "withdrawn"))).distinct()).scalars())
    reached_ids |= {d.company_id for d in dialogues if d.company_id}
    # company_reach also holds attendance recorded before invitations were sent through Taiwa; its first and
    # last dates bracket the period only approximately, which is what the overview counts too.
    reached_ids |= set(session.execute(select(CompanyReach.company_id).where(
        CompanyReach.last_at >= start, CompanyReach.first_at < end)).scalars())
    companies = session.execute(select(Company.id, Company.region, Company.size_class)).all()
    registered_region, reached_region = defaultdict(int), defaultdict(int)
    registered_size, reached_size = defaultdict(int), defaultdict(int)
    for cid, region, size in companies:
        registered_region[region] += 1
        registered_size[size] += 1
        if cid in reached_ids:
            reached_region[region] += 1
            reached_size[size] += 1
    progress(30, "gaps")
    matrix: dict[tuple[str, str], tuple[int, int]] = {}
    for sector, region, cid in session.execute(
            select(company_sector.c.sector, Company.region, Company.id)
            .join(Company, Company.id == company_sector.c.company_id)).all():
        n, k = matrix.get((sector, region), (0, 0))
        matrix[(sector, region)] = (n + 1, k + (1 if cid in reached_ids else 0))
    gaps = [(s, r, n) for (s, r), (n, k) in sorted(matrix.items()) if n and not k]
    chains = []
    for gid, ja, en, tier, cid in session.execute(
            select(CompanyGroup.id, CompanyGroup.name_ja, CompanyGroup.name_en, GroupMember.tier, GroupMember.company_id)
            .join(GroupMember, GroupMember.group_id == CompanyGroup.id)
            .where(CompanyGroup.kind == "supply_chain", GroupMember.tier.is_not(None))).all():
        chains.append((gid, ja if locale == "ja" else en, tier, cid in reached_ids))
    tier_cells: dict[tuple[str, str], dict[int, list[int]]] = {}
    for gid, name, tier, hit in chains:
        cell = tier_cells.setdefault((gid, name), {t: [0, 0] for t in TIERS})
        cell[tier][0] += 1
        cell[tier][1] += 1 if hit else 0
    chain_gaps = sorted(((name, [t for t, (n, k) in cells.items() if n and not k])
                         for (_gid, name), cells in tier_cells.items()), key=lambda x: (-len(x[1]), x[0]))
    chain_gaps = [c for c in chain_gaps if c[1]]
    associations_engaged = len({d.association_id for d in dialogues if d.association_id})
    groups_engaged = len({d.group_id for d in dialogues if d.group_id})
    # dialogues above public are counted, never named: the report stays public
    listed = []
    for d in dialogues:
        public = d.level == 0 and policy.label_of(session, "dialogue", d.id, d.level).is_public
        listed.append({"date": d.starts_at.date().isoformat(), "title": d.title if public else _("(classified dialogue)"),
                       "format": str(FORMAT_LABELS.get(d.format, d.format)),
                       "region": str(REGIONS[d.region]) if d.region in REGIONS else _("Online")})
    months: dict[str, int] = defaultdict(int)
    for d in dialogues:
        months[d.starts_at.strftime("%Y-%m")] += 1
    month_keys = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        month_keys.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    progress(50, "charts")
    sme_registered = registered_size.get("mid", 0) + registered_size.get("small", 0)
    sme_reached = reached_size.get("mid", 0) + reached_size.get("small", 0)
    figures = {
        "associations": session.execute(select(func.count()).select_from(Association)).scalar_one(),
        "associations_engaged": associations_engaged, "groups_engaged": groups_engaged,
        "groups": session.execute(select(func.count()).select_from(CompanyGroup)).scalar_one(),
        "companies": len(companies), "companies_reached": len(reached_ids & {c[0] for c in companies}),
        "regions_reached": sum(1 for r in REGIONS if reached_region.get(r)), "dialogues_held": len(dialogues),
        "sme_share": sme_reached / sme_registered if sme_registered else 0.0,
    }
    region_rows = [(str(REGIONS[r]), registered_region.get(r, 0), reached_region.get(r, 0)) for r in REGIONS]
    size_rows = [(str(SIZE_CLASSES[s]), registered_size.get(s, 0), reached_size.get(s, 0)) for s in SIZE_CLASSES]
    context = {
        "period": _("%(a)s to %(b)s", a=start.date().isoformat(), b=(end - timedelta(days=1)).date().isoformat()),
        "figures": figures, "by_format": [(str(FORMAT_LABELS[k]), by_format.get(k, 0)) for k in FORMAT_LABELS],
        "region_rows": region_rows, "size_rows": size_rows, "gaps": gaps, "chain_gaps": chain_gaps,
        "listed": listed, "sectors": SECTORS, "regions": REGIONS, "tiers": TIERS, "generated": now,
        "chart_months": charts.for_pdf(per_month(_("Dialogues held per month"), _month_labels(month_keys),
                                                 [months.get(k, 0) for k in month_keys], _("Dialogues held"))),
        "chart_regions": charts.for_pdf(charts.two_series(_("Companies by region"), [r[0] for r in region_rows],
                                                          [r[1] for r in region_rows], [r[2] for r in region_rows],
                                                          (_("In the register"), _("Reached in the period")))),
        "chart_sizes": charts.for_pdf(share_by_size(_("Share reached in the period, by size"),
                                                    [r[0] for r in size_rows],
                                                    [r[2] / r[1] if r[1] else 0.0 for r in size_rows], _("Reached"))),
    }
    tables = [
        Table(_("Figures"), [_("Figure"), _("Value")], [[k, v] for k, v in figures.items()]),
        Table(_("By region"), [_("Region"), _("In the register"), _("Reached")], [list(r) for r in region_rows]),
        Table(_("By size"), [_("Company size"), _("In the register"), _("Reached")], [list(r) for r in size_rows]),
        Table(_("Coverage gaps"), [_("Sector"), _("Region"), _("Companies not reached")],
              [[str(SECTORS[s]), str(REGIONS[r]), n] for s, r, n in gaps]),
        Table(_("Dialogues held"), [_("Date"), _("Dialogue"), _("Format"), _("Region")],
              [[d["date"], d["title"], d["format"], d["region"]] for d in listed]),
    ]
    return Built("reports/pdf_activity.html", context, PUBLIC, _("Dialogue activity and coverage"), "activity", tables)


def _month_labels(keys: list[str]) -> list[str]:
    """Short axis labels: the month number, with the year where it changes ("25/11", "12", "26/1", "2")."""
    out, year = [], None
    for k in keys:
        y, m = k[2:4], int(k[5:7])
        out.append(f"{y}/{m}" if y != year else str(m))
        year = y
    return out


# ---------------------------------------------------------------------------
# 4. You said, we did (ご意見への対応状況)
# ---------------------------------------------------------------------------


def statement(session: Session, reader, locale: str, *, company_id: str | None = None,
              association_id: str | None = None, include_classified: bool = False,
              progress: Progress = _noop, now: datetime | None = None) -> Built:
    """One company's or association's items, the ministry's answers and the measures they informed."""
    from dialogue.registry.models import Association, Company

    now = now or utcnow()
    if company_id:
        owner = session.get(Company, company_id)
        stmt = select(FeedbackItem).where(FeedbackItem.company_id == company_id, FeedbackItem.source != "anonymous")
    else:
        owner = session.get(Association, association_id) if association_id else None
        stmt = select(FeedbackItem).where(FeedbackItem.association_id == association_id)
    if owner is None:
        raise LookupError("no such company or association")
    progress(20, "collecting")
    items = list(session.execute(stmt.order_by(FeedbackItem.received_at)).scalars())
    # level 0 in a compartment is not public: every item goes through the rule when classified ones may show
    may = readable_ids(session, reader, [i.id for i in items]) if include_classified else set()
    shown = [i for i in items if i.id in may or (i.level == 0 and not include_classified)]
    if not include_classified:
        from dialogue.feedback.access import _has_compartments

        shown = [i for i in shown if not _has_compartments(session, [i.id])]
    measures: dict[str, list[PolicyMeasure]] = defaultdict(list)
    ids = [i.id for i in shown]
    for start in range(0, len(ids), 900):
        for item_id, measure in session.execute(
                select(feedback_measure.c.item_id, PolicyMeasure)
                .join(PolicyMeasure, PolicyMeasure.id == feedback_measure.c.measure_id)
                .where(feedback_measure.c.item_id.in_(ids[start:start + 900]))).all():
            measures[item_id].append(measure)
    rows = [{"ref": i.ref, "date": i.received_at.date().isoformat(), "kind": str(KINDS[i.kind]),
             "category": str(CATEGORIES[i.category]), "subtopic": str(SUBTOPICS[i.subtopic].label),
             "instrument": str(INSTRUMENTS[i.instrument]), "status": i.status, "status_label": str(STATUSES[i.status]),
             "text": i.text, "answer": i.answer if i.status == "answered" else None,
             "answered": i.answered_at.date().isoformat() if i.answered_at else None,
             "measures": [(m.title(locale), m.description) for m in measures.get(i.id, [])]} for i in shown]
    name = owner.name_ja if locale == "ja" else owner.name_en
    label = _label_of_items(session, shown)
    answered = sum(1 for r in rows if r["status"] == "answered")
    context = {"owner_name": name, "rows": rows, "answered": answered, "reflected": sum(1 for r in rows if r["measures"]),
               "withheld": len(items) - len(shown), "generated": now}
    tables = [Table(_("You said, we did"),
                    [_("Reference"), _("Date"), _("Type"), _("3P category"), _("Sub-topic"), _("What you said"),
                     _("Status"), _("Our answer"), _("Measures")],
                    [[r["ref"], r["date"], r["kind"], r["category"], r["subtopic"], r["text"], r["status_label"],
                      r["answer"] or "", "; ".join(t for t, _d in r["measures"])] for r in rows])]
    return Built("reports/pdf_statement.html", context, label, _("You said, we did: %(name)s", name=name),
                 "statement", tables)
