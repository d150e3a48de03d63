"""Demo consultations: one or more in every status, with replies and files both ways,
assigned to the demo officers. The receipts are written to instance/demo-receipts.json
(mode 0600) so a tester can open each case as its submitter would.

The roster: 佐藤 美咲 (officer@) and 高橋 健太 (k.takahashi@) staff the desk; 中村 由紀
(y.nakamura@) is an officer who is *not* on it and so sees no consultation.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearance.auth.models import UserAccount
from clearance.consult_access import DeskMember
from dialogue.consult import clock, receipt, service
from dialogue.consult.models import ConsultCase, ConsultMessage
from dialogue.demo import data

ROSTER = (f"officer@{data.STAFF_DOMAIN}", f"k.takahashi@{data.STAFF_DOMAIN}")


def _jpeg_with_location() -> bytes:
    from PIL import Image

    img = Image.new("RGB", (320, 200), (222, 226, 232))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "DemoCam", "DC-100", "2026:10:02 14:11:09"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (38.0, 15.0, 30.0), 3: "E", 4: (140.0, 52.0, 10.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _pdf(author: str, text_title: str) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(595, 842)
    w.add_metadata({"/Author": author, "/Title": text_title, "/Creator": "Demo Writer"})
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _docx(author: str, company: str) -> bytes:
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/'
          'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
          'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
          'document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
          '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+'
          'xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'extended-properties+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats'
            '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>')
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.'
           'org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>特許侵害の状況(デモ)</w:t></w:r></w:p></w:body>'
           '</w:document>')
    core = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties xmlns:cp="http://schemas.'
            'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:creator>{author}</dc:creator><cp:lastModifiedBy>{author}</cp:lastModifiedBy></cp:coreProperties>')
    app_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.openxmlformats'
               f'.org/officeDocument/2006/extended-properties"><Company>{company}</Company></Properties>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("[Content_Types].xml", ct), ("_rels/.rels", rels), ("word/document.xml", doc),
                           ("docProps/core.xml", core), ("docProps/app.xml", app_xml)):
            z.writestr(name, text)
    return out.getvalue()


def _files(*items: tuple[str, bytes]) -> list[service.Prepared]:
    return service.prepare_uploads([service.Upload(n, io.BytesIO(b)) for n, b in items], max_files=3,
                                   max_bytes=10 * 1024 * 1024, keep_names=True)


#: (status, category, sector, tier, size, days ago, assignee index or None, labels, conversation)
#: conversation: list of (author, text, files-maker or None)
CASES = [
    ("new", "technology_transfer", "semiconductors", "2", "small", 2, None, [], [
        ("submitter", "海外の顧客から、製造装置の洗浄工程のレシピと図面一式を提出するよう求められています。"
                      "断れば来期の発注を減らすと言われました。応じてよいものか相談したいです。",
         lambda: [("factory.jpg", _jpeg_with_location())]),
    ]),
    ("new", "acquisition", "machine_tools", "3", "mid", 9, 1, ["urgent"], [
        ("submitter", "A fund we had never heard of offered to buy 60% of our shares at a high price. "
                      "They asked detailed questions about our spindle technology. Who can we ask about this?", None),
    ]),
    ("acknowledged", "relocation_or_jv", "automotive", "3", "small", 5, 0, ["investment_screening"], [
        ("submitter", "取引先から、懸念国に工場を移すか、現地企業との過半出資の合弁に応じるよう求められています。", None),
    ]),
    ("in_progress", "patent_infringement", "chemicals", "1", "small", 21, 0, ["legal", "technology_protection"], [
        ("submitter", "海外で当社の特許を侵害していると思われる製品が販売されています。", None),
        ("ministry", "ご相談ありがとうございます。侵害が疑われる製品名と販売国、当社特許の出願国を教えてください。"
                     "知的財産の相談窓口もご案内できます。", None),
        ("submitter", "資料を添付します(作成者名などは自動で削除されました)。",
         lambda: [("infringement-notes.docx", _docx("山田 太郎", "デモ化成株式会社"))]),
    ]),
    ("answered", "price_pass_through", "electronic_components", "2", "small", 30, 1, ["policy_input"], [
        ("submitter", "原材料費が3割上がっているのに、発注元が価格転嫁に一切応じてくれません。", None),
        ("ministry", "価格交渉の指針と相談先をまとめた資料をお送りします。必要であれば、発注元を特定しない形で"
                     "業界への働きかけも検討します。", lambda: [("price-negotiation-guide.pdf", _pdf("METI", "Guide"))]),
    ]),
    ("closed", "supply_coercion", "steel", "4", "large", 60, 0, [], [
        ("submitter", "A supplier in a country of concern stopped deliveries of a rare additive without notice.", None),
        ("ministry", "Thank you. We have shared this (without naming you) with the team on critical materials. "
                     "Alternative suppliers are listed in the attached note.",
         lambda: [("alternative-suppliers.txt", b"Alternative suppliers (demo list)\n- Supplier A\n- Supplier B\n")]),
        ("submitter", "Thank you, that helped. You may close this.", None),
    ]),
]


def seed_consult(session: Session, receipts_file: Path) -> dict[str, int]:
    """Add the demo roster and consultations; write their receipts to `receipts_file` (0600)."""
    session.info["consult_pepper_in_transaction"] = True
    try:
        return _seed(session, receipts_file)
    finally:
        session.info.pop("consult_pepper_in_transaction", None)


def _seed(session: Session, receipts_file: Path) -> dict[str, int]:
    officers = {u.email: u for u in session.execute(select(UserAccount).where(UserAccount.email.in_(ROSTER))).scalars()}
    roster = [officers[e] for e in ROSTER]
    today = clock.today()
    for officer in roster:
        session.add(DeskMember(user_id=officer.id, added_on=today))
    session.flush()
    receipts = []
    n_messages = n_files = 0
    for status, category, sector, tier, size, days_ago, assignee, labels, talk in CASES:
        first_author, first_text, first_files = talk[0]
        result = service.submit_case(session, service.NewCase(
            category=category, text=first_text, sector=sector, tier=tier, size_class=size,
            uploads=_files(*first_files()) if first_files else [],
        ), ack_days=7)
        opened = service.Opened(result.case_id, result.case_key)
        case = session.get(ConsultCase, result.case_id)
        officer = roster[assignee] if assignee is not None else roster[0]
        n_files += len(result.files)
        for author, text, maker in talk[1:]:
            prepared = _files(*maker()) if maker else []
            if author == "ministry":
                service.ministry_reply(session, officer, case, text, prepared)
            else:
                service.submitter_reply(session, opened, text, prepared)
            n_files += len(prepared)
        session.flush()
        session.refresh(case)
        n_messages += case.message_count
        if status != case.status:
            service.set_status(session, officer, case, status)
        case.assignee_id = roster[assignee].id if assignee is not None else None
        service.set_labels(session, officer, case, labels)
        _backdate(session, case, days_ago)
        receipts.append({"ref": case.ref, "status": status, "category": category,
                         "receipt": receipt.display(result.receipt)})
    _write_receipts(receipts_file, receipts)
    return {"cases": len(CASES), "messages": n_messages, "files": n_files, "roster": len(roster)}


def _backdate(session: Session, case: ConsultCase, days_ago: int) -> None:
    """Spread the conversation over the past `days_ago` days, a few days per message."""
    today = clock.today()
    start = today - timedelta(days=days_ago)
    messages = session.execute(select(ConsultMessage).where(ConsultMessage.case_id == case.id)
                               .order_by(ConsultMessage.seq)).scalars().all()
    step = max(1, days_ago // max(1, len(messages)))
    for i, m in enumerate(messages):
        m.written_on = min(today, start + timedelta(days=i * step))
    case.created_on = start
    case.ack_due_on = start + timedelta(days=7)
    case.last_activity_on = messages[-1].written_on
    if case.acknowledged_on:
        case.acknowledged_on = min(today, start + timedelta(days=2))
    if case.closed_on:
        case.closed_on = case.last_activity_on
    case.notify_pending = False


def _write_receipts(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".receipts-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"note": "Demo only: receipts of the demo consultations, to open them at /consult/open.",
                   "cases": rows}, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    os.replace(tmp, path)
