"""Demo data for the register beyond what seed.py loads: association sectors, key technologies,
contact people (fictional, sealed like real ones) and two correction requests.

Called by seed.py after the companies, groups and accounts exist. Uses its own
random generator, so adding it changed no other part of the demo data set.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from clearance.auth.models import UserAccount
from clearance.db import new_id, utcnow
from dialogue.demo import data
from dialogue.registry.models import (
    Association,
    Company,
    CompanyGroup,
    ContactPerson,
    CorrectionRequest,
    GroupMember,
    association_sector,
)

#: associations whose members span a second sector (name_ja -> extra sectors)
EXTRA_SECTORS = {
    "半導体製造装置部材工業会": ("machine_tools", "chemicals"),
    "車載電池材料工業会": ("chemicals",),
    "希土類・重要鉱物リサイクル協会": ("formed_materials",),
    "地域ものづくり中小企業経済安全保障ネットワーク": ("machine_tools", "electronic_components"),
    "航空宇宙部品サプライヤー協会": ("formed_materials",),
}

SURNAMES = [("佐々木", "sasaki"), ("山口", "yamaguchi"), ("松本", "matsumoto"), ("井上", "inoue"), ("木下", "kinoshita"),
            ("石川", "ishikawa"), ("前田", "maeda"), ("藤田", "fujita"), ("岡田", "okada"), ("後藤", "goto"),
            ("長谷川", "hasegawa"), ("村上", "murakami"), ("近藤", "kondo"), ("坂本", "sakamoto"), ("遠藤", "endo"),
            ("青木", "aoki"), ("西村", "nishimura"), ("福田", "fukuda"), ("太田", "ota"), ("三浦", "miura")]
GIVEN = [("陽子", "yoko"), ("健一", "kenichi"), ("美穂", "miho"), ("大輔", "daisuke"), ("千尋", "chihiro"),
         ("翔太", "shota"), ("由美", "yumi"), ("浩二", "koji"), ("彩", "aya"), ("誠", "makoto"), ("真理", "mari"),
         ("隆", "takashi")]
COMPANY_ROLES = [("経営企画部", "課長"), ("輸出管理部", "部長"), ("総務部", "担当"), ("技術開発本部", "主任研究員"),
                 ("調達部", "マネージャー"), ("情報セキュリティ室", "室長")]


def seed_registry(session: Session, ids: dict[str, str]) -> dict[str, int]:
    """Add the register extras; `ids` maps company keys of data.COMPANIES to their ids."""
    rng = random.Random(f"{data.RANDOM_SEED}-registry")
    sectors = _association_sectors(session)
    technologies = _key_technologies(session)
    contacts = _contacts(session, rng, ids)
    corrections = _corrections(session, ids)
    session.flush()
    return {"association_sectors": sectors, "key_technologies": technologies, "contacts": contacts,
            "correction_requests": corrections}


def _association_sectors(session: Session) -> int:
    rows = []
    for aid, name, main in session.execute(select(Association.id, Association.name_ja, Association.sector)):
        rows += [{"association_id": aid, "sector": s} for s in dict.fromkeys((main, *EXTRA_SECTORS.get(name, ())))]
    session.execute(insert(association_sector), rows)
    return len(rows)


def _key_technologies(session: Session) -> int:
    """Members of a technology group hold that group's technology."""
    held: dict[str, list[str]] = {}
    rows = session.execute(select(GroupMember.company_id, CompanyGroup.subject_ja)
                           .join(CompanyGroup, CompanyGroup.id == GroupMember.group_id)
                           .where(CompanyGroup.kind == "technology").order_by(CompanyGroup.name_ja))
    for company_id, subject in rows:
        held.setdefault(company_id, []).append(subject)
    for company in session.scalars(select(Company).where(Company.id.in_(held))):
        company.key_technologies = "、".join(held[company.id])  # the ORM event refreshes the search text
    return len(held)


def _person(rng: random.Random) -> tuple[str, str]:
    (sj, sr), (gj, gr) = rng.choice(SURNAMES), rng.choice(GIVEN)
    return f"{sj} {gj}", f"{gr[0]}.{sr}"


def _contacts(session: Session, rng: random.Random, ids: dict[str, str]) -> int:
    n = 0
    for assoc_id, in session.execute(select(Association.id).order_by(Association.name_ja)):
        name, local = _person(rng)
        contact = ContactPerson(id=new_id(), association_id=assoc_id)  # the id first: ciphertexts bind to it
        contact.name, contact.department, contact.title = name, "事務局", rng.choice(["事務局長", "事務局次長"])
        contact.email = f"{local}@association-{n + 1:02d}.example.or.jp"
        contact.phone = f"03-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}"
        session.add(contact)
        n += 1
    specs = data.company_by_key()
    for key, company_id in sorted(ids.items()):
        spec = specs[key]
        how_many = 2 if spec.size_class == "large" else rng.choice([0, 1, 1])
        domain = data.COMPANY_DOMAINS.get(key, f"{key.replace('_', '-')}.example.co.jp")
        for _ in range(how_many):
            name, local = _person(rng)
            department, title = rng.choice(COMPANY_ROLES)
            contact = ContactPerson(id=new_id(), company_id=company_id)
            contact.name, contact.department, contact.title = name, department, title
            contact.email = f"{local}@{domain}"
            contact.phone = f"0{rng.randrange(11, 99)}-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"
            session.add(contact)
            n += 1
    return n


def _corrections(session: Session, ids: dict[str, str]) -> int:
    """One pending request (for officers to decide in the demo) and one already rejected."""
    by_email = dict(session.execute(select(UserAccount.email, UserAccount.id)).all())
    now = utcnow()
    officer = by_email.get(f"officer@{data.STAFF_DOMAIN}")
    tohoku = session.get(Company, ids["tohoku_ceramics"])
    pending = CorrectionRequest(
        id=new_id(), company_id=tohoku.id, requested_by_id=by_email.get("a.suzuki@tohoku-ceramics.example.co.jp"),
        proposed=json.dumps({"key_products": "SiCパワー半導体用ウェハ(6・8インチ)、研磨材、エピ前加工",
                             "size_class": "large"}, ensure_ascii=False, sort_keys=True),
        original=json.dumps({"key_products": tohoku.key_products, "size_class": tohoku.size_class},
                            ensure_ascii=False, sort_keys=True),
        note="8インチウェハの量産を開始しましたので、主要製品の記載を更新してください。",
        status="pending", created_at=now - timedelta(days=2))
    sanuki = session.get(Company, ids["sanuki_api"])
    rejected = CorrectionRequest(
        id=new_id(), company_id=sanuki.id, requested_by_id=by_email.get("m.shimizu@sanuki-api.example.co.jp"),
        proposed=json.dumps({"prefecture": "27"}, sort_keys=True),
        original=json.dumps({"prefecture": sanuki.prefecture}, sort_keys=True),
        note="大阪営業所を開設しました。",
        status="rejected", created_at=now - timedelta(days=20), decided_at=now - timedelta(days=18),
        decided_by_id=officer,
        decision_reason="所在地は本店所在地(登記上の本店)で登録しています。営業所の開設は備考として承りました。")
    session.add_all([pending, rejected])
    return 2
