"""Briefings benchmark: the portal's briefing list and a briefing page with 1,000 and 10,000 briefings.

    python bench/briefings_bench.py                                   # SQLite only
    python bench/briefings_bench.py --pg-url postgresql://postgres@127.0.0.1:5432/test
    python bench/briefings_bench.py --no-sqlite --pg-url ... --requests 300

For each backend: a fresh database (SQLite file in a temp dir, or a new
PostgreSQL database bench_briefings_<random>, dropped afterwards), migrated
with `upgrade heads`, then 300 companies (most certified), 3,000 company
users (most cleared, with compartments), 20 company groups and the
briefings, at every level, with compartments, handler and release lists.
Two such databases are built, with 1,000 and with 10,000 briefings, and
measured in the same run, alternating request by request (so load from
other processes affects both alike). Requests go through the whole app
in-process (Flask test client: guard, session, policy filter, audit and
access-log writes, templates), signed in as real users.

Goals: p95 ≤ 100 ms for the list and the page; the list at 10,000 briefings
at most 1.5× its p95 at 1,000.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

P95_GOAL_MS = 100.0
GROWTH_GOAL = 1.5
PASSWORD = "bench horse battery staple 2024"
CODES = ("SEMI", "BATT", "QNT", "AERO", "MAG")
DEPTS = ("技術開発本部", "輸出管理部", "経営企画部", "営業本部")


@dataclass
class Result:
    name: str
    n_briefings: int
    samples: list[float]

    def pct(self, p: float) -> float:
        s = sorted(self.samples)
        return s[min(len(s) - 1, int(len(s) * p))]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)


@contextlib.contextmanager
def database(kind: str, tmp: Path, pg_url: str | None, suffix: str):
    if kind == "sqlite":
        yield f"sqlite:///{tmp / f'briefings-bench-{suffix}.db'}"
        return
    import psycopg

    name = f"bench_briefings_{suffix}_{secrets.token_hex(4)}"
    admin_url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(admin_url)
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(db_url: str, tmp: Path):
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({
        "TAIWA_ENV": "test", "SECRET_KEY": "bench-" + "x" * 40, "TAIWA_ARGON2": "fast",
        "TAIWA_KEY_FILE": str(tmp / "keys.json"), "TAIWA_CREATE_DEV_KEYS": True, "SQLALCHEMY_DATABASE_URI": db_url,
        "TAIWA_FILES_DIR": str(tmp / "files"), "TAIWA_BASE_URL": "http://localhost",
    })
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
    return app


def seed_people(app, rng: random.Random) -> dict:
    """300 companies, 3,000 company users, 20 groups; clearances and certifications; returns the bench readers."""
    from sqlalchemy import insert

    from clearance.auth import passwords
    from clearance.auth.models import UserAccount
    from clearance.db import db, new_id, utcnow
    from clearance.labels import Compartment
    from clearance.people import (
        CertificationDepartment,
        ClearanceCompartment,
        CompanyCertification,
        PersonalClearance,
        expiry_instant,
    )
    from dialogue.registry import corporate_number
    from dialogue.registry.models import Company, CompanyGroup, GroupMember

    now = utcnow()
    far = date.today() + timedelta(days=2000)
    pw = passwords.hash_password(PASSWORD)
    with app.app_context():
        db.session.execute(insert(Compartment), [{"code": c, "name_ja": c, "name_en": c, "created_at": now}
                                                 for c in CODES])
        companies = [new_id() for _ in range(300)]
        db.session.execute(insert(Company), [
            {"id": cid, "corporate_number": corporate_number.make(f"{i + 5 * 10**11:012d}"), "name_ja": f"ベンチ工業{i}",
             "name_en": f"Bench {i}", "size_class": "small", "prefecture": "13", "region": "kanto",
             "key_products": "", "created_at": now} for i, cid in enumerate(companies)])
        groups = [new_id() for _ in range(20)]
        db.session.execute(insert(CompanyGroup), [
            {"id": gid, "kind": "technology", "name_ja": f"ベンチ群{i}", "name_en": f"Group {i}", "sector": "chemicals",
             "subject_ja": "", "subject_en": "", "created_at": now} for i, gid in enumerate(groups)])
        db.session.execute(insert(GroupMember), [
            {"id": new_id(), "group_id": gid, "company_id": cid, "tier": None}
            for gid in groups for cid in rng.sample(companies, 15)])
        certs, depts = [], []
        for cid in companies[:240]:  # 80 % certified
            kid = new_id()
            certs.append({"id": kid, "company_id": cid, "level": rng.choice((1, 2, 2)), "agency": "経済産業省",
                          "certified_on": date(2024, 1, 1), "contract_ref": "B", "expires_on": far,
                          "expires_at": expiry_instant(far), "status": "valid", "in_force": True,
                          "reason_ct": CompanyCertification.reason.seal_column("bench", kid),
                          "requested_by": "bench", "requested_at": now})
            depts += [{"certification_id": kid, "department": d} for d in DEPTS[:3]]
        db.session.execute(insert(CompanyCertification), certs)
        db.session.execute(insert(CertificationDepartment), depts)
        users, clearances, codes = [], [], []
        for i in range(3000):
            uid = new_id()
            users.append({"id": uid, "email": f"member{i}@bench.example.jp", "display_name": f"ベンチ 利用者{i}",
                          "role": "company_member", "company_id": companies[i % 300], "department": DEPTS[i % 4],
                          "password_hash": pw, "password_changed_at": now, "active": True, "created_at": now})
            if i % 5 < 3:  # 60 % cleared
                pid = new_id()
                clearances.append({"id": pid, "user_id": uid, "level": rng.choice((1, 2, 2)), "agency": "経済産業省",
                                   "notified_on": date(2024, 1, 1), "expires_on": far, "expires_at": expiry_instant(far),
                                   "undertaking_signed": True, "status": "valid", "in_force": True,
                                   "reason_ct": PersonalClearance.reason.seal_column("bench", pid),
                                   "requested_by": "bench", "requested_at": now})
                codes += [{"clearance_id": pid, "code": c} for c in rng.sample(CODES, rng.randint(1, 4))]
        db.session.execute(insert(UserAccount), users)
        db.session.execute(insert(PersonalClearance), clearances)
        db.session.execute(insert(ClearanceCompartment), codes)
        db.session.commit()
        # The readers measured: member0 (company 0, certified, cleared at level 2 in every compartment) and
        # member3 (a certified company, no clearance: the filter is most selective for them).
        from sqlalchemy import delete, update

        first = users[0]["id"]
        db.session.execute(update(CompanyCertification).where(CompanyCertification.company_id == companies[0])
                           .values(level=2))
        pc = db.session.execute(PersonalClearance.__table__.select().where(PersonalClearance.user_id == first)).first()
        if pc is None:
            pid = new_id()
            db.session.execute(insert(PersonalClearance), [{
                "id": pid, "user_id": first, "level": 2, "agency": "x", "notified_on": date(2024, 1, 1),
                "expires_on": far, "expires_at": expiry_instant(far), "undertaking_signed": True, "status": "valid",
                "in_force": True, "reason_ct": PersonalClearance.reason.seal_column("bench", pid),
                "requested_by": "bench", "requested_at": now}])
        else:
            pid = pc.id
            db.session.execute(update(PersonalClearance).where(PersonalClearance.id == pid).values(level=2))
        db.session.execute(delete(ClearanceCompartment).where(ClearanceCompartment.clearance_id == pid))
        db.session.execute(insert(ClearanceCompartment), [{"clearance_id": pid, "code": c} for c in CODES])
        db.session.commit()
        return {"users": [u["id"] for u in users], "companies": companies, "groups": groups,
                "cleared": users[0], "uncleared": users[3]}


def add_briefings(app, world: dict, n: int, rng: random.Random, start: int) -> list[str]:
    """n briefings: levels 0/1/2 about 40/35/25 %, a third in compartments, release lists and handler lists."""
    from sqlalchemy import insert

    from clearance.db import db, new_id, utcnow
    from clearance.labels import LabelCompartment
    from clearance.people import HandlerEntry, ReleaseEntry
    from dialogue.briefings.models import Briefing, BriefingTag

    now = utcnow()
    body = ("## 概要 [公開]\n" + "公開情報に基づく概況。" * 20 + "\n\n## 分析\n" + "調達先の集中と代替可能性の分析。" * 60)
    rows, comps, handlers, release, tags, level2 = [], [], [], [], [], []
    reader = world["cleared"]["id"]
    for i in range(start, start + n):
        level = rng.choices((0, 1, 2), (40, 35, 25))[0]
        b = Briefing(id=new_id(), level=level)
        b.body = body  # sealed at its level, as the app does
        b.summary = "ベンチマーク用の要旨。" * 3
        at = now - timedelta(minutes=i)
        row = {"id": b.id, "title": f"ベンチ用ブリーフィング {i}: 供給網リスク", "summary_ct": b.summary_ct,
               "body_ct": b.body_ct, "level": level, "status": "released", "created_at": at, "updated_at": at,
               "released_at": at, "sort_at": at, "technology_domain": rng.choice((1, 2, 3)),
               "designating_agency": None, "designation_number": None, "designated_on": None,
               "designation_expires_on": None, "expires_at": None}
        if level == 2:
            row.update(designating_agency="経済産業省", designation_number=f"B-{i}", designated_on=date(2025, 1, 1),
                       designation_expires_on=date(2030, 1, 1))
            level2.append(b.id)
            handlers += [{"owner_table": "briefing", "owner_id": b.id, "user_id": u, "added_at": now}
                         for u in {reader, *rng.sample(world["users"], rng.randint(5, 20))}]
        rows.append(row)
        if rng.random() < 0.35:
            comps += [{"owner_table": "briefing", "owner_id": b.id, "code": c} for c in rng.sample(CODES, rng.randint(1, 2))]
        r = rng.random()
        if level == 2 and not (r < 0.3 or r >= 0.65):
            level2.remove(b.id)  # measured pages are ones the reader may open: released to all or to company 0
        if r < 0.3:
            release.append({"owner_table": "briefing", "owner_id": b.id, "kind": "all", "target_id": ""})
        elif r < 0.65:
            release += [{"owner_table": "briefing", "owner_id": b.id, "kind": "group", "target_id": g}
                        for g in rng.sample(world["groups"], 2)]
        else:
            release += [{"owner_table": "briefing", "owner_id": b.id, "kind": "company", "target_id": c}
                        for c in {world["companies"][0], *rng.sample(world["companies"], 10)}]
        tags.append({"briefing_id": b.id, "kind": "risk", "code": rng.choice(
            ("supply_disruption", "economic_coercion", "technology_acquisition", "technology_leakage"))})
    with app.app_context():
        for chunk in range(0, len(rows), 1000):
            db.session.execute(insert(Briefing), rows[chunk:chunk + 1000])
        for table, values in ((LabelCompartment, comps), (HandlerEntry, handlers), (ReleaseEntry, release),
                              (BriefingTag, tags)):
            for chunk in range(0, len(values), 2000):
                db.session.execute(insert(table), values[chunk:chunk + 2000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy import text

            db.session.execute(text("ANALYZE"))
            db.session.commit()
    return level2


def sign_in(app, email: str):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    resp = client.post("/login", data={"csrf_token": token.group(1), "email": email, "password": PASSWORD})
    assert resp.status_code == 302, f"sign-in failed for {email}: {resp.status_code}"
    return client


def measure(client, path: str, n: int, warmup: int = 10) -> list[float]:
    for _ in range(warmup):
        assert client.get(path).status_code == 200, path
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        resp = client.get(path)
        resp.get_data()
        out.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200, (path, resp.status_code)
    return out


def run_backend(kind: str, args, tmp: Path) -> list[Result]:
    """Build a 1,000- and a 10,000-briefing database (same people), then measure them interleaved:
    request by request, alternating, so load from other processes on the machine hits both alike."""
    from clearance.db import db

    setups = {}
    with database(kind, tmp, args.pg_url, "1k") as url_small, database(kind, tmp, args.pg_url, "10k") as url_big:
        for total, url in ((1000, url_small), (10_000, url_big)):
            rng = random.Random(20240517)  # the same companies, users and clearances in both
            t0 = time.perf_counter()
            app = make_app(url, tmp)  # one key file for both: the crypto provider is process-wide
            world = seed_people(app, rng)
            level2 = add_briefings(app, world, total, rng, 0)
            print(f"[{kind}] {total:,} briefings, 3,000 users ready in {time.perf_counter() - t0:.1f}s", flush=True)
            setups[total] = (app, sign_in(app, world["cleared"]["email"]), sign_in(app, world["uncleared"]["email"]),
                             level2[len(level2) // 2])
        requests = [
            ("list (cleared reader)", 1, "/briefings"),
            ("list (uncleared reader)", 2, "/briefings"),
            ("search (cleared reader)", 1, "/briefings?q=%E4%BE%9B%E7%B5%A6&risk=economic_coercion"),
            ("page, level 2 (cleared reader)", 1, None),
        ]
        results: list[Result] = []
        for name, who, path in requests:
            samples: dict[int, list[float]] = {1000: [], 10_000: []}
            paths = {n: path or f"/briefings/{setups[n][3]}" for n in setups}
            for n in setups:
                measure(setups[n][who], paths[n], 0, warmup=10)
            for _ in range(args.requests):
                for n in setups:
                    samples[n] += measure(setups[n][who], paths[n], 1, warmup=0)
            for n in setups:
                results.append(Result(name, n, samples[n]))
                r = results[-1]
                print(f"[{kind}] {n:>6,} {name:<32} p50 {r.p50:6.1f} ms  p95 {r.pct(.95):6.1f} ms", flush=True)
        for app, *_ in setups.values():
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    return results


def table(kind: str, results: list[Result]) -> tuple[str, bool]:
    title = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[kind]
    out = [f"### {title}", "",
           "| request | p50 @ 1,000 | p95 @ 1,000 | p50 @ 10,000 | p95 @ 10,000 | p95 10k / 1k | goal | pass |",
           "|---|---:|---:|---:|---:|---:|---|---|"]
    ok_all = True
    names = list(dict.fromkeys(r.name for r in results))
    for name in names:
        small = next(r for r in results if r.name == name and r.n_briefings == 1000)
        big = next(r for r in results if r.name == name and r.n_briefings == 10_000)
        ratio = big.pct(.95) / small.pct(.95)
        growth = name.startswith("list")
        ok = big.pct(.95) <= P95_GOAL_MS and small.pct(.95) <= P95_GOAL_MS and (not growth or ratio <= GROWTH_GOAL)
        ok_all &= ok
        goal = f"p95 ≤ {P95_GOAL_MS:.0f} ms" + (f", ≤ {GROWTH_GOAL}× at 10k" if growth else "")
        out.append(f"| {name} | {small.p50:.1f} | {small.pct(.95):.1f} | {big.p50:.1f} | {big.pct(.95):.1f} | "
                   f"{ratio:.2f}× | {goal} | {'PASS' if ok else 'FAIL'} |")
    return "\n".join(out) + "\n", ok_all


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    ap.add_argument("--pg-url", help="PostgreSQL server for a throwaway bench database (omit: skip PostgreSQL)")
    ap.add_argument("--requests", type=int, default=200, help="measured requests per row (default 200)")
    ap.add_argument("--strict", action="store_true", help="exit 2 when a goal is missed")
    args = ap.parse_args()
    kinds = ([] if args.no_sqlite else ["sqlite"]) + (["postgres"] if args.pg_url else [])
    if not kinds:
        ap.error("nothing to do: no backend selected")
    import logging

    logging.getLogger("taiwa").setLevel(logging.WARNING)
    report = [f"## Briefings benchmark — {time.strftime('%Y-%m-%d %H:%M %Z')}", "",
              f"In-process (Flask test client, whole app: guard, server-side session, clearance policy, audit and "
              f"access-log writes, templates); {args.requests} measured requests per row after 10 warm-up requests; "
              "3,000 company users in 300 companies (80 % certified, 60 % of staff cleared), 20 company groups. "
              "The 1,000 and 10,000 columns come from the same run: two databases with the same people, "
              "measured request by request in alternation. "
              f"Machine: {__import__('os').cpu_count()} CPU, Python {sys.version.split()[0]}.", ""]
    ok = True
    for kind in kinds:
        tmp = Path(tempfile.mkdtemp(prefix=f"taiwa-briefings-bench-{kind}-"))
        try:
            text, passed = table(kind, run_backend(kind, args, tmp))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        report.append(text)
        ok &= passed
    print("\n" + "\n".join(report))
    if not ok:
        print("Goal missed (see the table).")
        return 2 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
