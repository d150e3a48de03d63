"""Signed-in pages with encryption on vs off (issue 5 goal: slowdown <= 10%).

    .venv/bin/python bench/encryption_pages_bench.py [--rounds 200] [--logins 40]

Two databases are seeded identically (demo data plus a bench officer with
TOTP): one under the real key provider, one under a pass-through provider
that implements the same interface with an identity wrap (a test double that
exists only in this file: data keys are stored unwrapped, so the per-record
KEK step disappears). The same process then requests the same pages of
both apps, interleaved A/B/B/A so drift cancels, and compares medians:

* the officer home (`/officer`) and the account page (`/account/`, which
  shows the TOTP status);
* the whole sign-in (password page, password, TOTP page, code), which
  decrypts the TOTP secret; Argon2id runs with the test profile here so the
  crypto share is as large as it can be (the standard profile only dilutes it).

A last column counts EncryptedField/stream openings per request, measured in
a separate pass, so a 0% on a page that decrypts nothing is read as such.
"""

from __future__ import annotations

import argparse
import gc
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyotp
from sqlalchemy import update

from clearance import crypto
from clearance.crypto import envelope, keys
from clearance.crypto.keys import KeyVersion

GOAL = 0.10
PASSWORD = "bench officer passphrase 2026"


class PassThroughProvider:
    """Provider interface with an identity wrap: 'encryption off' for the KEK layer. Bench only."""

    def current(self) -> tuple[str, int]:
        return ("plain", 1)

    def versions(self) -> list[KeyVersion]:
        return [KeyVersion("plain", 1, current=True)]

    def wrap_dek(self, dek: bytes, key_id: str, version: int, ad: bytes) -> bytes:
        return bytes(dek)

    def unwrap_dek(self, wrapped: bytes, key_id: str, version: int, ad: bytes) -> bytes:
        return bytes(wrapped)


class Dispatch:
    """The real provider for its own key versions, the pass-through one for "plain"."""

    def __init__(self, real: Any, plain: PassThroughProvider) -> None:
        self.real, self.plain = real, plain

    def _for(self, key_id: str) -> Any:
        return self.plain if key_id == "plain" else self.real

    def current(self) -> tuple[str, int]:
        return self.plain.current()

    def versions(self) -> list[KeyVersion]:
        return self.plain.versions() + self.real.versions()

    def wrap_dek(self, dek: bytes, key_id: str, version: int, ad: bytes) -> bytes:
        return self._for(key_id).wrap_dek(dek, key_id, version, ad)

    def unwrap_dek(self, wrapped: bytes, key_id: str, version: int, ad: bytes) -> bytes:
        return self._for(key_id).unwrap_dek(wrapped, key_id, version, ad)


def create(tmp: Path, name: str) -> Any:
    from app import create_app

    return create_app({
        "TAIWA_ENV": "development",
        "SECRET_KEY": "bench-secret-" + "x" * 40,
        "TAIWA_ARGON2": "fast",
        "TAIWA_KEY_FILE": str(tmp / "keys.json"),
        "TAIWA_CREATE_DEV_KEYS": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / (name + '.db')}",
        "TAIWA_FILES_DIR": str(tmp / (name + "-files")),
        "TAIWA_LOGIN_MAX_FAILURES": 10_000,
        "TAIWA_CLIENT_MAX_FAILURES": 10_000,
    })


def make_apps(tmp: Path) -> tuple[Any, Any, Any]:
    """One seeded database under the real keys, and a byte-for-byte copy whose every
    data key was then re-wrapped to the pass-through provider (rotate_keys): the two
    differ only in their key headers, so page layout and query plans are identical."""
    import shutil
    import sqlite3

    from flask_migrate import upgrade

    from clearance.auth import passwords
    from clearance.auth.models import UserAccount
    from clearance.db import db, new_id, utcnow
    from dialogue.demo.seed import seed

    app_on = create(tmp, "on")
    real = keys.get_provider()
    with app_on.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"), revision="heads")
        seed(db.session, app_on.config, tmp / "demo-accounts.json", if_empty=True)
        secret = pyotp.random_base32(32)
        user = UserAccount(id=new_id(), email="bench-officer@example.go.jp", display_name="ベンチ 担当官",
                           role="officer", password_hash=passwords.hash_password(PASSWORD), locale="ja")
        user.totp_secret = secret
        user.totp_enabled_at = utcnow()
        db.session.add(user)
        db.session.commit()
        user_id = user.id
        db.engine.dispose()
    src, dst = sqlite3.connect(tmp / "on.db"), sqlite3.connect(tmp / "off.db")
    src.backup(dst)
    src.close()
    dst.close()
    if (tmp / "on-files").exists():
        shutil.copytree(tmp / "on-files", tmp / "off-files")
    app_off = create(tmp, "off")
    off = Dispatch(real, PassThroughProvider())
    crypto.configure(off)
    with app_off.app_context():
        report = crypto.rotate_keys(db.session, provider=off)
        assert report.finished and not report.failures, report
        db.engine.dispose()
    for app, provider in ((app_on, real), (app_off, off)):
        app.bench = {"secret": secret, "email": "bench-officer@example.go.jp", "user_id": user_id,
                     "provider": provider}
    return app_on, app_off, real


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token"
    return m.group(1)


def reset_totp_step(app: Any) -> None:
    from clearance.auth.models import UserAccount
    from clearance.db import db

    with app.app_context():
        db.session.execute(update(UserAccount).where(UserAccount.id == app.bench["user_id"]).values(totp_last_step=None))
        db.session.commit()


def sign_in(app: Any) -> Any:
    """The whole sign-in through the pages; returns the signed-in client."""
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"csrf_token": token, "email": app.bench["email"], "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/totp"), r.status_code
    token = csrf_of(client.get("/login/totp").get_data(as_text=True))
    r = client.post("/login/totp", data={"csrf_token": token, "code": pyotp.TOTP(app.bench["secret"]).now()})
    assert r.status_code == 302, r.status_code
    return client


def interleaved(modes: dict[str, Callable[[], None]], before: Callable[[str], None], rounds: int,
                setup: Callable[[str], None] | None = None) -> dict[str, list[float]]:
    """Run each mode once per round in ABBA order; returns seconds per call per mode."""
    names = list(modes)
    out: dict[str, list[float]] = {n: [] for n in names}
    for i in range(rounds):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            before(name)
            if setup:
                setup(name)
            gc.collect()
            t0 = time.perf_counter()
            modes[name]()
            out[name].append(time.perf_counter() - t0)
    return out


def count_openings(fn: Callable[[], None]) -> int:
    """How many fields and files one call decrypts (a separate, untimed pass)."""
    from clearance.crypto import fields, stream

    calls = {"n": 0}
    originals = (fields.open_, fields.open_text, stream._decrypt_stream)

    def wrap(f):
        def inner(*a, **k):
            calls["n"] += 1
            return f(*a, **k)
        return inner

    fields.open_, fields.open_text = wrap(fields.open_), wrap(fields.open_text)
    stream._decrypt_stream = wrap(stream._decrypt_stream)
    try:
        fn()
    finally:
        fields.open_, fields.open_text, stream._decrypt_stream = originals
    return calls["n"]


def open_cost_seconds(n: int = 5000) -> float:
    """Median seconds for one open_text of a 32-character secret under the configured (real) provider."""
    from clearance.crypto import Context, open_text, seal_text

    ctx = Context("user_account", "totp_secret", "00000000-0000-4000-8000-000000000000", 0)
    blob = seal_text(pyotp.random_base32(32), ctx)
    for _ in range(500):
        open_text(blob, ctx)
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        open_text(blob, ctx)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


class Generated:
    """`size` bytes of a PDF-looking stream produced on demand (never whole in memory)."""

    def __init__(self, size: int) -> None:
        self.left, self.first = size, True
        self.block = bytes(range(256)) * 4096  # 1 MiB

    def read(self, n: int = -1) -> bytes:
        n = min(self.left, len(self.block) if n is None or n < 0 else n)
        if n <= 0:
            return b""
        out = self.block[:n]
        if self.first:
            out, self.first = b"%PDF-" + out[5:], False
        self.left -= n
        return out


def files_rows(app: Any, size: int) -> list[tuple[str, float, float]]:
    """(label, MB/s, peak traced MiB) for the attachment path: request spool, save_upload, download."""
    import tracemalloc

    from clearance import files
    from clearance.crypto.spool import EncryptedSpool
    from clearance.db import db

    rows = []
    with app.test_request_context():
        tracemalloc.start()
        try:
            spool = EncryptedSpool(files.spool_dir())
            src = Generated(size)
            t0 = time.perf_counter()
            while chunk := src.read(64 * 1024):  # Werkzeug's parser writes in 64 KiB pieces
                spool.write(chunk)
            spool.seek(0)
            rows.append(("request spool: write (encrypted, ephemeral key)", size / (time.perf_counter() - t0),
                         tracemalloc.get_traced_memory()[1] / 2**20))
            tracemalloc.reset_peak()
            t0 = time.perf_counter()
            stored = files.save_upload(db.session, spool, filename="bench.pdf", owner_table="bench", owner_id="1",
                                       max_bytes=size)
            rows.append(("save_upload: spool → checks → encrypt_stream → file", size / (time.perf_counter() - t0),
                         tracemalloc.get_traced_memory()[1] / 2**20))
            spool.close()
            db.session.commit()
            tracemalloc.reset_peak()
            t0 = time.perf_counter()
            response = files.send_download(stored)
            total = sum(len(c) for c in response.response)
            assert total == size
            rows.append(("send_download: verify whole file, then stream it", size / (time.perf_counter() - t0),
                         tracemalloc.get_traced_memory()[1] / 2**20))
            files.delete_file(db.session, stored)
            db.session.commit()
        finally:
            tracemalloc.stop()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=200, help="requests per page and mode (default 200)")
    ap.add_argument("--logins", type=int, default=40, help="sign-ins per mode (default 40)")
    ap.add_argument("--file-size", type=int, default=64, help="MiB for the attachment path table (0: skip)")
    ap.add_argument("--path", action="append", default=None,
                    help="signed-in page to measure (repeatable; default /officer and /account/)")
    args = ap.parse_args()
    paths = args.path or ["/officer", "/account/"]

    with tempfile.TemporaryDirectory(prefix="taiwa-encbench-") as d:
        tmp = Path(d)
        app_on, app_off, real = make_apps(tmp)
        apps = {"on": app_on, "off": app_off}

        def use(name: str) -> None:
            crypto.configure(apps[name].bench["provider"])

        clients = {}
        for name, app in apps.items():
            use(name)
            clients[name] = sign_in(app)
        # Sanity: the 'off' database really holds unwrapped keys, the 'on' one real ones.
        with app_off.app_context():
            from clearance.auth.models import UserAccount
            from clearance.db import db

            blob = db.session.get(UserAccount, app_off.bench["user_id"]).totp_secret_ct
            assert envelope.key_version_of(blob) == ("plain", 1)

        rows = []
        for path in paths:
            for name in apps:  # warm-up
                use(name)
                for _ in range(10):
                    assert clients[name].get(path).status_code == 200, path

            def page(name: str, path: str = path) -> Callable[[], None]:
                return lambda: clients[name].get(path)

            samples = interleaved({n: page(n) for n in apps}, use, args.rounds)
            use("on")
            opened = count_openings(page("on"))
            rows.append((f"GET {path}", samples, opened))

        def login(name: str) -> Callable[[], None]:
            return lambda: sign_in(apps[name])

        for name in apps:
            use(name)
            reset_totp_step(apps[name])
            sign_in(apps[name])
        samples = interleaved({n: login(n) for n in apps}, use, args.logins, setup=lambda n: reset_totp_step(apps[n]))
        use("on")
        reset_totp_step(app_on)
        opened = count_openings(login("on"))
        rows.append(("sign-in (password + TOTP, 4 requests)", samples, opened))
        crypto.configure(real)
        open_cost = open_cost_seconds()
        attachment_rows = files_rows(app_on, args.file_size << 20) if args.file_size else []

    print("## Signed-in pages: encryption on vs off (bench/encryption_pages_bench.py)\n")
    print(f"SQLite, in-process test client, {args.rounds} requests per page and mode, {args.logins} sign-ins, "
          "interleaved ABBA; times are medians, the slowdown is the median of the back-to-back ratios. "
          "'off' = pass-through key provider (identity wrap) on a copy of the same database.\n")
    print("| page | on (ms) | off (ms) | slowdown | goal | decryptions per request | crypto share (computed) |")
    print("|---|---:|---:|---:|---|---:|---:|")
    worst = 0.0
    for label, samples, opened in rows:
        on, off = statistics.median(samples["on"]), statistics.median(samples["off"])
        # Median of the per-round ratios: each pair ran back to back, so load drift cancels.
        slow = statistics.median(a / b for a, b in zip(samples["on"], samples["off"], strict=True)) - 1
        worst = max(worst, slow)
        share = opened * open_cost / off
        print(f"| {label} | {on * 1000:.2f} | {off * 1000:.2f} | {slow * 100:+.1f}% | ≤ {GOAL * 100:.0f}% | {opened} "
              f"| {share * 100:.2f}% |")
    print()
    print(f"Computed share = decryptions × {open_cost * 1e6:.1f} µs (median open_text of a TOTP secret with the real "
          "key file provider, measured in this run) ÷ the page's 'off' time: the part of the slowdown crypto can "
          "cause; the measured column adds scheduling noise on a shared machine.\n")
    if attachment_rows:
        print(f"### Attachments through clearance.files ({args.file_size} MiB, real keys, tracemalloc peak)\n")
        print("| step | MB/s | peak MiB |")
        print("|---|---:|---:|")
        for label, rate, peak in attachment_rows:
            print(f"| {label} | {rate / 1e6:.0f} | {peak:.1f} |")
        print()
    verdict = "met" if worst <= GOAL else "NOT met"
    print(f"Goal (≤ {GOAL * 100:.0f}% slowdown on every page): {verdict}; worst {worst * 100:+.1f}%.")
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
