"""Every route of app.url_map, filled with planted objects, requested as every reader; outputs read as text.

* ``plan(app)``: one entry per route (endpoint + methods). GET routes are filled
  from the world's ids (argument name → planted objects); string arguments
  the world has no ids for get the literals their view compares them with
  (``name == "regions"``, ``fmt not in ("csv", "xlsx")``), read from the view's
  source, so a new chart or format is tried without editing the suite. A GET
  route neither fillable nor in UNFILLABLE (with a reason) fails
  test_every_route_is_probed.
* POST-only routes are requested without a CSRF token by every reader (what a
  refusal says must not leak either); those that answer with data are probed
  properly in POST_PROBES.
* ``text_of(response)``: body, headers, PDF text (pdftotext, pypdf as
  fallback), every XLSX cell, CSV/ICS/JSON/HTML as text.
* ``leaks(world, reader, where, text)``: every canary in the text the reader may not hold.
"""

from __future__ import annotations

import inspect as pyinspect
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.leak.world import FULL, World

TOKEN = re.compile(r"CANARY[0-9a-f]{12}")
SQUEEZE = re.compile(r"[\s\u00ad\-‐]+")

#: GET routes the suite cannot fill, each with the reason; anything else unfillable fails the suite
UNFILLABLE: dict[str, str] = {
    "static": "packaged CSS/JS/images: no data, nothing planted can be there",
}

#: routes probed with extra query strings (a search finds what a list alone may not show)
QUERY_VARIANTS: dict[str, list[str]] = {
    "briefings.index": ["", "?q=CANARY"],
    "feedback.items": ["", "?q=CANARY"],
    "registry.companies": [""],
    "admin.audit_log": ["", "?q=CANARY"],
}


@dataclass(frozen=True)
class RouteCase:
    endpoint: str
    rule: str
    methods: tuple[str, ...]
    args: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{'+'.join(self.methods)} {self.rule}"


def routes(app) -> list[RouteCase]:
    out = []
    for rule in app.url_map.iter_rules():
        methods = tuple(sorted(rule.methods - {"HEAD", "OPTIONS"}))
        out.append(RouteCase(rule.endpoint, rule.rule, methods, tuple(sorted(rule.arguments))))
    return sorted(out, key=lambda r: (r.rule, r.methods))


def _literals_for(app, endpoint: str, arg: str, rule_text: str) -> list[str]:
    """Values a string argument can usefully take: any(...) choices, else the literals the view compares it with."""
    m = re.search(r"<any\(([^)]*)\):" + re.escape(arg) + ">", rule_text)
    if m:
        return [v.strip().strip("'\"") for v in m.group(1).split(",")]
    view = app.view_functions.get(endpoint)
    try:
        src = pyinspect.getsource(pyinspect.unwrap(view))
    except (OSError, TypeError):
        return []
    found: list[str] = []
    for m in re.finditer(re.escape(arg) + r"\s*(?:==|!=)\s*[\"']([^\"']+)[\"']", src):
        found.append(m.group(1))
    for m in re.finditer(re.escape(arg) + r"\s*(?:not\s+)?in\s*[\(\[\{]([^\)\]\}]*)[\)\]\}]", src):
        found += re.findall(r"[\"']([^\"']+)[\"']", m.group(1))
    return list(dict.fromkeys(found))


def fillings(app, world: World, case: RouteCase) -> list[dict[str, str]] | None:
    """The argument sets to request this route with; None if an argument cannot be filled."""
    choices: list[list[str]] = []
    for arg in case.args:
        ids = world.ids.get(arg)
        values = list(ids) if ids else _literals_for(app, case.endpoint, arg, case.rule)
        if not values:
            return None
        choices.append(values)
    if not choices:
        return [{}]
    if len(case.args) > 1:  # objects that belong together first (a briefing and its own file)
        paired = [{a: p[a] for a in case.args} for p in world.pairs if set(case.args) <= set(p)]
        if paired:
            return paired
    # Every planted object once (the longest list sets the count); shorter lists cycle. Not the product:
    # one request per object is what proves each object's gate, and keeps the run short.
    n = max(len(c) for c in choices)
    return [{a: c[i % len(c)] for a, c in zip(case.args, choices, strict=True)} for i in range(n)]


def url_for_case(case: RouteCase, values: dict[str, str]) -> str:
    url = case.rule
    for arg, value in values.items():
        url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(arg) + r">", value, url)
        url = re.sub(r"<[^<>]*:" + re.escape(arg) + r">", value, url)
    return url


# ---------------------------------------------------------------------------
# Reading outputs
# ---------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    exe = shutil.which("pdftotext")
    if exe:
        done = subprocess.run([exe, "-q", "-", "-"], input=data, capture_output=True, timeout=60)
        if done.returncode == 0:
            return done.stdout.decode("utf-8", "replace")
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    parts = []
    for ws in wb.worksheets:
        parts.append(ws.title)
        for row in ws.iter_rows(values_only=True):
            parts += [str(v) for v in row if v is not None]
    return "\n".join(parts)


def text_of(resp) -> tuple[str, bool]:
    """(everything readable in a response, whether it came from a PDF). Headers included."""
    data = resp.get_data()
    ctype = (resp.headers.get("Content-Type") or "").lower()
    head = "\n".join(f"{k}: {v}" for k, v in resp.headers.items())
    if data.startswith(b"%PDF") or "application/pdf" in ctype:
        return head + "\n" + pdf_text(data), True
    if data[:2] == b"PK" and ("spreadsheetml" in ctype or "xlsx" in resp.headers.get("Content-Disposition", "")):
        return head + "\n" + xlsx_text(data), False
    return head + "\n" + data.decode("utf-8", "replace"), False


def tokens_in(text: str, squeeze: bool = False) -> set[str]:
    found = set(TOKEN.findall(text))
    if squeeze:  # a PDF may break a long word across lines
        found |= set(TOKEN.findall(SQUEEZE.sub("", text)))
    return found


def leaks(world: World, user_id: str | None, where: str, text: str, squeeze: bool = False) -> list[str]:
    out = []
    for tok in sorted(tokens_in(text, squeeze)):
        if tok not in world.canaries:
            out.append(f"{where}: unknown canary {tok}")
        elif not world.may_hold(user_id, tok):
            out.append(f"{where}: {world.canaries[tok].describe()}")
    return out


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------


def requests_for(app, world: World, case: RouteCase) -> Iterator[tuple[str, str, dict]]:
    """(method, url, request kwargs) for this route; raises LookupError if it cannot be filled."""
    if "GET" in case.methods:
        fills = fillings(app, world, case)
        if fills is None:
            raise LookupError(case.id)
        if not FULL:
            fills = fills[: max(1, len(world.labels))]
        for values in fills:
            url = url_for_case(case, values)
            for q in QUERY_VARIANTS.get(case.endpoint, [""]):
                yield "GET", url + q, {}
        return
    # POST-only: without a token every reader must be refused before any data is read
    values = {a: (world.ids.get(a) or ["0"])[0] for a in case.args}
    yield "POST", url_for_case(case, values), {"data": {}}


def run_route(app, world: World, case: RouteCase, readers: list[str] | None = None) -> tuple[list[str], int]:
    """Request one route as every reader; returns (leaks, responses read)."""
    found: list[str] = []
    seen = 0
    plan = list(requests_for(app, world, case))
    for kind, reader in world.readers.items():
        if readers is not None and kind not in readers:
            continue
        for method, url, kw in plan:
            resp = reader.client.open(url, method=method, **kw)
            try:
                if resp.status_code >= 500:
                    found.append(f"{kind} {method} {url}: server error {resp.status_code}")
                text, squeeze = text_of(resp)
                found += leaks(world, reader.user_id, f"{kind} {method} {url} [{resp.status_code}]", text, squeeze)
                seen += 1
            finally:
                resp.close()
    return found, seen


def any_of(values: list[Any]) -> Any:
    return values[0] if values else None
