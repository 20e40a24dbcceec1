"""Prerequisites as a graph: edges between content nodes, kept acyclic.

A node requires the nodes its edges point to; a node inside a module or unit also
requires what that module or unit requires. What "done" means:
- an activity: the student has a submission of it that passed validation;
- a lesson: the student has viewed it (a `lesson_view` event);
- a unit or module: every visible lesson and activity in it is done.

`unmet_prerequisites(session, student_id, activity_id)` is the query the student
platform calls before it lets a student start or submit (it decides whether to block);
submissions record its answer in `learning_submissions.prerequisites_met`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import content_tree
from core.access import Actor, require
from core.errors import Invalid
from core.models import ContentPrerequisite, LearningContent, LearningSubmission, LearningTelemetry


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle as [a, b, ..., a], or None when the graph is a DAG."""
    graph = {k: list(v) for k, v in edges.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def check_edges(edges: Mapping[str, Iterable[str]], known: Iterable[str], titles: Mapping[str, str] | None = None,
                *, path: str = "prerequisites") -> list[tuple[str, str]]:
    """Every problem with a set of edges: unknown nodes, self-edges, a cycle (named)."""
    known = set(known)
    titles = titles or {}
    problems: list[tuple[str, str]] = []
    for key, required in edges.items():
        for req in required:
            if key not in known:
                problems.append((f"{path}.{key}", f"unknown content item {key!r}"))
            elif req not in known:
                problems.append((f"{path}.{key}", f"requires unknown content item {req!r}"))
            elif req == key:
                problems.append((f"{path}.{key}", "an item cannot require itself"))
    cycle = find_cycle({k: [r for r in v if r in known and r != k] for k, v in edges.items()})
    if cycle:
        named = " → ".join(titles.get(k, k) for k in cycle)
        problems.append((f"{path}.{cycle[0]}", f"prerequisites form a cycle: {named}"))
    return problems


def refuse_cycles(edges: Mapping[str, Iterable[str]], known: Iterable[str], titles: Mapping[str, str]) -> None:
    problems = check_edges(edges, known, titles)
    if problems:
        raise Invalid("; ".join(message for _, message in problems) + ".")


def required_of(tree: content_tree.ContentTree, key: str) -> list[str]:
    """Everything `key` requires: its own edges and its ancestors', in tree order."""
    wanted: set[str] = set()
    for k in [key, *tree.ancestors(key)]:
        wanted.update(tree.prerequisites(k))
    return [k for k in tree.order if k in wanted]


def _done(session: Session, tree: content_tree.ContentTree, student_id: int, keys: list[str]) -> set[str]:
    leaves: dict[str, list[str]] = {}
    for key in keys:
        node = tree.nodes[key]
        if node.kind in ("lesson", "activity"):
            leaves[key] = [key]
        else:
            leaves[key] = [d for d in tree.descendants(key)
                           if tree.nodes[d].kind in ("lesson", "activity") and tree.visible(d)]
    activities = {d for ds in leaves.values() for d in ds if tree.nodes[d].kind == "activity"}
    lessons = {d for ds in leaves.values() for d in ds if tree.nodes[d].kind == "lesson"}
    passed = set(session.scalars(select(LearningSubmission.activity_id).distinct().where(
        LearningSubmission.user_id == student_id, LearningSubmission.activity_id.in_(activities),
        LearningSubmission.validator_status == "passed"))) if activities else set()
    viewed = set(session.scalars(select(LearningTelemetry.lesson).distinct().where(
        LearningTelemetry.user_id == student_id, LearningTelemetry.lesson.in_(lessons),
        LearningTelemetry.event_type.in_(("lesson_view", "lesson_complete"))))) if lessons else set()
    finished = passed | viewed
    return {key for key, ds in leaves.items() if all(d in finished for d in ds)}


def unmet_prerequisites(session: Session, student_id: int, activity_id: str) -> list[dict]:
    """What the student still has to do before `activity_id`: [{key, title, type}] in
    curriculum order; empty when every prerequisite is met."""
    tree = content_tree.current(session)
    if activity_id not in tree:
        return []
    required = required_of(tree, activity_id)
    done = _done(session, tree, student_id, required)
    return [{"key": k, "title": tree.nodes[k].title, "type": tree.nodes[k].kind} for k in required if k not in done]


def module_graph(tree: content_tree.ContentTree, module_key: str) -> str:
    """Graphviz DOT of the prerequisite edges touching a module: its items in boxes
    (drafts dashed), outside items it depends on in grey; arrows point from the
    prerequisite to what it unlocks."""
    inside = [module_key, *tree.descendants(module_key)]
    inside_set = set(inside)

    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph prerequisites {", "  rankdir=LR;", '  node [shape=box, style="rounded", fontsize=11];']
    outside: set[str] = set()
    edges: list[tuple[str, str]] = []
    for key in inside:
        for req in tree.prerequisites(key):
            edges.append((req, key))
            if req not in inside_set:
                outside.add(req)
    for key in inside:
        node = tree.nodes[key]
        style = "rounded" if tree.visible(key) else "rounded,dashed"
        lines.append(f"  {quoted(key)} [label={quoted(f'{node.title} ({node.kind})')}, style={quoted(style)}];")
    for key in sorted(outside):
        lines.append(f"  {quoted(key)} [label={quoted(tree.nodes[key].title)}, color=grey, fontcolor=grey];")
    for req, key in edges:
        lines.append(f"  {quoted(req)} -> {quoted(key)};")
    lines.append("}")
    return "\n".join(lines)


def graph_for_module(session: Session, *, actor: Actor, module: str) -> str:
    """`module_graph` for the content page (any staff member may read it)."""
    require(actor, "content.read")
    return module_graph(content_tree.current(session), module)


def write_edges(session: Session, *, actor: Actor, row: LearningContent, requires: list[str]) -> None:
    """Replace the edges from `row` (the caller checked them for cycles)."""
    require(actor, "content.edit")
    session.execute(delete(ContentPrerequisite).where(ContentPrerequisite.content_id == row.id))
    ids = dict(session.execute(select(LearningContent.content_key, LearningContent.id)
                               .where(LearningContent.content_key.in_(requires))).all())
    for k in requires:
        session.add(ContentPrerequisite(content_id=row.id, requires_id=ids[k]))
    row.prerequisites = list(requires)  # the JSON column the platform reads mirrors the edges
    session.flush()
