"""Moderating feedback: the queue, one item in full, the admin actions, the cost panel
and the agreement table.

Reads need `feedback.read` (instructors and program leads see everything read-only);
every action needs `feedback.moderate` and writes an audit row in the same transaction.
Students appear only under their alias (core.pseudonyms).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import audit, pseudonyms
from core.access import Actor, require
from core.db import get_or_not_found, session_scope, utcnow
from core.errors import Conflict, Invalid
from core.feedback import generation, personas, pricing
from core.feedback.prompt import compact_report, validator_report
from core.feedback.providers import CRITERIA
from core.models import AuditLog, FeedbackFailure, LearningCompany, LearningFeedback, LearningSubmission
from core.statuses import HELD, RELEASED, RETRY

QUEUE_COLUMNS = [
    "id", "created_at", "submission_id", "student", "activity", "company", "persona", "provider", "model",
    "composite", *CRITERIA, "release_state", "is_flagged", "flag_reason", "auto_flags", "edited", "regenerated_from_id",
    "cost_usd",
]
MAX_REASON = 255


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _utc_range(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    start = pricing.day_bounds(date_from)[0] if date_from else None
    end = pricing.day_bounds(date_to)[1] if date_to else None
    return start, end


def filter_options(session: Session, *, actor: Actor) -> dict[str, list[str]]:
    require(actor, "feedback.read")
    distinct = lambda col: sorted(v for v in session.scalars(select(col).distinct()) if v)  # noqa: E731
    return {
        "activity": distinct(LearningSubmission.activity_id),
        "persona": sorted(set(distinct(LearningFeedback.persona)) | set(personas.PERSONAS)),
        "model": distinct(LearningFeedback.openai_model),
    }


def _alias(sub: LearningSubmission, actor: Actor) -> str:
    """The student's alias for this viewer, the same as on review and analytics."""
    return pseudonyms.alias(sub.user_id, actor.role)


def _as_seen_by(prompt: dict, alias: str) -> dict:
    """The stored prompt with its one-off label replaced by the viewer's alias, so the
    page shows one name for the student (the label sent to the model is random per file)."""
    label = prompt.get("label")
    if not label:
        return prompt
    return {k: v.replace(label, alias) if isinstance(v, str) else v for k, v in prompt.items()}


ORDER = (LearningFeedback.created_at.desc(), LearningFeedback.id.desc())  # newest first


def _filtered(query, *, flagged: bool | None = None, activity: str | None = None, persona: str | None = None,
              model: str | None = None, release_state: str | None = None, date_from: date | None = None,
              date_to: date | None = None, score_min: float | None = None, score_max: float | None = None):
    """The queue's filters as WHERE clauses over feedback ⋈ submission; dates are
    program-timezone days, inclusive."""
    if flagged is not None:
        query = query.where(LearningFeedback.is_flagged.is_(flagged))
    if activity:
        query = query.where(LearningSubmission.activity_id == activity)
    if persona:
        query = query.where(LearningFeedback.persona == persona)
    if model:
        query = query.where(LearningFeedback.openai_model == model)
    if release_state:
        query = query.where(LearningFeedback.release_state == release_state)
    start, end = _utc_range(date_from, date_to)
    if start is not None:
        query = query.where(LearningFeedback.created_at >= start)
    if end is not None:
        query = query.where(LearningFeedback.created_at < end)
    if score_min is not None:
        query = query.where(LearningFeedback.rubric_composite >= score_min)
    if score_max is not None:
        query = query.where(LearningFeedback.rubric_composite <= score_max)
    return query


def queue_ids(session: Session, *, actor: Actor, **filters: Any) -> list[int]:
    """The ids of the whole filtered queue in its order (navigation, paging, counts)."""
    require(actor, "feedback.read")
    query = (select(LearningFeedback.id)
             .join(LearningSubmission, LearningFeedback.submission_id == LearningSubmission.id)
             .join(LearningCompany, LearningSubmission.company_id == LearningCompany.id))
    return list(session.scalars(_filtered(query, **filters).order_by(*ORDER)))


def queue(session: Session, *, actor: Actor, limit: int = 500, offset: int = 0, **filters: Any) -> pd.DataFrame:
    """One page of feedback rows, newest first, filtered (see `_filtered`)."""
    require(actor, "feedback.read")
    query = (
        select(LearningFeedback, LearningSubmission, LearningCompany.ticker)
        .join(LearningSubmission, LearningFeedback.submission_id == LearningSubmission.id)
        .join(LearningCompany, LearningSubmission.company_id == LearningCompany.id)
    )
    query = _filtered(query, **filters).order_by(*ORDER).limit(limit).offset(offset)
    rows = []
    for fb, sub, ticker in session.execute(query):
        rows.append({
            "id": fb.id, "created_at": fb.created_at, "submission_id": sub.id, "student": _alias(sub, actor),
            "activity": sub.activity_id, "company": ticker, "persona": fb.persona, "provider": fb.provider,
            "model": fb.openai_model, "composite": _num(fb.rubric_composite),
            **{k: _num(getattr(fb, f"rubric_{k}")) for k in CRITERIA},
            "release_state": fb.release_state, "is_flagged": bool(fb.is_flagged), "flag_reason": fb.flag_reason,
            "auto_flags": len(fb.auto_flags or []), "edited": fb.edited_at is not None,
            "regenerated_from_id": fb.regenerated_from_id, "cost_usd": _num(fb.openai_cost_usd),
        })
    return pd.DataFrame(rows, columns=QUEUE_COLUMNS)


def _get(session: Session, feedback_id: int, *, lock: bool = False) -> LearningFeedback:
    return get_or_not_found(session, LearningFeedback, feedback_id, f"Feedback {feedback_id} does not exist.", lock=lock)


def item(session: Session, *, actor: Actor, feedback_id: int) -> dict[str, Any]:
    """One feedback row beside its submission's validator report and the exact prompt."""
    require(actor, "feedback.read")
    fb = _get(session, feedback_id)
    sub = fb.submission
    siblings = session.scalars(
        select(LearningFeedback).where(LearningFeedback.submission_id == sub.id).order_by(LearningFeedback.id)
    ).all()
    failures = session.scalars(
        select(FeedbackFailure).where(FeedbackFailure.submission_id == sub.id).order_by(FeedbackFailure.id)
    ).all()
    return {
        "id": fb.id, "submission_id": sub.id, "student": _alias(sub, actor), "activity": sub.activity_id,
        "company": sub.company.ticker if sub.company else None, "version": sub.version,
        "persona": fb.persona, "provider": fb.provider, "model": fb.openai_model, "created_at": fb.created_at,
        "feedback_text": fb.feedback_text, "original_text": fb.original_text,
        "strengths": list(fb.strengths or []), "areas_for_improvement": list(fb.areas_for_improvement or []),
        "specific_suggestions": list(fb.specific_suggestions or []),
        "scores": {k: _num(getattr(fb, f"rubric_{k}")) for k in (*CRITERIA, "composite")},
        "release_state": fb.release_state, "released_at": fb.released_at, "hold_reasons": list(fb.hold_reasons or []),
        "auto_flags": list(fb.auto_flags or []), "is_flagged": bool(fb.is_flagged), "flag_reason": fb.flag_reason,
        "flagged_at": fb.flagged_at, "edited_at": fb.edited_at, "regenerated_from_id": fb.regenerated_from_id,
        "tokens": {"in": fb.openai_tokens_input, "out": fb.openai_tokens_output, "cached": fb.openai_tokens_cached},
        "cost_usd": _num(fb.openai_cost_usd),
        "validator_status": sub.validator_status,
        "validator_report": compact_report(validator_report(session, sub)),
        "prompt": _as_seen_by(fb.prompt or {}, _alias(sub, actor)),
        "versions": [{"id": s.id, "persona": s.persona, "model": s.openai_model, "created_at": s.created_at,
                      "release_state": s.release_state, "regenerated_from_id": s.regenerated_from_id} for s in siblings],
        "failures": [{"id": f.id, "provider": f.provider, "model": f.model, "error": f.error,
                      "raw_reply": f.raw_reply, "created_at": f.created_at} for f in failures],
    }


def flagged_count(session: Session, *, actor: Actor) -> int:
    require(actor, "feedback.read")
    return session.scalar(select(func.count()).where(LearningFeedback.is_flagged.is_(True))) or 0


def _reason(reason: str | None, what: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise Invalid(f"Give a reason to {what}.")
    return text[:MAX_REASON]


def flag(engine: Engine, *, actor: Actor, feedback_id: int, reason: str) -> None:
    require(actor, "feedback.moderate")
    with session_scope(engine, immediate=True) as session:
        fb = _get(session, feedback_id, lock=True)
        reason = _reason(reason, "flag this feedback")
        fb.is_flagged, fb.flag_reason, fb.flagged_by, fb.flagged_at = True, reason, actor.id, utcnow()
        audit.record(session, actor, "feedback.flag", target_type="feedback", target_id=fb.id,
                     details={"reason": reason, "persona": fb.persona, "model": fb.openai_model})


def unflag(engine: Engine, *, actor: Actor, feedback_id: int, reason: str) -> None:
    require(actor, "feedback.moderate")
    with session_scope(engine, immediate=True) as session:
        fb = _get(session, feedback_id, lock=True)
        if not fb.is_flagged:
            raise Conflict(f"Feedback {feedback_id} is not flagged.")
        reason = _reason(reason, "clear the flag")
        previous = fb.flag_reason
        fb.is_flagged, fb.flag_reason, fb.flagged_by, fb.flagged_at = False, None, None, None
        audit.record(session, actor, "feedback.unflag", target_type="feedback", target_id=fb.id,
                     details={"reason": reason, "previous_reason": previous})


def edit_text(engine: Engine, *, actor: Actor, feedback_id: int, text: str) -> None:
    """Replace the text; the first edit keeps the generated text in original_text."""
    require(actor, "feedback.moderate")
    with session_scope(engine, immediate=True) as session:
        fb = _get(session, feedback_id, lock=True)
        text = (text or "").strip()
        if not text:
            raise Invalid("The feedback text cannot be empty.")
        if text == fb.feedback_text:
            raise Conflict(f"Feedback {feedback_id} already has this text; nothing was changed.")
        before = fb.feedback_text
        if fb.original_text is None:
            fb.original_text = before
        fb.feedback_text, fb.edited_by, fb.edited_at = text, actor.id, utcnow()
        audit.record(session, actor, "feedback.edit", target_type="feedback", target_id=fb.id,
                     details={"words_before": len(before.split()), "words_after": len(text.split())})


def hold(engine: Engine, *, actor: Actor, feedback_id: int, reason: str) -> None:
    require(actor, "feedback.moderate")
    with session_scope(engine, immediate=True) as session:
        fb = _get(session, feedback_id, lock=True)
        if fb.release_state == HELD:
            raise Conflict(f"Feedback {feedback_id} is already held.")
        reason = _reason(reason, "hold this feedback")
        fb.release_state, fb.released_at, fb.released_by = HELD, None, None
        fb.hold_reasons = [*(fb.hold_reasons or []), f"Held by {actor.display_name}: {reason}"]
        audit.record(session, actor, "feedback.hold", target_type="feedback", target_id=fb.id, details={"reason": reason})


def release(engine: Engine, *, actor: Actor, feedback_id: int) -> None:
    require(actor, "feedback.moderate")
    with session_scope(engine, immediate=True) as session:
        fb = _get(session, feedback_id, lock=True)
        if fb.release_state == RELEASED:
            raise Conflict(f"Feedback {feedback_id} is already released.")
        bad = [f"{k} {float(v):g}" for k in CRITERIA if (v := getattr(fb, f"rubric_{k}")) is not None and not 0 <= v <= 100]
        if bad:
            raise Conflict(f"Feedback {feedback_id} has scores outside 0-100 ({', '.join(bad)}); "
                           "regenerate it instead of releasing it.")
        fb.release_state, fb.released_at, fb.released_by = RELEASED, utcnow(), actor.id
        generation.record_issued(session, fb, fb.submission, fb.released_at)
        audit.record(session, actor, "feedback.release", target_type="feedback", target_id=fb.id,
                     details={"hold_reasons": fb.hold_reasons or []})


def regenerate(engine: Engine, *, actor: Actor, feedback_id: int, persona: str | None = None,
               provider: str | None = None, model: str | None = None) -> generation.Outcome:
    """A new row from the same submission with another persona or model; both are kept."""
    require(actor, "feedback.moderate")
    with session_scope(engine) as session:
        source = _get(session, feedback_id)
        submission_id, old_persona = source.submission_id, source.persona
    return generation.generate(engine, submission_id=submission_id, provider=provider,
                               persona=persona or old_persona, model=model, actor=actor,
                               regenerated_from_id=feedback_id)


def retry_queue(session: Session, *, actor: Actor) -> pd.DataFrame:
    """Passed submissions whose feedback generation failed, with the last error."""
    require(actor, "feedback.read")
    subs = session.scalars(
        select(LearningSubmission).where(LearningSubmission.feedback_status == RETRY).order_by(LearningSubmission.id)
    ).all()
    rows = []
    for sub in subs:
        last = session.scalar(select(FeedbackFailure).where(FeedbackFailure.submission_id == sub.id)
                              .order_by(FeedbackFailure.id.desc()).limit(1))
        rows.append({"submission_id": sub.id, "student": _alias(sub, actor), "activity": sub.activity_id,
                     "failed_at": last.created_at if last else None, "error": last.error if last else None})
    return pd.DataFrame(rows, columns=["submission_id", "student", "activity", "failed_at", "error"])


def retry(engine: Engine, *, actor: Actor, submission_id: int, provider: str | None = None) -> generation.Outcome:
    require(actor, "feedback.moderate")
    return generation.generate(engine, submission_id=submission_id, provider=provider, actor=actor)


def _spend_frame(session: Session, start: datetime, end: datetime) -> pd.DataFrame:
    columns = ["kind", "created_at", "model", "provider", "activity", "submission_id", "cost_usd",
               "tokens_in", "tokens_out", "tokens_cached"]
    rows = []
    fb_query = (select(LearningFeedback, LearningSubmission.activity_id)
                .join(LearningSubmission, LearningFeedback.submission_id == LearningSubmission.id)
                .where(LearningFeedback.created_at >= start, LearningFeedback.created_at < end))
    for fb, activity in session.execute(fb_query):
        rows.append(["feedback", fb.created_at, fb.openai_model, fb.provider, activity, fb.submission_id,
                     _num(fb.openai_cost_usd) or 0.0, fb.openai_tokens_input or 0, fb.openai_tokens_output or 0,
                     fb.openai_tokens_cached or 0])
    fail_query = (select(FeedbackFailure, LearningSubmission.activity_id)
                  .join(LearningSubmission, FeedbackFailure.submission_id == LearningSubmission.id)
                  .where(FeedbackFailure.created_at >= start, FeedbackFailure.created_at < end))
    for f, activity in session.execute(fail_query):
        rows.append(["failure", f.created_at, f.model, f.provider, activity, f.submission_id,
                     _num(f.openai_cost_usd) or 0.0, f.openai_tokens_input or 0, f.openai_tokens_output or 0, 0])
    frame = pd.DataFrame(rows, columns=columns)
    # Days are the program's timezone days, as the budget cap counts them.
    frame["day"] = [pricing.local_day(t) for t in frame["created_at"]] if not frame.empty else pd.Series(dtype="object")
    return frame


def cost_panel(session: Session, *, actor: Actor, today: date | None = None, days: int = 30) -> dict[str, Any]:
    """Spend per day / model / activity, average per submission, tokens, and budgets."""
    require(actor, "feedback.read")
    today = today or pricing.local_day(utcnow())
    first = min(today - timedelta(days=days - 1), today.replace(day=1))
    frame = _spend_frame(session, pricing.day_bounds(first)[0], pricing.day_bounds(today)[1])
    window = frame[frame["day"] >= today - timedelta(days=days - 1)] if not frame.empty else frame

    sums = {"cost_usd": "sum", "tokens_in": "sum", "tokens_out": "sum", "tokens_cached": "sum"}
    all_days = pd.DataFrame({"day": [today - timedelta(days=i) for i in range(days - 1, -1, -1)]})
    per_day = all_days.merge(window.groupby("day", as_index=False).agg(sums) if not window.empty else
                             pd.DataFrame(columns=["day", *sums]), on="day", how="left").fillna(0)
    per_model = (window.assign(model=window["model"].fillna("unknown")).groupby("model", as_index=False)
                 .agg(**{k: (k, "sum") for k in sums}, generations=("kind", "count"))
                 .sort_values("cost_usd", ascending=False)) if not window.empty else pd.DataFrame(columns=["model", *sums, "generations"])
    if not window.empty:
        per_activity = (window.groupby("activity", as_index=False)
                        .agg(cost_usd=("cost_usd", "sum"), submissions=("submission_id", "nunique"),
                             generations=("kind", "count")))
        per_activity["avg_per_submission"] = per_activity["cost_usd"] / per_activity["submissions"]
        per_activity = per_activity.sort_values("cost_usd", ascending=False)
    else:
        per_activity = pd.DataFrame(columns=["activity", "cost_usd", "submissions", "generations", "avg_per_submission"])

    month_start = today.replace(day=1)
    spent_month = float(frame.loc[frame["day"] >= month_start, "cost_usd"].sum()) if not frame.empty else 0.0
    spent_today = float(frame.loc[frame["day"] == today, "cost_usd"].sum()) if not frame.empty else 0.0
    submissions = int(window["submission_id"].nunique()) if not window.empty else 0
    total = float(window["cost_usd"].sum()) if not window.empty else 0.0
    monthly, daily = float(pricing.monthly_budget()), float(pricing.daily_budget())
    return {
        "days": days, "today": today,
        "per_day": per_day, "per_model": per_model.reset_index(drop=True), "per_activity": per_activity.reset_index(drop=True),
        "total_usd": total, "submissions": submissions,
        "avg_per_submission_usd": total / submissions if submissions else 0.0,
        "tokens": {k: int(window[k].sum()) if not window.empty else 0 for k in ("tokens_in", "tokens_out", "tokens_cached")},
        "failures": int((window["kind"] == "failure").sum()) if not window.empty else 0,
        "month": {"spent_usd": spent_month, "budget_usd": monthly, "remaining_usd": monthly - spent_month},
        "day": {"spent_usd": spent_today, "budget_usd": daily, "remaining_usd": daily - spent_today},
    }


def agreement(session: Session, *, actor: Actor) -> pd.DataFrame:
    """Per persona and model: how often moderators edited, flagged or held the feedback.
    A persona or model whose rates stand out points at a bad prompt, not a bad student."""
    require(actor, "feedback.read")
    flagged_ids = set(session.scalars(
        select(AuditLog.target_id).where(AuditLog.action == "feedback.flag", AuditLog.target_type == "feedback")
    ))
    rows = []
    for fb in session.scalars(select(LearningFeedback)):
        rows.append({"persona": fb.persona, "model": fb.openai_model or "unknown",
                     "edited": fb.edited_at is not None, "moderator_flagged": str(fb.id) in flagged_ids,
                     "auto_flagged": bool(fb.auto_flags), "held": fb.release_state == "held"})
    columns = ["persona", "model", "feedback", "edited", "moderator_flagged", "auto_flagged", "held",
               "edit_rate", "flag_rate"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    table = frame.groupby(["persona", "model"], as_index=False).agg(
        feedback=("edited", "size"), edited=("edited", "sum"), moderator_flagged=("moderator_flagged", "sum"),
        auto_flagged=("auto_flagged", "sum"), held=("held", "sum"))
    table["edit_rate"] = (table["edited"] / table["feedback"]).round(3)
    table["flag_rate"] = (table["moderator_flagged"] / table["feedback"]).round(3)
    return table[columns].sort_values(["flag_rate", "edit_rate"], ascending=False).reset_index(drop=True)
