"""One seeded app for the whole fuzz module: the demo data set, every role signed in, every page crawled.

Budget: TAIWA_FUZZ_SECONDS (random phase, default 8 s per backend) and TAIWA_FUZZ_EXAMPLES
(hypothesis examples per batch, default 20). `make fuzz` sets TAIWA_FUZZ_SECONDS=600.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.permissions import Role
from dialogue.demo import data
from tests.conftest import BACKEND, _reset_postgres, base_overrides
from tests.factories import Person
from tests.fuzz.engine import Fuzzer, RoleClient, TracebackCatcher

FUZZ_SECONDS = float(os.environ.get("TAIWA_FUZZ_SECONDS", "8"))
#: a long run (make fuzz) crawls every role fully and sends every kind of bad input to every form of every role;
#: the CI run sends the main kinds once to each distinct form
THOROUGH = FUZZ_SECONDS > 60 or os.environ.get("TAIWA_FUZZ_THOROUGH") == "1"
FUZZ_EXAMPLES = int(os.environ.get("TAIWA_FUZZ_EXAMPLES", "20"))
FUZZ_SEED = int(os.environ.get("TAIWA_FUZZ_SEED", "0")) or random.SystemRandom().randrange(1, 2**31)

STAFF = data.STAFF_DOMAIN
#: the roles of the issue; each one sees other pages and other forms
ROLES = {
    "admin": f"admin@{STAFF}",
    "officer": f"y.nakamura@{STAFF}",  # not on the desk roster
    "cleared_officer": f"officer@{STAFF}",  # level 2, every compartment, on the desk
    "desk_officer": f"k.takahashi@{STAFF}",
    "security_officer": f"security@{STAFF}",
    # company accounts without TOTP: the fuzzer signs them in again whenever a fuzzed form signs them out
    "company_admin": next(a.email for a in data.ACCOUNTS if a.role == Role.COMPANY_ADMIN and not a.totp and a.active),
    "company_staff": next(a.email for a in data.ACCOUNTS if a.role == Role.COMPANY_MEMBER and not a.totp and a.active),
}


def _person(email: str) -> Person:
    spec = next(a for a in data.ACCOUNTS if a.email == email)
    with db.session.begin():
        user = db.session.execute(select(UserAccount).where(UserAccount.email == email)).scalar_one()
        return Person(user.id, user.email, user.display_name, user.role, user.company_id, spec.password,
                      data.totp_secrets().get(email))


def _open_case(role: RoleClient, receipts: Path) -> None:
    cases = json.loads(receipts.read_text(encoding="utf-8"))["cases"]
    case = next((c for c in cases if c["status"] not in ("closed",)), cases[0])
    html = role.client.get("/consult/open").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
    resp = role.client.post("/consult/open", data={"csrf_token": token, "receipt": case["receipt"]})
    assert resp.status_code == 303


@pytest.fixture(scope="module")
def fuzz(database_template, keydir, tmp_path_factory) -> Iterator[Fuzzer]:
    tmp = tmp_path_factory.mktemp("fuzz")
    if BACKEND == "postgres":
        _reset_postgres(database_template)
        url = database_template
    else:
        shutil.copy(database_template, tmp / "fuzz.db")
        url = f"sqlite:///{tmp / 'fuzz.db'}"
    from app import create_app

    app = create_app({**base_overrides(keydir), "SQLALCHEMY_DATABASE_URI": url, "TAIWA_FILES_DIR": str(tmp / "files"),
                      "TAIWA_LOGIN_MAX_FAILURES": 10**6, "TAIWA_CLIENT_MAX_FAILURES": 10**6,
                      "TAIWA_MAX_UPLOAD": 256 * 1024, "TAIWA_REPORTS_WORKER": "external"})
    catcher = TracebackCatcher()
    logging.getLogger().addHandler(catcher)
    import time

    from dialogue.demo.seed import seed

    t0 = time.monotonic()
    with app.app_context():
        seed(db.session, app.config, tmp / "demo-accounts.json", if_empty=False)
        people = {name: _person(email) for name, email in ROLES.items()}
    print(f"\nfuzz seed: {time.monotonic() - t0:.1f}s")
    roles = [RoleClient("anonymous", app.test_client(), None), RoleClient("desk_visitor", app.test_client(), None)]
    roles += [RoleClient(name, app.test_client(), person) for name, person in people.items()]
    fuzzer = Fuzzer(app, roles, random.Random(FUZZ_SEED))
    fuzzer.seed = FUZZ_SEED
    fuzzer.catcher = catcher
    for role in roles:
        if role.person:
            fuzzer.snapshot(role)
            fuzzer.sign_in(role)
        start = ["/", "/account/"] if role.person else ["/login", "/consult/", "/consult/new", "/consult/open",
                                                          "/password/forgot"]
        if role.name == "desk_visitor":  # a visitor who opened an open demo case with its receipt
            start = ["/consult/case"]
            _open_case(role, tmp / "demo-receipts.json")
        start += [r.rule for r in fuzzer.rules if not r.arguments and "GET" in (r.methods or ())]
        fuzzer.crawl(role, start, max_pages=int(os.environ.get("TAIWA_FUZZ_CRAWL", "400" if THOROUGH else "90")),
                     per_endpoint=2 if THOROUGH else 1, downloads=THOROUGH)
        fuzzer.refresh_token(role)
    print(f"\nfuzz setup: {time.monotonic() - t0:.1f}s")
    yield fuzzer
    logging.getLogger().removeHandler(catcher)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
