"""CSV import of companies: parse and validate everything, stage a clean file, import on confirmation.

    result = parse(session, raw_bytes)            # never raises for bad input: problems are listed
    if result.ok: batch = stage(session, user, filename, result)
    ...                                           # the officer reads the preview
    n = commit(session, user, batch)              # re-checks duplicates, inserts, audits, drops the batch

Nothing is written to the register until `commit`. The staged rows live in
`register_import`, sealed and bound to the officer who uploaded them; they
expire after STAGE_TTL. Rows are numbered as a spreadsheet shows them (the
header is row 1) and every problem names its row and column.
"""

from __future__ import annotations

import csv
import io
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from clearance.auth.models import UserAccount
from clearance.db import new_id, utcnow
from dialogue.registry import corporate_number
from dialogue.registry.columns import BY_KEY, COLUMNS, header_words, region_of, split_multi, vocabularies
from dialogue.registry.models import (
    Association,
    Company,
    ImportBatch,
    association_member,
    company_material,
    company_sector,
)
from dialogue.registry.search import fold, search_key
from dialogue.registry.service import corporate_number_problem, record

MAX_ROWS = 20_000
#: the import view accepts this much (the site-wide request limit is 2 MB; 10,000 rows in UTF-8 need ~3 MB)
MAX_BYTES = 8 * 1024 * 1024
STAGE_TTL = timedelta(hours=2)
MAX_LENGTHS = {"name_ja": 200, "name_en": 200, "key_products": 2000, "key_technologies": 2000}
#: the report lists this many problems; the count says how many there are in all
REPORT_LIMIT = 500


@dataclass(frozen=True)
class Problem:
    row: int  # 1 = header row, as a spreadsheet numbers it; 0 = the file as a whole
    column: str | None  # column key, None for the whole row or file
    message: Any  # (lazy) string, translated when shown
    value: str = ""

    @property
    def column_label(self) -> Any:
        return BY_KEY[self.column].label if self.column in BY_KEY else ""


@dataclass
class ParseResult:
    encoding: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: column key -> 1-based position in the file, for the report
    positions: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def decode(raw: bytes) -> tuple[str, str] | None:
    """(text, encoding) for UTF-8 (with or without BOM) or Shift_JIS (cp932, Excel's Japanese CSV)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8", "cp932"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None


def parse(session: Session, raw: bytes) -> ParseResult:
    result = ParseResult()
    if not raw.strip():
        result.problems.append(Problem(0, None, _l("The file is empty.")))
        return result
    if b"\x00" in raw:
        result.problems.append(Problem(0, None, _l("This is not a CSV text file (it contains binary data). "
                                                   "Save the spreadsheet as CSV and try again.")))
        return result
    decoded = decode(raw)
    if decoded is None:
        result.problems.append(Problem(0, None, _l("The file is neither UTF-8 nor Shift_JIS text. Save it as "
                                                   "“CSV UTF-8” or “CSV (Shift_JIS)” and try again.")))
        return result
    text, result.encoding = decoded
    # Comma-separated, or tab-separated when the header says so (what Excel's "Unicode text" writes).
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        keys = _header(result, header or [])
        if keys is None:
            return result
        vocab = vocabularies()
        associations = _association_words(session)
        seen: dict[str, int] = {}
        for cells in reader:
            row_no = reader.line_num  # physical line; equals the spreadsheet row unless a cell spans lines
            if not any(c.strip() for c in cells):
                continue
            if len(result.rows) + 1 > MAX_ROWS:
                result.problems.append(Problem(row_no, None, _l("The file has more than %(n)d rows. Split it "
                                                                "into smaller files.", n=MAX_ROWS)))
                break
            row = _row(result, row_no, keys, cells, vocab, associations)
            if row is None:
                continue
            first = seen.get(row["corporate_number"])
            if first is not None:
                result.problems.append(Problem(row_no, "corporate_number",
                                               _l("Same corporate number as row %(row)d of this file.", row=first),
                                               row["corporate_number"]))
                continue
            seen[row["corporate_number"]] = row_no
            row["_row"] = row_no
            result.rows.append(row)
    except csv.Error as exc:
        result.problems.append(Problem(reader.line_num, None, _l("The CSV cannot be read here: %(why)s", why=str(exc))))
        return result
    for number in _already_registered(session, list(seen)):
        result.problems.append(Problem(seen[number], "corporate_number",
                                       _l("A company with this corporate number is already in the register."),
                                       number))
    if not result.rows and not result.problems:
        result.problems.append(Problem(0, None, _l("The file has a header row but no companies.")))
    result.problems.sort(key=lambda p: (p.row, list(BY_KEY).index(p.column) if p.column in BY_KEY else -1))
    return result


def _header(result: ParseResult, header: list[str]) -> list[str | None] | None:
    words = header_words()
    keys: list[str | None] = []
    ok = True
    for pos, cell in enumerate(header, start=1):
        key = words.get(fold(cell).strip())
        if key is None and cell.strip():
            result.problems.append(Problem(1, None, _l("Column %(n)d “%(name)s” is not one of the register's "
                                                       "columns.", n=pos, name=cell.strip()[:60])))
            ok = False
        elif key in result.positions:
            result.problems.append(Problem(1, key, _l("Column %(n)d repeats a column that is already in the "
                                                      "file.", n=pos)))
            ok = False
        elif key is not None:
            result.positions[key] = pos
        keys.append(key)
    for col in COLUMNS:
        if col.required and col.key not in result.positions:
            result.problems.append(Problem(1, col.key, _l("This required column is missing.")))
            ok = False
    return keys if ok else None


def _association_words(session: Session) -> dict[str, str]:
    words: dict[str, str] = {}
    for aid, ja, en in session.execute(select(Association.id, Association.name_ja, Association.name_en)):
        words.setdefault(fold(ja), aid)
        words.setdefault(fold(en), aid)
    return words


def _row(result: ParseResult, row_no: int, keys: Sequence[str | None], cells: list[str],
         vocab: dict[str, dict[str, str]], associations: dict[str, str]) -> dict[str, Any] | None:
    if len(cells) > len(keys) and any(c.strip() for c in cells[len(keys):]):
        result.problems.append(Problem(row_no, None, _l("This row has %(n)d cells but the header has %(m)d "
                                                        "columns.", n=len(cells), m=len(keys))))
        return None
    raw = {k: cells[i].strip() if i < len(cells) else "" for i, k in enumerate(keys) if k}
    before = len(result.problems)

    def problem(key: str, message: Any) -> None:
        result.problems.append(Problem(row_no, key, message, raw.get(key, "")[:80]))

    out: dict[str, Any] = {}
    number_problem = corporate_number_problem(raw.get("corporate_number", ""))
    if number_problem:
        problem("corporate_number", number_problem)
    out["corporate_number"] = corporate_number.normalise(raw.get("corporate_number", ""))
    for key in ("name_ja", "name_en", "key_products", "key_technologies"):
        value = raw.get(key, "")
        if BY_KEY[key].required and not value:
            problem(key, _l("This value is required."))
        elif len(value) > MAX_LENGTHS[key]:
            problem(key, _l("Longer than %(n)d characters.", n=MAX_LENGTHS[key]))
        out[key] = value
    for key in ("size_class", "prefecture", "tech_field"):
        value = raw.get(key, "")
        if not value:
            if BY_KEY[key].required:
                problem(key, _l("This value is required."))
            out[key] = None
            continue
        code = vocab[key].get(fold(value))
        if code is None:
            problem(key, _l("“%(value)s” is not a known value for this column.", value=value[:40]))
        out[key] = code
    for key in ("sectors", "materials"):
        codes = []
        for word in split_multi(raw.get(key, "")):
            code = vocab[key].get(fold(word))
            if code is None:
                problem(key, _l("“%(value)s” is not a known value for this column.", value=word[:40]))
            elif code not in codes:
                codes.append(code)
        if key == "sectors" and not codes and not raw.get(key):
            problem(key, _l("This value is required."))
        out[key] = codes
    ids = []
    for word in split_multi(raw.get("associations", "")):
        aid = associations.get(fold(word))
        if aid is None:
            problem("associations", _l("No industry association is called “%(value)s”.", value=word[:60]))
        elif aid not in ids:
            ids.append(aid)
    out["association_ids"] = ids
    if len(result.problems) > before:
        return None
    out["region"] = region_of(out["prefecture"])
    return out


def _already_registered(session: Session, numbers: list[str]) -> set[str]:
    """The numbers among `numbers` that are already in the register."""
    found: set[str] = set()
    for i in range(0, len(numbers), 500):
        found.update(session.execute(select(Company.corporate_number)
                                     .where(Company.corporate_number.in_(numbers[i:i + 500]))).scalars())
    return found


# --------------------------------------------------------------------------- staging


def stage(session: Session, user: UserAccount, filename: str, result: ParseResult) -> ImportBatch:
    """Keep a clean parse for the preview; the user's earlier staged files and expired ones go."""
    if not result.ok:
        raise ValueError("only a clean parse can be staged")
    purge(session, user)
    batch = ImportBatch(id=new_id(), user_id=user.id, filename=(filename or "")[:200], encoding=result.encoding,
                        rows=len(result.rows))
    batch.payload = zlib.compress(json.dumps(result.rows, ensure_ascii=False, separators=(",", ":")).encode(), 6)
    session.add(batch)
    session.flush()
    return batch


def purge(session: Session, user: UserAccount | None = None) -> None:
    stale = ImportBatch.created_at < utcnow() - STAGE_TTL
    session.execute(delete(ImportBatch).where(stale | (ImportBatch.user_id == user.id) if user else stale))


def load_staged(session: Session, user: UserAccount, batch_id: str) -> ImportBatch | None:
    """The user's own, unexpired staged file; anyone else's is None, exactly like a missing one."""
    return session.execute(select(ImportBatch).where(
        ImportBatch.id == batch_id[:36], ImportBatch.user_id == user.id,
        ImportBatch.created_at >= utcnow() - STAGE_TTL)).scalar_one_or_none()


def staged_rows(batch: ImportBatch) -> list[dict[str, Any]]:
    return json.loads(zlib.decompress(batch.payload))


class StaleImport(Exception):
    """The register changed since the preview (someone added one of the companies)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("stale import")
        self.problems = problems


def commit(session: Session, user: UserAccount, batch: ImportBatch) -> int:
    """Insert every staged row in the caller's transaction; all or nothing."""
    rows = staged_rows(batch)
    clash = _already_registered(session, [r["corporate_number"] for r in rows])
    if clash:
        by_number = {r["corporate_number"]: r["_row"] for r in rows}
        raise StaleImport([Problem(by_number[n], "corporate_number",
                                   _l("A company with this corporate number is already in the register."), n)
                           for n in sorted(clash, key=by_number.get)])
    known = set(session.execute(select(Association.id)).scalars())
    now = utcnow()
    companies, sectors, materials, members = [], [], [], []
    for r in rows:
        cid = new_id()
        companies.append({
            "id": cid, "corporate_number": r["corporate_number"], "name_ja": r["name_ja"], "name_en": r["name_en"],
            "size_class": r["size_class"], "prefecture": r["prefecture"], "region": r["region"],
            "tech_field": r["tech_field"], "key_products": r["key_products"],
            "key_technologies": r["key_technologies"], "created_at": now,
            # Core inserts skip the ORM event, so the search key is made here, the same way.
            "search_text": search_key(r["corporate_number"], r["name_ja"], r["name_en"], r["key_products"],
                                      r["key_technologies"]),
        })
        sectors += [{"company_id": cid, "sector": s} for s in r["sectors"]]
        materials += [{"company_id": cid, "material": m} for m in r["materials"]]
        # An association deleted since the preview is skipped rather than failing the whole import.
        members += [{"association_id": a, "company_id": cid} for a in r["association_ids"] if a in known]
    for table, data in ((Company.__table__, companies), (company_sector, sectors), (company_material, materials),
                        (association_member, members)):
        for i in range(0, len(data), 1000):
            session.execute(insert(table), data[i:i + 1000])
    record(session, user, "Companies imported", {"batch": batch.id, "file": batch.filename, "rows": len(rows),
                                                 "encoding": batch.encoding})
    session.delete(batch)
    session.flush()
    return len(rows)
