"""Hostile input never costs a 5xx or a traceback: every form of every role, every route of app.url_map.

Three passes over the seeded demo app (tests/fuzz/conftest.py):
1. the sweep: every form each role can see meets every kind of bad input once (file parts for text,
   huge, NUL, invalid UTF-8, missing and duplicated fields, JSON and text/plain bodies, oversized);
2. the route walk: every rule of app.url_map with junk in its path converters and with the real ids
   each role saw, under hostile query strings;
3. the random phase: hypothesis draws role, form or route, and values, for TAIWA_FUZZ_SECONDS.
A failure lists every request that got a 5xx, with TAIWA_FUZZ_SEED to repeat the run.
"""

from __future__ import annotations

import io
import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests.fuzz import hostile
from tests.fuzz.conftest import FUZZ_EXAMPLES, FUZZ_SECONDS, THOROUGH
from tests.fuzz.engine import FieldSpec, FormSpec, Fuzzer, RoleClient, deadline, query

TEXT_KINDS = {"text", "textarea", "email", "search", "hidden", "password", "date", "datetime-local", "number", "time",
              "select", "url", "tel", "checkbox", "radio", "month", "week", "color", "range"}
BASELINE = {"date": "2026-06-01", "datetime-local": "2026-06-01T10:00", "time": "10:00", "number": "2",
            "email": "fuzz@example.jp", "month": "2026-06", "url": "https://example.jp/"}


def baseline(f: FieldSpec) -> str:
    """A plausible value, so the other fields pass and the hostile one reaches the logic behind the form."""
    if f.kind == "select":
        return next((o for o in f.options if o), f.value)
    if f.value or f.kind in ("checkbox", "radio", "hidden"):
        return f.value
    return BASELINE.get(f.kind, "fuzz テスト")


def tiny_pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def form_data(form: FormSpec, overrides: dict[str, object] | None = None, drop: set[str] = frozenset()) -> MultiDict:
    md = MultiDict()
    for f in form.fields:
        if f.name in drop:
            continue
        if overrides and f.name in overrides:
            md.add(f.name, overrides[f.name])
        elif f.kind == "file":
            md.add(f.name, (io.BytesIO(tiny_pdf()), "fuzz.pdf"))
        else:
            md.add(f.name, baseline(f))
    return md


def submit(fz: Fuzzer, role: RoleClient, form: FormSpec, what: str, **kw) -> None:
    if form.method == "GET":
        data = kw.pop("data", MultiDict())
        pairs = [(k, v if isinstance(v, str) else "x") for k, v in data.items(multi=True)]
        fz.send(role, "GET", form.action.split("?")[0] + "?" + query(pairs), what)
        return
    fz.send(role, "POST", form.action, what, **kw)


def text_fields(form: FormSpec) -> list[FieldSpec]:
    return [f for f in form.fields if f.kind in TEXT_KINDS and f.name != "csrf_token"]


def attacks(fz: Fuzzer, role: RoleClient, form: FormSpec, thorough: bool) -> None:
    """Every kind of bad input, once, against one form (the main kinds only unless `thorough`)."""
    rng = fz.rng
    texts = text_fields(form)
    files = [f for f in form.fields if f.kind == "file"]
    token = {"csrf_token": form.token} if form.token else {}
    if texts:
        # a file part where the form expects text: one field, then all of them
        one = rng.choice(texts)
        if thorough:
            submit(fz, role, form, "file part for text", data=form_data(form, {one.name: (io.BytesIO(b"x"), "a.txt")}))
        submit(fz, role, form, "file parts for all text",
               data=form_data(form, {f.name: (io.BytesIO(b"x" * 10), "b.txt") for f in texts}))
        # every field hostile at once, and one at a time for two fields
        submit(fz, role, form, "all hostile", data=form_data(form, {f.name: rng.choice(hostile.SPECIAL) for f in texts}))
        for f in rng.sample(texts, min(2 if thorough else 1, len(texts))):
            submit(fz, role, form, f"hostile {f.name}", data=form_data(form, {f.name: rng.choice(hostile.SPECIAL)}))
        if thorough:
            submit(fz, role, form, "huge", data=form_data(form, {f.name: rng.choice(hostile.HUGE[:2]) for f in texts}))
            submit(fz, role, form, "NUL", data=form_data(form, {rng.choice(texts).name: "a\x00b"}))
        # duplicated fields, with different values
        dup = form_data(form)
        for f in texts:
            dup.add(f.name, rng.choice(hostile.SPECIAL))
        submit(fz, role, form, "duplicated fields", data=dup)
    # missing fields: only the token
    submit(fz, role, form, "missing fields", data=MultiDict(token))
    if form.method != "POST":
        return
    if not thorough:
        fz.send(role, "POST", form.action, "JSON body", content_type="application/json", headers={"X-CSRFToken": form.token},
                data=json.dumps({**{f.name: baseline(f) for f in form.fields}, **{f.name: 123 for f in texts[:2]}}))
        return
    # invalid UTF-8 and lone surrogates in a raw urlencoded body
    body = "&".join(f"{f.name}=" for f in form.fields if f.name != "csrf_token").encode()
    body += b"&" + b"&".join(f"{f.name}=".encode() + rng.choice(hostile.RAW_BYTES) for f in texts)
    body += b"&csrf_token=" + form.token.encode()
    fz.send(role, "POST", form.action, "invalid UTF-8", data=body, content_type="application/x-www-form-urlencoded")
    # wrong content types
    doc = {f.name: baseline(f) for f in form.fields}
    doc.update({f.name: rng.choice([123, None, ["a", 1], {"x": 1}, True, 1e308]) for f in texts[:3]})
    fz.send(role, "POST", form.action, "JSON body", data=json.dumps(doc), content_type="application/json",
            headers={"X-CSRFToken": form.token})
    fz.send(role, "POST", form.action, "JSON scalar", data="42", content_type="application/json",
            headers={"X-CSRFToken": form.token})
    fz.send(role, "POST", form.action, "text/plain", data="csrf_token=" + form.token, content_type="text/plain")
    fz.send(role, "POST", form.action, "broken multipart", data=b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n",
            content_type="multipart/form-data; boundary=x")
    # oversized: a file beyond the upload limit, or a body beyond MAX_CONTENT_LENGTH
    if files:
        limit = fz.app.config["TAIWA_MAX_UPLOAD"]
        big = form_data(form, {files[0].name: (io.BytesIO(b"%PDF-1.4\n" + b"0" * (limit + 10)), "big.pdf")})
        fz.send(role, "POST", form.action, "oversized upload", data=big, content_type="multipart/form-data")
        submit(fz, role, form, "empty file", data=form_data(form, {files[0].name: (io.BytesIO(b""), "empty.pdf")}))
        submit(fz, role, form, "file with a hostile name",
               data=form_data(form, {files[0].name: (io.BytesIO(tiny_pdf()), "../\u202e\x00fdp.exe" * 20)}))
    else:
        fz.send(role, "POST", form.action, "oversized body", data={"csrf_token": form.token, "x": "y" * (3 * 2**20)})


def _report(fz: Fuzzer, phase: str) -> str:
    lines = [f"{phase}: {len(fz.failures)} server error(s) in {fz.requests} requests (TAIWA_FUZZ_SEED={fz.seed})"]
    seen = set()
    for f in fz.failures:
        key = (f.role, f.method, f.url.split("?")[0], f.what)
        if key not in seen:
            seen.add(key)
            lines.append(f"  {f}")
    lines += [f"  log: {r}" for r in fz.catcher.records[:30]]
    return "\n".join(lines[:120])


def _check(fz: Fuzzer, phase: str) -> None:
    ok = not fz.failures and not fz.catcher.records
    message = _report(fz, phase)
    fz.failures.clear()
    fz.catcher.records.clear()
    assert ok, message


def test_the_crawl_found_forms_for_every_role(fuzz):
    """Without forms the sweep would pass vacuously: each signed-in role sees forms, and the desk has its own."""
    for role in fuzz.roles:
        assert role.forms, f"{role.name}: no forms found"
        assert role.name == "anonymous" or role.signed_out == 0 or role.person
    assert any(f.action.startswith("/consult") for f in fuzz.roles[0].forms.values()), "the desk's forms"
    assert sum(len(r.forms) for r in fuzz.roles) > 60
    print("\nslow:", *fuzz.slow[:20], sep="\n  ")
    print("\ncrawl:", {r.name: (len(r.forms), len(r.pages), sum(map(len, r.ids.values()))) for r in fuzz.roles},
          f"{fuzz.requests} requests")
    _check(fuzz, "crawl")


def test_sweep_every_form_of_every_role(fuzz):
    """Thorough: every form of every role. CI: every form endpoint once, as the first role that sees it."""
    done = set()
    for role in fuzz.roles:
        for form in list(role.forms.values()):
            key = (form.endpoint, form.method)
            if THOROUGH or key not in done:
                done.add(key)
                attacks(fuzz, role, form, THOROUGH)
    print(f"\nsweep: {len(done)} distinct forms")
    _check(fuzz, "sweep")


def test_every_route_with_junk_ids_and_hostile_queries(fuzz):
    """app.url_map, not a list in this file: a new route is walked without editing the suite."""
    rng = fuzz.rng
    for i, rule in enumerate(fuzz.rules):
        methods = sorted((rule.methods or set()) & {"GET", "POST"})
        for method in methods:
            for junk in rng.sample(hostile.IDS, 2 if THOROUGH else 1) if rule.arguments else [None]:
                role = fuzz.roles[(i + len(methods)) % len(fuzz.roles)]
                url = fuzz.url_for_rule(rule, role, junk)
                if url is None:
                    continue
                pairs = [(k, rng.choice(hostile.SPECIAL)) for k in rng.sample(hostile.QUERY_KEYS, 3)]
                if method == "GET":
                    fuzz.send(role, "GET", url + "?" + query(pairs), "route walk")
                else:
                    fuzz.send(role, "POST", url, "route walk", data={"csrf_token": role.token, pairs[0][0]: pairs[0][1]})
        if "GET" in (rule.methods or ()) and rule.arguments:
            seen_by = [r for r in fuzz.roles if r.ids.get(rule.endpoint)]
            for role in seen_by if THOROUGH else seen_by[:1]:  # real rows, hostile queries
                url = fuzz.url_for_rule(rule, role, None)
                pairs = [(k, rng.choice(hostile.SPECIAL)) for k in rng.sample(hostile.QUERY_KEYS, 4)]
                fuzz.send(role, "GET", url + "?" + query(pairs), "real ids, hostile query")
                if rule.endpoint.endswith("compare") or THOROUGH:
                    fuzz.send(role, "GET", url + "?" + EXTREME, "real ids, extreme query")
    for rule in fuzz.rules:  # every page without arguments, absurd page numbers and dates, as each role that opens it
        if not rule.arguments and "GET" in (rule.methods or ()):
            seen_by = [r for r in fuzz.roles if rule.endpoint in r.pages]
            for role in seen_by if THOROUGH else seen_by[:1]:
                fuzz.send(role, "GET", rule.rule + "?" + EXTREME, "extreme query")
    _check(fuzz, "route walk")


EXTREME = ("page=99999999999999999999&a=-1&b=99999999999999999999&start=0001-01-01&end=9999-12-31"
           "&from=9999-12-31&to=0001-01-01&date_from=9999-12-31&date_to=9999-12-31&day=9999-12-31")


def test_random_hostile_requests(fuzz):
    """Hypothesis, for TAIWA_FUZZ_SECONDS: any role, any form or route, any values."""
    stop = deadline(FUZZ_SECONDS)
    targets = [(role, form) for role in fuzz.roles for form in role.forms.values()]
    rules = fuzz.rules

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def one(data) -> None:
        if data.draw(st.integers(0, 3)) > 0:
            role, form = data.draw(st.sampled_from(targets))
            fields = text_fields(form)
            overrides = {}
            for f in fields:
                if data.draw(st.booleans()):
                    overrides[f.name] = data.draw(hostile.value())
            drop = {f.name for f in fields if data.draw(st.integers(0, 9)) == 0}
            if fields and data.draw(st.integers(0, 9)) == 0:
                overrides[data.draw(st.sampled_from(fields)).name] = (io.BytesIO(b"x"), "x.txt")
            submit(fuzz, role, form, "random form", data=form_data(form, overrides, drop))
        else:
            role = data.draw(st.sampled_from(fuzz.roles))
            rule = data.draw(st.sampled_from(rules))
            real = data.draw(st.booleans())
            url = fuzz.url_for_rule(rule, role, None if real else data.draw(
                st.one_of(st.sampled_from(hostile.IDS), st.text(min_size=1, max_size=50))))
            if url is None:
                return
            pairs = data.draw(st.lists(st.tuples(st.sampled_from(hostile.QUERY_KEYS), hostile.query_value()), max_size=5))
            method = "POST" if "POST" in (rule.methods or ()) and data.draw(st.booleans()) else "GET"
            if method == "GET" and "GET" not in (rule.methods or ()):
                return
            if method == "GET":
                fuzz.send(role, "GET", url + "?" + query(pairs), "random route")
            else:
                fuzz.send(role, "POST", url, "random route", data=MultiDict([("csrf_token", role.token), *pairs]))

    while time.monotonic() < stop:
        one()
    print(f"\nfuzz: {fuzz.requests} requests; statuses {dict(sorted(fuzz.statuses.items()))}; "
          f"{len(fuzz.known)} known 5xx fixed on other branches ({sorted({k.url.split('?')[0] for k in fuzz.known})})")
    _check(fuzz, "random")
