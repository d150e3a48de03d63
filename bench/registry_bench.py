"""Register benchmark: the company list with searches and filters on a generated register.

    python bench/registry_bench.py                               # SQLite only
    python bench/registry_bench.py --pg-url postgresql://postgres@127.0.0.1:5432/test
    python bench/registry_bench.py --no-sqlite --pg-url ... --duration 3

For each backend: a fresh database, `flask db upgrade heads`, `flask seed-demo`
(for the demo officer), then a generated register topped up to --companies
companies (default 3,000) and --groups company groups (default 200: two thirds
supply chains with tiers and links, one third technology groups), with
associations, sectors and critical materials. Taiwa runs under gunicorn with the
product's gunicorn.conf.py; one keep-alive client (bench/web_bench.py's load
generator, in its own process) requests each page for --duration seconds after
a warm-up, --rounds times interleaved; the median round's p50/p95 is reported.

Goal (issue 3): the company list with a search, p95 ≤ 100 ms for a single client.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web_bench import (  # noqa: E402 - after the path set-up, so it runs from anywhere
    PY,
    Sample,
    Server,
    Target,
    base_env,
    database,
    free_port,
    machine,
    measure,
    run,
    seed,
    sign_in,
)

GOAL_P95_MS = 100.0
PLACES = ["北上", "相馬", "鹿島", "筑波", "秩父", "諏訪", "伊那", "加賀", "能登", "若狭", "丹波", "播磨", "出雲", "周南",
          "讃岐", "土佐", "宇和", "筑後", "肥後", "日向", "大隅", "琉球", "十勝", "釧路", "庄内", "会津", "上越", "駿河"]
PLACES_EN = ["Kitakami", "Soma", "Kashima", "Tsukuba", "Chichibu", "Suwa", "Ina", "Kaga", "Noto", "Wakasa", "Tamba",
             "Harima", "Izumo", "Shunan", "Sanuki", "Tosa", "Uwa", "Chikugo", "Higo", "Hyuga", "Osumi", "Ryukyu",
             "Tokachi", "Kushiro", "Shonai", "Aizu", "Joetsu", "Suruga"]
WORDS = [("精密", "Precision"), ("化学", "Chemical"), ("電子", "Electronics"), ("機工", "Machinery"), ("素材", "Materials"),
         ("製作所", "Works"), ("工業", "Industries"), ("技研", "Technical Laboratories"), ("金属", "Metals")]
PRODUCTS = ["パワー半導体用基板", "半導体製造装置部品", "積層セラミックコンデンサ", "リチウムイオン電池正極材", "炭素繊維",
            "ネオジム磁石", "工作機械用主軸", "抗菌薬原薬", "航空機エンジン部品", "高純度ガス", "光ファイバ", "減速機",
            "フォトレジスト", "医療用チューブ", "船舶用プロペラ", "セラミックパッケージ"]

SCENARIOS = [
    ("list", "/registry/companies", "company list, page 1, no filter", True),
    ("search-ja", "/registry/companies?q=" + urllib.parse.quote("半導体"), "search 「半導体」", True),
    ("search-en", "/registry/companies?q=PRECISION", "search \"PRECISION\" (English, any case)", True),
    ("search-filter", "/registry/companies?q=" + urllib.parse.quote("株式会社") + "&region=kanto&size=small&sector=chemicals",
     "search + region + size + sector", True),
    ("material", "/registry/companies?material=semiconductors&tech_field=computing", "material + tech field filter",
     True),
    ("deep-page", "/registry/companies?page=40", "company list, page 40", True),
    ("groups", "/registry/groups?kind=supply_chain", "group list, supply chains", False),
    ("chain", "/registry/groups/{chain}", "a supply chain with its SVG diagram", False),
]


def generate(n_companies: int, n_groups: int) -> None:
    """Runs inside the app's environment: top the register up to the requested size (core inserts)."""
    import random

    from sqlalchemy import func, insert, select

    from app import create_app
    from clearance.db import db, new_id, utcnow
    from dialogue.registry import corporate_number
    from dialogue.registry.models import (
        Association,
        Company,
        CompanyGroup,
        GroupLink,
        GroupMember,
        association_member,
        company_material,
        company_sector,
    )
    from dialogue.registry.search import search_key
    from dialogue.registry.taxonomy import CRITICAL_MATERIALS, PREFECTURES, SECTORS, TECH_FIELDS

    rng = random.Random(20240517)
    app = create_app()
    with app.app_context():
        s = db.session
        have = s.scalar(select(func.count()).select_from(Company))
        taken = set(s.scalars(select(Company.corporate_number)))
        prefs, sectors = list(PREFECTURES.items()), list(SECTORS)
        companies, sector_rows, material_rows = [], [], []
        now = utcnow()
        for n in range(max(0, n_companies - have)):
            number = corporate_number.make(f"{rng.randrange(10**11, 10**12):012d}")
            while number in taken:
                number = corporate_number.make(f"{rng.randrange(10**11, 10**12):012d}")
            taken.add(number)
            i = rng.randrange(len(PLACES))
            word, word_en = rng.choice(WORDS)
            code, (_ja, _en, region) = rng.choice(prefs)
            name_ja, name_en = f"{PLACES[i]}{word}{n:04d}株式会社", f"{PLACES_EN[i]} {word_en} {n:04d} Co., Ltd."
            products = "、".join(rng.sample(PRODUCTS, 2))
            cid = new_id()
            companies.append({"id": cid, "corporate_number": number, "name_ja": name_ja, "name_en": name_en,
                              "size_class": rng.choices(["large", "mid", "small"], [2, 3, 5])[0], "prefecture": code,
                              "region": region, "tech_field": rng.choice([None, *TECH_FIELDS]), "key_products": products,
                              "key_technologies": "", "created_at": now,
                              "search_text": search_key(number, name_ja, name_en, products)})
            sector_rows += [{"company_id": cid, "sector": x} for x in rng.sample(sectors, rng.randint(1, 2))]
            material_rows += [{"company_id": cid, "material": m}
                              for m in rng.sample(list(CRITICAL_MATERIALS), rng.randint(0, 2))]
        for table, rows in ((Company.__table__, companies), (company_sector, sector_rows),
                            (company_material, material_rows)):
            for i in range(0, len(rows), 1000):
                s.execute(insert(table), rows[i:i + 1000])
        ids = list(s.scalars(select(Company.id)))
        assoc_ids = list(s.scalars(select(Association.id)))
        members = {(a, c) for a in assoc_ids for c in rng.sample(ids, 60)}
        members -= set(s.execute(select(association_member.c.association_id, association_member.c.company_id)).all())
        if members:
            s.execute(insert(association_member), [{"association_id": a, "company_id": c} for a, c in members])
        have_groups = s.scalar(select(func.count()).select_from(CompanyGroup))
        for g in range(max(0, n_groups - have_groups)):
            chain = g % 3 != 2
            group = CompanyGroup(id=new_id(), kind="supply_chain" if chain else "technology",
                                 name_ja=f"ベンチ企業群{g:03d}", name_en=f"Bench group {g:03d}",
                                 sector=rng.choice(sectors), subject_ja=rng.choice(PRODUCTS), subject_en="")
            s.add(group)
            s.flush()
            chosen = rng.sample(ids, 8 if chain else 5)
            tiers = [1, 1, 2, 2, 3, 3, 4, 4] if chain else [None] * 5
            s.execute(insert(GroupMember), [{"id": new_id(), "group_id": group.id, "company_id": c, "tier": t}
                                            for c, t in zip(chosen, tiers, strict=True)])
            if chain:
                edges = {(chosen[i], chosen[j]) for i in range(6) for j in range(8) if tiers[j] == tiers[i] + 1
                         and rng.random() < 0.6}
                if edges:
                    s.execute(insert(GroupLink), [{"id": new_id(), "group_id": group.id, "supplier_id": a,
                                                   "customer_id": b} for a, b in edges])
        s.commit()
        chain = s.scalar(select(CompanyGroup.id).where(CompanyGroup.name_ja == "ベンチ企業群000"))
        print(f"chain: {chain}")
        print(f"register: {s.scalar(select(func.count()).select_from(Company))} companies, "
              f"{s.scalar(select(func.count()).select_from(CompanyGroup))} groups, "
              f"{s.scalar(select(func.count()).select_from(Association))} associations")


def bench_backend(kind: str, args, pool) -> tuple[str, dict[str, list[Sample]], str]:
    tmp = Path(tempfile.mkdtemp(prefix=f"taiwa-regbench-{kind}-"))
    server = None
    try:
        with database(kind, tmp, args.pg_url) as db_url:
            env = base_env(db_url, tmp, args.workers, args.threads)
            run([PY, "-c", "import sys; from clearance.crypto import ensure_dev_keyfile; ensure_dev_keyfile(sys.argv[1])",
                 str(tmp / "keys.json")], env)
            print(f"[{kind}] migrating, seeding and generating the register", flush=True)
            run([str(Path(PY).parent / "flask"), "--app", "app", "db", "upgrade", "heads"], env)
            account, _how = seed(env, tmp)
            out = run([PY, str(Path(__file__)), "--internal-generate", f"{args.companies},{args.groups}"], env)
            *_, chain_line, size = out.stdout.strip().splitlines()
            chain = chain_line.split(": ", 1)[1]
            print(f"[{kind}] {size}", flush=True)
            port = free_port()
            server = Server("taiwa", "app:create_app()", port, env, tmp / "taiwa.log")
            server.wait_ready("/login")
            cookie = sign_in(port, account)
            results: dict[str, list[Sample]] = {name: [] for name, *_ in SCENARIOS}
            for r in range(args.rounds):
                for name, path, _label, _goal in SCENARIOS:
                    path = path.format(chain=chain)
                    sample = measure(pool, Target(name, port, path, cookie), 1, args.warmup, args.duration)
                    if sample.errors:
                        print(f"    errors on {path}: {sample.error_examples}", flush=True)
                    results[name].append(sample)
                    print(f"[{kind}] round {r + 1}/{args.rounds} {name:>13}: p50 {sample.pct(.5):6.1f} ms "
                          f"p95 {sample.pct(.95):6.1f} ms ({sample.requests} requests)", flush=True)
            server.stop()
            return kind, results, size
    finally:
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def table(kind: str, results: dict[str, list[Sample]], size: str) -> tuple[str, bool]:
    title = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[kind]
    lines = [f"### {title}", "", f"Data: {size}.", "",
             "| page (1 client) | p50 ms | p95 ms | requests | goal | pass |", "|---|---:|---:|---:|---|---|"]
    ok = True
    for name, path, label, goal in SCENARIOS:
        samples = results[name]
        p50 = statistics.median(s.pct(.5) for s in samples)
        p95 = statistics.median(s.pct(.95) for s in samples)
        errors = sum(s.errors for s in samples)
        verdict = ""
        if goal:
            passed = p95 <= GOAL_P95_MS and not errors
            ok &= passed
            verdict = "PASS" if passed else "FAIL"
        if errors:
            verdict = f"{verdict} ({errors} errors)".strip()
            ok = False
        lines.append(f"| {label} <br>`{path}` | {p50:.1f} | {p95:.1f} | {sum(s.requests for s in samples)} | "
                     f"{'p95 ≤ 100 ms' if goal else ''} | {verdict} |")
    return "\n".join(lines) + "\n", ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-sqlite", action="store_true", help="skip the SQLite backend")
    ap.add_argument("--pg-url", help="PostgreSQL server for a throwaway bench database (omit: skip PostgreSQL)")
    ap.add_argument("--companies", type=int, default=3000)
    ap.add_argument("--groups", type=int, default=200)
    ap.add_argument("--duration", type=float, default=4.0, help="seconds per measurement (default 4)")
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (server log)")
    ap.add_argument("--strict", action="store_true", help="exit 2 when a goal is missed")
    ap.add_argument("--internal-generate", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.internal_generate:
        companies, groups = (int(x) for x in args.internal_generate.split(","))
        generate(companies, groups)
        return 0
    kinds = ([] if args.no_sqlite else ["sqlite"]) + (["postgres"] if args.pg_url else [])
    if not kinds:
        ap.error("nothing to do: no backend selected")
    results = []
    with mp.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        for kind in kinds:
            results.append(bench_backend(kind, args, pool))
    header = (f"## Register benchmark — {time.strftime('%Y-%m-%d %H:%M %Z')}\n\n"
              f"Machine: {machine()}.  \nServer: gunicorn.conf.py, {args.workers} workers × {args.threads} threads. "
              f"One keep-alive client, {args.duration:g} s per page after {args.warmup:g} s warm-up; median of "
              f"{args.rounds} interleaved rounds. Signed in as the demo officer.\n")
    report, all_ok = header, True
    for kind, res, size in results:
        text, ok = table(kind, res, size)
        report += "\n" + text
        all_ok &= ok
    print("\n" + report)
    errors = any(s.errors for _k, res, _s in results for samples in res.values() for s in samples)
    if errors:
        print("REGISTER BENCH FAILED: some responses were not 200 (see above).", file=sys.stderr)
        return 1
    if not all_ok:
        print("REGISTER BENCH: a goal was missed.", file=sys.stderr)
        return 2 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
