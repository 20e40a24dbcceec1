"""Authoring the curriculum (admins): create, edit, move, reorder, publish, archive and
delete nodes; their rules and prerequisites; restore an earlier revision.

Each service owns its transaction, checks `content.edit`, writes a content revision and
an audit row (core/content_history.py), and drops the cached content tree. A change to
the structure or to what students can see recomputes progress in the same transaction.

Deleting a node with children, or unpublishing or archiving one with children or
submissions, raises `NeedsConfirmation` naming what it affects; call again with
`confirm=True`. A node with submissions is never deleted, only archived.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import content_history, content_tree, prerequisites, progress
from core.access import Actor, require
from core.db import session_scope
from core.errors import Conflict, Invalid, NotFound
from core.models import ContentPrerequisite, ContentRevision, LearningContent, LearningSubmission
from core.rules import ActivityRules, RulesProblem, field_label

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,99}$")
PARENT_KIND = {"module": None, "unit": "module", "lesson": "unit", "activity": "unit"}
DIFFICULTIES = ("introductory", "intermediate", "advanced")
MAX_TITLE = 255
MAX_BODY = 200_000
EDITABLE = ("title", "description", "body", "objectives", "minutes", "difficulty")


class NeedsConfirmation(Conflict):
    """The change affects other nodes or students' work; `impact` says how."""

    def __init__(self, message: str, impact: dict):
        super().__init__(message)
        self.impact = impact


def _row(session: Session, key: str) -> LearningContent:
    row = session.scalar(select(LearningContent).where(LearningContent.content_key == key))
    if row is None:
        raise NotFound(f"No content item with key {key!r}.")
    return row


def impact(session: Session, key: str) -> dict:
    """What a delete, unpublish or archive of `key` reaches: the nodes under it and the
    submissions to any activity among them."""
    tree = content_tree.current(session)
    if key not in tree:
        raise NotFound(f"No content item with key {key!r}.")
    below = tree.descendants(key)
    activities = [k for k in [key, *below] if tree.nodes[k].kind == "activity"]
    count = session.scalar(select(func.count(LearningSubmission.id))
                           .where(LearningSubmission.activity_id.in_(activities))) if activities else 0
    return {"key": key, "title": tree.nodes[key].title, "children": [tree.nodes[k].title for k in below],
            "submissions": int(count or 0)}


def preview_impact(session: Session, *, actor: Actor, key: str) -> dict:
    """`impact` with its sentence, for a page that asks before it acts."""
    require(actor, "content.read")
    imp = impact(session, key)
    return {**imp, "message": describe(imp)}


def describe(imp: dict) -> str:
    parts = []
    if imp["children"]:
        parts.append(f"{len(imp['children'])} item(s) under it ({', '.join(imp['children'][:5])}"
                     f"{', …' if len(imp['children']) > 5 else ''})")
    if imp["submissions"]:
        parts.append(f"{imp['submissions']} student submission(s)")
    return f"“{imp['title']}” has " + " and ".join(parts) if parts else ""


def _renumber(session: Session, parent_id: int | None, order: list[LearningContent] | None = None) -> None:
    siblings = order if order is not None else list(session.scalars(
        select(LearningContent).where(LearningContent.parent_id.is_(None) if parent_id is None
                                      else LearningContent.parent_id == parent_id)
        .order_by(LearningContent.sequence_order, LearningContent.id)))
    for i, row in enumerate(siblings, start=1):
        if row.sequence_order != i:
            row.sequence_order = i


def _place(session: Session, row: LearningContent, parent: LearningContent | None, position: int | None) -> None:
    """Put `row` under `parent` at 1-based `position` (default: last), renumbering both
    the old and the new sibling lists."""
    old_parent_id = row.parent_id
    row.parent = parent
    session.flush()
    siblings = [r for r in session.scalars(
        select(LearningContent).where(LearningContent.parent_id.is_(None) if parent is None
                                      else LearningContent.parent_id == parent.id)
        .order_by(LearningContent.sequence_order, LearningContent.id)) if r.id != row.id]
    index = len(siblings) if position is None else max(0, min(position - 1, len(siblings)))
    siblings.insert(index, row)
    _renumber(session, None, siblings)
    if old_parent_id != row.parent_id:
        _renumber(session, old_parent_id)


def _parent_for(session: Session, kind: str, parent_key: str | None) -> LearningContent | None:
    if kind not in PARENT_KIND:
        raise Invalid(f"Type must be one of {', '.join(PARENT_KIND)}, not {kind!r}.")
    want = PARENT_KIND[kind]
    if want is None:
        if parent_key:
            raise Invalid("A module sits at the top of the curriculum; it has no parent.")
        return None
    if not parent_key:
        raise Invalid(f"A {kind} belongs in a {want}; choose one.")
    parent = _row(session, parent_key)
    if parent.content_type != want:
        raise Invalid(f"A {kind} belongs in a {want}, and “{parent.title}” is a {parent.content_type}.")
    return parent


def _clean(fields: dict[str, Any], key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in EDITABLE:
            raise Invalid(f"{name} is not an editable field.")
        if name == "title":
            value = (value or "").strip()
            if not value:
                raise Invalid(f"Title of {key} cannot be empty.")
            if len(value) > MAX_TITLE:
                raise Invalid(f"Title of {key} is {len(value)} characters; the limit is {MAX_TITLE}.")
        elif name in ("description", "body"):
            value = (value or "").strip()
            if len(value) > MAX_BODY:
                raise Invalid(f"The {name} of {key} is {len(value)} characters; the limit is {MAX_BODY}.")
        elif name == "objectives":
            value = [str(o).strip() for o in (value or []) if str(o).strip()]
        elif name == "minutes":
            if value in (None, ""):
                value = None
            elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10_000:
                raise Invalid(f"Estimated minutes of {key} must be a whole number from 0 to 10000.")
        elif name == "difficulty":
            value = value or None
            if value is not None and value not in DIFFICULTIES:
                raise Invalid(f"Difficulty of {key} must be one of {', '.join(DIFFICULTIES)}.")
        out[name] = value
    return out


def _apply(row: LearningContent, fields: dict[str, Any]) -> None:
    columns = {"title": "title", "description": "description", "body": "content_body",
               "objectives": "learning_objectives", "minutes": "estimated_duration_minutes",
               "difficulty": "difficulty"}
    for name, value in fields.items():
        if name in ("description", "body"):
            value = value or None
        setattr(row, columns[name], value)


def _revise(session: Session, actor: Actor, action: str, key: str, before: dict | None, after: dict | None) -> None:
    content_history.record(session, actor=actor, action=action, key=key, before=before, after=after)


def _done(session: Session, structural: bool) -> None:
    session.flush()
    content_tree.invalidate()
    if structural:
        progress.refresh(session)


def create_node(engine: Engine, *, actor: Actor, kind: str, key: str, title: str, parent_key: str | None = None,
                position: int | None = None, published: bool = False, rules: ActivityRules | None = None,
                **fields: Any) -> str:
    """A new node (a draft unless `published`); returns its key."""
    require(actor, "content.edit")
    key = (key or "").strip()
    if not KEY_RE.match(key):
        raise Invalid(f"Key {key!r} must be lower-case letters, digits and underscores (up to 100).")
    clean = _clean({"title": title, **fields}, key)
    if rules is not None and kind != "activity":
        raise Invalid("Only an activity has rules.")
    with session_scope(engine, immediate=True) as session:
        if session.scalar(select(LearningContent.id).where(LearningContent.content_key == key)) is not None:
            raise Invalid(f"Key {key!r} is already used; keys must be unique.")
        parent = _parent_for(session, kind, parent_key)
        row = LearningContent(content_key=key, content_type=kind, title=clean["title"], sequence_order=0,
                              is_published=published, is_archived=False,
                              activity_type="excel_build" if kind == "activity" else None)
        _apply(row, clean)
        if kind == "activity":
            row.rubric_criteria = _checked(rules or ActivityRules.from_dict({"checks": ["required_sheets"]}), key)
        session.add(row)
        _place(session, row, parent, position)
        session.flush()
        _revise(session, actor, "content.create", key, None, content_history.snapshot(session, row))
        _done(session, structural=True)
    return key


def _checked(rules: ActivityRules, key: str) -> dict:
    try:
        return rules.checked(f"{key}.rules").to_dict()
    except RulesProblem as err:
        raise Invalid("; ".join(f"{field_label(p)}: {m}" for p, m in err.problems) + ".") from err


def edit_node(engine: Engine, *, actor: Actor, key: str, **fields: Any) -> dict:
    """Change any of title, description, body (Markdown), objectives, minutes, difficulty."""
    require(actor, "content.edit")
    clean = _clean(fields, key)
    with session_scope(engine, immediate=True) as session:
        row = _row(session, key)
        before = content_history.snapshot(session, row)
        _apply(row, clean)
        session.flush()
        after = content_history.snapshot(session, row)
        _revise(session, actor, "content.edit", key, before, after)
        _done(session, structural=False)
    return after


def set_rules(engine: Engine, *, actor: Actor, key: str, rules: ActivityRules) -> ActivityRules:
    """Replace an activity's rules; refused with every problem named (unknown check or
    parameter, weights not adding up to 100%)."""
    require(actor, "content.edit")
    stored = _checked(rules, key)
    with session_scope(engine, immediate=True) as session:
        row = _row(session, key)
        if row.content_type != "activity":
            raise Invalid(f"“{row.title}” is a {row.content_type}; only activities have rules.")
        before = content_history.snapshot(session, row)
        row.rubric_criteria = stored
        session.flush()
        _revise(session, actor, "content.rules", key, before, content_history.snapshot(session, row))
        _done(session, structural=False)
    return ActivityRules.from_dict(stored)


def move_node(engine: Engine, *, actor: Actor, key: str, parent_key: str | None,
              position: int | None = None) -> None:
    """Move a node under another parent of the right type, at `position` (default last)."""
    require(actor, "content.edit")
    with session_scope(engine, immediate=True) as session:
        row = _row(session, key)
        parent = _parent_for(session, row.content_type, parent_key)
        before = content_history.snapshot(session, row)
        _place(session, row, parent, position)
        session.flush()
        _revise(session, actor, "content.move", key, before, content_history.snapshot(session, row))
        _done(session, structural=True)


def reorder(engine: Engine, *, actor: Actor, parent_key: str | None, keys: list[str]) -> None:
    """Put a parent's children in the order given (every child, each once)."""
    require(actor, "content.edit")
    with session_scope(engine, immediate=True) as session:
        parent = _row(session, parent_key) if parent_key else None
        siblings = list(session.scalars(select(LearningContent).where(
            LearningContent.parent_id.is_(None) if parent is None else LearningContent.parent_id == parent.id)))
        by_key = {r.content_key: r for r in siblings}
        if sorted(keys) != sorted(by_key):
            raise Invalid("The new order must list every item under the parent exactly once "
                          f"({', '.join(sorted(by_key))}).")
        befores = {k: content_history.snapshot(session, r) for k, r in by_key.items()}
        _renumber(session, None, [by_key[k] for k in keys])
        session.flush()
        for k, r in by_key.items():
            _revise(session, actor, "content.reorder", k, befores[k],
                                   content_history.snapshot(session, r))
        _done(session, structural=True)


def _set_state(engine: Engine, *, actor: Actor, key: str, column: str, value: bool, hides: bool, confirm: bool,
               verb: str, actions: tuple[str, str]) -> None:
    """Turn a node's published or archived flag to `value`. A change that `hides` a node
    with children or submissions waits for `confirm`; `actions` are the audit actions
    for (True, False)."""
    require(actor, "content.edit")
    with session_scope(engine, immediate=True) as session:
        row = _row(session, key)
        if bool(getattr(row, column)) == value:
            return
        if hides and not confirm:
            imp = impact(session, key)
            if imp["children"] or imp["submissions"]:
                raise NeedsConfirmation(f"{describe(imp)}; {verb} hides them from students. Confirm to go on.", imp)
        before = content_history.snapshot(session, row)
        setattr(row, column, value)
        session.flush()
        _revise(session, actor, actions[0] if value else actions[1], key, before,
                content_history.snapshot(session, row))
        _done(session, structural=True)


def set_published(engine: Engine, *, actor: Actor, key: str, published: bool, confirm: bool = False) -> bool:
    _set_state(engine, actor=actor, key=key, column="is_published", value=published, hides=not published,
               confirm=confirm, verb="unpublishing", actions=("content.publish", "content.unpublish"))
    return published


def archive_node(engine: Engine, *, actor: Actor, key: str, archived: bool = True, confirm: bool = False) -> None:
    """Archive (or bring back) a node: kept with its submissions, hidden from students."""
    _set_state(engine, actor=actor, key=key, column="is_archived", value=archived, hides=archived,
               confirm=confirm, verb="archiving", actions=("content.archive", "content.unarchive"))


def delete_node(engine: Engine, *, actor: Actor, key: str, confirm: bool = False) -> list[str]:
    """Delete a node and everything under it; returns the deleted keys. Refused (archive
    instead) when any student has submitted to it."""
    require(actor, "content.edit")
    with session_scope(engine, immediate=True) as session:
        imp = impact(session, key)
        if imp["submissions"]:
            raise Conflict(f"{describe(imp)}; a node with submissions cannot be deleted. Archive it instead.")
        if imp["children"] and not confirm:
            raise NeedsConfirmation(f"{describe(imp)}; deleting removes them too. Confirm to go on.", imp)
        tree = content_tree.current(session)
        doomed = [key, *tree.descendants(key)]
        rows = list(session.scalars(select(LearningContent).where(LearningContent.content_key.in_(doomed))))
        parent_id = next(r.parent_id for r in rows if r.content_key == key)
        for r in sorted(rows, key=lambda r: -doomed.index(r.content_key)):
            _revise(session, actor, "content.delete", r.content_key,
                                   content_history.snapshot(session, r), None)
        ids = [r.id for r in rows]
        session.execute(delete(ContentPrerequisite).where(
            ContentPrerequisite.content_id.in_(ids) | ContentPrerequisite.requires_id.in_(ids)))
        for r in sorted(rows, key=lambda r: -doomed.index(r.content_key)):
            session.delete(r)
        session.flush()
        _renumber(session, parent_id)
        _done(session, structural=True)
    return doomed


def set_prerequisites(engine: Engine, *, actor: Actor, key: str, requires: list[str]) -> list[str]:
    """Replace what `key` requires; an edge that would close a cycle is refused, naming it."""
    require(actor, "content.edit")
    requires = list(dict.fromkeys(requires))
    with session_scope(engine, immediate=True) as session:
        row = _row(session, key)
        tree = content_tree.current(session)
        edges = {k: list(v) for k, v in tree.edges.items()}
        edges[key] = requires
        prerequisites.refuse_cycles(edges, tree.nodes, {k: n.title for k, n in tree.nodes.items()})
        before = content_history.snapshot(session, row)
        prerequisites.write_edges(session, actor=actor, row=row, requires=requires)
        _revise(session, actor, "content.prerequisites", key, before,
                               content_history.snapshot(session, row))
        _done(session, structural=False)
    return requires


def restore_revision(engine: Engine, *, actor: Actor, revision_id: int) -> str:
    """Put a node back as it was right after `revision_id` (before it, for a deletion)."""
    require(actor, "content.edit")
    with session_scope(engine, immediate=True) as session:
        rev = session.get(ContentRevision, revision_id)
        if rev is None:
            raise NotFound(f"No content revision {revision_id}.")
        state: dict = rev.after if rev.after is not None else (rev.before or {})
        row = session.scalar(select(LearningContent).where(LearningContent.content_key == rev.content_key))
        before = content_history.snapshot(session, row) if row is not None else None
        parent = _parent_for(session, state["type"], state["parent"])
        if row is None:
            row = LearningContent(content_key=rev.content_key, content_type=state["type"], title=state["title"],
                                  sequence_order=0)
            session.add(row)
        _apply(row, {k: state[k] for k in EDITABLE})
        row.is_published, row.is_archived = state["published"], state["archived"]
        if state["type"] == "activity":
            row.activity_type = row.activity_type or "excel_build"
            row.rubric_criteria = _checked(ActivityRules.from_dict(state["rules"]), rev.content_key)
        _place(session, row, parent, state["sequence"])
        tree = content_tree.current(session)
        missing = [k for k in state["prerequisites"] if k not in tree]
        if missing:
            raise Invalid(f"Cannot restore: it requires {', '.join(missing)}, which no longer exist.")
        edges = {k: list(v) for k, v in tree.edges.items()}
        edges[rev.content_key] = state["prerequisites"]
        prerequisites.refuse_cycles(edges, tree.nodes, {k: n.title for k, n in tree.nodes.items()})
        prerequisites.write_edges(session, actor=actor, row=row, requires=state["prerequisites"])
        _revise(session, actor, "content.restore", rev.content_key, before,
                               content_history.snapshot(session, row))
        _done(session, structural=True)
    return rev.content_key
