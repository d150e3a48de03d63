"""Sign-in timing does not tell which accounts exist (issue 11, "also found").

With the test suite's "fast" Argon2 profile a hash costs under a millisecond and any difference
drowns in the request's own cost, so this test runs the production profile ("standard":
64 MiB, 3 passes), as the review did: an unknown e-mail used to cost a hash *and* a verify
(385–443 ms against 203–226 ms for a known account with a wrong password).
"""

from __future__ import annotations

import statistics
import time

import pytest

from clearance.auth import passwords
from clearance.permissions import Role
from tests.factories import csrf

TRIES = 30


@pytest.fixture
def slow_app(app_factory):
    app = app_factory(TAIWA_ARGON2="standard", TAIWA_LOGIN_MAX_FAILURES=10_000, TAIWA_CLIENT_MAX_FAILURES=10_000)
    yield app
    passwords.set_profile("fast")  # the profile is process-wide: leave the suite's as it was


def test_unknown_known_and_deactivated_accounts_take_the_same_time(slow_app):
    from tests.factories import Factory

    factory = Factory(slow_app)
    known = factory.person(Role.COMPANY_MEMBER, totp=False)
    gone = factory.person(Role.COMPANY_MEMBER, totp=False, active=False)
    client = slow_app.test_client()
    token = csrf(client)
    kinds = {
        "unknown": "nobody-at-all@example.jp",
        "known": known.email,
        "deactivated": gone.email,
    }

    def attempt(email: str) -> float:
        started = time.perf_counter()
        resp = client.post("/login", data={"csrf_token": token, "email": email, "password": "wrong password here 1"})
        elapsed = time.perf_counter() - started
        assert resp.status_code == 200, resp.status_code
        return elapsed

    for email in kinds.values():  # warm-up: first requests pay for imports, templates and the dummy hash
        attempt(email)
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(TRIES):  # interleaved, so a burst of load on the machine hits all three alike
        for kind, email in kinds.items():
            times[kind].append(attempt(email))
    med = {k: statistics.median(v) for k, v in times.items()}
    for kind in ("unknown", "deactivated"):
        ratio = med[kind] / med["known"]
        assert 0.7 <= ratio <= 1.4, f"{kind}: median {med[kind] * 1000:.0f} ms against {med['known'] * 1000:.0f} ms for a known account"


def test_the_dummy_hash_is_made_once_per_profile():
    """What the timing test measures, without the clock: burn_time hashes once, then only verifies."""
    calls = []
    real = passwords.hasher().hash
    passwords._DUMMY.clear()

    class Counting:
        def __getattr__(self, name):
            return getattr(passwords._PROFILES["fast"], name)

        def hash(self, secret):
            calls.append(1)
            return real(secret)

    passwords._PROFILES["counting"] = Counting()
    try:
        passwords.set_profile("counting")
        for _ in range(3):
            passwords.burn_time("some guess")
    finally:
        passwords.set_profile("fast")
        del passwords._PROFILES["counting"]
        passwords._DUMMY.pop("counting", None)
    assert len(calls) == 1
