"""Profile one Taiwa page in-process: the SQL it runs and where the time goes.

    .venv/bin/pip install pyinstrument          # ad hoc; not in requirements
    python bench/profile_page.py /officer       # SQLite in a temp dir
    python bench/profile_page.py /login --anonymous
    python bench/profile_page.py /officer --pg-url postgresql://postgres@127.0.0.1:5432/test

Creates a fresh database like bench/web_bench.py, signs the officer in through the
real pages (Flask test client), lists the SQL statements of one request, then
times --requests requests and prints a pyinstrument profile of them.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import web_bench  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", default="/officer")
    ap.add_argument("--anonymous", action="store_true", help="do not sign in (keeps one anonymous session cookie)")
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--pg-url")
    ap.add_argument("--html", help="also write the pyinstrument HTML report here")
    ap.add_argument("--all", action="store_true", help="show library frames too")
    ap.add_argument("--cprofile", action="store_true", help="also print cProfile's top functions by own time")
    args = ap.parse_args()
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("pyinstrument is not installed: .venv/bin/pip install pyinstrument") from None

    tmp = Path(tempfile.mkdtemp(prefix="taiwa-profile-"))
    kind = "postgres" if args.pg_url else "sqlite"
    with web_bench.database(kind, tmp, args.pg_url) as db_url:
        env = web_bench.base_env(db_url, tmp, 1, 1)
        web_bench.run([sys.executable, "-c", "import sys; from clearance.crypto import ensure_dev_keyfile; "
                       "ensure_dev_keyfile(sys.argv[1])", str(tmp / "keys.json")], env)
        web_bench.run([str(Path(sys.executable).parent / "flask"), "--app", "app", "db", "upgrade", "heads"], env)
        account, seeded_by = web_bench.seed(env, tmp)
        for k in [k for k in os.environ if k.startswith("TAIWA_")]:
            del os.environ[k]
        os.environ.update(env)
        os.chdir(ROOT)
        import pyotp
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        from app import create_app

        app = create_app()
        client = app.test_client()

        def csrf(path: str) -> str:
            html = client.get(path).get_data(as_text=True)
            return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

        if not args.anonymous:
            client.post("/login", data={"csrf_token": csrf("/login"), "email": account["email"],
                                        "password": account["password"]})
            r = client.post("/login/totp", data={"csrf_token": csrf("/login/totp"),
                                                 "code": pyotp.TOTP(account["totp_secret"]).now()})
            assert r.status_code == 302, r.status_code
        else:
            client.get("/login")
        assert client.get(args.path).status_code == 200

        statements: list[str] = []

        @event.listens_for(Engine, "before_cursor_execute")
        def _log(conn, cursor, statement, parameters, context, executemany):
            statements.append(" ".join(statement.split())[:160])

        client.get(args.path)
        print(f"== SQL statements for one GET {args.path} ({kind}, seed: {seeded_by}): {len(statements)}")
        for s in statements:
            print("  ", s)
        event.remove(Engine, "before_cursor_execute", _log)

        for _ in range(50):
            client.get(args.path)
        # CPU time without the profiler (its own overhead inflates call-heavy code): the figure to
        # compare before and after a change; process CPU, so other load on the machine matters less.
        per = []
        for _ in range(5):
            c0 = time.process_time()
            for _ in range(args.requests // 5 or 1):
                client.get(args.path)
            per.append((time.process_time() - c0) / (args.requests // 5 or 1) * 1000)
        print(f"== CPU per request without the profiler: {sorted(per)[2]:.3f} ms (median of 5 batches; "
              f"includes the test client)")
        if args.cprofile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            for _ in range(args.requests):
                client.get(args.path)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        t0 = time.perf_counter()
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.requests):
            client.get(args.path)
        profiler.stop()
        dt = time.perf_counter() - t0
        print(f"== {args.requests} requests in {dt:.2f} s under the profiler: {dt / args.requests * 1000:.2f} ms each")
        print(profiler.output_text(unicode=True, color=False, show_all=args.all))
        if args.html:
            Path(args.html).write_text(profiler.output_html())
        with app.app_context():
            from clearance.db import db
            db.engine.dispose()
    subprocess.run(["rm", "-rf", str(tmp)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
