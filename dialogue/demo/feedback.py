"""Demo feedback: a few hundred items across every 3P category, sector and region, policy measures, answers.

The wording paraphrases the ministry's own digest of industry's reactions (the
council deck), varied per company so that the analysis, the "main reactions"
report and the "you said, we did" statements have real content on first start.
Called by seed.py after the dialogues and minutes, inside its one transaction.
Answers are written directly: the demo never queues mail.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from clearance.auth.models import UserAccount
from clearance.db import new_id, utcnow
from clearance.permissions import Role
from dialogue.feedback import service
from dialogue.feedback.models import PolicyMeasure, feedback_measure
from dialogue.feedback.taxonomy import SUBTOPICS
from dialogue.registry.models import Association, Company, GroupMember, association_member, company_sector
from dialogue.registry.taxonomy import REGIONS, SECTORS

#: what companies said, per sub-topic (paraphrases of the deck's 「産業界からの主な反応」)
SAID: dict[str, tuple[str, ...]] = {
    "important_bases": ("経済安全保障上、重要な産業基盤とは何かを明確化してほしい。",
                        "どの製品・技術が重要物資に当たるのか、判断の目安を示してほしい。"),
    "investment_payback": ("投資支援だけでなく、需要喚起策や税制を通じて投資を回収しやすい環境を整えてほしい。",
                           "補助金は一時的で、量産後の需要が見えないと設備投資に踏み切れない。"),
    "joint_development": ("個社の努力だけでなく、コンソーシアムを組成して業界全体で次世代の開発を進めたい。",
                          "共同研究開発の枠組みに、材料メーカーも最初から参加できるようにしてほしい。"),
    "promotion_other": ("高度人材の確保について、国としての支援策を拡充してほしい。",
                        "地方の生産拠点に必要なインフラ整備を支援してほしい。"),
    "core_competence_forum": ("関連企業の間でコアコンピタンスに対する認識を共有する場を、経済産業省が主導して設けてほしい。",),
    "anonymous_window": ("部素材メーカーなどの下請企業が匿名で相談できる窓口を設けてほしい。",
                         "取引先との関係上、名前を出して相談しにくい事案がある。"),
    "leakage_guidance": ("技術流出に対して最低限やるべきことを示した、企業向けの指針がほしい。",
                         "人を通じた技術流出への具体的な対策例を知りたい。"),
    "regulate_key_tech": ("保護が必要な重要技術は、規制対象にして管理してほしい。",),
    "coercive_requests": ("取引先から懸念国への工場立地や、合弁でのマジョリティ受け入れを求められたことがある。",
                          "技術移転を条件とした取引の要請が複数あり、対応に苦慮している。"),
    "sme_technology": ("ファンダメンタル技術が狙われており、Tier1の部素材・中堅中小企業の技術支援と管理が重要だ。",),
    "acquisition_defence": ("高度な技術を持つ企業を買収から守るための事業再編や合従連衡について、政府の方向性を示してほしい。",
                            "海外ファンドからの出資打診があり、判断の拠り所となる情報がほしい。"),
    "patent_abroad": ("進出先国での特許侵害には、個社の対応だけでなく日本政府の支援も必要だ。",),
    "information_guidelines": ("同志国と整合したルールを含む情報保全のガイドラインを、政府が作成して提供してほしい。",),
    "security_clearance": ("海外企業との共同開発で、クリアランスがないため十分な情報が得られなかった。",
                           "海外政府の入札で、セキュリティ・クリアランスの保有が説明会の参加要件になっていた。"),
    "protection_other": ("サプライチェーン全体でのサイバーセキュリティ対策の水準をそろえる仕組みがほしい。",),
    "more_dialogue": ("各業界・個社との官民対話は継続し、産業横断型の対話の頻度も高めてほしい。",
                      "サプライチェーン全体での対話に、上流の材料メーカーも継続して参加したい。"),
    "threat_information": ("懸念・脅威に関する情報や、具体的なリスクと対策例について引き続き対話したい。",
                           "懸念国の産業戦略の説明で背景がよく理解できた。具体的な対策例も知りたい。"),
    "peer_situation": ("一部の国が国営企業に自国製品の調達を指示していると聞いた。他社の状況も確認したい。",),
    "legal_opacity": ("軍民融合や反スパイ法など法執行の不透明性が高まり、ビジネスリスクが増している。政府からの情報提供を強化してほしい。",),
    "price_pass_through": ("サプライチェーン全体での適正な価格転嫁を後押しする政府のガイドラインを作成してほしい。",
                           "原材料高を下流に転嫁できず、国内生産の維持が難しくなっている。"),
    "geopolitical_finance": ("地政学リスクを金融面で評価する動きがある。日本にとって適切なものとなるよう官民で取り組むべきだ。",),
    "avoid_decoupling": ("デカップリングは日本経済に大きな打撃を与える最悪のシナリオだ。",),
    "fair_derisking": ("デリスキングの結果、同志国が過度に優位にならないよう、公平なルールをG7で主張してほしい。",),
    "joint_protection": ("日本と同志国が技術優位を持つ分野では、保護の必要性を共有して協働すべきだ。",),
    "partnership_other": ("国際標準化の議論に企業の声を反映させる仕組みがほしい。",),
}
#: a second sentence that makes items read like different companies
CONTEXT = ("特に中小企業にとっては負担が大きい。", "同業他社も同じ懸念を持っている。", "弊社の主要顧客からも同様の声がある。",
           "来年度の投資判断に関わるため、早めに方向性を知りたい。", "", "", "地域の取引先にも影響が広がっている。")

MEASURES = (
    ("生産比例税制の創設", "Production-linked tax credit for strategic fields", "promotion", "budget_tax",
     "戦略分野の国内生産量に応じて法人税を控除する税制を創設した。", ("investment_payback", "important_bases")),
    ("技術流出対策ガイダンス(ベストプラクティス集)の改訂", "Revised guidance on preventing technology leakage",
     "protection", "technology_management", "人を通じた流出を含む具体的な対策例を追加し、最低限の取組を明示した。",
     ("leakage_guidance", "sme_technology", "core_competence_forum")),
    ("技術管理強化のための官民対話スキーム", "Public–private dialogue scheme on technology management", "protection",
     "technology_management", "対象技術・行為を特定し、産業界との対話を通じて技術管理を強化する枠組みを設けた。",
     ("regulate_key_tech", "core_competence_forum")),
    ("投資管理制度の見直し", "Review of investment screening", "protection", "investment_screening",
     "関係省庁と連携し、審査・モニタリング体制を強化した。", ("acquisition_defence", "coercive_requests")),
    ("匿名相談窓口の開設", "Anonymous consultation desk for subcontractors", "protection", "dialogue",
     "部素材メーカー等が匿名で相談できる窓口を Taiwa 上に開設した。", ("anonymous_window",)),
    ("価格転嫁の円滑化に関する指針", "Guidelines for fair price pass-through", "partnership", "dialogue",
     "サプライチェーン全体での適正な価格転嫁を後押しする指針を公表した。", ("price_pass_through",)),
    ("産業横断型の戦略的対話の定例化", "Regular cross-industry strategic dialogue", "partnership", "dialogue",
     "経済団体・サプライチェーン単位の対話を定例化し、脅威情報の共有を拡充した。",
     ("more_dialogue", "threat_information", "peer_situation")),
    ("重要経済安保情報保護活用法の施行準備", "Preparing the Critical Economic Security Information Act", "protection",
     "data_security", "適合事業者制度と適性評価の運用を整え、同志国と整合した情報保全を進める。",
     ("security_clearance", "information_guidelines")),
)

ANSWERS = {
    "promotion": "ご意見を踏まえ、予算・税制の両面で検討を進めています。具体策は関連施策として公表しました。",
    "protection": "ご指摘の点は産業防衛策の見直しに反映しました。詳細は関連施策をご覧ください。",
    "partnership": "官民対話の場で継続して取り上げ、同志国との議論にも反映していきます。",
}


def _text(rng: random.Random, code: str) -> str:
    base = rng.choice(SAID[code])
    extra = rng.choice(CONTEXT)
    return f"{base}{extra}"


def seed_feedback(session: Session, rng: random.Random, now: datetime | None = None, *, n: int = 320) -> dict[str, int]:
    now = now or utcnow()
    with force_locale("ja"):
        return _seed(session, rng, now, n)


def _seed(session: Session, rng: random.Random, now: datetime, n: int) -> dict[str, int]:
    officer = session.execute(select(UserAccount).where(UserAccount.role == Role.OFFICER.value)
                              .order_by(UserAccount.email)).scalars().first()
    measures = {}
    for ja, en, cat, inst, desc, subs in MEASURES:
        m = PolicyMeasure(id=new_id(), title_ja=ja, title_en=en, category=cat, instrument=inst, description=desc,
                          announced_on=now - timedelta(days=rng.randint(20, 200)))
        session.add(m)
        for s in subs:
            measures.setdefault(s, []).append(m.id)
    session.flush()

    companies = session.execute(select(Company).order_by(Company.name_ja)).scalars().all()
    sectors: dict[str, list[str]] = {}
    for cid, sector in session.execute(select(company_sector.c.company_id, company_sector.c.sector)).all():
        sectors.setdefault(cid, []).append(sector)
    tiers = dict(session.execute(select(GroupMember.company_id, GroupMember.tier)
                                 .where(GroupMember.tier.is_not(None))).all())
    assoc_of = dict(session.execute(select(association_member.c.company_id, association_member.c.association_id)).all())
    staff = session.execute(select(UserAccount).where(UserAccount.company_id.is_not(None))
                            .order_by(UserAccount.email)).scalars().all()
    demo_companies = sorted({u.company_id for u in staff if u.active})
    submitter = {u.company_id: u for u in staff if u.active}
    weights = {code: (3 if code in ("price_pass_through", "leakage_guidance", "more_dialogue", "investment_payback",
                                    "threat_information", "coercive_requests") else 1) for code in SUBTOPICS}
    codes = [c for c in SUBTOPICS for _ in range(weights[c])]
    made = {"items": 0, "answered": 0, "anonymous": 0, "measures": len(MEASURES)}
    links = []

    def one(i: int, company: Company | None, code: str, received: datetime, source: str) -> None:
        sub = SUBTOPICS[code]
        secs = sectors.get(company.id, [])[:2] if company else [rng.choice(list(SECTORS))]
        data = service.FeedbackInput(
            text=_text(rng, code), kind="request" if rng.random() < 0.7 else "opinion", category=sub.category,
            subtopic=code, instrument=sub.instrument if rng.random() < 0.8 else rng.choice(
                ("rd", "talent", "infrastructure", "finance", "cybersecurity", "export_control")),
            source=source, sectors=secs, tier=tiers.get(company.id) if company else rng.choice((None, 1, 2)),
            region=company.region if company else None, size_class=company.size_class if company else
            rng.choice(("small", "mid")), company_id=company.id if company else None,
            association_id=assoc_of.get(company.id) if company and source == "dialogue" else None,
            received_at=received if source != "anonymous" else received.replace(day=1, hour=0, minute=0, second=0,
                                                                               microsecond=0),
        )
        item = service.create_item(session, data, actor=submitter.get(company.id) if company and source == "company"
                                   else None)
        age = (now - received).days
        roll = rng.random()
        if age > 60 and roll < 0.55 or age > 240 and roll < 0.85:
            item.answer = ANSWERS[sub.category] if not measures.get(code) else (
                ANSWERS[sub.category] + "(関連施策: " + ", ".join(
                    session.get(PolicyMeasure, m).title_ja for m in measures[code]) + ")")
            item.status, item.answered_at, item.answered_by_id = "answered", received + timedelta(days=rng.randint(20, 60)), officer.id
            item.status_changed_at = item.answered_at
            made["answered"] += 1
        elif age > 30 and roll < 0.75:
            item.status, item.status_changed_at = rng.choice(("under_review", "reflected")), received + timedelta(days=14)
        if item.status in ("answered", "reflected") and measures.get(code):
            links.extend({"item_id": item.id, "measure_id": m} for m in measures[code])
        made["items"] += 1
        made["anonymous"] += source == "anonymous"

    # every company (so every sector and region) speaks at least once
    for i, company in enumerate(companies):
        one(i, company, rng.choice(codes), now - timedelta(days=rng.randint(3, 540)),
            "company" if company.id in submitter and rng.random() < 0.7 else "dialogue")
    # every sub-topic at least once more, then a weighted remainder
    for i, code in enumerate(SUBTOPICS):
        one(i, rng.choice(companies), code, now - timedelta(days=rng.randint(3, 540)), "dialogue")
    # the demo users' companies each get a few items, one recent and unanswered
    for cid in demo_companies:
        company = next(c for c in companies if c.id == cid)
        for days in (400, 200, 9):
            one(0, company, rng.choice(codes), now - timedelta(days=days), "company")
    while made["items"] < n:
        source = rng.choices(("company", "dialogue", "anonymous"), (5, 3, 2))[0]
        company = None if source == "anonymous" else rng.choice(companies)
        if source == "company" and company.id not in submitter:
            source = "dialogue"
        one(made["items"], company, rng.choice(codes), now - timedelta(days=rng.randint(1, 540)), source)
    if links:
        session.execute(insert(feedback_measure), [dict(t) for t in {tuple(sorted(r.items())) for r in links}])
    session.flush()
    made["regions"] = len({c.region for c in companies} & set(REGIONS))
    made["associations"] = session.execute(select(Association.id)).first() is not None
    return made
