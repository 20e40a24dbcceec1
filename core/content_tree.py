"""The curriculum as one immutable tree, built once from the database and cached
until content changes.

    tree = content_tree.current(session)
    tree.rules("a2_wc_debt")          # ActivityRules, the same for every consumer
    tree.content_map()                # what the rollup and progress need
    tree.prerequisites("capstone")    # keys it requires

The cache is checked with one cheap probe (row counts, max(updated_at), the newest
revision id), so another process's edit is seen on the next read; the authoring
services also call `invalidate()` in-process. An empty database reads the seed
catalogue (core/catalogue.py), as before seeding.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor, require
from core.models import ContentPrerequisite, ContentRevision, LearningContent
from core.rules import ActivityRules

KINDS = ("module", "unit", "lesson", "activity")
CHILD_KIND = {None: "module", "module": "unit", "unit": ("lesson", "activity")}


@dataclass(frozen=True)
class Node:
    key: str
    kind: str
    title: str
    parent: str | None = None
    sequence: int = 0
    id: int | None = None
    description: str = ""
    body: str = ""
    objectives: tuple[str, ...] = ()
    minutes: int | None = None
    difficulty: str | None = None
    published: bool = True
    archived: bool = False
    activity_type: str | None = None
    rules: ActivityRules | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ContentTree:
    nodes: dict[str, Node]
    order: tuple[str, ...]  # depth-first, siblings in sequence order
    children: dict[str | None, tuple[str, ...]]
    edges: dict[str, tuple[str, ...]]  # key -> the keys it requires
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __contains__(self, key: object) -> bool:
        return key in self.nodes

    def node(self, key: str) -> Node | None:
        return self.nodes.get(key)

    def rules(self, key: str) -> ActivityRules | None:
        """An activity's rules (None when `key` is not an activity)."""
        node = self.nodes.get(key)
        if node is None or node.kind != "activity":
            return None
        return node.rules or ActivityRules()

    def activity_keys(self) -> list[str]:
        return [k for k in self.order if self.nodes[k].kind == "activity"]

    def blind_activities(self) -> frozenset[str]:
        """Activities whose rules mark them for blind marking."""
        if "blind" not in self._memo:
            self._memo["blind"] = frozenset(k for k in self.activity_keys()
                                            if (self.nodes[k].rules or ActivityRules()).blind_marking)
        return self._memo["blind"]

    def ancestors(self, key: str) -> list[str]:
        out, parent = [], self.nodes[key].parent if key in self.nodes else None
        while parent is not None:
            out.append(parent)
            parent = self.nodes[parent].parent
        return out

    def module_of(self, key: str) -> str | None:
        return next((k for k in [key, *self.ancestors(key)] if self.nodes[k].kind == "module"), None)

    def descendants(self, key: str) -> list[str]:
        out: list[str] = []
        stack = list(reversed(self.children.get(key, ())))
        while stack:
            k = stack.pop()
            out.append(k)
            stack.extend(reversed(self.children.get(k, ())))
        return out

    def visible(self, key: str) -> bool:
        """Published and not archived, and so is every ancestor."""
        return all(self.nodes[k].published and not self.nodes[k].archived for k in [key, *self.ancestors(key)])

    def prerequisites(self, key: str) -> tuple[str, ...]:
        return self.edges.get(key, ())

    def content_map(self):
        """The rollup's and progress's view (core.rollup.ContentMap), built once per tree."""
        if "cmap" not in self._memo:
            from core.rollup.definitions import ContentMap

            cmap = ContentMap()
            pending_lessons: list[str] = []
            for key in self.order:
                node = self.nodes[key]
                cmap.kind[key] = node.kind
                cmap.order[key] = len(cmap.order)
                if node.parent:
                    cmap.parent[key] = node.parent
                if node.kind == "lesson":
                    pending_lessons.append(key)
                elif node.kind == "activity":
                    for lesson in pending_lessons:
                        cmap.lesson_activity[lesson] = key
                    pending_lessons = []
                if self.visible(key):
                    {"activity": cmap.activities, "unit": cmap.units, "module": cmap.modules}.get(
                        node.kind, []).append(key)
            self._memo["cmap"] = cmap
        return self._memo["cmap"]

    @classmethod
    def build(cls, nodes: list[Node], edges: dict[str, tuple[str, ...]]) -> ContentTree:
        by_key = {n.key: n for n in nodes}
        grouped: dict[str | None, list[Node]] = {}
        for n in nodes:
            grouped.setdefault(n.parent if n.parent in by_key else None, []).append(n)
        children = {p: tuple(n.key for n in sorted(kids, key=lambda n: (n.sequence, n.id or 0, n.key)))
                    for p, kids in grouped.items()}
        order: list[str] = []

        def walk(parent: str | None) -> None:
            for key in children.get(parent, ()):
                order.append(key)
                walk(key)

        walk(None)
        return cls(nodes=by_key, order=tuple(order), children=children, edges=edges)


def _from_rows(session: Session) -> ContentTree | None:
    rows = session.scalars(select(LearningContent)).all()
    if not rows:
        return None
    key_of: dict[int | None, str] = {r.id: r.content_key for r in rows}
    nodes = [Node(
        key=r.content_key, kind=r.content_type, title=r.title, parent=key_of.get(r.parent_id),
        sequence=r.sequence_order or 0, id=r.id, description=r.description or "", body=r.content_body or "",
        objectives=tuple(r.learning_objectives or ()), minutes=r.estimated_duration_minutes,
        difficulty=r.difficulty, published=bool(r.is_published), archived=bool(r.is_archived),
        activity_type=r.activity_type,
        rules=ActivityRules.from_dict(r.rubric_criteria) if r.content_type == "activity" else None,
        updated_at=r.updated_at,
    ) for r in rows]
    edges: dict[str, list[str]] = {}
    for content_id, requires_id in session.execute(
            select(ContentPrerequisite.content_id, ContentPrerequisite.requires_id).order_by(ContentPrerequisite.id)):
        edges.setdefault(key_of[content_id], []).append(key_of[requires_id])
    return ContentTree.build(nodes, {k: tuple(v) for k, v in edges.items()})


def from_seed() -> ContentTree:
    """The seed catalogue as a tree (no database)."""
    from core.catalogue import TREE

    nodes: list[Node] = []
    edges: dict[str, tuple[str, ...]] = {}

    def visit(item: dict, parent: str | None) -> None:
        key = item["content_key"]
        nodes.append(Node(
            key=key, kind=item["content_type"], title=item["title"], parent=parent,
            sequence=item["sequence_order"], description=item.get("description") or "",
            objectives=tuple(item.get("learning_objectives") or ()),
            minutes=item.get("estimated_duration_minutes"), activity_type=item.get("activity_type"),
            rules=ActivityRules.from_dict(item.get("rubric_criteria")) if item["content_type"] == "activity" else None,
        ))
        if item.get("prerequisites"):
            edges[key] = tuple(item["prerequisites"])
        for child in item.get("children", []):
            visit(child, key)

    for module in TREE:
        visit(module, None)
    return ContentTree.build(nodes, edges)


_lock = threading.Lock()
_cache: dict[str, tuple[tuple, ContentTree]] = {}
_generation = 0


def invalidate() -> None:
    """Forget every cached tree (the authoring services call this after a change)."""
    global _generation
    with _lock:
        _generation += 1
        _cache.clear()


def _probe(session: Session) -> tuple:
    revisions = select(func.max(ContentRevision.id)).scalar_subquery()
    edges = select(func.count(ContentPrerequisite.id)).scalar_subquery()
    row = session.execute(select(func.count(LearningContent.id), func.max(LearningContent.updated_at),
                                 revisions, edges)).one()
    return (_generation, *tuple(row))


def current(session: Session) -> ContentTree:
    """The tree as this session sees it: from the cache when nothing changed."""
    engine = session.get_bind().engine  # a Session bound to a Connection caches per Engine
    cache_key = f"{id(engine)}:{engine.url.render_as_string(hide_password=True)}"
    probe = _probe(session)
    with _lock:
        hit = _cache.get(cache_key)
    if hit is not None and hit[0] == probe:
        return hit[1]
    tree = _from_rows(session) or from_seed()
    with _lock:
        _cache[cache_key] = (probe, tree)
    return tree


def activity_rules(session: Session | None, key: str) -> ActivityRules | None:
    """An activity's rules: the database's when there is one, else the seed's."""
    tree = current(session) if session is not None else from_seed()
    return tree.rules(key)


def rubric(session: Session, key: str) -> list[dict[str, Any]]:
    """An activity's grading rubric (ActivityRules.rubric; empty for an unknown key)."""
    rules = activity_rules(session, key)
    return [] if rules is None else rules.rubric()


def rules_for(session: Session, *, actor: Actor, key: str) -> ActivityRules | None:
    """An activity's rules for the content page's editor."""
    require(actor, "content.read")
    return current(session).rules(key)
