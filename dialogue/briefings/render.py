"""Briefing bodies: Markdown → sanitised HTML, with portion marks where parts differ.

A heading may end with its section's level in brackets, e.g.

    ## 概要 [公開]
    ## 調達先の状況 [取扱注意]

The mark applies to that heading and everything below it until the next
heading of the same or higher rank. A section may not be marked above the
briefing's own level. When every part has the briefing's level the body
carries no portion marks (the banners say it all); as soon as one part
differs, every block is marked, so a reader can tell what may be quoted where.

Raw HTML in the Markdown is not interpreted, and whatever markdown-it
produces is cleaned by nh3 (allow-list of tags, no images, no scripts, links
only to http(s) and mailto), so a body can never run script or fetch anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from clearance.labels import PORTION_MARKS, Level

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}

_MARKERS = {
    "公開": Level.PUBLIC, "PUBLIC": Level.PUBLIC, "P": Level.PUBLIC,
    "取扱注意": Level.OFFICIAL_SENSITIVE, "OFFICIAL-SENSITIVE": Level.OFFICIAL_SENSITIVE, "OS": Level.OFFICIAL_SENSITIVE,
    "重要経済安保情報": Level.CRITICAL, "重要": Level.CRITICAL, "CRITICAL": Level.CRITICAL, "CESI": Level.CRITICAL,
}
_SECRET_MARKERS = {"特定秘密", "SDS", "SPECIALLY DESIGNATED SECRET"}
_HEADING = re.compile(r"^( {0,3})(#{1,6})(\s.*?)\s*[\[［]\s*([^\]］]{1,40}?)\s*[\]］]\s*#*\s*$")


@dataclass
class Portion:
    level: Level
    html: Markup


@dataclass
class Rendered:
    portions: list[Portion] = field(default_factory=list)
    marked: bool = False
    #: problems with section marks, for the form (empty when the body is acceptable)
    errors: list[str] = field(default_factory=list)

    @property
    def levels(self) -> set[Level]:
        return {p.level for p in self.portions}

    def html(self, locale: str = "ja") -> Markup:
        """The body as one block of HTML; portion marks only if parts differ."""
        out = []
        for p in self.portions:
            if self.marked:
                mark = PORTION_MARKS[p.level][0 if locale == "ja" else 1]
                out.append(Markup('<div class="portion portion-{n}"><span class="portion-mark">({m})</span>'
                                  '<div class="portion-body">{h}</div></div>').format(n=int(p.level), m=mark, h=p.html))
            else:
                out.append(p.html)
        return Markup("\n").join(out)


def sanitise(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


def _section_marks(lines: list[str], doc_level: Level) -> tuple[list[str], dict[int, Level], list[str]]:
    """Strip level markers from heading lines; return (lines, line number → level, errors)."""
    marks: dict[int, Level] = {}
    errors: list[str] = []
    in_fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if in_fence:
            continue
        m = _HEADING.match(line)
        if not m:
            continue
        word = m.group(4).strip().upper() if m.group(4).isascii() else m.group(4).strip()
        if word in _SECRET_MARKERS:
            errors.append("secret")
            continue
        level = _MARKERS.get(word)
        if level is None:
            continue  # an ordinary bracket in a heading, not a mark
        if level > doc_level:
            errors.append("above_document")
        marks[i] = min(level, doc_level)
        lines[i] = f"{m.group(1)}{m.group(2)}{m.group(3)}"
    return lines, marks, errors


def render(markdown: str | None, doc_level: int) -> Rendered:
    """Render a body written at `doc_level`."""
    doc = Level(doc_level)
    lines, marks, errors = _section_marks((markdown or "").replace("\r\n", "\n").split("\n"), doc)
    tokens = _MD.parse("\n".join(lines))
    result = Rendered(errors=errors)
    # (rank, level) of the sections we are inside; a marked heading opens one, a heading of the
    # same or higher rank closes it.
    stack: list[tuple[int, Level]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        j = i
        if tok.nesting == 1:  # find the matching close at the same level
            depth = 0
            while j < len(tokens):
                depth += tokens[j].nesting
                if depth == 0:
                    break
                j += 1
        block = tokens[i : j + 1]
        if tok.type == "heading_open":
            rank = int(tok.tag[1])
            # The page's title is its only h1: body headings start one rank lower.
            for t in (tok, tokens[j]):
                t.tag = f"h{min(rank + 1, 6)}"
            while stack and stack[-1][0] >= rank:
                stack.pop()
            line = tok.map[0] if tok.map else -1
            if line in marks:
                stack.append((rank, marks[line]))
        level = stack[-1][1] if stack else doc
        html = sanitise(_MD.renderer.render(block, _MD.options, {}))
        if html.strip():
            result.portions.append(Portion(level, Markup(html)))  # noqa: S704 - cleaned by nh3 just above
        i = j + 1
    result.marked = any(p.level != doc for p in result.portions)
    return result


def plain_excerpt(text: str, limit: int = 160) -> Markup:
    """A summary line for lists (escaped, shortened)."""
    text = " ".join((text or "").split())
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")
