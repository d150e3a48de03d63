"""Demo minutes: held dialogues with minutes at every lifecycle stage, some labelled above public and citing
briefings, with revisions, captured feedback, a participant's correction request and a dated addendum.

Called by seed.py after the dialogues (and briefings, when that area seeds them), inside its one transaction.
Rows are written directly (no mail, no notices), through the same document and labels the editor uses.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from clearance import policy
from clearance.auth.models import UserAccount
from clearance.db import new_id, utcnow
from clearance.labels import Label, join
from clearance.people import copy_compartments, set_handlers
from clearance.permissions import Role
from dialogue.meetings.models import Dialogue, Invitation
from dialogue.minutes import service
from dialogue.minutes.document import ActionItem, InlineFeedback
from dialogue.minutes.models import Minutes, MinutesAddendum, MinutesCorrection, MinutesRevision

#: what was said under each of the demo agenda items (dialogue/demo/meetings.AGENDA), first draft and final
BODIES = {
    "経済安全保障上の脅威・リスク認識の共有": (
        "経済産業省から、懸念国の産業戦略と供給途絶リスクについて説明した。",
        "経済産業省から、懸念国の産業戦略と供給途絶リスクについて説明した。\n\n"
        "- 重要鉱物の輸出管理強化の動向\n- 過剰生産による価格下落と競争環境の変化\n\n"
        "参加企業からは、**具体的なリスクと対策例**について継続して情報提供を求める声があった。"),
    "サプライチェーン上の課題についての意見交換": (
        "各社から調達の現状について説明があった。",
        "各社から調達の現状について説明があった。上流の材料メーカーからは、原材料高を下流に転嫁できていないとの指摘があった。\n\n"
        "下流の完成品メーカーからは、代替調達先の評価に時間を要しているとの説明があった。"),
    "政府の支援策の紹介": (
        "経済産業省から支援策を紹介した。",
        "経済産業省から、供給確保計画の認定制度、生産比例税制、技術流出対策ガイダンスを紹介した。\n\n"
        "質疑では、中堅・中小企業が利用しやすい手続とするよう要望があった。"),
    "今後の進め方": (
        "次回の進め方を確認した。",
        "次回は価格転嫁と代替調達を主な論点とし、上流から下流までの各社が参加する形で開催することを確認した。"),
}
RESTRICTED = ("調達先の状況(取扱注意)", "参加企業A社から、特定国の取引先より技術移転を条件とする取引の打診を受けた旨の報告があった。"
              "同様の打診を受けている企業が他に2社あることを確認し、経済産業省で事実関係を整理することとした。")
CRITICAL = ("脅威情報の共有(重要経済安保情報)", "経済産業省から、指定された重要経済安保情報に基づき、特定の供給網に対する"
            "妨害の兆候について説明した(詳細は引用したブリーフィングのとおり)。")
FEEDBACK = (("部素材メーカーも参加できる産業横断型の対話の頻度を高めてほしい。", "more_dialogue", "dialogue"),
            ("価格転嫁を後押しする政府のガイドラインを作成してほしい。", "price_pass_through", "dialogue"),
            ("技術流出への最低限の対策を示した指針がほしい。", "leakage_guidance", "technology_management"))
STAGES = ("locked", "locked", "approved", "internal_review", "draft", "locked", "approved", "draft")


def seed_minutes(session: Session, rng: random.Random, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    with force_locale("ja"):
        return _seed(session, rng, now)


def _seed(session: Session, rng: random.Random, now: datetime) -> dict[str, int]:
    officers = session.execute(select(UserAccount).where(UserAccount.role == Role.OFFICER.value)
                               .order_by(UserAccount.email)).scalars().all()
    if len(officers) < 2:
        return {"minutes": 0}
    lead = next((o for o in officers if o.email.startswith("officer@")), officers[0])
    reviewer = next(o for o in officers if o.id != lead.id)
    held = session.execute(select(Dialogue).where(Dialogue.status.in_(("held", "closed")))
                           .order_by(Dialogue.starts_at)).scalars().all()
    cited = _briefings(session)
    counts = {"minutes": 0, "revisions": 0, "labelled": 0, "corrections": 0, "addenda": 0}

    # the dialogue the demo company users were invited to: out for their review now
    with_users = [d for d in held if session.execute(
        select(Invitation.id).where(Invitation.dialogue_id == d.id)).first()]
    review_target = with_users[-1] if with_users else None
    others = [d for d in held if d is not review_target]
    chosen = others[:len(STAGES)]
    for i, (dialogue, stage) in enumerate(zip(chosen, STAGES, strict=False)):
        labelled = i in (1, 5) or (stage == "approved" and i == 2)
        _make(session, rng, dialogue, stage, lead, reviewer, now, counts, labelled=labelled,
              critical=cited.get(2) if i == 1 else None, official=cited.get(1) if i == 5 else None)
    if review_target is not None:
        m = _make(session, rng, review_target, "participant_review", lead, reviewer, now, counts, labelled=True,
                  critical=None, official=cited.get(1))
        invitee = session.execute(
            select(UserAccount).join(Invitation, Invitation.user_id == UserAccount.id)
            .where(Invitation.dialogue_id == review_target.id, Invitation.status == "accepted", UserAccount.active)
            .order_by(UserAccount.email)).scalars().first()
        if invitee is not None:
            doc, rev = service.current(session, m)
            c = MinutesCorrection(id=new_id(), minutes_id=m.id, revision=rev.number, section_key=doc.sections[1].key,
                                  author_id=invitee.id, author_name=invitee.display_name,
                                  company_id=invitee.company_id, level=0, status="open",
                                  created_at=now - timedelta(hours=20))
            c.body = "弊社の説明は「代替調達先を評価中」であり、「評価に時間を要している」ではありません。修正をお願いします。"
            session.add(c)
            counts["corrections"] += 1
    session.flush()
    return counts


def _briefings(session: Session) -> dict[int, tuple[str, Label]]:
    """One released briefing per level (if the briefings area has seeded any), to cite."""
    try:
        from dialogue.briefings.models import Briefing
    except ImportError:
        return {}
    out: dict[int, tuple[str, Label]] = {}
    for b in session.execute(select(Briefing).where(Briefing.status == "released").order_by(Briefing.sort_at)).scalars():
        if b.level in (1, 2) and b.level not in out:
            out[b.level] = (b.id, policy.label_of(session, "briefing", b.id, b.level))
    return out


def _make(session: Session, rng: random.Random, dialogue: Dialogue, stage: str, lead: UserAccount,
          reviewer: UserAccount, now: datetime, counts: dict[str, int], *, labelled: bool,
          critical: tuple[str, Label] | None, official: tuple[str, Label] | None) -> Minutes:
    dialogue_label = policy.label_of(session, "dialogue", dialogue.id, dialogue.level)
    doc = service.initial_document(session, dialogue, dialogue_label)
    for a in doc.attendees:
        if a.side == "company" and not a.attended and rng.random() < 0.5:
            a.attended = True  # corrected to who actually came
    written = dialogue.ends_at + timedelta(days=1)
    minutes = Minutes(id=new_id(), dialogue_id=dialogue.id, status="draft", level=int(dialogue_label.level),
                      current_revision=1, created_by_id=lead.id, created_at=written, updated_at=written)
    session.add(minutes)
    session.flush()
    people = {a.user_id for a in doc.attendees if a.user_id} | {lead.id, reviewer.id}
    set_handlers(session, "minutes", minutes.id, people, added_by=lead.id)

    def revision(number: int, author: UserAccount, at: datetime, note: str) -> None:
        label = doc.label({**({critical[0]: critical[1]} if critical else {}),
                           **({official[0]: official[1]} if official else {})})
        rev = MinutesRevision(id=new_id(), minutes_id=minutes.id, number=number, author_id=author.id,
                              author_name=author.display_name, level=int(label.level), note=note, created_at=at)
        rev.content = doc.to_json()
        session.add(rev)
        minutes.current_revision, minutes.level, minutes.updated_at = number, int(label.level), at
        copy_compartments(session, "minutes", minutes.id, label.compartments)
        counts["revisions"] += 1

    for s in doc.sections:
        first, _final = BODIES.get(s.title, ("", ""))
        s.body = first
    revision(1, lead, written, "対話の返信と議題から作成")
    for s in doc.sections:
        s.body = BODIES.get(s.title, ("", ""))[1] or s.body
        s.public = s.kind == "agenda" and s.label.is_public
    decisions = doc.decisions()
    if decisions is not None:
        decisions.body = "- 次回対話を3か月後に開催する。\n- 経済産業省は価格転嫁の実態を調査し、次回報告する。"
        decisions.public = decisions.label.is_public
    doc.actions = [ActionItem(key=service.new_key("t"), description="価格転嫁の実態調査", owner="経済安全保障政策室",
                              due=(dialogue.starts_at + timedelta(days=60)).date().isoformat(),
                              done=stage in ("locked",)),
                   ActionItem(key=service.new_key("t"), description="代替調達先候補の情報整理", owner="参加企業各社",
                              due=(dialogue.starts_at + timedelta(days=90)).date().isoformat())]
    if labelled:
        title, body = RESTRICTED
        extra = doc.sections[0].__class__(key=service.new_key("s"), title=title, body=body, kind="other", level=1,
                                          cites=[official[0]] if official else [])
        if official:
            raised = join(extra.label, official[1])
            extra.level, extra.compartments = int(raised.level), sorted(raised.compartments)
        doc.sections.insert(2, extra)
        counts["labelled"] += 1
    if critical:
        title, body = CRITICAL
        doc.sections.insert(1, doc.sections[0].__class__(key=service.new_key("s"), title=title, body=body,
                                                         kind="other", level=int(critical[1].level),
                                                         compartments=sorted(critical[1].compartments),
                                                         cites=[critical[0]]))
    speakers = [a.company_id for a in doc.attendees if a.company_id] or [None]
    for text, code, instrument in rng.sample(FEEDBACK, 2):
        doc.feedback.append(InlineFeedback(key=service.new_key("f"), text=text, subtopic=code, instrument=instrument,
                                           section_key=doc.sections[-2].key if len(doc.sections) > 1 else None,
                                           company_id=rng.choice(speakers)))
    revision(2, lead, written + timedelta(days=2), "議論の内容を追記")
    service._sync_feedback(session, minutes, doc, lead)
    if stage in ("internal_review", "participant_review", "approved", "locked"):
        minutes.submitted_by_id, minutes.submitted_at = lead.id, written + timedelta(days=3)
        minutes.status = "internal_review"
    if stage in ("participant_review", "approved", "locked"):
        minutes.reviewed_by_id, minutes.reviewed_at = reviewer.id, written + timedelta(days=4)
        minutes.correction_deadline = (now + timedelta(days=5)) if stage == "participant_review" \
            else written + timedelta(days=14)
        minutes.status = "participant_review"
    if stage in ("approved", "locked"):
        minutes.approved_by_id, minutes.approved_at = lead.id, written + timedelta(days=15)
        minutes.status = "approved"
    if stage == "locked":
        minutes.locked_by_id, minutes.locked_at = lead.id, written + timedelta(days=16)
        minutes.status = "locked"
        if counts["addenda"] == 0:
            add = MinutesAddendum(id=new_id(), minutes_id=minutes.id, author_id=lead.id,
                                  author_name=lead.display_name, level=0, public=True,
                                  created_at=written + timedelta(days=30))
            add.body = "対話後、参加企業から追加資料(調達先の評価基準)の提供があった。"
            session.add(add)
            counts["addenda"] += 1
    counts["minutes"] += 1
    return minutes

