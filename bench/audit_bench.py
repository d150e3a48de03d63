"""Audit log benchmark (issue 13): concurrent audited reads, checkpointing, verification.

    python bench/audit_bench.py --pg-url postgresql://postgres@127.0.0.1:5432/test            # all three
    python bench/audit_bench.py --pg-url ... --only readers|checkpoint|verify

(a) readers: 16 concurrent readers (threads, each its own signed-in session) of a level-2 briefing
    page on PostgreSQL, every read audited, against the same page with the audit write switched off
    (TAIWA_AUDIT_BENCH_SKIP_WRITES, honoured only with TAIWA_ENV=bench), in alternating slices;
    reports the median throughput ratio. Goal >= 80 %.
(b) checkpoint: 100,000 entries (bulk-inserted with valid MACs) into one signed checkpoint. Goal <= 5 s.
(c) verify: 1,000,000 entries in checkpoints of 100,000, then `verify`. Goal <= 60 s.

Each part uses a fresh database (dropped afterwards). Run it with `nice`: the machine is shared.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import briefings_bench as bb  # noqa: E402  (its database, app and seed helpers)


def _bulk_entries(app, n: int, start: int = 1) -> None:
    """n entries with valid MACs, written with COPY (PostgreSQL) and the sequence moved past them."""
    from clearance import audit
    from clearance.audit_proof import content_digest
    from clearance.crypto import audit_keys, keyed_hash
    from clearance.db import db, utcnow

    with app.app_context():
        ref = audit_keys.current_ref()
        key = audit_keys.mac_key(ref)
        t0 = utcnow()
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy("COPY audit_entry (seq, occurred_at, actor_id, actor, realm, kind, summary, data, key_ref, mac)"
                          " FROM STDIN") as cp:
                for seq in range(start, start + n):
                    at = t0 + timedelta(microseconds=seq)
                    data = audit.canonical({"briefing": f"b-{seq % 997}", "level": 2})
                    summary = "Read allowed"
                    mac = keyed_hash(key, content_digest(seq, at, None, "reader@example.jp", "access", "positive",
                                                         summary, data, ref)).hex()
                    cp.write_row((seq, at, None, "reader@example.jp", "access", "positive", summary, data, ref, mac))
            cur.execute("SELECT setval('audit_entry_seq', %s)", (start + n - 1,))
            raw.commit()
        finally:
            raw.close()


def part_checkpoint(args, tmp: Path) -> list[tuple[str, str, str]]:
    from clearance import audit
    from clearance.db import db

    with bb.database("postgresql", tmp, args.pg_url, "ckpt") as url:
        app = bb.make_app(url, tmp)
        t0 = time.perf_counter()
        _bulk_entries(app, 100_000)
        print(f"[checkpoint] 100,000 entries written in {time.perf_counter() - t0:.1f} s", flush=True)
        with app.app_context():
            t0, c0 = time.perf_counter(), time.process_time()
            cp = audit.make_checkpoint(db.session)
            db.session.commit()
            took, cpu = time.perf_counter() - t0, time.process_time() - c0
            assert cp.size == 100_000
            db.session.remove()
            db.engine.dispose()
    return [("checkpoint 100,000 entries", f"{took:.2f} s wall ({cpu:.2f} s CPU, load {_load()})",
             "<= 5 s " + ("ok" if took <= 5 else "MISSED"))]


def part_verify(args, tmp: Path) -> list[tuple[str, str, str]]:
    from clearance import audit
    from clearance.db import db

    with bb.database("postgresql", tmp, args.pg_url, "verify") as url:
        app = bb.make_app(url, tmp)
        t0 = time.perf_counter()
        for part in range(10):
            _bulk_entries(app, 100_000, start=part * 100_000 + 1)
            with app.app_context():
                audit.make_checkpoint(db.session)
                db.session.commit()
                db.session.remove()
        print(f"[verify] 1,000,000 entries in 10 checkpoints written in {time.perf_counter() - t0:.1f} s", flush=True)
        with app.app_context():
            db.session.execute(db.text("ANALYZE audit_entry"))
            db.session.commit()
            stats = audit.Verified()
            t0, c0 = time.perf_counter(), time.process_time()
            broken = audit.verify(db.session, None, stats)
            took, cpu = time.perf_counter() - t0, time.process_time() - c0
            assert broken is None and stats.entries == 1_000_000, (broken, stats)
            db.session.remove()
            db.engine.dispose()
    return [("verify 1,000,000 entries", f"{took:.1f} s wall ({cpu:.1f} s CPU, load {_load()})",
             "<= 60 s " + ("ok" if took <= 60 else "MISSED"))]


def _load() -> str:
    """The 1-minute load average: the machine is shared, and wall times say more with it."""
    import os

    return f"{os.getloadavg()[0]:.1f}"


def part_readers(args, tmp: Path) -> list[tuple[str, str, str]]:
    from clearance.db import db

    with bb.database("postgresql", tmp, args.pg_url, "readers") as url:
        app = bb.make_app(url, tmp)
        app.config["TAIWA_ENV"] = "bench"
        rng = random.Random(20261203)
        world = bb.seed_people(app, rng)
        level2 = bb.add_briefings(app, world, 1000, rng, 0)
        path = f"/briefings/{level2[len(level2) // 2]}"
        clients = [bb.sign_in(app, world["cleared"]["email"]) for _ in range(args.clients)]
        for c in clients:
            assert c.get(path).status_code == 200
        done = [0]
        lock = threading.Lock()
        stop = threading.Event()

        def reader(client) -> None:
            n = 0
            while not stop.is_set():
                resp = client.get(path)
                resp.get_data()
                assert resp.status_code == 200
                n += 1
            with lock:
                done[0] += n

        def slice_rate(audited: bool) -> float:
            app.config["TAIWA_AUDIT_BENCH_SKIP_WRITES"] = not audited
            done[0] = 0
            stop.clear()
            threads = [threading.Thread(target=reader, args=(c,)) for c in clients]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            time.sleep(args.slice)
            stop.set()
            for t in threads:
                t.join()
            return done[0] / (time.perf_counter() - t0)

        from clearance import audit

        with app.app_context():
            before = audit.count(db.session)
        ratios, on_rates, off_rates = [], [], []
        for i in range(args.slices):
            first_on = i % 2 == 0  # alternate which goes first, so drift hits both alike
            a = slice_rate(first_on)
            b = slice_rate(not first_on)
            on, off = (a, b) if first_on else (b, a)
            on_rates.append(on)
            off_rates.append(off)
            ratios.append(on / off)
            print(f"[readers] slice {i + 1}: audited {on:6.1f} req/s, unaudited {off:6.1f} req/s, "
                  f"ratio {on / off:5.1%}", flush=True)
        with app.app_context():
            written = audit.count(db.session) - before
            db.session.remove()
            db.engine.dispose()
        assert written > 0
        med = statistics.median(ratios)
        return [(f"{args.clients} readers, level-2 page, audited", f"{statistics.median(on_rates):.1f} req/s", ""),
                (f"{args.clients} readers, level-2 page, audit write off", f"{statistics.median(off_rates):.1f} req/s",
                 ""),
                ("median ratio audited / unaudited", f"{med:.1%}", ">= 80 % " + ("ok" if med >= 0.8 else "MISSED"))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--only", choices=("readers", "checkpoint", "verify"))
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--slice", type=float, default=3.0, help="seconds per slice")
    ap.add_argument("--slices", type=int, default=6, help="pairs of slices (audited, unaudited)")
    args = ap.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name, fn in (("checkpoint", part_checkpoint), ("verify", part_verify), ("readers", part_readers)):
            if args.only in (None, name):
                rows += fn(args, tmp)
    print("\n| measurement (PostgreSQL) | result | goal |\n|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")
    return 0 if all("MISSED" not in r[2] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
