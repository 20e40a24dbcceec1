"""The submission rollups: each validated submission's outcome (validator status,
mean rubric score) and its failed validator checks, so outcome and hotspot charts
never scan the wide submission rows or parse JSON."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from core.models import (
    LearningFeedback,
    LearningSubmission,
    SubmissionOutcome,
    ValidatorCheckFailure,
)
from core.sql_functions import json_array_items, json_text

_submissions = LearningSubmission.__table__
_feedback = LearningFeedback.__table__


def refresh_submissions(session: Session, *, submission_ids: list[int] | None = None,
                        user_ids: list[int] | None = None, everyone: bool = False) -> None:
    """Re-derive the outcome row and the failed checks (from validator_errors) of some
    submissions, of some students' submissions, or of all."""
    s = _submissions
    scope: ColumnElement[bool]
    if everyone:
        scope = true()
        targets = [delete(model) for model in (ValidatorCheckFailure, SubmissionOutcome)]
    elif submission_ids:
        scope = s.c.id.in_(submission_ids)
        targets = [delete(model).where(model.submission_id.in_(submission_ids))
                   for model in (ValidatorCheckFailure, SubmissionOutcome)]
    elif user_ids:
        scope = s.c.user_id.in_(user_ids)
        targets = [delete(model).where(model.user_id.in_(user_ids))
                   for model in (ValidatorCheckFailure, SubmissionOutcome)]
    else:
        return
    for target in targets:
        session.execute(target)
    rubric = (
        select(_feedback.c.submission_id, func.avg(_feedback.c.rubric_composite).label("rubric"))
        .where(_feedback.c.rubric_composite.is_not(None))
        .group_by(_feedback.c.submission_id)
        .subquery("fb")
    )
    outcomes = (
        select(s.c.id, s.c.user_id, s.c.company_id, s.c.activity_id, s.c.module, s.c.created_at,
               s.c.validator_status, rubric.c.rubric)
        .select_from(s.outerjoin(rubric, rubric.c.submission_id == s.c.id))
        .where(s.c.validator_status.in_(("passed", "failed")), scope)
    )
    session.execute(insert(SubmissionOutcome).from_select(
        ["submission_id", "user_id", "company_id", "activity_id", "module", "created_at", "validator_status",
         "rubric_composite"], outcomes))
    # validator_errors comes in two shapes: a report ({status, checks: [{id, status,
    # findings}]}) or the flat findings list core.submissions mirrors from one
    # ([{check, sheet, cell, ...}], one entry per finding of a failed check).
    report_checks = json_array_items(s.c.validator_errors, "checks").table_valued("value").alias("c")
    flat_findings = json_array_items(s.c.validator_errors).table_valued("value").alias("c")
    shapes = [
        (report_checks, json_text(report_checks.c.value, "id"), json_text(report_checks.c.value, "status") == "failed"),
        (flat_findings, json_text(flat_findings.c.value, "check"), s.c.validator_status == "failed"),
    ]
    for items, check_id, failed in shapes:
        failures = (
            select(s.c.id, func.substr(check_id, 1, 100), s.c.user_id, s.c.company_id, s.c.activity_id, s.c.module,
                   s.c.created_at)
            .distinct()
            .select_from(s.join(items, true()))
            .where(s.c.validator_errors.is_not(None), failed, check_id.is_not(None), scope)
        )
        session.execute(insert(ValidatorCheckFailure).from_select(
            ["submission_id", "check_id", "user_id", "company_id", "activity_id", "module", "created_at"], failures))
