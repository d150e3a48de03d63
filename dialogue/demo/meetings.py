"""Demo dialogues: a year of held dialogues (with deliberate gaps), upcoming ones with
invitations and replies for the demo company users, a monthly series and a cancellation.

Called by seed.py inside its one transaction. Rows are written directly (no mail is queued
and no RSVP link is made: the demo must not send anything); notifications are written as
the Notifier would, with portal links. Past participation is recorded in company_reach as
the attendance lists of dialogues held before the platform existed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from clearance.auth.models import UserAccount
from clearance.db import new_id, utcnow
from clearance.permissions import Role
from dialogue.meetings.models import (
    AdvanceTopic,
    AgendaItem,
    CompanyReach,
    Dialogue,
    DialogueSeries,
    Invitation,
    dialogue_host,
)
from dialogue.meetings.series import expand
from dialogue.meetings.times import to_utc
from dialogue.portal.models import Notification
from dialogue.registry.models import Association, Company, CompanyGroup, GroupMember, association_member

TZ = "Asia/Tokyo"
AGENDA = ("経済安全保障上の脅威・リスク認識の共有", "サプライチェーン上の課題についての意見交換", "政府の支援策の紹介", "今後の進め方")
VENUES = {
    "tohoku": "東北経済産業局 会議室(仙台)", "kanto": "経済産業省 本館17階 第1共用会議室", "chubu": "中部経済産業局 会議室(名古屋)",
    "kansai": "近畿経済産業局 会議室(大阪)", "shikoku": "四国経済産業局 会議室(高松)", "kyushu": "九州経済産業局 会議室(福岡)",
    "chugoku": "中国経済産業局 会議室(広島)", "hokkaido": "北海道経済産業局 会議室(札幌)",
}
# Regions the demo leaves without any held dialogue, so the overview has gaps to show.
SILENT_REGIONS = ("okinawa", "hokkaido")


def _at(now: datetime, days: int, hour: int) -> datetime:
    """Naive UTC for a Tokyo wall-clock hour, `days` from today."""
    local = (now + timedelta(hours=9) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return to_utc(local, TZ)


def seed_meetings(session: Session, rng: random.Random, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    officers = session.execute(select(UserAccount).where(UserAccount.role == Role.OFFICER.value)
                               .order_by(UserAccount.email)).scalars().all()
    lead = next((o for o in officers if o.email.startswith("officer@")), officers[0])
    companies = {c.id: c for c in session.execute(select(Company)).scalars()}
    staff = session.execute(select(UserAccount).where(UserAccount.company_id.is_not(None), UserAccount.active)
                            .order_by(UserAccount.email)).scalars().all()
    counts = {"dialogues": 0, "invitations": 0, "reached": 0}
    reach: dict[str, list[datetime]] = {}

    def dialogue(fmt: str, title: str, starts: datetime, *, hours: int = 2, status: str = "planned",
                 region: str | None = None, host: UserAccount = lead, **kw) -> Dialogue:
        # Sealed at the level (Dialogue.__init__ takes id and level first, whatever the order here)
        d = Dialogue(id=new_id(), format=fmt, title=title, purpose=kw.pop("purpose", None), region=region,
                     venue=kw.pop("venue", VENUES.get(region or "")) or None, online_url=kw.pop("online_url", None),
                     starts_at=starts, ends_at=starts + timedelta(hours=hours), time_zone=TZ, level=kw.pop("level", 0),
                     status=status, status_reason=kw.pop("status_reason", None), sequence=0, created_by=host.id,
                     created_at=now, updated_at=now, **kw)
        session.add(d)
        session.flush()
        session.add_all([AgendaItem(id=new_id(), dialogue=d, position=i, title=t) for i, t in enumerate(AGENDA, 1)])
        hosts = {host.id, lead.id}
        session.execute(insert(dialogue_host), [{"dialogue_id": d.id, "user_id": h} for h in sorted(hosts)])
        counts["dialogues"] += 1
        return d

    def attended(d: Dialogue, company_ids: list[str]) -> None:
        for cid in company_ids:
            reach.setdefault(cid, []).append(d.starts_at)

    # --- a year of held dialogues -----------------------------------------------------------------
    associations = session.execute(select(Association).order_by(Association.name_ja)).scalars().all()
    for n, assoc in enumerate(associations[:10]):
        members = session.execute(select(association_member.c.company_id)
                                  .where(association_member.c.association_id == assoc.id)).scalars().all()
        members = [m for m in members if companies[m].region not in SILENT_REGIONS]
        region = rng.choice([companies[m].region for m in members]) if members else "kanto"
        starts = _at(now, -330 + n * 30, 14)
        d = dialogue("association", f"{assoc.name_ja} 会員企業との対話", starts, association_id=assoc.id,
                     region=region, status="closed" if n < 7 else "held",
                     purpose="経済安全保障上のリスクと先進的な取組を会員企業と共有する。")
        attended(d, rng.sample(members, max(1, len(members) * 2 // 3)) if members else [])

    groups = session.execute(select(CompanyGroup).order_by(CompanyGroup.kind, CompanyGroup.name_ja)).scalars().all()
    for n, group in enumerate(groups):
        if n % 4 == 3:
            continue  # a quarter of the groups have not been met yet
        members = session.execute(select(GroupMember).where(GroupMember.group_id == group.id)).scalars().all()
        skip_tier = rng.choice([1, 2]) if group.kind == "supply_chain" and n % 2 == 0 else None
        present = [m.company_id for m in members if m.tier != skip_tier
                   and companies[m.company_id].region not in SILENT_REGIONS]
        fmt = "supply_chain" if group.kind == "supply_chain" else "technology"
        starts = _at(now, -350 + n * 11, 10)
        title = f"{group.name_ja} 全体対話" if fmt == "supply_chain" else f"{group.name_ja} との対話"
        d = dialogue(fmt, title, starts, group_id=group.id, region=companies[present[0]].region if present else None,
                     status="closed" if starts < now - timedelta(days=120) else "held",
                     purpose="上流から下流までの各段階の課題(価格転嫁、共同研究開発)を確認する。")
        attended(d, present)

    # --- demo users' companies: invitations on past and upcoming dialogues --------------------------
    by_company: dict[str, list[UserAccount]] = {}
    for u in staff:
        by_company.setdefault(u.company_id, []).append(u)
    power_chain = next((g for g in groups if g.name_ja == "パワー半導体サプライチェーン"), groups[0])

    def invite(d: Dialogue, users: list[UserAccount], replies: list[str], when: datetime) -> None:
        rows, notes = [], []
        for i, (user, reply) in enumerate(zip(users, replies, strict=False)):
            inv_id = new_id()
            rows.append({"id": inv_id, "dialogue_id": d.id, "company_id": user.company_id, "user_id": user.id,
                         "status": reply, "invited_at": when, "invited_by": lead.id,
                         "replied_at": None if reply == "pending" else when + timedelta(days=1, hours=i),
                         "waitlisted_at": when + timedelta(days=1, hours=i) if reply == "waitlisted" else None})
            title = f"対話へのご招待: {d.title}" if d.level == 0 else "対話へのご招待: 経済産業省の戦略的対話"
            note_id = new_id()
            notes.append({"id": note_id, "user_id": user.id, "kind": "invitation",
                          "title_ct": Notification.title.seal_column(title, note_id),
                          "link": f"/portal/dialogues/{inv_id}", "created_at": when,
                          "read_at": when + timedelta(days=1) if reply != "pending" else None})
        session.execute(insert(Invitation), rows)
        session.execute(insert(Notification), notes)
        counts["invitations"] += len(rows)

    demo_users = sorted(staff, key=lambda u: u.email)
    past = dialogue("supply_chain", "パワー半導体サプライチェーン 第1回全体対話", _at(now, -60, 13), group_id=power_chain.id,
                    region="kanto", status="held", purpose="SiCパワー半導体の調達リスクを確認する。")
    invite(past, demo_users[:4], ["accepted", "accepted", "declined", "accepted"], past.starts_at - timedelta(days=30))
    attended(past, sorted({u.company_id for u in demo_users[:4]} - {demo_users[2].company_id}))

    upcoming = dialogue("supply_chain", "パワー半導体サプライチェーン 第2回全体対話", _at(now, 10, 14),
                        group_id=power_chain.id, region="kanto", status="invited", seat_limit=3,
                        answer_by=_at(now, 6, 18), online_url="https://meet.example.go.jp/taiwa/power-semi-2",
                        purpose="前回の論点(価格転嫁と代替調達)について、上流・下流の各社と続けて議論する。")
    invite(upcoming, demo_users, ["accepted", "pending", "accepted", "declined", "accepted", "pending", "waitlisted",
                                  "pending", "pending"], now - timedelta(days=2))
    first_invitee = demo_users[0]
    session.add(AdvanceTopic(id=new_id(), dialogue_id=upcoming.id, company_id=first_invitee.company_id,
                             author_id=first_invitee.id, kind="question", created_at=now - timedelta(days=1),
                             body="SiC単結晶の原料調達で特定国への依存度が高まっています。代替調達先の情報共有は可能でしょうか。"))

    sme_network = next((a for a in associations if "中小企業" in a.name_ja), associations[-1])
    equipment = next((g for g in groups if g.name_ja == "半導体製造装置サプライチェーン"), power_chain)
    sanuki = next((c for c in companies.values() if c.name_en.startswith("Sanuki")), None)
    if sanuki is not None and sanuki.id in by_company:
        one = dialogue("company", "個別相談: 原薬の安定供給について", _at(now, 5, 10), company_id=sanuki.id, hours=1,
                       status="invited", online_url="https://meet.example.go.jp/taiwa/sanuki",
                       purpose="企業からの問い合わせに基づく個別の意見交換。")
        invite(one, by_company[sanuki.id], ["accepted", "pending"], now - timedelta(days=3))

    dialogue("association", "地域ものづくり中小企業との対話(九州)", _at(now, 24, 15), association_id=sme_network.id,
             region="kyushu", status="cancelled", status_reason="台風の接近が予想されるため中止します。改めてご案内します。")
    dialogue("supply_chain", "半導体製造装置サプライチェーン 技術流出対策(限定)", _at(now, 17, 10),
             group_id=equipment.id, region="kanto", level=1,
             purpose="技術流出の具体的事例と対策を共有する(参加者限定)。")

    # --- a monthly series: every third Wednesday, six times ------------------------------------------
    series_id = new_id()
    session.add(DialogueSeries(id=series_id, rule="FREQ=MONTHLY;BYDAY=3WE;COUNT=6", time_zone=TZ, created_by=lead.id))
    session.flush()
    first_local = (now + timedelta(hours=9) + timedelta(days=20)).replace(hour=15, minute=0, second=0, microsecond=0)
    for start in expand("FREQ=MONTHLY;BYDAY=3WE;COUNT=6", first_local):
        dialogue("association", "中小企業向け 経済安全保障 定例説明会", to_utc(start, TZ), hours=1, series_id=series_id,
                 association_id=sme_network.id, region=None, online_url="https://meet.example.go.jp/taiwa/monthly",
                 purpose="中堅・中小企業向けに、最新の脅威情報と対策例を毎月紹介する。")

    for cid, dates in reach.items():
        session.add(CompanyReach(company_id=cid, first_at=min(dates), last_at=max(dates), dialogues=len(dates)))
    counts["reached"] = len(reach)
    session.flush()
    return counts
