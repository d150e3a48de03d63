"""The desk's own session: sealed under the cookie, a day in clear, Redis with a TTL when configured."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from sqlalchemy import select

from clearance.db import db
from dialogue.consult import desk_session
from dialogue.consult.models import ConsultCase, DeskSessionRow
from tests.conftest import free_port
from tests.consult.conftest import Visitor


def test_stored_session_reveals_neither_the_case_nor_the_time(visitor, desk_app):
    visitor.new_case()
    token = visitor.client.get_cookie("taiwa_desk", path="/consult").value
    with desk_app.app_context():
        case_id = db.session.execute(select(ConsultCase.id)).scalar_one()
        row = db.session.execute(select(DeskSessionRow)).scalar_one()
        assert row.id_hash != token and len(row.id_hash) == 64
        assert case_id.encode() not in row.data_ct and b"case" not in row.data_ct
        assert type(row.purge_on).__name__ == "date"
        data = desk_session.unseal(token, row.data_ct)
        assert data["case"] == case_id and "receipt" not in data
        assert desk_session.unseal("another-token", row.data_ct) is None


def test_garbage_cookies_are_ignored(desk_app):
    client = desk_app.test_client()
    for value in ("x" * 500, "../../etc", "AAAA", ""):
        client.set_cookie("taiwa_desk", value, path="/consult")
        assert client.get("/consult").status_code == 200


@pytest.fixture
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(50):
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def test_with_redis_sessions_expire_by_ttl_and_limits_are_shared(app_factory, tmp_path, redis_url):
    import redis

    app = app_factory(TAIWA_CONSULT_MIN_FORM_SECONDS=0, TAIWA_FILES_DIR=str(tmp_path / "f"), TAIWA_REDIS_URL=redis_url,
                      TAIWA_CONSULT_RECEIPT_FAILURES_PER_CLIENT=2)
    code = Visitor(app.test_client()).new_case()
    r = redis.Redis.from_url(redis_url)
    desk_keys = r.keys("taiwa:consult:desk:*")
    assert desk_keys and all(0 < r.ttl(k) <= 1800 for k in desk_keys)
    with app.app_context():
        assert db.session.execute(select(DeskSessionRow)).first() is None, "nothing in the database"
    # A second app (another worker) shares the counters.
    other = app_factory(TAIWA_CONSULT_MIN_FORM_SECONDS=0, TAIWA_FILES_DIR=str(tmp_path / "f"), TAIWA_REDIS_URL=redis_url,
                        TAIWA_CONSULT_RECEIPT_FAILURES_PER_CLIENT=2)
    assert Visitor(app.test_client()).open("1" * 25).status_code == 303
    assert Visitor(other.test_client()).open("2" * 25).status_code == 303
    assert Visitor(other.test_client()).open(code).status_code == 429
    keys = [k.decode() for k in r.keys("taiwa:consult:*")]
    assert not any("127.0.0.1" in k for k in keys), "no address in any key"
    assert all(r.ttl(k) > 0 for k in r.keys("taiwa:consult:rl:*"))
