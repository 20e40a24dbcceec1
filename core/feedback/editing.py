"""A moderator's edit of every part of a feedback: the summary, each strength, each
improvement, each suggestion and the four scores. The automatic checks
(core.feedback.checks) run again on the edited text, against the submission's latest
validator report and the rubric coach's scores stored with the prompt: an edit that
trips one is held with the reasons, and the moderator sees them at once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from core import audit, content_tree
from core.access import Actor, require
from core.db import get_or_not_found, session_scope, utcnow
from core.errors import Conflict, Invalid
from core.feedback import checks
from core.feedback.generation import composite
from core.feedback.prompt import student_secrets, validator_report
from core.feedback.providers import CRITERIA
from core.models import LearningFeedback
from core.statuses import HELD


def _items(values: list[str] | None) -> list[str]:
    return [v.strip() for v in values or [] if v and v.strip()]


def edit_feedback(engine: Engine, *, actor: Actor, feedback_id: int, text: str, strengths: list[str],
                  improvements: list[str], suggestions: list[str], scores: dict[str, float]) -> dict[str, Any]:
    """Save the edited parts; returns the checks' flags on the new text and whether the
    feedback is now held. The first edit keeps the generated summary in original_text."""
    require(actor, "feedback.moderate")
    text = (text or "").strip()
    if not text:
        raise Invalid("The feedback summary cannot be empty.")
    for name in CRITERIA:
        value = scores.get(name)
        if value is None or not 0 <= float(value) <= 100:
            raise Invalid(f"The {name} score must be between 0 and 100.")
    with session_scope(engine, immediate=True) as session:
        fb = get_or_not_found(session, LearningFeedback, feedback_id, f"No feedback with id {feedback_id}.")
        new_scores = {k: float(scores[k]) for k in CRITERIA}
        data = {"feedback_text": text, "strengths": _items(strengths), "areas_for_improvement": _items(improvements),
                "specific_suggestions": _items(suggestions), "scores": new_scores}
        before = {"feedback_text": fb.feedback_text, "strengths": fb.strengths or [],
                  "areas_for_improvement": fb.areas_for_improvement or [],
                  "specific_suggestions": fb.specific_suggestions or [],
                  "scores": {k: None if getattr(fb, f"rubric_{k}") is None else float(getattr(fb, f"rubric_{k}"))
                             for k in CRITERIA}}
        if data == before:
            raise Conflict(f"Feedback {feedback_id} already reads like this; nothing was changed.")
        report = validator_report(session, fb.submission)
        reference = (fb.prompt or {}).get("reference_scores")
        flags = checks.run(data, report=report, secrets=student_secrets(fb.submission), reference_scores=reference)
        if fb.original_text is None:
            fb.original_text = fb.feedback_text
        fb.feedback_text, fb.strengths = text, data["strengths"]
        fb.areas_for_improvement, fb.specific_suggestions = data["areas_for_improvement"], data["specific_suggestions"]
        for name in CRITERIA:
            setattr(fb, f"rubric_{name}", Decimal(str(round(new_scores[name], 2))))
        rules = content_tree.activity_rules(session, fb.submission.activity_id)
        weights = rules.weights if rules is not None else None
        fb.rubric_composite = Decimal(str(composite(new_scores, weights)))
        fb.auto_flags, fb.edited_by, fb.edited_at = flags, actor.id, utcnow()
        if flags:
            fb.release_state, fb.released_at, fb.released_by = HELD, None, None
            fb.hold_reasons = [f["message"] for f in flags]
        audit.record(session, actor, "feedback.edit", target_type="feedback", target_id=fb.id,
                     details={"parts": sorted(k for k in data if data[k] != before[k]),
                              "flags": [f["code"] for f in flags]})
        return {"flags": flags, "held": fb.release_state == HELD}
