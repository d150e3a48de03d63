"""Demo clearances, certifications and briefings, and the company accounts that show the rule at work.

Called by seed.py inside its one transaction, after everything else (so the
other demo data is unchanged). Adds compartments; clearances for the demo
officers and security officers (so they can work); certifications for three
companies (one expired); eight company accounts, each illustrating one
standing — cleared and certified, uncleared, company uncertified, expired,
suspended, wrong department, certification expired, level 1 only; and
briefings at every level and in several compartments, including a draft, a
withdrawn and an expired one. Everything is invented.

The demo grants are recorded by "demo-seed" rather than through
clearance.people, because the two-person rule cannot be met for the two
security officers' own clearances from inside the demo (in reality the
ministry's central security office records those).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from clearance import files
from clearance.auth import passwords
from clearance.auth.models import UserAccount
from clearance.db import new_id, utcnow
from clearance.labels import Compartment
from clearance.people import (
    CertificationDepartment,
    ClearanceCompartment,
    CompanyCertification,
    PersonalClearance,
    copy_compartments,
    expiry_instant,
    legal_today,
    set_handlers,
    set_release,
)
from clearance.permissions import Role
from dialogue.briefings.models import Briefing, BriefingTag
from dialogue.demo import data
from dialogue.registry.models import CompanyGroup

SEEDER = "demo-seed"
AGENCY = "経済産業省"

COMPARTMENTS = (
    ("SEMI", "半導体・半導体製造装置", "Semiconductors and semiconductor equipment"),
    ("BATT", "蓄電池・電池材料", "Storage batteries and battery materials"),
    ("QNT", "量子技術", "Quantum technology"),
    ("AERO", "航空宇宙", "Aerospace"),
    ("MAG", "永久磁石・重要鉱物", "Permanent magnets and critical minerals"),
)

#: (email, level, compartments) for the demo ministry staff; the administrator holds none (kept apart)
STAFF_CLEARANCES = (
    (f"officer@{data.STAFF_DOMAIN}", 2, ("SEMI", "BATT", "QNT", "AERO", "MAG")),
    (f"y.nakamura@{data.STAFF_DOMAIN}", 2, ("SEMI", "QNT")),
    (f"k.takahashi@{data.STAFF_DOMAIN}", 1, ("BATT",)),
    (f"security@{data.STAFF_DOMAIN}", 2, ("SEMI", "BATT", "QNT", "AERO", "MAG")),
    (f"m.kobayashi@{data.STAFF_DOMAIN}", 2, ("SEMI", "BATT", "QNT", "AERO", "MAG")),
)

CHIKUSHI = "chikushi-power.example.co.jp"


@dataclass(frozen=True)
class DemoPerson:
    key: str
    company: str  # company key in data.COMPANIES
    email: str
    display_name: str
    department: str
    password: str
    totp: bool
    #: (level, compartments, state) or None; state: valid | expired | suspended
    clearance: tuple[int, tuple[str, ...], str] | None
    description: str


PEOPLE = (
    DemoPerson("cleared", "chikushi_power", f"k.matsuda@{CHIKUSHI}", "松田 健", "技術開発本部", "hagane-sora-tsurugi-5803",
               True, (2, ("SEMI", "AERO"), "valid"),
               "Cleared and certified: level 2 (SEMI, AERO) at 筑紫パワーデバイス株式会社, 技術開発本部 is covered; "
               "on the handler lists — reads the level-2 semiconductor briefings"),
    DemoPerson("uncleared", "chikushi_power", f"a.okada@{CHIKUSHI}", "岡田 彩", "技術開発本部", "nagisa-kumo-hotate-3174",
               False, None,
               "Uncleared colleague of 松田 健 (same company, same department): sees public briefings only"),
    DemoPerson("uncertified", "sanuki_api", "h.fujita@sanuki-api.example.co.jp", "藤田 隼人", "輸出管理部",
               "mizore-take-suzume-6620", False, (2, ("SEMI", "BATT"), "valid"),
               "Cleared at level 2 but 讃岐原薬株式会社 is not certified (適合事業者): public briefings only"),
    DemoPerson("expired", "chikushi_power", f"s.ogawa@{CHIKUSHI}", "小川 聡", "技術開発本部", "kogane-hama-fukuro-2481",
               False, (2, ("SEMI",), "expired"),
               "Clearance expired three weeks ago (certified company, covered department): public briefings only"),
    DemoPerson("suspended", "chikushi_power", f"d.saito@{CHIKUSHI}", "斎藤 大輔", "技術開発本部", "shiranami-iwa-kamo-9035",
               False, (2, ("SEMI",), "suspended"),
               "Clearance suspended by a security officer: public briefings only"),
    DemoPerson("wrong_department", "chikushi_power", f"r.ishii@{CHIKUSHI}", "石井 玲奈", "営業本部",
               "asagiri-tani-hibiki-4712", False, (2, ("SEMI",), "valid"),
               "Cleared at level 2, but 営業本部 is not an authorised department of the certification: public only"),
    DemoPerson("cert_expired", "shunan_cathode", "y.kondo@shunan-cathode.example.co.jp", "近藤 陽介", "研究開発部",
               "yuzuriha-mine-kawasemi-8366", False, (2, ("BATT",), "valid"),
               "Cleared at level 2 (BATT), but 周南正極材料株式会社's certification has expired: public only"),
    DemoPerson("level1", "tohoku_ceramics", "m.endo@tohoku-ceramics.example.co.jp", "遠藤 美穂", "輸出管理部",
               "kasumi-no-ura-tsugumi-1957", False, (1, ("SEMI",), "valid"),
               "Cleared at level 1 (SEMI) at a level-1 certified company: reads public and 取扱注意 briefings"),
)


@dataclass(frozen=True)
class DemoBriefing:
    title: str
    summary: str
    body: str
    level: int
    compartments: tuple[str, ...]
    risks: tuple[str, ...]
    sectors: tuple[str, ...]
    tech: tuple[str, ...]
    materials: tuple[str, ...]
    domain: int | None
    release: tuple[tuple[str, str], ...]  # ("all", ""), ("company", key), ("group", name_ja)
    handlers: tuple[str, ...] = ()  # DemoPerson keys or staff e-mails
    status: str = "released"
    days_ago: int = 10
    expired: bool = False
    attachment: tuple[str, bytes] | None = None


OFFICER = f"officer@{data.STAFF_DOMAIN}"
NAKAMURA = f"y.nakamura@{data.STAFF_DOMAIN}"

BRIEFINGS = (
    DemoBriefing(
        "取引先の多角化による経済的威圧への備え", "特定国への依存度が高い調達品目の洗い出しと代替調達先の確保について、一般的な留意事項をまとめた。",
        "## 背景\n特定国が輸出手続を突然厳格化し、重要な原材料の供給が数か月にわたり滞る事例が続いている。\n\n"
        "## 企業に求められる対応\n- 調達品目ごとに供給国と代替可能性を一覧にする\n- 在庫水準と切替に要する期間を把握する\n"
        "- 二次・三次の仕入先まで遡って確認する\n\n## 相談窓口\n各経済産業局の経済安全保障担当までご相談ください。",
        0, (), ("economic_coercion", "supply_disruption"), ("chemicals", "semiconductors"), (), ("critical_minerals",), 3,
        (("all", ""),), days_ago=40),
    DemoBriefing(
        "海外子会社を通じた技術流出の典型例", "技術者の引き抜き、合弁契約、共同研究を通じた流出の手口と、最低限講じるべき対策。",
        "## 典型的な手口\n1. 退職予定の技術者への高額報酬での勧誘\n2. 合弁契約における技術移転条項\n3. 共同研究の成果帰属の曖昧さ\n\n"
        "## 最低限の対策\n- 営業秘密の特定と管理区分の明確化\n- 退職時の誓約書と情報持出しの確認\n- 海外拠点のアクセス権限の定期点検",
        0, (), ("technology_leakage",), ("machine_tools", "robots"), ("computing",), ("machine_tools_robots",), 2,
        (("all", ""),), days_ago=30),
    DemoBriefing(
        "蓄電池材料の輸出規制の動向", "黒鉛・リチウム化合物に関する第三国の輸出管理強化と、国内調達への影響の見通し。",
        "## 概要\n黒鉛製品について輸出許可制が導入され、審査期間が長期化している。\n\n## 影響の見通し\n"
        "負極材の在庫は業界平均で約2か月分。代替調達の立ち上げには1年以上を要する見込み。",
        1, (), ("economic_coercion", "supply_disruption"), ("automotive", "chemicals"), ("cleantech",),
        ("storage_batteries", "critical_minerals"), 3, (("all", ""),), days_ago=20),
    DemoBriefing(
        "半導体製造装置部材の供給途絶シナリオ", "石英・セラミックス部材の上流工程が集中する地域での災害・紛争を想定した影響分析。",
        "# 供給途絶シナリオ\n## 想定の前提 [公開]\n公開資料に基づき、主要部材の生産拠点の所在を整理した。\n\n"
        "## 影響分析\n高純度石英部材は国内2社で世界需要の約6割を供給しており、1社が3か月停止した場合、"
        "エッチング装置の出荷が約4割減少すると試算される。\n\n## 推奨される備え\n- 部材在庫の積み増し(目安3か月)\n- 代替材料の認定試験の前倒し",
        1, ("SEMI",), ("supply_disruption",), ("semiconductors",), ("computing",), ("semiconductors",), 2,
        (("group", "半導体製造装置サプライチェーン"), ("company", "chikushi_power"), ("company", "tohoku_ceramics")),
        days_ago=12, attachment=("部材在庫の試算.csv", "部材,在庫月数\n高純度石英,2.1\n静電チャック,1.4\n".encode())),
    DemoBriefing(
        "SiCパワー半導体関連企業への買収打診の動向", "国内SiCウェハ関連企業に対する、実質的支配者が懸念国にある投資ファンドからの接触状況。",
        "# 買収打診の動向\n## 一般的な傾向 [公開]\n投資ファンドを通じた中堅・中小企業への出資打診が増えている。\n\n"
        "## 確認された事案\n2社に対し、国内コンサルティング会社を介した出資打診が確認された。"
        "打診元ファンドの実質的支配者は懸念国の国有企業と関係がある。\n\n## 当面の対応\n打診を受けた場合は、"
        "回答前に経済産業省 経済安全保障政策室へ連絡すること。",
        2, ("SEMI",), ("technology_acquisition",), ("semiconductors",), ("cleantech",), ("semiconductors",), 2,
        (("company", "chikushi_power"), ("company", "sanuki_api"), ("company", "tohoku_ceramics")),
        handlers=("cleared", "uncertified", "expired", "suspended", "wrong_department", NAKAMURA), days_ago=6),
    DemoBriefing(
        "宇宙用半導体の輸出管理逸脱事案", "耐放射線部品の再輸出を通じた規制逃れの事例と、取引審査で確認すべき点。",
        "## 事案の概要\n第三国の商社を経由し、耐放射線仕様の半導体部品が懸念国の衛星開発機関に渡った。\n\n"
        "## 確認すべき点\n- 最終需要者の実在性\n- 仕様変更の依頼の有無\n- 少量多頻度の発注パターン",
        2, ("SEMI", "AERO"), ("technology_leakage", "economic_coercion"), ("aerospace", "semiconductors"),
        ("defence_space",), ("semiconductors",), 1, (("company", "chikushi_power"),), handlers=("cleared",), days_ago=3),
    DemoBriefing(
        "車載電池材料の調達先に対する経済的威圧の兆候", "正極材原料の供給元に対する、第三国政府による出荷停止示唆の情報。",
        "## 兆候\n主要供給元に対し、日本向け出荷の「自主的な見直し」を求める非公式な要請があったとの情報がある。\n\n"
        "## 推奨\n代替供給元との契約条件の事前協議を進めること。",
        2, ("BATT",), ("economic_coercion",), ("automotive", "chemicals"), ("cleantech",), ("storage_batteries",), 3,
        (("company", "shunan_cathode"),), handlers=("cert_expired",), days_ago=2),
    DemoBriefing(
        "量子コンピュータ部材の技術流出懸念(作成中)", "希釈冷凍機関連部材のサプライヤーに対する技術情報の照会。",
        "## 作成中\n関係省庁と内容を調整中。", 2, ("QNT",), ("technology_leakage",), ("semiconductors",), ("computing",), (), 1,
        (), handlers=(NAKAMURA,), status="draft", days_ago=1),
    DemoBriefing(
        "港湾物流の混雑見通し(撤回済み)", "主要港湾の混雑状況の見通し。新しい情報に差し替えたため撤回。",
        "## 見通し\n(撤回済み)", 1, (), ("supply_disruption",), ("automotive",), (), (), None, (("all", ""),),
        status="withdrawn", days_ago=50),
    DemoBriefing(
        "年末年始の物流停滞に関する注意喚起", "年末年始の港湾・航空貨物の停滞に備えた在庫確保の呼びかけ(公開期間終了)。",
        "## 注意喚起\n年末年始は港湾作業が縮小するため、重要部材は早めの手配を。", 0, (), ("supply_disruption",),
        ("electronic_components",), (), (), None, (("all", ""),), days_ago=90, expired=True),
)


def seed_briefings(session: Session, company_ids: dict[str, str], now: datetime | None = None
                   ) -> tuple[list[dict], dict[str, int]]:
    """Write the demo clearances, certifications, accounts and briefings; return (account rows, counts)."""
    now = now or utcnow()
    today = legal_today(now)
    _compartments(session)
    staff = {u.email: u for u in session.execute(
        select(UserAccount).where(UserAccount.email.in_([e for e, _, _ in STAFF_CLEARANCES] + [OFFICER]))).scalars()}
    for email, level, codes in STAFF_CLEARANCES:
        if email in staff:
            _clearance(session, staff[email].id, level, codes, "valid", today, now)
    certs = 0
    for key, level, depts, state in (
        ("chikushi_power", 2, ("技術開発本部", "総務部 情報セキュリティ課"), "valid"),
        ("tohoku_ceramics", 1, ("輸出管理部",), "expiring"),  # shows on the security officers' 90-day list
        ("shunan_cathode", 2, ("研究開発部", "経営企画部"), "expired"),
    ):
        if key in company_ids:
            _certification(session, company_ids[key], level, depts, state, today, now)
            certs += 1
    rows, people = _people(session, company_ids, today, now)
    handler_ids = {**people, **{e: u.id for e, u in staff.items()}}
    designator = staff.get(OFFICER)
    groups = dict(session.execute(select(CompanyGroup.name_ja, CompanyGroup.id)).all())
    for number, spec in enumerate(BRIEFINGS, start=1):
        _briefing(session, number, spec, designator.id if designator else None, handler_ids, company_ids, groups, now)
    return rows, {"compartments": len(COMPARTMENTS), "certifications": certs, "cleared_accounts": len(PEOPLE),
                  "briefings": len(BRIEFINGS)}


def _compartments(session: Session) -> None:
    have = set(session.execute(select(Compartment.code)).scalars())
    for code, ja, en in COMPARTMENTS:
        if code not in have:  # codes are never reused; a re-seed keeps the register
            session.add(Compartment(code=code, name_ja=ja, name_en=en, created_by=SEEDER))
    session.flush()


def _clearance(session: Session, user_id: str, level: int, codes: tuple[str, ...], state: str, today: date,
               now: datetime) -> None:
    notified = today - timedelta(days=400)
    expires = today - timedelta(days=21) if state == "expired" else notified + timedelta(days=3650)
    rec = PersonalClearance(
        id=new_id(), user_id=user_id, level=level, agency=AGENCY, notified_on=notified, expires_on=expires,
        expires_at=expiry_instant(expires), undertaking_signed=True,
        status="suspended" if state == "suspended" else "valid", in_force=True, reason="デモデータ / demo data",
        requested_by=SEEDER, requested_at=now, decided_by=SEEDER, decided_at=now,
        status_changed_by=SEEDER if state == "suspended" else None,
        status_changed_at=now if state == "suspended" else None,
        status_reason="調査中のため一時停止 / suspended pending an inquiry" if state == "suspended" else None,
    )
    session.add(rec)
    session.flush()
    if codes:
        session.execute(insert(ClearanceCompartment), [{"clearance_id": rec.id, "code": c} for c in codes])


def _certification(session: Session, company_id: str, level: int, depts: tuple[str, ...], state: str, today: date,
                   now: datetime) -> None:
    expires = {"valid": today + timedelta(days=3 * 365), "expiring": today + timedelta(days=60),
               "expired": today - timedelta(days=10)}[state]
    rec = CompanyCertification(
        id=new_id(), company_id=company_id, level=level, agency=AGENCY, certified_on=today - timedelta(days=700),
        contract_ref=f"METI-ES-{today:%Y}-{level}{len(depts):02d}",
        expires_on=expires, expires_at=expiry_instant(expires), status="valid", in_force=True,
        reason="デモデータ / demo data", requested_by=SEEDER, requested_at=now, decided_by=SEEDER, decided_at=now)
    session.add(rec)
    session.flush()
    session.execute(insert(CertificationDepartment), [{"certification_id": rec.id, "department": d} for d in depts])


def _people(session: Session, company_ids: dict[str, str], today: date, now: datetime
            ) -> tuple[list[dict], dict[str, str]]:
    rng = random.Random(f"{data.RANDOM_SEED}-briefings-totp")  # fixed demo secrets, published on purpose
    rows, ids = [], {}
    for p in PEOPLE:
        if p.company not in company_ids:
            continue
        problems = passwords.policy_problems(p.password, (p.email.split("@")[0], *p.email.split("@")[0].split("."),
                                                          *p.display_name.split()))
        if problems:
            raise RuntimeError(f"demo password for {p.email} fails the policy: {'; '.join(problems)}")
        secret = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(32))
        user = UserAccount(id=new_id(), email=p.email, display_name=p.display_name, role=Role.COMPANY_MEMBER.value,
                           company_id=company_ids[p.company], department=p.department,
                           password_hash=passwords.hash_password(p.password), active=True)
        if p.totp:
            user.totp_secret = secret
            user.totp_enabled_at = now
        session.add(user)
        session.flush()
        ids[p.key] = user.id
        if p.clearance:
            level, codes, state = p.clearance
            _clearance(session, user.id, level, codes, state, today, now)
        rows.append({"role": Role.COMPANY_MEMBER.value, "email": p.email, "password": p.password,
                     "totp_secret": secret if p.totp else None, "description": p.description})
    return rows, ids


def _briefing(session: Session, number: int, spec: DemoBriefing, designator: str | None, handler_ids: dict[str, str],
              company_ids: dict[str, str], groups: dict[str, str], now: datetime) -> None:
    at = now - timedelta(days=spec.days_ago)
    b = Briefing(id=new_id(), title=spec.title, summary=spec.summary, level=spec.level, status=spec.status,
                 technology_domain=spec.domain, designator_id=designator, created_by=designator, created_at=at,
                 updated_at=at, sort_at=at, released_at=at if spec.status != "draft" else None,
                 released_by=designator if spec.status != "draft" else None,
                 expires_at=now - timedelta(days=1) if spec.expired else None)
    if spec.status == "withdrawn":
        b.withdrawn_at, b.withdrawn_by = at + timedelta(days=3), designator
        b.withdrawn_reason = "新しい見通しに差し替えたため / superseded by a newer outlook"
    if spec.level == 2:
        b.designating_agency, b.designation_number = AGENCY, f"経安指定-{at:%Y}-{number:03d}"
        b.designated_on, b.designation_expires_on = at.date(), at.date() + timedelta(days=5 * 365)
    b.body = spec.body  # after id and level: the ciphertext is bound to both
    session.add(b)
    session.flush()
    copy_compartments(session, "briefing", b.id, spec.compartments)
    release = []
    for kind, key in spec.release:
        if kind == "all":
            release.append(("all", ""))
        elif kind == "company" and key in company_ids:
            release.append(("company", company_ids[key]))
        elif kind == "group" and key in groups:
            release.append(("group", groups[key]))
    set_release(session, "briefing", b.id, release)
    handlers = {handler_ids[h] for h in spec.handlers if h in handler_ids}
    if spec.level == 2 and designator:
        handlers.add(designator)
    set_handlers(session, "briefing", b.id, handlers, designator)
    for kind, codes in (("risk", spec.risks), ("sector", spec.sectors), ("tech", spec.tech),
                        ("material", spec.materials)):
        for code in codes:
            session.add(BriefingTag(briefing_id=b.id, kind=kind, code=code))
    if spec.attachment:
        name, content = spec.attachment
        files.save_upload(session, io.BytesIO(content), filename=name, owner_table="briefing", owner_id=b.id,
                          level=b.level)
    session.flush()
