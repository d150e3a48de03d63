"""Web benchmark: Taiwa pages against a bare Flask floor, same server set-up, same run.

    python bench/web_bench.py                                   # SQLite only
    python bench/web_bench.py --pg-url postgresql://postgres@127.0.0.1:5432/test
    python bench/web_bench.py --no-sqlite --pg-url ... --duration 5

For each backend: a fresh database (SQLite file in a temp dir, or a new PostgreSQL
database bench_<random> that is dropped afterwards), migrated with `flask db upgrade heads`
and seeded with `flask seed-demo` (or, until that exists, a built-in fallback of
the same shape). Two gunicorn servers start with the product's gunicorn.conf.py and
the same TAIWA_WORKERS × TAIWA_THREADS: Taiwa itself and bench/floor_app.py.
A separate load-generator process drives each endpoint from N keep-alive
http.client connections for --duration seconds after a warm-up; every
measurement is repeated --rounds times, endpoints interleaved, and the median
round is reported. Any non-200 answer is an error and fails the run.

Goal: the signed-in officer home page serves >= 40 % of the floor's throughput.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing as mp
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
GOAL = 0.40  # home page throughput / floor throughput
COOKIE = "taiwa_session"
SECRET_KEY = "bench-secret-key-not-for-production-0123456789abcdef"
FALLBACK_PASSWORD = "bench horse battery staple 2024"


# --------------------------------------------------------------------------- load generator


@dataclass
class Target:
    name: str
    port: int
    path: str
    cookie: str | None = None  # "name=value" sent on every request, like a browser


@dataclass
class Sample:
    name: str
    clients: int
    duration: float
    requests: int = 0
    errors: int = 0
    reconnects: int = 0
    error_examples: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    client_cpu: float = 0.0  # load-generator CPU seconds per wall second (how busy the client was)

    @property
    def rps(self) -> float:
        return self.requests / self.duration

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        s = sorted(self.latencies_ms)
        return s[min(len(s) - 1, int(len(s) * p))]


def _load(target: Target, clients: int, warmup: float, duration: float) -> Sample:
    """Runs in its own process: `clients` threads, one keep-alive connection each."""
    headers = {"Accept": "text/html", "User-Agent": "taiwa-bench/1", "Accept-Language": "ja"}
    if target.cookie:
        headers["Cookie"] = target.cookie
    start = time.perf_counter() + 0.05
    measure_from = start + warmup
    stop = measure_from + duration
    lock = threading.Lock()
    out = Sample(target.name, clients, duration)

    def worker() -> None:
        lat: list[float] = []
        errors = reconnects = 0
        examples: list[str] = []
        conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
        while time.perf_counter() < start:
            time.sleep(0.001)
        while True:
            t0 = time.perf_counter()
            if t0 >= stop:
                break
            status, detail = 0, ""
            for attempt in (1, 2):  # a closed keep-alive connection is retried once, as browsers do
                try:
                    conn.request("GET", target.path, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                    status = resp.status
                    detail = resp.getheader("Location", "") or ""
                    if resp.will_close:
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
                    break
                except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
                    reconnects += 1
                    detail = repr(exc)
                    if attempt == 2:
                        status = -1
            t1 = time.perf_counter()
            if t0 < measure_from:
                continue
            lat.append((t1 - t0) * 1000)
            if status != 200:
                errors += 1
                if len(examples) < 3:
                    examples.append(f"{status} {detail}".strip())
        conn.close()
        with lock:
            out.latencies_ms.extend(lat)
            out.errors += errors
            out.reconnects += reconnects
            out.error_examples.extend(examples[: 5 - len(out.error_examples)])

    cpu0 = time.process_time()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.client_cpu = (time.process_time() - cpu0) / (time.perf_counter() - start)
    out.requests = len(out.latencies_ms)
    return out


def measure(pool, target: Target, clients: int, warmup: float, duration: float) -> Sample:
    return pool.apply(_load, (target, clients, warmup, duration))


@dataclass
class Paired:
    """Throughput of a page against the floor, measured in alternating short slices."""

    ratios: list[float]
    page: list[Sample]
    floor: list[Sample]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios) if self.ratios else float("nan")


def paired(pool, page: Target, floor: Target, clients: int, slices: int, slice_s: float) -> Paired:
    """On a shared machine another process's burst can halve one measurement. Alternating page and
    floor slices of a second or two (page first on odd slices) lets each ratio compare neighbours
    in time; the median ratio is what is reported."""
    out = Paired([], [], [])
    for i in range(slices):
        order = (page, floor) if i % 2 else (floor, page)
        got = {t.name: measure(pool, t, clients, 0.3, slice_s) for t in order}
        p, f = got[page.name], got[floor.name]
        out.page.append(p)
        out.floor.append(f)
        if f.rps:
            out.ratios.append(p.rps / f.rps)
    return out


# --------------------------------------------------------------------------- servers and databases


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(db_url: str, tmp: Path, workers: int, threads: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAIWA_") and k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=db_url,
        TAIWA_SECRET_KEY=SECRET_KEY,
        TAIWA_KEY_FILE=str(tmp / "keys.json"),
        TAIWA_ENV="development",
        TAIWA_WORKERS=str(workers),
        TAIWA_THREADS=str(threads),
        FLASK_APP="app",
        PYTHONDONTWRITEBYTECODE="1",
        TAIWA_PERIODIC="0",  # no maintenance runner beside the measured servers
    )
    return env


def run(cmd: list[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return proc


class Server:
    def __init__(self, name: str, app_spec: str, port: int, env: dict[str, str], log: Path) -> None:
        self.name, self.port, self.log = name, port, log
        self.fh = open(log, "w")  # the access log goes here (gunicorn.conf.py logs every request)
        self.proc = subprocess.Popen(
            [str(Path(PY).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "--control-socket", str(log.with_suffix(".ctl")), app_spec],
            cwd=ROOT, env=env, stdout=self.fh, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} server exited; log:\n{self.log.read_text()[-3000:]}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                c.close()
                if r.status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name} server did not answer on :{self.port}; log:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)  # our own gunicorn master, by pid
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.fh.close()

    def worker_boots(self) -> int:
        return self.log.read_text(errors="replace").count("Booting worker")


@contextlib.contextmanager
def database(kind: str, tmp: Path, pg_url: str | None):
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    import psycopg

    name = f"bench_{secrets.token_hex(4)}"
    admin_url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(admin_url)
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------- seeding


def find_officer(doc) -> dict | None:
    """demo-accounts.json: accept a list of accounts or a mapping role -> account."""
    found: list[tuple[str, dict]] = []

    def walk(node, key: str = "") -> None:
        if isinstance(node, dict):
            if "email" in node and "password" in node:
                found.append((str(node.get("role", key)), node))
                return
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            for v in node:
                walk(v, key)

    walk(doc)
    for role, acct in found:
        if role == "officer" and acct.get("totp_secret"):
            return acct
    return None


def seed(env: dict[str, str], tmp: Path) -> tuple[dict, str]:
    accounts = tmp / "accounts.json"
    proc = run([str(Path(PY).parent / "flask"), "--app", "app", "seed-demo", "--accounts-file", str(accounts)],
               env, check=False)
    if proc.returncode == 0 and accounts.exists():
        officer = find_officer(json.loads(accounts.read_text()))
        if officer:
            return officer, "flask seed-demo"
        reason = "no officer with a TOTP secret in the accounts file"
    else:
        reason = (proc.stderr.strip().splitlines() or ["?"])[-1][:200]
    print(f"  seed-demo not usable ({reason}); using the built-in fallback seed", flush=True)
    run([PY, str(Path(__file__)), "--internal-seed", str(accounts)], env)
    return json.loads(accounts.read_text()), "built-in fallback (bench/web_bench.py)"


def fallback_seed(accounts_file: Path) -> None:
    """Runs inside the app's environment: 120 companies, 12 associations, 16 groups, an officer."""
    import random

    import pyotp

    sys.path.insert(0, str(ROOT))
    from app import create_app
    from clearance.auth import passwords
    from clearance.auth.models import UserAccount
    from clearance.db import db, new_id, utcnow
    from dialogue.registry import corporate_number
    from dialogue.registry.models import Association, Company, CompanyGroup, GroupMember
    from dialogue.registry.taxonomy import PREFECTURES, SECTORS

    rng = random.Random(20240601)
    app = create_app()
    with app.app_context():
        prefs = list(PREFECTURES.items())
        companies = []
        for n in range(120):
            code, (_ja, _en, region) = rng.choice(prefs)
            companies.append(Company(
                id=new_id(), corporate_number=corporate_number.make(f"{n + 5 * 10**6:012d}"),
                name_ja=f"ベンチ工業{n}株式会社", name_en=f"Bench Industries {n}",
                size_class=rng.choices(["large", "mid", "small"], [2, 3, 5])[0],
                prefecture=code, region=region, key_products="",
            ))
        db.session.add_all(companies)
        sectors = list(SECTORS)
        for n in range(12):
            db.session.add(Association(name_ja=f"ベンチ協会{n}", name_en=f"Bench Association {n}",
                                       sector=sectors[n % len(sectors)], members=rng.sample(companies, 15)))
        for n in range(16):
            g = CompanyGroup(kind="supply_chain" if n % 2 else "technology", name_ja=f"ベンチ企業群{n}",
                             name_en=f"Bench group {n}", sector=sectors[n % len(sectors)])
            g.members = [GroupMember(company=c, tier=(i % 4) + 1 if g.kind == "supply_chain" else None)
                         for i, c in enumerate(rng.sample(companies, 8))]
            db.session.add(g)
        secret = pyotp.random_base32(32)
        user = UserAccount(id=new_id(), email="officer@bench.example.jp", display_name="ベンチ 担当官",
                           role="officer", password_hash=passwords.hash_password(FALLBACK_PASSWORD), active=True)
        user.totp_secret = secret
        user.totp_enabled_at = utcnow()
        db.session.add(user)
        db.session.commit()
    accounts_file.write_text(json.dumps({"email": "officer@bench.example.jp", "password": FALLBACK_PASSWORD,
                                         "totp_secret": secret, "role": "officer"}))


# --------------------------------------------------------------------------- sign-in


class Browser:
    """Just enough of a browser: one cookie, forms, no redirect following."""

    def __init__(self, port: int) -> None:
        self.port, self.cookie = port, None

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Accept-Language": "ja"}
        body = None
        if self.cookie:
            headers["Cookie"] = f"{COOKIE}={self.cookie}"
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        for name, value in r.getheaders():
            if name.lower() == "set-cookie" and value.startswith(COOKIE + "="):
                self.cookie = value.split(";", 1)[0].split("=", 1)[1] or None
        c.close()
        return r.status, dict(r.getheaders()), text

    def csrf(self, path: str) -> str:
        status, _h, html = self.request("GET", path)
        m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        if status != 200 or not m:
            raise SystemExit(f"no CSRF token on {path} (HTTP {status})")
        return m.group(1)


def sign_in(port: int, account: dict) -> str:
    import pyotp

    b = Browser(port)
    status, h, _ = b.request("POST", "/login", {"csrf_token": b.csrf("/login"),
                                                 "email": account["email"], "password": account["password"]})
    if status != 302 or not h.get("Location", "").endswith("/login/totp"):
        raise SystemExit(f"sign-in failed at the password step: HTTP {status} → {h.get('Location')}")
    token = b.csrf("/login/totp")
    status, h, _ = b.request("POST", "/login/totp", {"csrf_token": token,
                                                      "code": pyotp.TOTP(account["totp_secret"]).now()})
    if status != 302:
        raise SystemExit(f"sign-in failed at the second factor: HTTP {status}")
    status, _h, html = b.request("GET", "/officer")
    if status != 200:
        raise SystemExit(f"/officer answered HTTP {status} after sign-in")
    return f"{COOKIE}={b.cookie}"


def anonymous_cookie(port: int) -> str:
    """What a browser holds after its first visit to /login (the CSRF token lives in that session)."""
    b = Browser(port)
    b.request("GET", "/login")
    if not b.cookie:
        raise SystemExit("GET /login set no session cookie")
    return f"{COOKIE}={b.cookie}"


# --------------------------------------------------------------------------- one backend


@dataclass
class Row:
    name: str
    label: str
    multi: list[Sample]
    single: list[Sample]

    def med(self, samples: list[Sample], what: str) -> float:
        if what == "rps":
            return statistics.median(s.rps for s in samples)
        return statistics.median(s.pct(float(what)) for s in samples)

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.multi + self.single)


def bench_backend(kind: str, args, pool) -> tuple[str, list[Row], dict]:
    tmp = Path(tempfile.mkdtemp(prefix=f"taiwa-bench-{kind}-"))
    servers: list[Server] = []
    try:
        with database(kind, tmp, args.pg_url) as db_url:
            env = base_env(db_url, tmp, args.workers, args.threads)
            run([PY, "-c", "import sys; from clearance.crypto import ensure_dev_keyfile; ensure_dev_keyfile(sys.argv[1])",
                 str(tmp / "keys.json")], env)
            print(f"[{kind}] migrating and seeding a fresh database", flush=True)
            run([str(Path(PY).parent / "flask"), "--app", "app", "db", "upgrade", "heads"], env)
            account, seeded_by = seed(env, tmp)
            app_port, floor_port = free_port(), free_port()
            servers.append(Server("taiwa", "app:create_app()", app_port, env, tmp / "taiwa.log"))
            servers.append(Server("floor", "bench.floor_app:create_app()", floor_port,
                                  dict(env, BENCH_FLOOR_EMAIL=account["email"]), tmp / "floor.log"))
            servers[0].wait_ready("/login")
            servers[1].wait_ready("/floor")
            home_cookie = sign_in(app_port, account)
            login_cookie = anonymous_cookie(app_port)
            targets = [Target("floor", floor_port, "/floor"),
                       Target("login", app_port, "/login", login_cookie),
                       Target("home", app_port, "/officer", home_cookie)]
            if args.login_without_cookie:
                targets.append(Target("login-nocookie", app_port, "/login"))
            labels = {"floor": "FLOOR: one indexed query (bare Flask)", "login": "GET /login (sign-in page)",
                      "home": "GET /officer (signed-in home)", "login-nocookie": "GET /login, no cookie kept"}
            rows = {t.name: Row(t.name, labels[t.name], [], []) for t in targets}
            for r in range(args.rounds):
                for t in targets:
                    s = measure(pool, t, args.clients, args.warmup, args.duration)
                    rows[t.name].multi.append(s)
                    one = measure(pool, t, 1, args.warmup / 2, args.single_duration)
                    rows[t.name].single.append(one)
                    print(f"[{kind}] round {r + 1}/{args.rounds} {t.name:>14}: {s.rps:8.1f} req/s "
                          f"p50 {s.pct(.5):6.1f} ms p95 {s.pct(.95):6.1f} ms | 1 client p50 {one.pct(.5):5.1f} ms"
                          f" | errors {s.errors + one.errors}, client CPU {s.client_cpu:.2f}", flush=True)
                    for ex in (s.error_examples + one.error_examples)[:3]:
                        print(f"    error: {ex}", flush=True)
                    if s.errors + one.errors and not args.keep:
                        args.keep = True  # keep the server logs for the post-mortem
                        log = servers[0].log.read_text(errors="replace")
                        if "Traceback" in log:
                            tb = log[log.rindex("Traceback"):][:2000]
                            print("    last traceback in the taiwa log:\n      " + tb.replace("\n", "\n      "),
                                  flush=True)
                    for sv in servers:
                        if sv.proc.poll() is not None:
                            args.keep = True
                            raise SystemExit(f"[{kind}] the {sv.name} server exited (code {sv.proc.returncode}) "
                                             f"during the run; its log is {sv.log}:\n"
                                             + sv.log.read_text(errors="replace")[-2500:])
            floor_t = targets[0]
            pairs = {}
            for t in targets[1:]:  # the ratio that decides: alternating page/floor slices (see paired())
                pairs[t.name] = pr = paired(pool, t, floor_t, args.clients, args.slices, args.slice)
                print(f"[{kind}] {t.name:>14}: {args.slices} paired slices: "
                      + " ".join(f"{x:.0%}" for x in pr.ratios) + f" → median {pr.ratio:.0%}", flush=True)
            info = {"seeded_by": seeded_by, "boots": {sv.name: sv.worker_boots() for sv in servers},
                    "db": re.sub(r"//[^@/]*@", "//", db_url), "pairs": pairs}
            for sv in servers:
                sv.stop()
            return kind, list(rows.values()), info
    finally:
        for sv in servers:
            with contextlib.suppress(Exception):
                sv.stop()
        if args.keep:
            print(f"[{kind}] kept {tmp} (server logs, database)", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- report


def table(kind: str, rows: list[Row], info: dict, args) -> str:
    floor = next(r for r in rows if r.name == "floor")
    floor_rps = floor.med(floor.multi, "rps")
    title = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[kind]
    out = [f"### {title}", "",
           f"Seed: {info['seeded_by']}. Worker boots seen (gunicorn recycles after max_requests): "
           f"taiwa {info['boots']['taiwa']}, floor {info['boots']['floor']}.", "",
           f"| endpoint | req/s | p50 ms | p95 ms | 1 client p50 / p95 ms | % of floor (round medians) "
           f"| % of floor, median of {args.slices} paired slices | goal | pass |",
           "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        rps = r.med(r.multi, "rps")
        ratio = rps / floor_rps if floor_rps else float("nan")
        pr = info["pairs"].get(r.name)
        paired_text = f"{pr.ratio:.0%} ({min(pr.ratios):.0%}–{max(pr.ratios):.0%})" if pr and pr.ratios else ""
        goal, ok = "", ""
        if r.name == "home":
            goal = f"≥ {GOAL:.0%}"
            ok = "PASS" if pr and pr.ratio >= GOAL and r.errors == 0 else "FAIL"
        if r.errors:
            ok = (ok + " " if ok else "") + f"({r.errors} errors)"
        out.append(f"| {r.label} | {rps:.0f} | {r.med(r.multi, '.5'):.1f} | {r.med(r.multi, '.95'):.1f} | "
                   f"{r.med(r.single, '.5'):.1f} / {r.med(r.single, '.95'):.1f} | {ratio:.0%} | {paired_text} | "
                   f"{goal} | {ok} |")
    return "\n".join(out) + "\n"


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPU ({model}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-sqlite", action="store_true", help="skip the SQLite backend")
    ap.add_argument("--pg-url", help="PostgreSQL server to create the bench database on (omit: skip PostgreSQL)")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    ap.add_argument("--single-duration", type=float, default=3.0, help="seconds for the 1-client measurement")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds of unrecorded warm-up per measurement")
    ap.add_argument("--rounds", type=int, default=3, help="repeats (median reported; default 3)")
    ap.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients (default 8)")
    ap.add_argument("--slices", type=int, default=8, help="paired page/floor slices per endpoint (default 8)")
    ap.add_argument("--slice", type=float, default=1.5, help="seconds per paired slice (default 1.5)")
    ap.add_argument("--workers", type=int, default=2, help="TAIWA_WORKERS for both servers (default 2)")
    ap.add_argument("--threads", type=int, default=2, help="TAIWA_THREADS for both servers (default 2)")
    ap.add_argument("--login-without-cookie", action="store_true",
                    help="also measure GET /login from clients that drop the cookie (a new session each time)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.md"))
    ap.add_argument("--strict", action="store_true", help="exit 2 when the goal is missed")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (server logs)")
    ap.add_argument("--internal-seed", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.internal_seed:
        fallback_seed(Path(args.internal_seed))
        return 0
    kinds = ([] if args.no_sqlite else ["sqlite"]) + (["postgres"] if args.pg_url else [])
    if not kinds:
        ap.error("nothing to do: no backend selected")

    header = (f"## Web benchmark — {time.strftime('%Y-%m-%d %H:%M %Z')}\n\n"
              f"Machine: {machine()}.  \nServers: gunicorn.conf.py (gthread), {args.workers} workers × "
              f"{args.threads} threads, for Taiwa and the floor alike. Load: {args.clients} keep-alive clients, "
              f"{args.duration:g} s per measurement after {args.warmup:g} s warm-up (1-client column: "
              f"{args.single_duration:g} s); median of {args.rounds} interleaved rounds. The goal is judged on "
              f"{args.slices} alternating page/floor slices of {args.slice:g} s (median of the paired ratios).\n")
    results = []
    ctx = mp.get_context("spawn")
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        for kind in kinds:
            results.append(bench_backend(kind, args, pool))
    report = header + "\n" + "\n".join(table(*res, args) for res in results)
    print("\n" + report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"(saved to {out})")
    errors = missed = False
    for _kind, rows, info in results:
        for r in rows:
            errors |= r.errors > 0
        missed |= info["pairs"]["home"].ratio < GOAL
    if errors:
        print("BENCH FAILED: some responses were not 200 (see the errors above).", file=sys.stderr)
        return 1
    if missed:
        print(f"Goal missed: the home page is below {GOAL:.0%} of the floor (see docs/PERFORMANCE.md).")
        return 2 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
