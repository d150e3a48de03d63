"""Benchmark the PDF path: a 20-page minutes PDF and a report of 1,000 feedback items, each beside the
naive rendering of the same document in Noto Sans CJK (CFF outlines), in the same run.

    python bench/reports_bench.py                    # 3 rounds each, prints a Markdown table
    python bench/reports_bench.py --rounds 5 --items 1000 --pages 20

Goals (issue 7): minutes PDF of 20 pages <= 1.5 s; report of 1,000 feedback items <= 5 s. The
"naive" column renders exactly the same HTML with one stylesheet more, which sets every text in
Noto Sans CJK JP (Debian fonts-noto-cjk), the font most Japanese set-ups reach for first; WeasyPrint
spends most of that time subsetting the CFF font. Runs on a throwaway SQLite database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOTO_CSS = ('html, body, body * { font-family: "Noto Sans CJK JP" !important; }\n'
            '@page { @top-center { font-family: "Noto Sans CJK JP" !important; }'
            ' @bottom-center { font-family: "Noto Sans CJK JP" !important; }'
            ' @bottom-right { font-family: "Noto Sans CJK JP" !important; } }')

PARAGRAPH = ("経済産業省から、懸念国の産業戦略とサプライチェーン上の供給途絶リスクについて説明した。参加企業からは、"
             "原材料の調達先の多元化、価格転嫁の難しさ、技術流出への備えについて具体的な発言があった。")


def corpus() -> list[str]:
    """Real Japanese sentences with a realistic spread of characters (the Japanese catalogue and the demo
    data: some 850 distinct kanji), so font subsetting costs what it costs for real minutes."""
    import re

    root = Path(__file__).resolve().parent.parent
    texts = []
    po = root / "translations" / "ja" / "LC_MESSAGES" / "messages.po"
    if po.exists():
        texts += re.findall(r'^msgstr "(.+)"$', po.read_text(encoding="utf-8"), re.M)
    for path in sorted((root / "dialogue" / "demo").glob("*.py")):
        texts += re.findall(r'"([^"\n]{12,})"', path.read_text(encoding="utf-8"))
    sentences = [t.replace("\\n", " ") for t in texts if re.search(r"[\u4e00-\u9fff]", t)]
    return sentences or [PARAGRAPH]


def build_app(tmp: Path):
    os.environ.setdefault("TAIWA_ENV", "development")
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({
        "TAIWA_ENV": "test", "TESTING": True, "SECRET_KEY": "bench-" + "x" * 40, "TAIWA_ARGON2": "fast",
        "TAIWA_KEY_FILE": str(tmp / "keys.json"), "TAIWA_CREATE_DEV_KEYS": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}", "TAIWA_REPORTS_WORKER": "external",
    })
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"), revision="heads")
    return app


def populate(app, items: int, paragraphs: int) -> tuple[str, str]:
    """An officer, two companies, a held dialogue with long minutes, and `items` feedback items."""
    from sqlalchemy import insert

    from clearance.auth import passwords
    from clearance.auth.models import UserAccount
    from clearance.crypto import seal_text
    from clearance.crypto.envelope import Context
    from clearance.db import db, new_id, utcnow
    from dialogue.feedback.models import FeedbackCounter, FeedbackItem, feedback_sector
    from dialogue.feedback.taxonomy import SUBTOPICS
    from dialogue.meetings.models import AgendaItem, Dialogue, Invitation, dialogue_host
    from dialogue.minutes import service
    from dialogue.registry import corporate_number
    from dialogue.registry.models import Company
    from dialogue.registry.taxonomy import REGIONS, SECTORS

    with app.test_request_context():
        officer = UserAccount(id=new_id(), email="bench-officer@example.jp", display_name="計測 太郎", role="officer",
                              password_hash=passwords.hash_password("bench password 123"))
        company = Company(id=new_id(), corporate_number=corporate_number.make("700000000001"), name_ja="計測工業株式会社",
                          name_en="Bench Industries", size_class="mid", prefecture="13", region="kanto")
        db.session.add_all([officer, company])
        db.session.flush()
        member = UserAccount(id=new_id(), email="bench-member@example.jp", display_name="計測 花子",
                             role="company_member", company_id=company.id,
                             password_hash=passwords.hash_password("bench password 123"))
        db.session.add(member)
        now = utcnow()
        d = Dialogue(id=new_id(), format="company", company_id=company.id, title="計測用 戦略的対話", region="kanto",
                     starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=3, hours=-2), status="held",
                     created_by=officer.id)
        db.session.add(d)
        db.session.flush()
        db.session.execute(insert(dialogue_host), [{"dialogue_id": d.id, "user_id": officer.id}])
        for i, title in enumerate(("脅威・リスク認識の共有", "サプライチェーン上の課題", "政府の支援策", "今後の進め方"), 1):
            db.session.add(AgendaItem(id=new_id(), dialogue=d, position=i, title=title))
        db.session.add(Invitation(id=new_id(), dialogue_id=d.id, company_id=company.id, user_id=member.id,
                                  status="accepted"))
        db.session.flush()
        m = service.create(db.session, d, actor=officer)
        sentences = corpus()
        db.session.commit()
        minutes_id, officer_id = m.id, officer.id

        subs, sectors, regions = list(SUBTOPICS.values()), list(SECTORS), list(REGIONS)
        rows, sector_rows = [], []
        for i in range(items):
            item_id = new_id()
            sub = subs[i % len(subs)]
            text = "".join(sentences[(i * 2 + j) % len(sentences)] for j in range(2))[:160]
            rows.append({"id": item_id, "ref": f"FB-2099-{i:05d}", "source": "dialogue", "kind": "request",
                         "text_ct": seal_text(text, Context("feedback_item", "text", item_id, 0)),
                         "category": sub.category, "subtopic": sub.code, "instrument": sub.instrument,
                         "region": regions[i % len(regions)], "size_class": ("large", "mid", "small")[i % 3],
                         "level": 0, "status": ("received", "under_review", "answered")[i % 3] if i % 3 != 2 else
                         "reflected", "received_at": now - timedelta(days=i % 540), "status_changed_at": now})
            sector_rows.append({"item_id": item_id, "sector": sectors[i % len(sectors)]})
        if rows:
            db.session.execute(insert(FeedbackItem.__table__), rows)
            db.session.execute(insert(feedback_sector), sector_rows)
        db.session.add(FeedbackCounter(year=2099, last=items))
        db.session.commit()
    fill_minutes(app, officer_id, minutes_id, paragraphs)
    return officer_id, minutes_id


def fill_minutes(app, officer_id: str, minutes_id: str, paragraphs: int) -> None:
    """Write `paragraphs` paragraphs of real Japanese into the minutes' sections (as a new revision)."""
    from clearance.auth.models import UserAccount
    from clearance.db import db
    from dialogue.minutes import service
    from dialogue.minutes.models import Minutes

    sentences = corpus()
    with app.test_request_context():
        m = db.session.get(Minutes, minutes_id)
        doc, rev = service.current(db.session, m)
        per = max(1, paragraphs // len(doc.sections))
        n = 0
        for s in doc.sections:
            paras = []
            for _k in range(per):
                paras.append("".join(sentences[(n + j) % len(sentences)] for j in range(4)))
                n += 4
            s.body = "\n\n".join(paras)
        service.save(db.session, m, base=rev.number, document=doc, actor=db.session.get(UserAccount, officer_id))
        db.session.commit()


@contextmanager
def naive_noto():
    """Render the same document with every text in Noto Sans CJK JP: one stylesheet more, added at
    WeasyPrint's own entry point so the app's rendering path is otherwise untouched."""
    import weasyprint

    original = weasyprint.HTML.render

    def render(self, stylesheets=None, **kw):
        extra = weasyprint.CSS(string=NOTO_CSS)
        return original(self, stylesheets=[*(stylesheets or []), extra], **kw)

    weasyprint.HTML.render = render
    try:
        yield
    finally:
        weasyprint.HTML.render = original


def timed(fn, rounds: int) -> tuple[float, float, object]:
    """(median, best, last result) over `rounds` timed runs after one warm-up run."""
    fn()  # warm: imports, font discovery, template compilation
    samples, result = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), min(samples), result


def page_count(data: bytes) -> int:
    import io

    from pypdf import PdfReader  # requirements-dev.txt

    return len(PdfReader(io.BytesIO(data)).pages)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=20, help="length of the minutes PDF in pages")
    args = parser.parse_args()

    from flask_babel import force_locale

    from clearance.auth.models import UserAccount
    from clearance.db import db
    from dialogue.minutes.models import Minutes
    from dialogue.reports import minutes_pdf, render

    with tempfile.TemporaryDirectory() as tmpdir:
        app = build_app(Path(tmpdir))
        paragraphs = 120
        officer_id, minutes_id = populate(app, args.items, paragraphs)
        # calibrate the minutes to the wanted number of pages (the font decides how much fits on one)
        for _attempt in range(4):
            with app.test_request_context(), force_locale("ja"):
                got = page_count(minutes_pdf.full(db.session, db.session.get(Minutes, minutes_id),
                                                  db.session.get(UserAccount, officer_id), "ja")[0])
                db.session.rollback()
            if got == args.pages:
                break
            paragraphs = max(4, round(paragraphs * args.pages / max(got, 1) + (args.pages - got) * 0.5))
            fill_minutes(app, officer_id, minutes_id, paragraphs)
        rows = []
        with app.test_request_context(), force_locale("ja"):
            officer = db.session.get(UserAccount, officer_id)
            minutes = db.session.get(Minutes, minutes_id)
            pages: dict[str, int] = {}

            def minutes_run():
                data, _name = minutes_pdf.full(db.session, minutes, officer, "ja", route="bench")
                db.session.rollback()  # the audit entries of the bench's reads are not kept
                return data

            def report_run():
                stats = {}

                def stage(name, n):
                    if name == "write":
                        stats["pages"] = n
                data, _name, _label, n = render.build(db.session, "reactions", "pdf", {}, officer, "ja",
                                                      lambda _p, _s: None)
                db.session.rollback()
                return data, n

            # Taiwa and naive rounds alternate, so both see the same load on a shared machine
            t_min = timed(minutes_run, 1)
            results = {"m": [], "mn": [], "r": [], "rn": []}
            for _round in range(args.rounds):
                results["m"].append(timed(minutes_run, 1))
                with naive_noto():
                    results["mn"].append(timed(minutes_run, 1))
                results["r"].append(timed(report_run, 1))
                with naive_noto():
                    results["rn"].append(timed(report_run, 1))
            pages["minutes"] = page_count(results["m"][-1][2])
            data, n = results["r"][-1][2]
            pages["report"] = n or page_count(data)
            del t_min

        def stat(key):
            samples = [r[0] for r in results[key]]
            return statistics.median(samples), min(samples)

        rows.append(("Minutes PDF", f"{pages['minutes']} pages", stat("m"), stat("mn"), 1.5))
        rows.append((f"Main reactions report, {args.items:,} items", f"{pages['report']} pages", stat("r"), stat("rn"),
                     5.0))
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"\n== Reports benchmark (bench/reports_bench.py: {args.rounds} alternating rounds, median (best); "
              f"load average {load:.1f} on {os.cpu_count()} cores) ==\n")
        print("| document | size | Taiwa (IPAex TrueType) | naive (Noto Sans CJK, CFF) | naive ÷ Taiwa | goal | met |")
        print("|---|---|---:|---:|---:|---:|:-:|")
        ok = True
        for name, size, (t, best), (t_noto, best_noto), goal in rows:
            met = t <= goal
            ok &= met
            print(f"| {name} | {size} | {t:.2f} s ({best:.2f}) | {t_noto:.2f} s ({best_noto:.2f}) | {t_noto / t:.1f}× | "
                  f"≤ {goal:.1f} s | {'yes' if met else 'NO'} |")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
