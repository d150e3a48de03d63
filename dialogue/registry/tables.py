"""Register lists as plain tables (header + rows) for CSV and XLSX downloads.

Labels are in the reader's language; the company table uses the import columns,
so an exported file can be edited and imported again (into another register).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from dialogue.registry import service
from dialogue.registry.columns import COLUMNS, EXPORT_SEPARATOR
from dialogue.registry.export import MAX_EXPORT_ROWS
from dialogue.registry.taxonomy import (
    CRITICAL_MATERIALS,
    GROUP_KINDS,
    PREFECTURES,
    REGIONS,
    SECTORS,
    SIZE_CLASSES,
    TECH_FIELDS,
)

Table = tuple[list[str], list[list[Any]]]


def _join(codes: list[str], labels: dict) -> str:
    return EXPORT_SEPARATOR.join(str(labels.get(c, c)) for c in codes)


def company_table(session: Session, stmt: Select, locale: str) -> Table:
    companies = list(session.execute(stmt.limit(MAX_EXPORT_ROWS)).scalars())
    ids = [c.id for c in companies]
    sectors = service.sectors_of(session, ids)
    materials = service.materials_of(session, ids)
    memberships = service.associations_of(session, ids)
    rows = []
    for c in companies:
        pref = PREFECTURES.get(c.prefecture, (c.prefecture, c.prefecture, ""))
        values = {
            "corporate_number": c.corporate_number,
            "name_ja": c.name_ja,
            "name_en": c.name_en,
            "size_class": str(SIZE_CLASSES.get(c.size_class, c.size_class)),
            "prefecture": pref[0] if locale == "ja" else pref[1],
            "region": str(REGIONS.get(c.region, c.region)),
            "sectors": _join(sectors.get(c.id, []), SECTORS),
            "tech_field": str(TECH_FIELDS[c.tech_field]) if c.tech_field in TECH_FIELDS else "",
            "materials": _join(materials.get(c.id, []), CRITICAL_MATERIALS),
            "key_products": c.key_products,
            "key_technologies": c.key_technologies,
            "associations": EXPORT_SEPARATOR.join(a.name_ja for a in memberships.get(c.id, [])),
        }
        rows.append([values[col.key] for col in COLUMNS])
    return [str(col.label) for col in COLUMNS], rows


def association_table(session: Session, stmt: Select, locale: str) -> Table:
    from flask_babel import gettext as _

    assocs = list(session.execute(stmt.limit(MAX_EXPORT_ROWS)).scalars())
    ids = [a.id for a in assocs]
    sectors = service.association_sectors(session, ids)
    counts = service.member_counts(session, ids)
    header = [_("Name (Japanese)"), _("Name (English)"), _("Sectors"), _("Member companies")]
    return header, [[a.name_ja, a.name_en, _join(sectors.get(a.id, []), SECTORS), counts.get(a.id, 0)]
                    for a in assocs]


def group_table(session: Session, stmt: Select, locale: str) -> Table:
    from flask_babel import gettext as _

    groups = list(session.execute(stmt.limit(MAX_EXPORT_ROWS)).scalars())
    counts = service.group_member_counts(session, [g.id for g in groups])
    header = [_("Name (Japanese)"), _("Name (English)"), _("Kind of group"), _("Sector"),
              _("Product or technology (Japanese)"), _("Product or technology (English)"), _("Members")]
    return header, [[g.name_ja, g.name_en, str(GROUP_KINDS.get(g.kind, g.kind)), str(SECTORS.get(g.sector, g.sector)),
                     g.subject_ja, g.subject_en, counts.get(g.id, 0)] for g in groups]
