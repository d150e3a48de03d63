"""Dialogue benchmark: dialogue list, officers' overview and portal home on a generated data set.

    python bench/meetings_bench.py                               # SQLite only
    python bench/meetings_bench.py --pg-url postgresql://postgres@127.0.0.1:5432/test
    python bench/meetings_bench.py --no-sqlite --pg-url ... --duration 3

For each backend: a fresh database, `flask db upgrade heads`, `flask seed-demo` (for the
demo officer and the demo company admin), then a generated data set of --companies
companies (3,000), --groups company groups (200), --dialogues dialogues (5,000) and
first --small invitations (5,000). Taiwa and the bare-Flask floor (bench/floor_app.py)
run under gunicorn with the product's gunicorn.conf.py. The overview is measured at
5,000 invitations; the invitations are then topped up to --invitations (50,000) and
every page (dialogue list, a dialogue search, the overview, the portal home and a company
search) is measured with one client (p50/p95), cached and on a second server with
TAIWA_BODY_CACHE=0 (uncached), --rounds times interleaved; then its throughput with
--clients keep-alive clients against the floor in --slices alternating slices of --slice
seconds (the median of the paired ratios is reported).

Goals (issue 3): each page p95 ≤ 100 ms for one client and ≥ 40 % of the floor's
throughput; the overview's time must not grow with the number of invitations.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web_bench import (  # noqa: E402 - after the path set-up, so it runs from anywhere
    PY,
    Browser,
    Paired,
    Sample,
    Server,
    Target,
    base_env,
    database,
    free_port,
    machine,
    measure,
    paired,
    run,
    seed,
    sign_in,
)

GOAL_P95_MS = 100.0
GOAL_FLOOR = 0.40
PAGES = {
    "list": ("/dialogues", "GET /dialogues (officer: upcoming, paged, counts)"),
    "search": ("/dialogues?period=all&q=%E5%AF%BE%E8%A9%B1&region=kanto", "GET /dialogues?q=対話&region=kanto&period=all"),
    "overview": ("/officer", "GET /officer (overview with gaps)"),
    "portal": ("/portal/dialogues", "GET /portal/dialogues (company home)"),
    "companies": ("/registry/companies?q=%E5%8D%8A%E5%B0%8E%E4%BD%93", "GET /registry/companies?q=半導体"),
}


# --------------------------------------------------------------------------- data (runs in the app's environment)


def generate(companies: int, groups: int, dialogues: int, invitations: int, portal_email: str) -> dict:
    """Top the database up to the requested sizes with core bulk inserts; returns what it made."""
    from sqlalchemy import delete, func, insert, select, text

    from app import create_app
    from clearance.auth import passwords
    from clearance.auth.models import UserAccount
    from clearance.db import db, new_id, utcnow
    from dialogue.meetings.models import AgendaItem, CompanyReach, Dialogue, Invitation, dialogue_host
    from dialogue.portal.models import Notification
    from dialogue.registry import corporate_number
    from dialogue.registry.models import (
        Association,
        Company,
        CompanyGroup,
        GroupMember,
        association_member,
        company_sector,
    )
    from dialogue.registry.taxonomy import PREFECTURES, SECTORS

    rng = random.Random(20240517)
    app = create_app()
    made = {}
    with app.app_context():
        s = db.session
        now = utcnow()
        have = s.execute(select(func.count()).select_from(Company)).scalar_one()
        if have < companies:
            prefs, sectors = list(PREFECTURES.items()), list(SECTORS)
            rows, sec = [], []
            for n in range(companies - have):
                code, (_ja, _en, region) = rng.choice(prefs)
                cid = new_id()
                rows.append({"id": cid, "corporate_number": corporate_number.make(f"{n + 7 * 10**6:012d}"),
                             "name_ja": f"ベンチ対話工業{n}株式会社", "name_en": f"Bench Dialogue Industries {n}",
                             "size_class": rng.choices(["large", "mid", "small"], [2, 3, 5])[0], "prefecture": code,
                             "region": region, "key_products": "", "created_at": now})
                sec += [{"company_id": cid, "sector": x} for x in rng.sample(sectors, rng.randint(1, 2))]
            for i in range(0, len(rows), 2000):
                s.execute(insert(Company), rows[i:i + 2000])
            s.execute(insert(company_sector), sec)
        company_ids = s.execute(select(Company.id)).scalars().all()
        if s.execute(select(func.count()).select_from(Association)).scalar_one() < 40:
            for n in range(25):
                aid = new_id()
                s.execute(insert(Association), [{"id": aid, "name_ja": f"ベンチ工業会{n}", "name_en": f"Bench Assoc {n}",
                                                 "sector": list(SECTORS)[n % len(SECTORS)], "created_at": now}])
                s.execute(insert(association_member), [{"association_id": aid, "company_id": c}
                                                       for c in rng.sample(company_ids, 60)])
        have_g = s.execute(select(func.count()).select_from(CompanyGroup)).scalar_one()
        members = []
        for n in range(max(0, groups - have_g)):
            chain = n % 3 != 2
            gid = new_id()
            s.execute(insert(CompanyGroup), [{"id": gid, "kind": "supply_chain" if chain else "technology",
                                              "name_ja": f"ベンチ企業群{n}", "name_en": f"Bench group {n}",
                                              "sector": list(SECTORS)[n % len(SECTORS)], "subject_ja": "",
                                              "subject_en": "", "created_at": now}])
            members += [{"id": new_id(), "group_id": gid, "company_id": c, "tier": (i % 4) + 1 if chain else None}
                        for i, c in enumerate(rng.sample(company_ids, 15))]
        if members:
            s.execute(insert(GroupMember), members)
        # One staff account for most companies: the invitees (a shared hash: nobody signs in as them).
        pw = passwords.hash_password("bench-unused-password-0000")
        with_account = set(s.execute(select(UserAccount.company_id).where(UserAccount.company_id.is_not(None))).scalars())
        users = [{"id": new_id(), "email": f"staff{n}@bench-dialogue.example.jp", "display_name": f"ベンチ 社員{n}",
                  "role": "company_member", "company_id": c, "password_hash": pw, "password_changed_at": now,
                  "active": True, "created_at": now}
                 for n, c in enumerate(company_ids[:2500]) if c not in with_account]
        if users:
            s.execute(insert(UserAccount), users)
        officers = s.execute(select(UserAccount.id).where(UserAccount.role == "officer")).scalars().all()
        s.commit()

        have_d = s.execute(select(func.count()).select_from(Dialogue)).scalar_one()
        if have_d < dialogues:
            assoc = s.execute(select(Association.id)).scalars().all()
            grp = s.execute(select(CompanyGroup.id, CompanyGroup.kind)).all()
            regions = ["tohoku", "kanto", "chubu", "kansai", "shikoku", "kyushu", "chugoku"]
            rows, hosts, agenda = [], [], []
            for n in range(dialogues - have_d):
                starts = (now + timedelta(days=rng.randint(-1000, 365), hours=rng.randint(0, 23))).replace(
                    minute=0, second=0, microsecond=0)
                past = starts < now
                fmt = rng.choice(["association", "supply_chain", "technology", "company"])
                row_id = new_id()
                # title and purpose sealed at the row's level, as the app does (no venue, link or status
                # reason: NULL)
                purpose_ct = Dialogue.purpose.seal_column("ベンチマーク用の対話の目的。", row_id, 0)
                title_ct = Dialogue.title.seal_column(f"ベンチ対話{n}", row_id, 0)
                row = {"id": row_id, "format": fmt, "association_id": None, "group_id": None, "company_id": None,
                       "title_ct": title_ct, "purpose_ct": purpose_ct, "region": rng.choice(regions),
                       "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                       "time_zone": "Asia/Tokyo", "level": 0, "sequence": 0,
                       "status": (rng.choices(["held", "closed", "cancelled"], [3, 6, 1])[0] if past
                                  else rng.choice(["planned", "invited"])),
                       "created_at": now, "updated_at": now}
                if fmt == "association":
                    row["association_id"] = rng.choice(assoc)
                elif fmt == "company":
                    row["company_id"] = rng.choice(company_ids)
                else:
                    kind = "supply_chain" if fmt == "supply_chain" else "technology"
                    row["group_id"] = rng.choice([g for g, k in grp if k == kind])
                rows.append(row)
                hosts += [{"dialogue_id": row["id"], "user_id": o} for o in rng.sample(officers, min(2, len(officers)))]
                agenda += [{"id": (item := new_id()), "dialogue_id": row["id"], "position": i,
                            "title_ct": AgendaItem.title.seal_column(f"議題{i}", item, 0)} for i in (1, 2, 3)]
            for i in range(0, len(rows), 2000):
                s.execute(insert(Dialogue), rows[i:i + 2000])
            s.execute(insert(dialogue_host), hosts)
            s.execute(insert(AgendaItem), agenda)
            s.commit()

        have_i = s.execute(select(func.count()).select_from(Invitation)).scalar_one()
        if have_i < invitations:
            dlg = s.execute(select(Dialogue.id, Dialogue.starts_at)).all()
            staff = s.execute(select(UserAccount.id, UserAccount.company_id)
                              .where(UserAccount.company_id.is_not(None))).all()
            taken = set(s.execute(select(Invitation.dialogue_id, Invitation.user_id)).all())
            portal = s.execute(select(UserAccount.id, UserAccount.company_id)
                               .where(UserAccount.email == portal_email)).one_or_none()
            rows = []
            if portal is not None and not have_i:  # the portal user: 40 invitations, half upcoming
                for did, starts in rng.sample(dlg, 40):
                    rows.append((did, portal[0], portal[1], starts))
                    taken.add((did, portal[0]))
            while len(rows) + have_i < invitations:
                did, starts = rng.choice(dlg)
                uid, cid = rng.choice(staff)
                if (did, uid) in taken:
                    continue
                taken.add((did, uid))
                rows.append((did, uid, cid, starts))
            out = [{"id": new_id(), "dialogue_id": d, "user_id": u, "company_id": c, "invited_at": st - timedelta(days=20),
                    "status": rng.choices(["pending", "accepted", "declined"], [2, 6, 2])[0]} for d, u, c, st in rows]
            for i in range(0, len(out), 5000):
                s.execute(insert(Invitation), out[i:i + 5000])
            if portal is not None and not have_i:
                ids = [new_id() for _ in range(60)]
                s.execute(insert(Notification), [{"id": ids[n], "user_id": portal[0], "kind": "invitation",
                                                  "title_ct": Notification.title.seal_column(f"対話へのご招待: ベンチ対話{n}",
                                                                                             ids[n]),
                                                  "link": "/portal/dialogues",
                                                  "created_at": now - timedelta(hours=n)} for n in range(60)])
            # company_reach as "mark held" keeps it: one row per company that took part in a held dialogue
            s.execute(delete(CompanyReach))
            s.execute(text(
                "INSERT INTO company_reach (company_id, first_at, last_at, dialogues) "
                "SELECT i.company_id, MIN(d.starts_at), MAX(d.starts_at), COUNT(*) FROM invitation i "
                "JOIN dialogue d ON d.id = i.dialogue_id WHERE d.status IN ('held', 'closed') "
                "AND i.status IN ('accepted', 'pending') GROUP BY i.company_id"))
            s.commit()
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("ANALYZE"))
            s.commit()
        # The overview's own cost, uncached and in-process: what must not grow with the invitations.
        from dialogue.home.service import overview

        overview(s, utcnow())
        runs = []
        for _ in range(7):
            t0 = time.perf_counter()
            overview(s, utcnow())
            runs.append((time.perf_counter() - t0) * 1000)
        made["overview_ms"] = round(statistics.median(runs), 1)
        for name, model in (("companies", Company), ("groups", CompanyGroup), ("dialogues", Dialogue),
                            ("invitations", Invitation), ("reached", CompanyReach)):
            made[name] = s.execute(select(func.count()).select_from(model)).scalar_one()
    return made


# --------------------------------------------------------------------------- one backend


def portal_sign_in(port: int, account: dict) -> str:
    b = Browser(port)
    status, h, _ = b.request("POST", "/login", {"csrf_token": b.csrf("/login"), "email": account["email"],
                                                 "password": account["password"]})
    if status != 302 or h.get("Location", "").endswith("/login/totp"):
        raise SystemExit(f"portal sign-in failed: HTTP {status} → {h.get('Location')}")
    return f"taiwa_session={b.cookie}"


def bench_backend(kind: str, args, pool) -> tuple[str, dict, dict]:
    tmp = Path(tempfile.mkdtemp(prefix=f"taiwa-mbench-{kind}-"))
    servers: list[Server] = []
    try:
        with database(kind, tmp, args.pg_url) as db_url:
            env = base_env(db_url, tmp, args.workers, args.threads)
            run([PY, "-c", "import sys; from clearance.crypto import ensure_dev_keyfile; ensure_dev_keyfile(sys.argv[1])",
                 str(tmp / "keys.json")], env)
            print(f"[{kind}] migrating and seeding", flush=True)
            run([str(Path(PY).parent / "flask"), "--app", "app", "db", "upgrade", "heads"], env)
            officer, _how = seed(env, tmp)
            accounts = json.loads((tmp / "accounts.json").read_text())
            portal = next(a for a in accounts if a["role"] == "company_admin" and not a.get("totp_secret")
                          and "Deactivated" not in a.get("description", ""))

            def grow(invitations: int) -> dict:
                t0 = time.perf_counter()
                proc = run([PY, str(Path(__file__)), "--internal-generate",
                            json.dumps([args.companies, args.groups, args.dialogues, invitations, portal["email"]])], env)
                made = json.loads(proc.stdout.strip().splitlines()[-1])
                print(f"[{kind}] data: {made} ({time.perf_counter() - t0:.0f} s)", flush=True)
                return made

            small = grow(args.small)
            app_port, floor_port = free_port(), free_port()
            servers.append(Server("taiwa", "app:create_app()", app_port, env, tmp / "taiwa.log"))
            servers.append(Server("floor", "bench.floor_app:create_app()", floor_port,
                                  dict(env, BENCH_FLOOR_EMAIL=officer["email"]), tmp / "floor.log"))
            # The same app with no cached bodies and no overview cache: what a first visit, or the
            # first request after any write, costs (sessions live in the database, so cookies carry over).
            cold_port = free_port()
            servers.append(Server("cold", "app:create_app()", cold_port,
                                  dict(env, TAIWA_BODY_CACHE="0", TAIWA_OVERVIEW_TTL="0"), tmp / "cold.log"))
            servers[0].wait_ready("/login")
            servers[1].wait_ready("/floor")
            servers[2].wait_ready("/login")
            officer_cookie = sign_in(app_port, officer)
            portal_cookie = portal_sign_in(app_port, portal)
            target = {name: Target(name, app_port, path, portal_cookie if name == "portal" else officer_cookie)
                      for name, (path, _label) in PAGES.items()}
            cold = {name: Target(name, cold_port, t.path, t.cookie) for name, t in target.items()}

            growth: dict[str, list[Sample]] = {"small": [], "large": []}
            for _ in range(args.rounds):
                growth["small"].append(measure(pool, target["overview"], 1, args.warmup, args.duration))
            large = grow(args.invitations)
            results: dict[str, dict[str, list[Sample]]] = {n: {"one": [], "cold": []} for n in [*PAGES, "floor"]}
            floor = Target("floor", floor_port, "/floor")
            for r in range(args.rounds):  # latency: one client, cached and uncached, interleaved
                for name in [*PAGES, "floor"]:
                    t = floor if name == "floor" else target[name]
                    one = measure(pool, t, 1, args.warmup, args.duration)
                    results[name]["one"].append(one)
                    note = ""
                    if name != "floor":
                        c = measure(pool, cold[name], 1, args.warmup, args.duration)
                        results[name]["cold"].append(c)
                        note = f" | uncached p50 {c.pct(.5):6.1f} ms p95 {c.pct(.95):6.1f} ms"
                    print(f"[{kind}] round {r + 1}/{args.rounds} {name:>9}: 1 client p50 {one.pct(.5):6.1f} ms "
                          f"p95 {one.pct(.95):6.1f} ms{note}", flush=True)
                growth["large"].append(measure(pool, target["overview"], 1, args.warmup, args.duration))
            throughput: dict[str, Paired] = {}
            for name in PAGES:  # throughput: many clients, page and floor in alternating slices
                throughput[name] = pr = paired(pool, target[name], floor, args.clients, args.slices, args.slice)
                print(f"[{kind}] {name:>9}: {args.clients} clients, {args.slices} paired slices: "
                      + " ".join(f"{x:.0%}" for x in pr.ratios) + f" → median {pr.ratio:.0%}", flush=True)
            for name, samples in results.items():
                for s in samples["one"] + samples["cold"]:
                    for ex in s.error_examples:
                        print(f"    error ({name}): {ex}", flush=True)
            for sv in servers:
                sv.stop()
            return kind, {"results": results, "growth": growth, "throughput": throughput}, {"small": small,
                                                                                             "large": large}
    finally:
        for sv in servers:
            with contextlib.suppress(Exception):  # best effort at teardown
                sv.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- report


def med(samples: list[Sample], what: str) -> float:
    if what == "rps":
        return statistics.median(s.rps for s in samples)
    return statistics.median(s.pct(float(what)) for s in samples)


def table(kind: str, data: dict, sizes: dict, args) -> tuple[str, bool]:
    res, growth, thr = data["results"], data["growth"], data["throughput"]
    title = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[kind]
    large = sizes["large"]
    out = [f"### {title}", "",
           f"Data: {large['companies']:,} companies, {large['groups']:,} groups, {large['dialogues']:,} dialogues, "
           f"{large['invitations']:,} invitations ({large['reached']:,} companies reached).", "",
           f"| page | 1 client p50 / p95 ms | uncached p50 / p95 ms | goal p95 | {args.clients} clients req/s "
           f"(floor) | % of floor, median of {args.slices} paired slices | goal | pass |",
           "|---|---:|---:|---|---:|---:|---|---|"]
    ok_all = True
    for name in PAGES:
        one, cold, pr = res[name]["one"], res[name]["cold"], thr[name]
        p50, p95, c50, c95 = med(one, ".5"), med(one, ".95"), med(cold, ".5"), med(cold, ".95")
        rps, floor_rps = med(pr.page, "rps"), med(pr.floor, "rps")
        errors = sum(s.errors for s in one + cold + pr.page + pr.floor)
        ok = max(p95, c95) <= GOAL_P95_MS and pr.ratio >= GOAL_FLOOR and errors == 0
        ok_all &= ok
        out.append(f"| {PAGES[name][1]} | {p50:.1f} / {p95:.1f} | {c50:.1f} / {c95:.1f} | ≤ {GOAL_P95_MS:.0f} | "
                   f"{rps:.0f} ({floor_rps:.0f}) | {pr.ratio:.0%} (range {min(pr.ratios):.0%}–{max(pr.ratios):.0%}) | "
                   f"≥ {GOAL_FLOOR:.0%} | {'PASS' if ok else 'FAIL'}{f' ({errors} errors)' if errors else ''} |")
    f50, f95 = med(res["floor"]["one"], ".5"), med(res["floor"]["one"], ".95")
    out.append(f"| FLOOR: bare Flask, one indexed query | {f50:.1f} / {f95:.1f} | | | | 100% | | |")
    small_p50, large_p50 = med(growth["small"], ".5"), med(growth["large"], ".5")
    small_p95, large_p95 = med(growth["small"], ".95"), med(growth["large"], ".95")
    small_ms, large_ms = sizes["small"]["overview_ms"], large["overview_ms"]
    factor = large["invitations"] / max(1, sizes["small"]["invitations"])
    # Flat: well under the 10x of a linear cost (the reach rows grow too: more companies were reached).
    flat = large_ms <= small_ms * 2 + 5
    ok_all &= flat
    out += ["", "Overview against the number of invitations:", "",
            "| invitations | overview() uncached, in-process ms | GET /officer 1 client p50 ms | p95 ms |",
            "|---:|---:|---:|---:|",
            f"| {sizes['small']['invitations']:,} | {small_ms:.1f} | {small_p50:.1f} | {small_p95:.1f} |",
            f"| {large['invitations']:,} | {large_ms:.1f} | {large_p50:.1f} | {large_p95:.1f} |", "",
            f"{factor:.0f}× the invitations, {large_ms / small_ms if small_ms else float('nan'):.2f}× the overview's "
            f"own time: {'flat (PASS)' if flat else 'GROWS (FAIL)'}. The page caches the overview for "
            "TAIWA_OVERVIEW_TTL (60 s) per worker, so GET /officer mostly measures the cached page."]
    return "\n".join(out) + "\n", ok_all


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--pg-url")
    ap.add_argument("--companies", type=int, default=3000)
    ap.add_argument("--groups", type=int, default=200)
    ap.add_argument("--dialogues", type=int, default=5000)
    ap.add_argument("--small", type=int, default=5000, help="invitations for the first overview measurement")
    ap.add_argument("--invitations", type=int, default=50000)
    ap.add_argument("--duration", type=float, default=4.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--slices", type=int, default=6, help="paired page/floor slices per page for throughput")
    ap.add_argument("--slice", type=float, default=1.5, help="seconds per throughput slice")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--strict", action="store_true", help="exit 2 when a goal is missed")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "meetings.md"))
    ap.add_argument("--internal-generate", help=argparse.SUPPRESS)
    # run-bench.sh passes the same arguments to every bench; ignore those that are web_bench's alone
    args, _others = ap.parse_known_args()
    if args.internal_generate:
        print(json.dumps(generate(*json.loads(args.internal_generate))))
        return 0
    kinds = ([] if args.no_sqlite else ["sqlite"]) + (["postgres"] if args.pg_url else [])
    if not kinds:
        ap.error("nothing to do: no backend selected")
    header = (f"## Dialogue benchmark — {time.strftime('%Y-%m-%d %H:%M %Z')}\n\n"
              f"Machine: {machine()}.  \nServers: gunicorn.conf.py (gthread), {args.workers} workers × "
              f"{args.threads} threads for Taiwa and the floor. Latency: one client, {args.duration:g} s per "
              f"measurement after {args.warmup:g} s warm-up, median of {args.rounds} interleaved rounds. "
              f"Throughput: {args.clients} keep-alive clients, {args.slices} alternating page/floor slices of "
              f"{args.slice:g} s, median of the paired ratios.\n")
    parts, ok = [], True
    with mp.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        for kind in kinds:
            k, data, sizes = bench_backend(kind, args, pool)
            text, passed = table(k, data, sizes, args)
            parts.append(text)
            ok &= passed
    report = header + "\n" + "\n".join(parts)
    print("\n" + report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"(saved to {out})")
    if not ok:
        print("Goal missed (see the table).")
        return 2 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
