"""The whole curriculum as one YAML file: export it, and import it back.

    text = export_yaml(session, actor=admin)
    report = import_yaml(engine, actor=admin, text=text, dry_run=True)

An import reads and checks the whole file first and reports every problem with where
it is (`modules[1].children[0].children[2].rules.criteria: weights add up to 90%, not
100%`): unknown check or parameter, cycle, duplicate key, wrong nesting, weights not
adding up. Only a file without problems is applied, in one transaction. The file is
the whole tree: nodes missing from it are deleted, which is refused for a node with
submissions (archive it in the file instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import content_history, content_tree, prerequisites, progress
from core.access import Actor, require
from core.authoring import DIFFICULTIES, KEY_RE, PARENT_KIND
from core.db import session_scope
from core.errors import Invalid
from core.models import ContentPrerequisite, LearningContent, LearningSubmission
from core.rules import ActivityRules, unknown_fields

FORMAT_VERSION = 1
NODE_FIELDS = ("key", "type", "title", "description", "body", "objectives", "minutes", "difficulty", "published",
               "archived", "prerequisites")


def _node_doc(tree: content_tree.ContentTree, key: str) -> dict[str, Any]:
    n = tree.nodes[key]
    doc: dict[str, Any] = {
        "key": n.key, "type": n.kind, "title": n.title, "description": n.description, "body": n.body,
        "objectives": list(n.objectives), "minutes": n.minutes, "difficulty": n.difficulty,
        "published": n.published, "archived": n.archived, "prerequisites": list(tree.prerequisites(key)),
    }
    if n.kind == "activity":
        doc["rules"] = (n.rules or ActivityRules()).to_dict()
    children = tree.children.get(key, ())
    if children:
        doc["children"] = [_node_doc(tree, c) for c in children]
    return doc


def export_yaml(session: Session, *, actor: Actor) -> str:
    """The tree, rules and prerequisites as YAML; the same database gives the same bytes."""
    require(actor, "content.read")
    tree = content_tree.current(session)
    doc = {"format": FORMAT_VERSION, "modules": [_node_doc(tree, k) for k in tree.children.get(None, ())]}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


@dataclass
class ImportReport:
    problems: list[tuple[str, str]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    applied: bool = False

    def lines(self) -> list[str]:
        return [f"{path}: {message}" for path, message in self.problems]


@dataclass
class _Parsed:
    nodes: list[tuple[dict, str | None, int, str]] = field(default_factory=list)  # (doc, parent, sequence, path)
    edges: dict[str, list[str]] = field(default_factory=dict)


def parse(text: str) -> tuple[_Parsed, list[tuple[str, str]]]:
    """Every node of the file with its parent and position, and every problem found."""
    problems: list[tuple[str, str]] = []
    parsed = _Parsed()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        return parsed, [("file", f"not valid YAML ({str(err).splitlines()[0]})")]
    if not isinstance(doc, dict) or not isinstance(doc.get("modules"), list):
        return parsed, [("file", "expected a mapping with a `modules` list")]
    if doc.get("format", FORMAT_VERSION) != FORMAT_VERSION:
        problems.append(("format", f"unsupported format {doc.get('format')!r}; this version reads {FORMAT_VERSION}"))
    seen: dict[str, str] = {}

    def visit(item: Any, parent: str | None, parent_kind: str | None, seq: int, path: str) -> None:
        if not isinstance(item, dict):
            problems.append((path, "expected a mapping"))
            return
        key = item.get("key")
        where = f"{path} ({key})" if key else path
        if not isinstance(key, str) or not KEY_RE.match(key):
            problems.append((f"{path}.key", f"key {key!r} must be lower-case letters, digits and underscores"))
        elif key in seen:
            problems.append((f"{path}.key", f"duplicate key {key!r} (also at {seen[key]})"))
        else:
            seen[key] = path
        kind = item.get("type")
        if kind not in PARENT_KIND:
            problems.append((f"{where}.type", f"type must be one of {', '.join(PARENT_KIND)}, not {kind!r}"))
        elif PARENT_KIND[kind] != parent_kind:
            problems.append((f"{where}.type", f"a {kind} cannot sit in a {parent_kind or 'the top level'}"))
        if not isinstance(item.get("title"), str) or not item["title"].strip():
            problems.append((f"{where}.title", "a title is required"))
        minutes = item.get("minutes")
        if minutes is not None and (not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0):
            problems.append((f"{where}.minutes", "must be a whole number of at least 0"))
        if item.get("difficulty") not in (None, *DIFFICULTIES):
            problems.append((f"{where}.difficulty", f"must be one of {', '.join(DIFFICULTIES)}"))
        unknown = set(item) - {*NODE_FIELDS, "rules", "children"}
        if unknown:
            problems.append((where, f"unknown field(s) {', '.join(sorted(unknown))}"))
        if kind == "activity":
            try:
                problems.extend(unknown_fields(item.get("rules"), f"{where}.rules"))
                problems.extend(ActivityRules.from_dict(item.get("rules")).problems(f"{where}.rules"))
            except (TypeError, ValueError, AttributeError) as err:
                problems.append((f"{where}.rules", f"cannot be read ({err})"))
        elif item.get("rules") is not None:
            problems.append((f"{where}.rules", f"a {kind} has no rules"))
        if isinstance(key, str):
            parsed.nodes.append((item, parent, seq, where))
            parsed.edges[key] = [str(k) for k in item.get("prerequisites") or []]
        for i, child in enumerate(item.get("children") or [], start=1):
            visit(child, key if isinstance(key, str) else None, kind, i, f"{path}.children[{i - 1}]")

    for i, module in enumerate(doc["modules"], start=1):
        visit(module, None, None, i, f"modules[{i - 1}]")
    titles = {d["key"]: d.get("title") or d["key"] for d, *_ in parsed.nodes}
    problems.extend(prerequisites.check_edges(parsed.edges, seen, titles))
    return parsed, problems


def import_yaml(engine: Engine, *, actor: Actor, text: str, dry_run: bool = False) -> ImportReport:
    """Check the whole file; apply it in one transaction only when nothing is wrong."""
    require(actor, "content.edit")
    parsed, problems = parse(text)
    report = ImportReport(problems=problems)
    with session_scope(engine, immediate=True) as session:
        rows = {r.content_key: r for r in session.scalars(select(LearningContent))}
        keep = {d["key"] for d, *_ in parsed.nodes}
        gone = [k for k in rows if k not in keep]
        with_work = dict(session.execute(
            select(LearningSubmission.activity_id, func.count()).where(LearningSubmission.activity_id.in_(gone))
            .group_by(LearningSubmission.activity_id)).all()) if gone else {}
        for key, count in sorted(with_work.items()):
            message = (f"is missing from the file but has {count} submission(s); keep it in the file with "
                       "`archived: true` instead")
            report.problems.append((key, message))
        report.deleted = sorted(gone)
        for d, *_ in parsed.nodes:
            (report.changed if d["key"] in rows else report.created).append(d["key"])
        if report.problems or dry_run:
            return report
        report.changed = _apply(session, actor, parsed, rows, gone)
        report.applied = True
    content_tree.invalidate()
    return report


def _apply(session: Session, actor: Actor, parsed: _Parsed, rows: dict[str, LearningContent],
           gone: list[str]) -> list[str]:
    """Writes the file's tree; returns the keys of existing nodes it changed."""
    befores = {k: content_history.snapshot(session, r) for k, r in rows.items()}
    ids = [rows[k].id for k in gone]
    if ids:
        session.execute(delete(ContentPrerequisite).where(
            ContentPrerequisite.content_id.in_(ids) | ContentPrerequisite.requires_id.in_(ids)))
    for key in gone:
        content_history.record(session, actor=actor, action="content.import", key=key, before=befores[key],
                               after=None)
    for removed in sorted((rows[k] for k in gone), key=lambda r: -r.id):
        session.delete(removed)
    session.flush()
    for doc, parent, seq, _ in parsed.nodes:  # parents come before their children
        row = rows.get(doc["key"])
        if row is None:
            row = LearningContent(content_key=doc["key"], content_type=doc["type"], title=doc["title"],
                                  sequence_order=seq)
            session.add(row)
            rows[doc["key"]] = row
        row.content_type, row.title, row.sequence_order = doc["type"], doc["title"].strip(), seq
        row.parent = rows[parent] if parent else None
        row.description = doc.get("description") or None
        row.content_body = doc.get("body") or None
        row.learning_objectives = list(doc.get("objectives") or [])
        row.estimated_duration_minutes = doc.get("minutes")
        row.difficulty = doc.get("difficulty")
        row.is_published = bool(doc.get("published", False))
        row.is_archived = bool(doc.get("archived", False))
        if doc["type"] == "activity":
            row.activity_type = row.activity_type or "excel_build"
            row.rubric_criteria = ActivityRules.from_dict(doc.get("rules")).to_dict()
    session.flush()
    session.execute(delete(ContentPrerequisite))
    for key, requires in parsed.edges.items():
        for req in dict.fromkeys(requires):
            session.add(ContentPrerequisite(content_id=rows[key].id, requires_id=rows[req].id))
        rows[key].prerequisites = list(dict.fromkeys(requires))
    session.flush()
    changed = []
    for doc, *_ in parsed.nodes:
        key = doc["key"]
        revision = content_history.record(session, actor=actor, action="content.import", key=key,
                                          before=befores.get(key), after=content_history.snapshot(session, rows[key]))
        if revision is not None and key in befores:
            changed.append(key)
    content_tree.invalidate()
    progress.refresh(session)
    return changed


def check_file(text: str) -> None:
    """Raise Invalid listing every problem (for callers that only need yes or no)."""
    _, problems = parse(text)
    if problems:
        raise Invalid("; ".join(f"{p}: {m}" for p, m in problems))
