"""Generating feedback for one submission, end to end.

Reads happen in one short session, the provider call happens with no transaction open
(an OpenAI call can take a minute; SQLite must not sit on a write lock that long), and
the result is written in a second session together with its audit row. A reply that
fails the schema is retried once, then kept as a FeedbackFailure with the raw text;
nothing half-parsed is ever stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import audit, auth, config, telemetry
from core.access import Actor, require
from core.db import get_or_not_found, session_scope, utcnow
from core.errors import Invalid
from core.feedback import checks, personas, pricing
from core.feedback import prompt as prompts
from core.feedback.providers import (
    CRITERIA,
    InvalidReply,
    Provider,
    ProviderFailed,
    Reply,
    RubricProvider,
    by_name,
)
from core.models import FeedbackFailure, LearningFeedback, LearningSubmission
from core.statuses import GENERATED, HELD, RELEASED, RETRY

log = logging.getLogger(__name__)
SCHEMA_ATTEMPTS = 2  # the first reply plus one retry


@dataclass
class Outcome:
    submission_id: int
    provider: str
    model: str | None
    persona: str
    feedback_id: int | None = None
    failure_id: int | None = None
    release_state: str | None = None
    error: str | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.feedback_id is not None


@contextmanager
def _unit(target: Engine, *, immediate: bool = False) -> Iterator[Session]:
    """Short units of work only: none stays open over the provider call."""
    with session_scope(target, immediate=immediate) as session:
        yield session


def composite(scores: dict[str, float], weights: dict[str, Any] | None) -> float:
    """Weighted average over the four criteria; equal weights when none are configured."""
    usable = {k: float(weights[k]) for k in CRITERIA if weights and isinstance(weights.get(k), (int, float)) and weights[k] > 0}
    if not usable:
        usable = {k: 1.0 for k in CRITERIA}
    total = sum(usable.values())
    return round(sum(scores[k] * w for k, w in usable.items()) / total, 2)


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 2)))


def _tokens(*replies) -> dict[str, int | None]:
    def add(attr):
        values = [getattr(r, attr) for r in replies if getattr(r, attr, None) is not None]
        return sum(values) if values else None
    return {"tokens_in": add("tokens_in"), "tokens_out": add("tokens_out"), "tokens_cached": add("tokens_cached")}


def _cost(provider: Provider, model: str | None, tokens: dict, on: datetime) -> Decimal | None:
    """Priced by the model that answered, else the one asked for (Azure and local servers
    often answer with a deployment name the price table does not know)."""
    if provider.name == "rubric":
        return Decimal(0)
    def priced(name: str | None) -> Decimal | None:
        return pricing.cost_usd(name, tokens_in=tokens["tokens_in"] or 0, tokens_out=tokens["tokens_out"] or 0,
                                tokens_cached=tokens["tokens_cached"] or 0, on=on)

    cost = priced(model)
    return cost if cost is not None else priced(provider.model)


def record_issued(session: Session, feedback: LearningFeedback, submission: LearningSubmission,
                  when: datetime) -> None:
    """The analytics funnel's last step: the student can now see feedback. Kept in a
    savepoint so a telemetry problem never costs the feedback row itself."""
    from core import telemetry

    try:
        with session.begin_nested():
            telemetry.record_event(
                session, user_id=submission.user_id, event_type="feedback_issued", event_category="feedback",
                module=submission.module, activity=submission.activity_id, company_id=submission.company_id,
                submission_id=submission.id, event_timestamp=when,
                event_data={"feedback_id": feedback.id, "persona": feedback.persona, "provider": feedback.provider},
            )
    except Exception:  # see docstring
        log.exception("could not record feedback_issued for feedback %s", feedback.id)


def _load_passed(session: Session, submission_id: int) -> LearningSubmission:
    submission = get_or_not_found(session, LearningSubmission, submission_id, f"Submission {submission_id} does not exist.")
    if submission.validator_status != "passed":
        raise Invalid(
            f"Submission {submission_id} has not passed its validators (status: "
            f"{submission.validator_status or 'not run'}), so it gets the validator findings, not AI feedback. "
            "Feedback can be generated once a version passes."
        )
    return submission


def generate(target: Engine, *, actor: Actor, submission_id: int, provider: str | Provider | None = None,
             persona: str | None = None, model: str | None = None,
             now: datetime | None = None, regenerated_from_id: int | None = None) -> Outcome:
    """Generate, check and store feedback for a submission whose validators passed.

    Returns an Outcome naming the stored LearningFeedback row, or the FeedbackFailure
    when the provider timed out, kept failing, or never matched the schema (the
    submission is then marked feedback_status='retry'). Raises Invalid for a submission
    that has not passed, NotFound for one that does not exist.
    """
    require(actor, "feedback.moderate")
    now = now or utcnow()
    chosen = personas.get(persona)
    notices: list[str] = []

    with _unit(target) as session:
        submission = _load_passed(session, submission_id)
        prompt = prompts.build(session, submission, chosen)
        if isinstance(provider, str) or provider is None:
            provider = by_name(provider, model=model)
        if provider.name == "openai":
            over = pricing.over_daily_budget(session, now)
            if over:
                notices.append(over)
                provider = RubricProvider()
        user_id = submission.user_id

    outcome = Outcome(submission_id=submission_id, provider=provider.name, model=provider.model,
                      persona=chosen.key, notices=notices)
    replies: list[Any] = []
    reply: Reply | None = None
    error: str | None = None
    raw: str | None = None
    for _ in range(SCHEMA_ATTEMPTS):
        try:
            reply = provider.complete(prompt)
            break
        except InvalidReply as exc:
            replies.append(exc)
            raw, error = exc.raw, f"The reply did not match the feedback schema: {exc.reason}."
            outcome.model = exc.model or outcome.model
        except ProviderFailed as exc:
            raw, error = exc.raw, exc.reason
            break
        except Exception as exc:  # an unexpected client error must not lose the submission
            log.exception("feedback provider %s crashed on submission %s", provider.name, submission_id)
            raw, error = None, f"The {provider.name} provider failed unexpectedly: {type(exc).__name__}: {exc}"
            break
    if reply is not None:
        replies.append(reply)
    tokens = _tokens(*replies)
    outcome.model = reply.model if reply is not None else outcome.model
    cost = _cost(provider, outcome.model, tokens, now)

    if reply is None:
        if len(replies) == SCHEMA_ATTEMPTS:
            error = f"After {SCHEMA_ATTEMPTS} attempts: {error}"
        with _unit(target, immediate=True) as session:
            telemetry.lock_student(session, user_id)  # before the submission row: submit()'s order
            failure = FeedbackFailure(**failure_row(
                submission_id=submission_id, provider=provider.name, model=outcome.model, persona=chosen.key,
                error=error or "No usable reply.", raw_reply=raw, tokens=tokens, cost=cost, created_at=now,
            ))
            session.add(failure)
            current = session.get(LearningSubmission, submission_id)
            # Only a submission left with no feedback at all waits for a retry; a failed
            # regeneration leaves the earlier feedback (and its status) as it was.
            has_feedback = session.scalar(select(LearningFeedback.id).where(
                LearningFeedback.submission_id == submission_id).limit(1)) is not None
            if current is not None and not has_feedback:
                current.feedback_status = RETRY
            session.flush()
            audit.record(session, actor, "feedback.failed", target_type="submission", target_id=submission_id,
                         details={"failure_id": failure.id, "provider": provider.name, "error": failure.error})
            outcome.failure_id, outcome.error = failure.id, failure.error
        return outcome

    data = reply.data
    reference = None
    if provider.name != "rubric":
        reference = RubricProvider(chosen).complete(prompt).data["scores"]
    flags = checks.run(data, report=prompt.context["report"], secrets=prompt.context["secrets"],
                       reference_scores=reference)
    hold_reasons = checks.out_of_range(data["scores"]) + [f["message"] for f in flags]
    state = HELD if hold_reasons else RELEASED
    scores = data["scores"]
    stored_prompt = prompt.stored(provider=provider.name, model=outcome.model, attempts=len(replies),
                                  notices=notices or None, reference_scores=reference)

    with _unit(target, immediate=True) as session:
        telemetry.lock_student(session, user_id)  # before the submission row: submit()'s order
        row = LearningFeedback(**feedback_row(
            submission_id=submission_id, user_id=user_id, persona=chosen.key, data=data,
            composite=composite(scores, prompt.context["activity"]["weights"]), provider=provider.name,
            model=outcome.model, tokens=tokens, cost=cost, prompt=stored_prompt, flags=flags,
            hold_reasons=hold_reasons, release_state=state, released_at=now if state == RELEASED else None,
            regenerated_from_id=regenerated_from_id, created_at=now,
        ))
        session.add(row)
        current = session.get(LearningSubmission, submission_id)
        if current is not None:
            current.feedback_status = GENERATED
        session.flush()
        if state == RELEASED and current is not None:
            record_issued(session, row, current, now)
        audit.record(session, actor, "feedback.regenerate" if regenerated_from_id else "feedback.generate",
                     target_type="feedback", target_id=row.id,
                     details={"submission_id": submission_id, "provider": provider.name, "model": outcome.model,
                              "persona": chosen.key, "release_state": state, "regenerated_from_id": regenerated_from_id,
                              "notices": notices or None})
        outcome.feedback_id, outcome.release_state = row.id, state
    return outcome


def failure_row(*, submission_id: int, provider: str, model: str | None, persona: str, error: str,
                raw_reply: str | None = None, tokens: dict | None = None, cost: Decimal | None = None,
                created_at: datetime) -> dict:
    """The learning_feedback_failures row for a generation that produced nothing usable
    (the demo bulk-inserts the same rows)."""
    tokens = tokens or {}
    return dict(submission_id=submission_id, provider=provider, model=model, persona=persona, error=error,
                raw_reply=raw_reply, openai_tokens_input=tokens.get("tokens_in"),
                openai_tokens_output=tokens.get("tokens_out"), openai_cost_usd=cost, created_at=created_at)


def feedback_row(*, submission_id: int, user_id: int, persona: str, data: dict[str, Any], composite: float,
                 provider: str, model: str | None, tokens: dict, cost: Decimal | None, prompt: dict,
                 flags: list[dict], hold_reasons: list[str], release_state: str, released_at: datetime | None,
                 regenerated_from_id: int | None = None, created_at: datetime) -> dict:
    """The learning_feedback row for one generated feedback: `data` is the provider's reply
    (text, lists, scores), `tokens` its usage (the demo bulk-inserts the same rows)."""
    scores = data["scores"]
    return dict(
        submission_id=submission_id, user_id=user_id, feedback_type="rubric", persona=persona,
        feedback_text=data["feedback_text"], strengths=data["strengths"],
        areas_for_improvement=data["areas_for_improvement"], specific_suggestions=data["specific_suggestions"],
        rubric_accuracy=_dec(scores["accuracy"]), rubric_documentation=_dec(scores["documentation"]),
        rubric_presentation=_dec(scores["presentation"]), rubric_reasoning=_dec(scores["reasoning"]),
        rubric_composite=_dec(composite),
        openai_model=(model or "")[:50] or None, openai_tokens_input=tokens["tokens_in"],
        openai_tokens_output=tokens["tokens_out"], openai_tokens_cached=tokens["tokens_cached"],
        openai_cost_usd=cost, provider=provider, prompt=prompt,
        is_flagged=bool(flags), flag_reason=("; ".join(f["code"] for f in flags)[:255] or None),
        auto_flags=flags, hold_reasons=hold_reasons, release_state=release_state,
        released_at=released_at, regenerated_from_id=regenerated_from_id, created_at=created_at,
    )


def on_submission_validated(engine: Engine, submission_id: int) -> None:
    """Feedback inline, for callers outside the job queue. Never raises: at worst the
    submission is left marked for retry. Uploads use the `feedback` job instead (core.jobs)."""
    try:
        if config.env_flag("NGI_FEEDBACK_ON_SUBMIT") is False:
            return
        outcome = generate(engine, actor=auth.system_actor(engine), submission_id=submission_id)
        if not outcome.ok:
            log.warning("feedback for submission %s failed: %s", submission_id, outcome.error)
    except Invalid as exc:
        log.info("no feedback for submission %s: %s", submission_id, exc)
    except Exception:  # see docstring
        log.exception("feedback generation crashed for submission %s", submission_id)
        try:
            with session_scope(engine) as session:
                submission = session.get(LearningSubmission, submission_id)
                if submission is not None:
                    submission.feedback_status = RETRY
        except Exception:
            log.exception("could not mark submission %s for feedback retry", submission_id)


def summary(session: Session, feedback_id: int) -> dict[str, Any]:
    """The stored row as plain data (what the CLI prints)."""
    row = get_or_not_found(session, LearningFeedback, feedback_id, f"Feedback {feedback_id} does not exist.")
    num = lambda v: None if v is None else float(v)  # noqa: E731
    return {
        "id": row.id, "submission_id": row.submission_id, "provider": row.provider, "model": row.openai_model,
        "persona": row.persona, "tokens_in": row.openai_tokens_input, "tokens_out": row.openai_tokens_output,
        "tokens_cached": row.openai_tokens_cached, "cost_usd": num(row.openai_cost_usd),
        "scores": {k: num(getattr(row, f"rubric_{k}")) for k in (*CRITERIA, "composite")},
        "release_state": row.release_state, "hold_reasons": row.hold_reasons or [],
        "auto_flags": row.auto_flags or [], "created_at": row.created_at,
    }
