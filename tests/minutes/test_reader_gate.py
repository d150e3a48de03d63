"""The structural guard: no route reads a stored minutes document except through the reader's gate.

Two checks, one static and one at run time, so that a new route or a new helper is covered without
editing this file:

1. Static (every rule in app.url_map): the view function's source and, transitively, the source of
   every function of the `dialogue` package it refers to (module-level or imported inside the
   function) are parsed; no reference may resolve to a raw reader of stored minutes — a function of
   the trusted modules that returns a Document (service.current, service.document_of, document.loads,
   found from their annotations, so a new one is caught too), the per-part decision used by the gate
   (access.decide_parts), or an attribute `.content` / `.content_ct` (a revision's sealed content).
   The walk does not descend into the gate and the write path themselves (reader, service, access,
   document): those are where the stored document legitimately lives. Routes that output a minutes
   document must reach reader.reader_view.
2. Run time: while the issue's scenario is rendered through every minutes page, every template
   context is inspected: no MinutesRevision, and every Document in it is a ReaderDocument (made by the
   gate, or exactly what the client sent).

A test plants a view that skips the gate (directly, through a helper, through a local import) and
checks the guard catches each.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
import types
import typing
from collections.abc import Callable, Iterator

import pytest
from flask import template_rendered

from dialogue.minutes import access, document, reader, service
from dialogue.minutes.models import MinutesRevision

#: where the stored document may be read: the gate, the write path and the document's own module
TRUSTED = frozenset({"dialogue.minutes.reader", "dialogue.minutes.service", "dialogue.minutes.access",
                     "dialogue.minutes.document"})
RAW_ATTRIBUTES = frozenset({"content", "content_ct"})


def _returns_document(fn: Callable) -> bool:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # an unresolvable annotation: fall back to the text
        hints = {"return": getattr(fn, "__annotations__", {}).get("return", "")}
    text = str(hints.get("return", ""))
    return "Document" in text and "ReaderDocument" not in text


def rawreaders() -> set[object]:
    """Every function that hands out a stored document (or decides parts without building a copy)."""
    found: set[object] = {access.decide_parts, access.record_reading, document.loads}
    for module in (service, document, access):
        for _name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and _returns_document(fn) and fn is not service.blank_rows \
                    and fn is not document.from_dict:  # from_dict parses what the client sent
                found.add(fn)
    return found


def _dotted(node: ast.AST) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


def _local_imports(tree: ast.AST) -> dict[str, object]:
    names: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            module = importlib.import_module(node.module)
            for alias in node.names:
                obj = getattr(module, alias.name, None)
                if obj is None:
                    obj = importlib.import_module(f"{node.module}.{alias.name}")
                names[alias.asname or alias.name] = obj
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = importlib.import_module(
                    alias.name if alias.asname else alias.name.split(".")[0])
    return names


def references(fn: Callable) -> Iterator[tuple[str, object | None]]:
    """(dotted name, object) for every name the function's source refers to that resolves."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return
    tree = ast.parse(source)
    namespace = {**getattr(fn, "__globals__", {}), **_local_imports(tree)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in RAW_ATTRIBUTES:
            yield f".{node.attr}", None
        chain = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if not chain or chain[0] not in namespace:
            continue
        obj = namespace[chain[0]]
        for attr in chain[1:]:
            if not isinstance(obj, (types.ModuleType, type)):
                obj = None  # an instance or a proxy (request, db.session): nothing static to follow
                break
            obj = getattr(obj, attr, None)
            if obj is None:
                break
        if obj is not None:
            yield ".".join(chain), obj


def walk(view: Callable) -> tuple[set[object], list[str]]:
    """Everything the view reaches in the dialogue package (outside the trusted modules), and every
    raw read found on the way, as 'function: name'."""
    raw = rawreaders()
    reached: set[object] = set()
    problems: list[str] = []
    stack, seen = [inspect.unwrap(view)], set()
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        for name, obj in references(fn):
            if obj is None or any(obj is r for r in raw):
                problems.append(f"{fn.__module__}.{fn.__qualname__}: {name}")
                continue
            if isinstance(obj, types.FunctionType):
                reached.add(obj)
                module = obj.__module__ or ""
                if module.startswith("dialogue.") and module not in TRUSTED:
                    stack.append(obj)
    return reached, problems


#: minutes routes that print a document: they must reach the gate
OUTPUTS = ("minutes.view", "minutes.edit", "minutes.save", "minutes.api_get", "minutes.api_save", "minutes.compare",
           "minutes.restore", "minutes.pdf", "minutes.summary", "minutes.summary_pdf", "minutes.portal_view",
           "minutes.portal_pdf", "minutes.portal_summary_pdf")


def test_the_raw_readers_are_found_from_their_annotations():
    raw = rawreaders()
    assert service.current in raw and service.document_of in raw and document.loads in raw
    assert reader.reader_view not in raw


def test_no_route_reads_a_stored_minutes_document_around_the_gate(app):
    failures = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        _reached, problems = walk(view)
        if problems:
            failures[rule.rule] = problems
    assert not failures, failures


@pytest.mark.parametrize("endpoint", OUTPUTS)
def test_every_minutes_output_goes_through_reader_view(app, endpoint):
    reached, problems = walk(app.view_functions[endpoint])
    assert not problems
    assert reader.reader_view in reached or reader.public_summary_copy in reached, endpoint


def test_every_minutes_route_is_known_to_this_guard(app):
    """A new minutes route must be listed as an output or as one that prints no document."""
    quiet = {"minutes.index", "minutes.start", "minutes.revisions", "minutes.submit", "minutes.approve_internal",
             "minutes.return_to_draft", "minutes.approve", "minutes.lock", "minutes.add_addendum",
             "minutes.resolve", "minutes.portal_index", "minutes.portal_correct"}
    minutes_endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("minutes.")}
    assert minutes_endpoints == set(OUTPUTS) | quiet, minutes_endpoints ^ (set(OUTPUTS) | quiet)


# ---------------------------------------------------------------------------
# The guard can fail: views that skip the gate in three ways
# ---------------------------------------------------------------------------


def _planted_direct(minutes_id: str):
    from clearance.db import db
    from dialogue.minutes.models import Minutes

    doc, _rev = service.current(db.session, db.session.get(Minutes, minutes_id))
    return doc.to_dict()


def _planted_helper_inner(m):
    from clearance.db import db

    return service.revision(db.session, m).content


def _planted_through_a_helper(minutes_id: str):
    return _planted_helper_inner(minutes_id)


def _planted_local_import(minutes_id: str):
    from dialogue.minutes.document import loads

    return loads("{}")


_planted_through_a_helper.__module__ = _planted_helper_inner.__module__ = "dialogue.planted"


@pytest.mark.parametrize("view", [_planted_direct, _planted_through_a_helper, _planted_local_import])
def test_the_guard_catches_a_view_that_skips_the_gate(view):
    _reached, problems = walk(view)
    assert problems, view.__name__


# ---------------------------------------------------------------------------
# Run time: what templates receive
# ---------------------------------------------------------------------------


def _values(value, depth: int = 0) -> Iterator[object]:
    yield value
    if depth > 3:
        return
    if isinstance(value, dict):
        for v in value.values():
            yield from _values(v, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            yield from _values(v, depth + 1)
    elif isinstance(value, reader.ReaderCopy):
        yield from _values(value.doc, depth + 1)


def test_templates_receive_only_reader_documents(app, world, factory, scenario):
    """The issue's scenario through every minutes page; every template context is inspected."""
    from tests.factories import sign_in
    from tests.minutes.scenario import officer_outputs, readers

    minutes_id, _cited = scenario
    bad: list[str] = []

    def inspect_context(sender, template, context, **_extra):
        for value in _values(dict(context)):
            if isinstance(value, MinutesRevision):
                bad.append(f"{template.name}: a MinutesRevision")
            elif isinstance(value, document.Document) and not isinstance(value, reader.ReaderDocument):
                bad.append(f"{template.name}: a stored Document")

    rendered: list[str] = []

    def note(sender, template, context, **_extra):
        rendered.append(template.name)

    template_rendered.connect(inspect_context, app)
    template_rendered.connect(note, app)
    try:
        for who in (world.officer, readers(app, factory)["L1-BATT"]):
            client = app.test_client()
            sign_in(client, who)
            officer_outputs(app, client, minutes_id)
    finally:
        template_rendered.disconnect(inspect_context, app)
        template_rendered.disconnect(note, app)
    assert {"minutes/view.html", "minutes/edit.html", "minutes/compare.html", "reports/pdf_minutes.html"} \
        <= set(rendered)
    assert not bad, bad

