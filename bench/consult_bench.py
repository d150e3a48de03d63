"""Consultation desk benchmark: submissions end to end, Argon2id included, under the production server set-up.

    python bench/consult_bench.py                          # SQLite, 60 s of 20 concurrent submitters
    python bench/consult_bench.py --duration 20 --clients 10
    python bench/consult_bench.py --pg-url postgresql://postgres@127.0.0.1:5432/test

A fresh database (SQLite file in a temp dir, or a throwaway PostgreSQL database)
is migrated; gunicorn starts with the product's gunicorn.conf.py and the
standard Argon2id profile (64 MiB, 3 passes). The desk's abuse checks that
would stop a robot (minimum form time, per-client and global limits) are
relaxed through their TAIWA_CONSULT_* settings; everything else is as in
production, including metadata cleaning of a JPEG attachment.

One "submission" is what a visitor does: GET the form, POST it (the case, the
receipt and its Argon2id hash), confirm the receipt, GET the case page.

1. Sequential: --samples submissions one after another; p50/p95 of the whole
   submission and of the POST alone. Goal: p95 ≤ 1 s.
2. Concurrent: --clients submitters for --duration seconds. Goal: zero errors;
   throughput and p95 are reported.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
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
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SECRET_KEY = "bench-secret-key-not-for-production-0123456789abcdef"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM_TOKEN = re.compile(r'name="form_token" type="hidden" value="([^"]+)"')
RECEIPT = re.compile(r'class="receipt-group">(\d{5})<')
GOAL_P95 = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jpeg_with_exif() -> bytes:
    from PIL import Image

    img = Image.new("RGB", (640, 480), (120, 140, 160))
    exif = Image.Exif()
    exif[0x0110] = "BenchCam"
    exif.get_ifd(0x8825).update({1: "N", 2: (35.0, 40.0, 1.0), 3: "E", 4: (139.0, 45.0, 2.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), quality=85)
    return out.getvalue()


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = "----desk" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, data in files:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: application/octet-stream\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


class Submitter:
    """One visitor with its own connection and desk cookie."""

    def __init__(self, port: int, attachment: bytes | None) -> None:
        self.port = port
        self.attachment = attachment
        self.cookie: str | None = None
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, ctype: str | None = None):
        headers = {"User-Agent": "consult-bench"}
        if self.cookie:
            headers["Cookie"] = f"taiwa_desk={self.cookie}"
        if ctype:
            headers["Content-Type"] = ctype
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        for value in resp.headers.get_all("Set-Cookie") or []:
            m = re.match(r"taiwa_desk=([^;]*)", value)
            if m:
                self.cookie = m.group(1) or None
        return resp.status, data.decode("utf-8", "replace")

    def submit(self) -> tuple[float, float]:
        """One whole submission; returns (seconds for all of it, seconds for the POST)."""
        start = time.perf_counter()
        status, html = self.request("GET", "/consult/new")
        expect(status, 200, "GET /consult/new", html)
        fields = {"csrf_token": CSRF.search(html).group(1), "form_token": FORM_TOKEN.search(html).group(1),
                  "category": "technology_transfer", "sector": "semiconductors", "tier": "2", "size_class": "small",
                  "text": "A customer abroad asks for our process drawings. " * 8}
        files = [("files", "photo.jpg", self.attachment)] if self.attachment else []
        body, ctype = multipart(fields, files)
        post_start = time.perf_counter()
        status, html = self.request("POST", "/consult/new", body, ctype)
        post = time.perf_counter() - post_start
        expect(status, 200, "POST /consult/new", html)
        code = "".join(RECEIPT.findall(html))
        if len(code) != 25:
            raise BenchError("no receipt on the receipt page")
        confirm = urllib.parse.urlencode({"csrf_token": CSRF.search(html).group(1), "receipt": code,
                                          "last_group": code[-5:], "written_down": "y"}).encode()
        status, html = self.request("POST", "/consult/new/confirm", confirm, "application/x-www-form-urlencoded")
        expect(status, 303, "POST /consult/new/confirm", html)
        status, html = self.request("GET", "/consult/case")
        expect(status, 200, "GET /consult/case", html)
        return time.perf_counter() - start, post


class BenchError(Exception):
    pass


def expect(status: int, wanted: int, what: str, body: str) -> None:
    if status != wanted:
        raise BenchError(f"{what}: HTTP {status} (wanted {wanted}): {re.sub(r'<[^>]+>', ' ', body)[:200]!r}")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@dataclass
class Result:
    total: list[float] = field(default_factory=list)
    post: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def sequential(port: int, samples: int, attachment: bytes | None) -> Result:
    res = Result()
    for _ in range(4):  # warm-up: each worker's first request loads the pepper, keys and templates
        Submitter(port, attachment).submit()
    t0 = time.perf_counter()
    for _ in range(samples):
        s = Submitter(port, attachment)  # the next visitor
        try:
            total, post = s.submit()
            res.total.append(total)
            res.post.append(post)
        except BenchError as exc:
            res.errors.append(str(exc))
        finally:
            s.conn.close()
    res.seconds = time.perf_counter() - t0
    return res


def concurrent(port: int, clients: int, duration: float, attachment: bytes | None) -> Result:
    res = Result()
    lock = threading.Lock()
    stop_at = time.perf_counter() + duration

    def worker() -> None:
        while time.perf_counter() < stop_at:
            s = Submitter(port, attachment)  # every submission is a new visitor on a new connection
            try:
                total, post = s.submit()
                with lock:
                    res.total.append(total)
                    res.post.append(post)
            except (BenchError, OSError, http.client.HTTPException) as exc:
                with lock:
                    res.errors.append(str(exc)[:300])
            finally:
                s.conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 120)
    res.seconds = time.perf_counter() - t0
    return res


def argon2_floor(n: int = 10) -> float:
    from argon2 import PasswordHasher, Type

    ph = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        ph.hash(secrets.token_hex(32))
        times.append(time.perf_counter() - t)
    return statistics.median(times)


@contextlib.contextmanager
def database(tmp: Path, pg_url: str | None):
    if not pg_url:
        yield f"sqlite:///{tmp / 'consult-bench.db'}"
        return
    import psycopg

    name = f"consult_bench_{secrets.token_hex(4)}"
    admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(db_url: str, tmp: Path, workers: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAIWA_") and k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=db_url, TAIWA_SECRET_KEY=SECRET_KEY, TAIWA_ENV="development", TAIWA_ARGON2="standard",
        TAIWA_KEY_FILE=str(tmp / "keys.json"), TAIWA_CREATE_DEV_KEYS="1", TAIWA_FILES_DIR=str(tmp / "files"),
        # The robot is fast and comes from one address: relax what would stop it, keep everything else.
        TAIWA_CONSULT_MIN_FORM_SECONDS="0", TAIWA_CONSULT_SUBMITS_PER_CLIENT="100000000",
        TAIWA_CONSULT_SUBMITS_GLOBAL="100000000", TAIWA_CONSULT_SESSIONS_PER_CLIENT="100000000",
        TAIWA_CONSULT_SESSIONS_GLOBAL="100000000", PYTHONDONTWRITEBYTECODE="1",
    )
    if workers:
        env["TAIWA_WORKERS"] = str(workers)
    return env


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    fh = open(log, "w")
    return subprocess.Popen(
        [str(Path(PY).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "app:create_app()"],
        cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
    )


def wait_ready(proc: subprocess.Popen, port: int, log: Path, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited; log:\n{log.read_text()[-3000:]}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server did not become healthy; log:\n{log.read_text()[-3000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)  # our own gunicorn master, by pid
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def run_backend(label: str, args, attachment: bytes | None) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="consult-bench-"))
    try:
        with database(tmp, args.pg_url if label == "PostgreSQL" else None) as db_url:
            env = server_env(db_url, tmp, args.workers)
            migrate = subprocess.run([str(Path(PY).parent / "flask"), "--app", "app", "db", "upgrade", "heads"],
                                     cwd=ROOT, env=env, capture_output=True, text=True)
            if migrate.returncode != 0:
                raise SystemExit(f"migration failed:\n{migrate.stderr[-3000:]}")
            port = free_port()
            log = tmp / "gunicorn.log"
            proc = start_server(env, port, log)
            try:
                wait_ready(proc, port, log)
                seq = sequential(port, args.samples, attachment)
                conc = concurrent(port, args.clients, args.duration, attachment)
            finally:
                stop_server(proc)
            access = log.read_text(errors="replace")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    seq_p95, conc_p95 = pct(seq.total, 95), pct(conc.total, 95)
    ok_seq = not seq.errors and seq_p95 <= GOAL_P95
    ok_conc = not conc.errors
    print(f"\n### {label}\n")
    print("| measurement | submissions | errors | throughput | p50 | p95 | goal |")
    print("|---|---:|---:|---:|---:|---:|---|")
    print(f"| one submitter, whole submission | {len(seq.total)} | {len(seq.errors)} | "
          f"{len(seq.total) / seq.seconds:.2f}/s | {pct(seq.total, 50) * 1000:.0f} ms | {seq_p95 * 1000:.0f} ms | "
          f"p95 ≤ {GOAL_P95 * 1000:.0f} ms: {'met' if ok_seq else 'MISSED'} |")
    print(f"| one submitter, POST with Argon2id only | {len(seq.post)} | – | – | {pct(seq.post, 50) * 1000:.0f} ms | "
          f"{pct(seq.post, 95) * 1000:.0f} ms | – |")
    print(f"| {args.clients} concurrent submitters, {args.duration:.0f} s | {len(conc.total)} | {len(conc.errors)} | "
          f"{len(conc.total) / conc.seconds:.2f}/s | {pct(conc.total, 50) * 1000:.0f} ms | {conc_p95 * 1000:.0f} ms | "
          f"zero errors: {'met' if ok_conc else 'MISSED'} |")
    print(f"| {args.clients} concurrent submitters, POST only | {len(conc.post)} | – | – | "
          f"{pct(conc.post, 50) * 1000:.0f} ms | {pct(conc.post, 95) * 1000:.0f} ms | – |")
    if "/consult" in access:
        print("\nWARNING: the access log names /consult: the privacy logger is not in use.")
        ok_conc = False
    for e in sorted(set(seq.errors + conc.errors))[:5]:
        print(f"  error: {e}")
    return 0 if ok_seq and ok_conc else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of concurrent load (default 60)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent submitters (default 20)")
    ap.add_argument("--samples", type=int, default=30, help="sequential submissions for the p95 (default 30)")
    ap.add_argument("--workers", type=int, default=None, help="TAIWA_WORKERS for gunicorn (default: gunicorn.conf.py)")
    ap.add_argument("--pg-url", default=None, help="also run on this PostgreSQL server")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--no-file", action="store_true", help="submit without the JPEG attachment")
    args = ap.parse_args()
    attachment = None if args.no_file else jpeg_with_exif()
    print("## Consultation desk benchmark (bench/consult_bench.py)\n")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}. "
          f"Server: gunicorn.conf.py (gthread){f', TAIWA_WORKERS={args.workers}' if args.workers else ''}; "
          f"Argon2id standard profile (64 MiB, t=3, p=4): {argon2_floor() * 1000:.0f} ms per hash alone. "
          f"Each submission: GET form, POST ({'with a 640×480 JPEG to clean' if attachment else 'no file'}), "
          f"confirm, GET case.")
    rc = 0
    if not args.no_sqlite:
        rc |= run_backend("SQLite", args, attachment)
    if args.pg_url:
        rc |= run_backend("PostgreSQL", args, attachment)
    return rc


if __name__ == "__main__":
    sys.exit(main())
