"""The content tree for staff: read it in sequence order, and (admins) edit titles and
descriptions and publish or unpublish. Every edit writes an audit row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, catalogue
from core.access import Actor, require
from core.errors import Invalid, NotFound
from core.models import LearningContent

TYPE_ORDER = ("module", "unit", "lesson", "activity")
MAX_TITLE = 255
MAX_DESCRIPTION = 5000


def content_tree(session: Session, *, actor: Actor) -> list[dict]:
    """Every node depth-first in sequence order, as plain dicts.

    `visible` is False when the node or any ancestor is a draft: students cannot reach
    it even if the node itself is published.
    """
    require(actor, "content.read")
    rows = list(session.scalars(select(LearningContent)))
    by_parent: dict[int | None, list[LearningContent]] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
    titles = {row.content_key: row.title for row in rows}
    key_of: dict[int | None, str] = {row.id: row.content_key for row in rows}  # looked up by parent_id, None at a root
    out: list[dict] = []

    def walk(parent_id, depth, path, parent_visible, module_key):
        for row in sorted(by_parent.get(parent_id, []), key=lambda r: (r.sequence_order, r.id)):
            visible = parent_visible and bool(row.is_published) and not row.is_archived
            module = row.content_key if row.content_type == "module" else module_key
            prereqs = list(row.prerequisites or [])
            out.append(dict(
                id=row.id, key=row.content_key, type=row.content_type, depth=depth,
                path=" › ".join([*path, row.title]), title=row.title, description=row.description or "",
                published=bool(row.is_published), archived=bool(row.is_archived), visible=visible,
                minutes=row.estimated_duration_minutes,
                prerequisites=prereqs, prerequisite_titles=[titles.get(k, k) for k in prereqs],
                module=module, sequence=row.sequence_order, parent=key_of.get(row.parent_id),
                objectives=list(row.learning_objectives or []), updated_at=row.updated_at,
                body=row.content_body or "", difficulty=row.difficulty,
            ))
            walk(row.id, depth + 1, [*path, row.title], visible, module)

    walk(None, 0, [], True, None)
    # Modules and units carry no estimate of their own: show the sum of what they hold.
    for i, node in enumerate(out):
        if node["minutes"] is None and node["type"] in ("module", "unit"):
            total = 0
            for child in out[i + 1:]:
                if child["depth"] <= node["depth"]:
                    break
                if child["type"] in ("lesson", "activity"):
                    total += child["minutes"] or 0
            node["minutes"] = total
    return out


def module_totals(tree: list[dict]) -> list[dict]:
    """Per module: lessons, activities and estimated minutes (published items only)."""
    totals: dict[str, dict] = {}
    for node in tree:
        if node["type"] == "module":
            totals[node["key"]] = dict(module=node["title"], key=node["key"], published=node["published"],
                                       lessons=0, activities=0, minutes=0)
        elif node["module"] in totals and node["type"] in ("lesson", "activity") and node["visible"]:
            t = totals[node["module"]]
            t["lessons" if node["type"] == "lesson" else "activities"] += 1
            t["minutes"] += node["minutes"] or 0
    return list(totals.values())


def _get(session: Session, key: str) -> LearningContent:
    row = session.scalar(select(LearningContent).where(LearningContent.content_key == key))
    if row is None:
        raise NotFound(f"No content item with key {key!r}.")
    return row


def update_content(session: Session, *, actor: Actor, key: str, title: str, description: str | None) -> dict:
    """Change an item's title and description; refuses an empty or over-long title."""
    require(actor, "content.edit")
    row = _get(session, key)
    title = (title or "").strip()
    if not title:
        raise Invalid(f"The title of “{row.title}” cannot be empty.")
    if len(title) > MAX_TITLE:
        raise Invalid(f"The new title of “{row.title}” is {len(title)} characters; the limit is {MAX_TITLE}.")
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(f"The description of “{row.title}” is {len(description)} characters; the limit is "
                      f"{MAX_DESCRIPTION}.")
    before = {"title": row.title, "description": row.description}
    after = {"title": title, "description": description or None}
    if before == after:
        return after
    row.title, row.description = title, description or None
    session.flush()
    audit.record(session, actor, "content.edit", target_type="content", target_id=key,
                 details={"before": before, "after": after})
    return after


def set_published(session: Session, *, actor: Actor, key: str, published: bool) -> bool:
    """Publish or unpublish one item. Children keep their own state; an unpublished
    parent hides them from students (see `visible`)."""
    require(actor, "content.edit")
    row = _get(session, key)
    if bool(row.is_published) == published:
        return published
    row.is_published = published
    session.flush()
    audit.record(session, actor, "content.publish" if published else "content.unpublish",
                 target_type="content", target_id=key, details={"title": row.title})
    return published


def has_template(key: str) -> bool:
    """Whether a blank workbook exists for an activity: the seed's activities have one;
    an activity authored later does not (yet)."""
    return key in catalogue.activity_keys()


def activity_template(*, actor: Actor, key: str) -> bytes:
    """The blank workbook students start an activity from: the sheets and labels its
    validators look for, generated by the same code that defines the checks."""
    from core.validation import templates

    require(actor, "content.read")
    if key not in catalogue.activity_keys():
        raise NotFound(f"{key!r} is not an activity with a template.")
    return templates.build_template(key)
