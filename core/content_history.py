"""Content revisions: every authoring change stores the node before and after, so the
content page can show a node's history and restore an earlier state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require
from core.models import ContentPrerequisite, ContentRevision, LearningContent
from core.rules import ActivityRules

# The fields a revision holds and a restore puts back (the key never changes).
FIELDS = ("type", "parent", "sequence", "title", "description", "body", "objectives", "minutes", "difficulty",
          "published", "archived", "rules", "prerequisites")


def snapshot(session: Session, row: LearningContent) -> dict[str, Any]:
    """The node as plain JSON: what a revision stores and the YAML export writes."""
    parent = session.get(LearningContent, row.parent_id) if row.parent_id is not None else None
    required = session.scalars(
        select(LearningContent.content_key).join(ContentPrerequisite, ContentPrerequisite.requires_id == LearningContent.id)
        .where(ContentPrerequisite.content_id == row.id).order_by(ContentPrerequisite.id)).all()
    return {
        "key": row.content_key, "type": row.content_type, "parent": parent.content_key if parent else None,
        "sequence": row.sequence_order, "title": row.title, "description": row.description or "",
        "body": row.content_body or "", "objectives": list(row.learning_objectives or []),
        "minutes": row.estimated_duration_minutes, "difficulty": row.difficulty,
        "published": bool(row.is_published), "archived": bool(row.is_archived),
        "rules": ActivityRules.from_dict(row.rubric_criteria).to_dict() if row.content_type == "activity" else None,
        "prerequisites": list(required),
    }


def record(session: Session, *, actor: Actor, action: str, key: str, before: dict | None,
           after: dict | None) -> ContentRevision | None:
    """A revision row and its audit row, in the caller's transaction. Nothing when
    nothing changed."""
    require(actor, "content.edit")
    if before == after:
        return None
    revision = ContentRevision(content_key=key, action=action, actor_id=getattr(actor, "id", None),
                               actor_email=getattr(actor, "email", None), before=before, after=after)
    session.add(revision)
    session.flush()
    changed = sorted(k for k in FIELDS if (before or {}).get(k) != (after or {}).get(k))
    details: dict[str, Any] = {"revision": revision.id, "changed": changed}
    if "rules" in changed:  # which rules: e.g. ["blind_marking", "criteria", "pdf"]
        old, new = (before or {}).get("rules") or {}, (after or {}).get("rules") or {}
        details["rules_changed"] = sorted(k for k in {*old, *new} if old.get(k) != new.get(k))
    audit.record(session, actor, action, target_type="content", target_id=key, details=details)
    return revision


def history(session: Session, *, actor: Actor, key: str) -> list[dict]:
    """A node's revisions, newest first, with the fields each one changed."""
    require(actor, "content.read")
    out = []
    for rev in session.scalars(select(ContentRevision).where(ContentRevision.content_key == key)
                               .order_by(ContentRevision.id.desc())):
        before, after = rev.before or {}, rev.after or {}
        out.append({"id": rev.id, "action": rev.action, "by": rev.actor_email or "system", "at": rev.created_at,
                    "changed": [k for k in FIELDS if before.get(k) != after.get(k)],
                    "before": rev.before, "after": rev.after})
    return out
