"""Sealed titles (issue 11): the dialogue list and the briefings list, with and without a title search.

    python bench/titles_bench.py                       # this tree
    python bench/titles_bench.py --root /tmp/before    # another checkout (same venv), e.g. before the change
    python bench/titles_bench.py --compare /tmp/before # both, interleaved in one run; prints medians

A fresh SQLite database (`upgrade heads`), --dialogues dialogues (5,000; one in five at level 1, the
rest public) and --briefings released briefings (2,000; one in five at level 1), made through the
models so each tree writes them its own way (clear or sealed). An officer cleared for level 1 reads
each page --n times through the Flask test client with the body cache off (TAIWA_BODY_CACHE=0, so
every request queries and renders); the median in ms is printed as JSON. In-process: no gunicorn,
no network, so these are the app's own costs (see docs/PERFORMANCE.md for the served numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent.parent
PAGES = {
    "dialogues (upcoming, 50 a page)": "/dialogues",
    "dialogues, all, page 2": "/dialogues?period=all&page=2",
    "dialogues, search 対話": "/dialogues?period=all&q=" + quote("対話"),
    "briefings (20 a page)": "/briefings",
    "briefings, search 供給網": "/briefings?q=" + quote("供給網"),
}


def run_here(dialogues: int, briefings: int, n: int) -> dict[str, float]:
    """Build the data set in a temporary folder and time the pages; runs inside the tree under test."""
    os.environ["TAIWA_BODY_CACHE"] = "0"
    import random

    from flask_migrate import upgrade

    from app import create_app
    from clearance.db import db, new_id, utcnow
    from clearance.permissions import Role
    from dialogue.briefings.models import Briefing
    from dialogue.meetings.models import Dialogue
    from tests.clearance.helpers import grant
    from tests.conftest import base_overrides
    from tests.factories import Factory, sign_in

    tmp = Path(tempfile.mkdtemp(prefix="titles-bench-"))
    app = create_app({**base_overrides(tmp), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
                      "TAIWA_BODY_CACHE": False})
    rng = random.Random(11)
    with app.app_context():
        upgrade(directory=str(Path.cwd() / "migrations"), revision="heads")
        factory = Factory(app)
        company = factory.company()
        officer = factory.person(Role.OFFICER)
        now = utcnow()
        for i in range(0, dialogues, 500):
            batch = []
            for k in range(i, min(i + 500, dialogues)):
                starts = (now + timedelta(days=rng.randint(-600, 400), hours=rng.randint(0, 23))).replace(
                    minute=0, second=0, microsecond=0)
                batch.append(Dialogue(id=new_id(), level=1 if k % 5 == 0 else 0, format="company", company_id=company,
                                      title=f"ベンチ対話{k} 供給網の点検", venue="本館17階 第1会議室",
                                      online_url="https://meet.example.go.jp/bench", starts_at=starts,
                                      ends_at=starts + timedelta(hours=2), time_zone="Asia/Tokyo",
                                      status="held" if starts < now else "planned", sequence=0, created_at=now,
                                      updated_at=now))
            db.session.add_all(batch)
            db.session.commit()
        for i in range(0, briefings, 500):
            batch = []
            for k in range(i, min(i + 500, briefings)):
                at = now - timedelta(hours=k)
                b = Briefing(id=new_id(), level=1 if k % 5 == 0 else 0, title=f"ベンチ用ブリーフィング {k}: 供給網リスク",
                             summary="要旨。", status="released", created_at=at, updated_at=at, sort_at=at,
                             released_at=at)
                b.body = "本文。"
                batch.append(b)
            db.session.add_all(batch)
            db.session.flush()
            from clearance.people import set_release

            for b in batch:
                set_release(db.session, "briefing", b.id, [("all", "")])
            db.session.commit()
        db.session.remove()
    grant(app, officer.id, 1)
    client = app.test_client()
    assert sign_in(client, officer).status_code == 302
    out = {}
    for name, path in PAGES.items():
        for _ in range(3):  # warm-up
            assert client.get(path).status_code == 200, path
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            resp = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200
        out[name] = round(statistics.median(times), 1)
    return out


def _in(root: Path, args) -> dict[str, float]:
    code = (f"import json, sys; sys.path.insert(0, '.'); sys.path.insert(0, {str(HERE / 'bench')!r}); "
            f"import titles_bench as t; print(json.dumps(t.run_here({args.dialogues}, {args.briefings}, {args.n})))")
    res = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False,
                         env={**os.environ, "TAIWA_BODY_CACHE": "0"})
    if res.returncode:
        raise SystemExit(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--root", default=str(HERE))
    p.add_argument("--compare", help="another tree to measure in the same run (interleaved)")
    p.add_argument("--dialogues", type=int, default=5000)
    p.add_argument("--briefings", type=int, default=2000)
    p.add_argument("-n", type=int, default=30)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    if not args.compare:
        print(json.dumps(_in(Path(args.root), args), ensure_ascii=False, indent=1))
        return
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        runs["before"].append(_in(Path(args.compare), args))
        runs["after"].append(_in(Path(args.root), args))
    print(f"{'page':36} {'before ms':>10} {'after ms':>10}")
    for name in PAGES:
        b = statistics.median(r[name] for r in runs["before"])
        a = statistics.median(r[name] for r in runs["after"])
        print(f"{name:36} {b:10.1f} {a:10.1f}")


if __name__ == "__main__":
    main()
