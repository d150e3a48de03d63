"""Minutes text: Markdown → sanitised HTML, with the briefings' allow-list (one sanitiser for the app).

Raw HTML is not interpreted (markdown-it with html off), and what markdown-it
produces is cleaned again by nh3 (dialogue.briefings.render.sanitise): no
script, no event handlers, no style, no images, links only to http(s) and
mailto. Size is capped before parsing, so a huge or deeply nested input costs
nothing.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

from dialogue.briefings.render import sanitise
from dialogue.minutes.document import MAX_SECTION_CHARS

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "maxNesting": 20}).enable(
    "table")


class TooLarge(ValueError):
    """Input over the size limit: refused, never truncated silently."""


def to_html(markdown: str | None, limit: int = MAX_SECTION_CHARS) -> Markup:
    text = (markdown or "").replace("\r\n", "\n")
    if len(text) > limit:
        raise TooLarge(f"{len(text)} characters (limit {limit})")
    if not text.strip():
        return Markup("")
    return Markup(sanitise(_MD.render(text)))  # noqa: S704 - cleaned by nh3 in sanitise()
