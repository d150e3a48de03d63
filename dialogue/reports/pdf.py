"""The one PDF rendering path: Jinja template → WeasyPrint.

    pdf = render_pdf("pdf/briefing.html", {"b": briefing, ...},
                     label=label, reader=Reader(user.display_name, user.id, utcnow()), title=briefing.title)

Every PDF carries its classification banner at the top and bottom of every
page (running elements in the CSS @page margin boxes) and "page x / y". Classified output (anything
but a public label) also carries the reader's name, account id and the time
as a watermark on every page and in the footer; rendering classified output
without a reader is refused.

Templates extend ``pdf/base.html``. Resources come only from the app's own
static folder and the two embedded Japanese fonts: the URL fetcher refuses
file://, http(s) to anywhere else, data: and every other scheme, so a
template or a user's text can never make the renderer read local files or
reach the network. The fonts are the TrueType IPAex fonts (Debian
fonts-ipaexfont); CFF-based Noto CJK makes WeasyPrint about nine times slower.
"""

from __future__ import annotations

import logging
import mimetypes
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from clearance.config import ROOT
from clearance.labels import Label

log = logging.getLogger("taiwa.pdf")

#: a base URL on a reserved domain (.invalid): relative links resolve under it and nothing else is fetched
BASE_URL = "https://taiwa.invalid/"
STATIC_DIR = ROOT / "static"
FONT_FILES = {
    "ipaexg.ttf": ("IPAexGothic", ["/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
                                   "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"]),
    "ipaexm.ttf": ("IPAexMincho", ["/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
                                   "/usr/share/fonts/truetype/fonts-japanese-mincho.ttf"]),
}
DISPLAY_ZONE = ZoneInfo("Asia/Tokyo")


class PdfError(RuntimeError):
    """The PDF cannot be produced safely (missing font, classified output without a reader)."""


@dataclass(frozen=True)
class Reader:
    """Who the PDF is made for; printed as a watermark on classified output."""

    name: str
    account_id: str
    at: datetime  # naive UTC

    def stamp(self) -> str:
        local = self.at.replace(tzinfo=UTC).astimezone(DISPLAY_ZONE)
        return f"{self.name} · {self.account_id} · {local:%Y-%m-%d %H:%M} JST"


@cache
def font_path(name: str) -> Path:
    """The system file for one of our two fonts (fc-match as a last resort)."""
    family, candidates = FONT_FILES[name]
    for candidate in candidates:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-match"):
        out = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True, timeout=10)  # noqa: S603, S607
        found = Path(out.stdout.strip())
        if found.suffix.lower() == ".ttf" and family.lower() in found.name.lower().replace("-", ""):
            return found
    raise PdfError(f"{family} not found: install Debian's fonts-ipaexfont (make system-packages)")


def _static_file(path: str) -> Path | None:
    """A file inside static/, or None (no traversal, no symlinks out)."""
    target = (STATIC_DIR / path).resolve()
    root = STATIC_DIR.resolve()
    if root not in target.parents or not target.is_file():
        return None
    return target


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves BASE_URL/static/… from static/ and BASE_URL/fonts/… from the IPAex files; refuses the rest."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}/" != BASE_URL or parts.query or parts.fragment:
                raise ValueError(f"PDF resources come only from the app: refused {url[:80]!r}")
            path = unquote(parts.path)
            if path.startswith("/fonts/") and path[len("/fonts/"):] in FONT_FILES:
                target: Path | None = font_path(path[len("/fonts/"):])
            elif path.startswith("/static/"):
                target = _static_file(path[len("/static/"):])
            else:
                target = None
            if target is None:
                raise ValueError(f"not a static file of the app: {path[:80]!r}")
            mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if target.suffix == ".ttf":
                mime = "font/ttf"
            return URLFetcherResponse(url, target.read_bytes(), {"Content-Type": mime})

    return StaticOnlyFetcher


def banner_text(label: Label) -> str:
    """Bilingual banner: both names, so a printed page reads the same to any reader."""
    ja, en = label.banner("ja"), label.banner("en")
    return ja if ja == en else f"{ja} / {en}"


def render_pdf(template: str, context: dict[str, Any], *, label: Label, reader: Reader | None,
               title: str = "", on_stage: Callable[[str, int], None] | None = None) -> bytes:
    """Render `template` (extending pdf/base.html) with `context` to PDF bytes.

    `label` is the classification of the whole output: for derived material
    pass clearance.labels.join() of every source. Classified output needs a
    reader for the watermark. `on_stage(stage, pages)` is told when layout
    starts ("layout", 0) and when writing starts ("write", number of pages),
    so a background job can show its progress."""
    from weasyprint import HTML

    if not label.is_public and reader is None:
        raise PdfError("classified output needs the reader's name, account id and time for its watermark")
    html = render_template(
        template,
        **context,
        pdf_label=label,
        pdf_banner=banner_text(label),
        pdf_reader=reader,
        pdf_watermark=reader.stamp() if reader is not None and not label.is_public else None,
        pdf_title=title,
        pdf_static=lambda path: BASE_URL + "static/" + path,
    )
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher_class()())
    if on_stage is not None:
        on_stage("layout", 0)
    rendered = document.render()
    if on_stage is not None:
        on_stage("write", len(rendered.pages))
    pdf = rendered.write_pdf()
    if current_app:
        log.debug("rendered %s (%d bytes, label %s)", template, len(pdf), label.code())
    return pdf
