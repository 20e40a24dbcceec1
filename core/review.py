"""The instructor review workflow: the queue, a submission's detail, blind identities with
an audited reveal, marking reviewed, re-running validators, the version diff, export.

Review is blind by default: students appear under their keyed alias (core.pseudonyms); a
permitted reveal returns the name and writes an audit row each time it is used. Roles that
may not reveal get no student id and no exact price targets either, so they cannot join
this page to the leaderboard to put a student behind an entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, BinaryIO

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import audit, content_tree, exports, pseudonyms, submissions
from core.access import Actor, can, require
from core.db import get_or_not_found, session_scope, utcnow
from core.errors import Forbidden, Invalid, NotFound
from core.models import (
    LearningCompany,
    LearningFeedback,
    LearningGrade,
    LearningSubmission,
    StaffUser,
    Student,
    ValidatorRun,
)
from core.storage import Storage, default_storage
from core.validation.report import flat_errors

VALIDATOR_STATUSES = ("passed", "failed", "pending")
EXPORT_COLUMNS = ["id", "student", "cohort", "activity_id", "company", "version", "submission_type",
                  "validator_status", "failed_checks", "ai_detection_status", "ai_detection_score", "created_at",
                  "reviewed_at", "file_name", "review_notes"]


@dataclass(frozen=True)
class QueueFilters:
    status: str | None = None  # validator status: passed | failed | pending
    activity: str | None = None
    company: str | None = None  # ticker
    cohort: str | None = None
    since: date | None = None
    until: date | None = None
    latest_only: bool = True
    reviewed: bool | None = None  # None: all, False: awaiting review, True: reviewed
    prerequisites_met: bool | None = None  # None: all; False: submitted before its prerequisites were done
    # Grading (core.grading): "needs_review" = no grade yet or a draft; or one state.
    grade_state: str | None = None  # needs_review | not_started | in_progress | graded | released
    allocated_to: int | None = None  # "my queue": the marker's staff id


def blind_label(student_id: int, *, actor: Actor) -> str:
    return pseudonyms.alias(student_id, actor.role)


def _blind(session: Session, activity_id: str) -> bool:
    """Is the activity marked blind in its rules (no reveal, no student id)?"""
    return activity_id in content_tree.current(session).blind_activities()


def _linkable(actor) -> bool:
    """May this actor hold data that ties a student to their leaderboard entry?"""
    return can(actor, "review.reveal")


def _withhold_targets(report: dict | None) -> dict | None:
    """The report without its exact price targets (the leaderboard's join key)."""
    if not report or "outputs" not in report:
        return report
    return {**report, "outputs": {}}


def _day_start(day: date) -> datetime:
    from core.config import program_timezone

    return datetime.combine(day, time.min, tzinfo=program_timezone())


def _filtered(query, filters: QueueFilters):
    """The filters as WHERE clauses over the submission ⋈ company ⋈ student ⋈ grade join."""
    if filters.latest_only:
        query = query.where(LearningSubmission.is_latest.is_(True))
    if filters.status == "pending":
        query = query.where(LearningSubmission.validator_status.is_(None)
                            | (LearningSubmission.validator_status == "pending"))
    elif filters.status:
        query = query.where(LearningSubmission.validator_status == filters.status)
    if filters.activity:
        query = query.where(LearningSubmission.activity_id == filters.activity)
    if filters.company:
        query = query.where(LearningCompany.ticker == filters.company.upper())
    if filters.cohort:
        query = query.where(Student.cohort == filters.cohort)
    if filters.since:
        query = query.where(LearningSubmission.created_at >= _day_start(filters.since))
    if filters.until:
        query = query.where(LearningSubmission.created_at < _day_start(filters.until + timedelta(days=1)))
    if filters.reviewed is True:
        query = query.where(LearningSubmission.reviewed_at.is_not(None))
    elif filters.reviewed is False:
        query = query.where(LearningSubmission.reviewed_at.is_(None))
    if filters.prerequisites_met is not None:
        query = query.where(LearningSubmission.prerequisites_met.is_(filters.prerequisites_met))
    state = func.coalesce(LearningGrade.state, "not_started")
    if filters.grade_state == "needs_review":
        query = query.where(state.in_(("not_started", "in_progress")))
    elif filters.grade_state:
        query = query.where(state == filters.grade_state)
    if filters.allocated_to is not None:
        query = query.where(LearningGrade.allocated_to == filters.allocated_to)
    return query


def _base(*columns):
    return (select(*columns).select_from(LearningSubmission)
            .join(LearningCompany, LearningCompany.id == LearningSubmission.company_id)
            .join(Student, Student.id == LearningSubmission.user_id)
            .outerjoin(LearningGrade, LearningGrade.submission_id == LearningSubmission.id))


ORDER = (LearningSubmission.created_at, LearningSubmission.id)


def queue_ids(session: Session, *, actor: Actor, filters: QueueFilters = QueueFilters()) -> list[int]:
    """The ids of the whole filtered queue, in its order (navigation, progress, zips)."""
    require(actor, "review.read")
    return list(session.scalars(_filtered(_base(LearningSubmission.id), filters).order_by(*ORDER)))


def queue_progress(session: Session, *, actor: Actor, filters: QueueFilters = QueueFilters()) -> dict[str, int]:
    """"n of N graded" for the filter: graded or released, and the total."""
    require(actor, "review.read")
    done = func.sum(case((LearningGrade.state.in_(("graded", "released")), 1), else_=0))
    total, graded = session.execute(_filtered(_base(func.count(), done), filters)).one()
    return {"total": total or 0, "graded": int(graded or 0)}


def queue(session: Session, *, actor: Actor, filters: QueueFilters = QueueFilters(), limit: int | None = None,
          offset: int = 0) -> list[dict[str, Any]]:
    """Submissions matching `filters`, oldest first, as plain rows (blind); one page of
    `limit` rows from `offset` when given."""
    require(actor, "review.read")
    query = _filtered(_base(LearningSubmission, LearningCompany.ticker, Student.cohort, LearningGrade.state,
                            LearningGrade.overall_score, LearningGrade.allocated_to), filters).order_by(*ORDER)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    rows = []
    linkable = _linkable(actor)
    blind = content_tree.current(session).blind_activities()
    for sub, ticker, cohort, grade_state, grade_score, marker in session.execute(query):
        failed = sorted({check for e in (flat_errors(sub.validator_errors) or []) if (check := e.get("check"))})
        rows.append({
            "id": sub.id, "student_id": sub.user_id if linkable and sub.activity_id not in blind else None,
            "student": blind_label(sub.user_id, actor=actor), "cohort": cohort,
            "activity_id": sub.activity_id, "company": ticker, "version": sub.version,
            "submission_type": sub.submission_type, "validator_status": sub.validator_status or "pending",
            "failed_checks": ", ".join(failed), "ai_detection_status": sub.ai_detection_status,
            "ai_detection_score": None if sub.ai_detection_score is None else float(sub.ai_detection_score),
            "created_at": sub.created_at, "reviewed_at": sub.reviewed_at, "file_name": sub.file_name,
            "review_notes": sub.review_notes, "is_latest": bool(sub.is_latest),
            "prerequisites_met": sub.prerequisites_met,
            "grade_state": grade_state or "not_started", "allocated_to": marker,
            "grade": None if grade_score is None else float(grade_score),
        })
    return rows


def filter_options(session: Session, *, actor: Actor) -> dict[str, Any]:
    """The pickers' choices. Activities come from the content tree in curriculum order (an
    activity an admin added on the content page is offered at once), then any activity
    that only old submissions still name; `titles` are their authored titles."""
    require(actor, "review.read")
    tree = content_tree.current(session)
    authored = tree.activity_keys()
    submitted = set(session.scalars(select(LearningSubmission.activity_id).distinct()))
    activities = [*authored, *sorted(submitted - set(authored))]
    return {
        "activities": activities,
        "titles": {key: node.title for key in activities if (node := tree.node(key)) is not None},
        "companies": sorted(session.scalars(select(LearningCompany.ticker).join(
            LearningSubmission, LearningSubmission.company_id == LearningCompany.id).distinct())),
        "cohorts": sorted(c for c in session.scalars(select(Student.cohort).distinct()) if c),
    }


def awaiting_review_clause():
    """Latest versions that no one has marked reviewed yet (shared with the home page)."""
    return and_(LearningSubmission.is_latest.is_(True), LearningSubmission.reviewed_at.is_(None))


def awaiting_review_count(session: Session, *, actor: Actor) -> int:
    require(actor, "review.read")
    return session.scalar(
        select(func.count()).select_from(LearningSubmission).where(awaiting_review_clause())) or 0


def _get(session: Session, submission_id: int) -> LearningSubmission:
    return get_or_not_found(session, LearningSubmission, submission_id, f"No submission with id {submission_id}.")


def detail(session: Session, *, actor: Actor, submission_id: int) -> dict[str, Any]:
    """Everything the detail view shows, blind, as plain data."""
    require(actor, "review.read")
    sub = _get(session, submission_id)
    ticker = session.scalar(select(LearningCompany.ticker).where(LearningCompany.id == sub.company_id))
    runs = session.execute(
        select(ValidatorRun, StaffUser.display_name).outerjoin(StaffUser, StaffUser.id == ValidatorRun.run_by)
        .where(ValidatorRun.submission_id == sub.id).order_by(ValidatorRun.id.desc())).all()
    versions = session.execute(
        select(LearningSubmission.id, LearningSubmission.version, LearningSubmission.created_at,
               LearningSubmission.validator_status, LearningSubmission.submission_type, LearningSubmission.file_name,
               LearningSubmission.is_latest)
        .where(LearningSubmission.user_id == sub.user_id, LearningSubmission.activity_id == sub.activity_id)
        .order_by(LearningSubmission.version.desc())).all()
    feedback = session.scalars(select(LearningFeedback).where(LearningFeedback.submission_id == sub.id)
                               .order_by(LearningFeedback.id)).all()
    reviewer = session.get(StaffUser, sub.reviewed_by) if sub.reviewed_by else None
    blind = _blind(session, sub.activity_id)
    linkable = _linkable(actor) and not blind
    report = runs[0][0].report if runs else None
    return {
        "id": sub.id, "student": blind_label(sub.user_id, actor=actor), "student_id": sub.user_id if linkable else None,
        "activity_id": sub.activity_id, "blind_marking": blind, "module": sub.module, "company": ticker,
        "version": sub.version,
        "submission_type": sub.submission_type, "file_name": sub.file_name, "file_path": sub.file_path,
        "file_size_bytes": sub.file_size_bytes, "file_hash": sub.file_hash, "created_at": sub.created_at,
        "notes": sub.submission_notes, "is_latest": bool(sub.is_latest),
        "validator_status": sub.validator_status, "validator_run_at": sub.validator_run_at,
        "report": report if linkable else _withhold_targets(report),
        "runs": [{"id": r.id, "status": r.status, "run_at": r.run_at, "run_by": name or "submission"}
                 for r, name in runs],
        "ai": {"status": sub.ai_detection_status,
               "score": None if sub.ai_detection_score is None else float(sub.ai_detection_score),
               "run_at": sub.ai_detection_run_at, "details": sub.ai_detection_details or {}},
        "versions": [dict(v._mapping) for v in versions],
        "feedback": [{"id": f.id, "type": f.feedback_type, "release_state": f.release_state,
                      "provider": f.provider, "text": f.feedback_text, "created_at": f.created_at,
                      "composite": None if f.rubric_composite is None else float(f.rubric_composite),
                      "flagged": bool(f.is_flagged)} for f in feedback],
        "reviewed_at": sub.reviewed_at, "reviewed_by": reviewer.display_name if reviewer else None,
        "review_notes": sub.review_notes,
    }


def student_history(session: Session, *, actor: Actor, submission_id: int) -> list[dict[str, Any]]:
    """The same student's other submissions (every activity and version) with their
    grades, for the side panel; blind like the rest of the page."""
    require(actor, "review.read")
    sub = _get(session, submission_id)
    rows = session.execute(
        select(LearningSubmission.id, LearningSubmission.activity_id, LearningSubmission.version,
               LearningSubmission.validator_status, LearningSubmission.created_at, LearningGrade.state,
               LearningGrade.overall_score)
        .outerjoin(LearningGrade, LearningGrade.submission_id == LearningSubmission.id)
        .where(LearningSubmission.user_id == sub.user_id, LearningSubmission.id != sub.id)
        .order_by(LearningSubmission.created_at, LearningSubmission.id))
    return [{"id": r.id, "activity_id": r.activity_id, "version": r.version, "validator_status": r.validator_status,
             "created_at": r.created_at, "grade_state": r.state or "not_started",
             "grade": None if r.overall_score is None else float(r.overall_score)} for r in rows]


def reveal_identity(engine: Engine, *, actor: Actor, submission_id: int, reason: str) -> dict[str, str | None]:
    """The student's name and email, for a stated reason (as on the leaderboard); every
    reveal is audited. An activity whose rules mark it blind cannot be revealed."""
    require(actor, "review.reveal")
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise Invalid("Give a reason for revealing the student (at least 5 characters); it is kept in the audit log.")
    with session_scope(engine, immediate=True) as session:
        sub = _get(session, submission_id)
        if _blind(session, sub.activity_id):
            node = content_tree.current(session).node(sub.activity_id)
            raise Forbidden(f"“{node.title if node else sub.activity_id}” is marked blind: who submitted to it cannot "
                            "be revealed.")
        student = session.get(Student, sub.user_id)
        if student is None:
            raise NotFound(f"Submission {submission_id} belongs to user {sub.user_id}, who has no student record.")
        audit.record(session, actor, "student.reveal", target_type="student", target_id=sub.user_id,
                     details={"submission_id": submission_id, "reason": reason})
        return {"name": student.full_name, "email": student.email, "cohort": student.cohort}


def mark_reviewed(engine: Engine, *, actor: Actor, submission_id: int, notes: str | None = None) -> None:
    require(actor, "review.act")
    with session_scope(engine, immediate=True) as session:
        sub = _get(session, submission_id)
        sub.reviewed_by = actor.id
        sub.reviewed_at = utcnow()
        sub.review_notes = (notes or "").strip() or None
        audit.record(session, actor, "submission.review", target_type="submission", target_id=submission_id,
                     details={"notes": sub.review_notes})


def rerun_validators(engine: Engine, *, actor: Actor, submission_id: int, storage: Storage | None = None):
    require(actor, "review.act")
    return submissions.revalidate(engine, submission_id=submission_id, actor=actor, storage=storage)


def upload_on_behalf(engine: Engine, *, actor: Actor, student_id: int, activity_id: str, company_ticker: str,
                     fileobj: BinaryIO, filename: str, notes: str | None = None,
                     submission_type: str | None = None, storage: Storage | None = None):
    """Same path as a student's own upload; audited as done by `actor`."""
    require(actor, "review.act")
    return submissions.submit(engine, student_id=student_id, activity_id=activity_id,
                              company_ticker=company_ticker, fileobj=fileobj, filename=filename, notes=notes,
                              submission_type=submission_type, actor=actor, storage=storage)


def file_bytes(session: Session, *, actor: Actor, submission_id: int, storage: Storage | None = None) -> tuple[str, bytes]:
    require(actor, "review.read")
    sub = _get(session, submission_id)
    return sub.file_name, (storage or default_storage()).read_bytes(sub.file_path)


# -- export -----------------------------------------------------------------------

def to_csv(rows: list[dict]) -> bytes:
    """The queue as CSV; formula-like text is neutralised (core.exports)."""
    return exports.to_csv(rows, EXPORT_COLUMNS)


def to_xlsx(rows: list[dict]) -> bytes:
    return exports.to_xlsx(rows, EXPORT_COLUMNS, sheet="Review queue")


def check_versions_comparable(session: Session, a_id: int, b_id: int) -> tuple[LearningSubmission, LearningSubmission]:
    a, b = _get(session, a_id), _get(session, b_id)
    if (a.user_id, a.activity_id) != (b.user_id, b.activity_id):
        raise Invalid("Only versions of the same student's work for the same activity can be compared.")
    if a.submission_type != "excel" or b.submission_type != "excel":
        raise Invalid("Only Excel workbooks can be compared cell by cell.")
    return (a, b) if a.version <= b.version else (b, a)


def _read_stored(storage: Storage, key: str, name: str):
    from core.storage import copy_to_tempfile
    from core.validation import Rejected, read_workbook

    tmp = copy_to_tempfile(storage, key, suffix=".xlsx")
    try:
        return read_workbook(tmp, name=name, keep_formulas=True)
    except Rejected as err:
        raise Invalid(str(err)) from None
    finally:
        tmp.unlink(missing_ok=True)


def _latest_report(session: Session, submission_id: int) -> dict | None:
    return session.scalar(select(ValidatorRun.report).where(ValidatorRun.submission_id == submission_id)
                          .order_by(ValidatorRun.id.desc()).limit(1))


def diff_versions(session: Session, *, actor: Actor, a_id: int, b_id: int, storage: Storage | None = None) -> dict:
    """Older → newer: changed formulas and values, new hard-codes, sheets, check results."""
    from core.validation.diff import compare_checks, diff_workbooks

    require(actor, "review.read")
    old, new = check_versions_comparable(session, a_id, b_id)
    storage = storage or default_storage()
    result = diff_workbooks(_read_stored(storage, old.file_path, old.file_name),
                            _read_stored(storage, new.file_path, new.file_name))
    result.checks = compare_checks(_latest_report(session, old.id), _latest_report(session, new.id))
    return {"old": {"id": old.id, "version": old.version}, "new": {"id": new.id, "version": new.version},
            **result.to_dict()}


def sheet_view(session: Session, *, actor: Actor, submission_id: int, sheet: str | None = None, storage: Storage | None = None) -> dict:
    """One sheet of a stored workbook as a grid, with the cells the findings name."""
    from core.validation.diff import sheet_grid

    require(actor, "review.read")
    sub = _get(session, submission_id)
    if sub.submission_type != "excel":
        raise Invalid(f"{sub.file_name} is not a workbook.")
    workbook = _read_stored(storage or default_storage(), sub.file_path, sub.file_name)
    name = sheet if sheet in workbook.sheets else workbook.order[0]
    report = _latest_report(session, sub.id) or {}
    flagged = {f["cell"]: f["message"] for c in report.get("checks", []) for f in c.get("findings", [])
               if f.get("sheet") == name and f.get("cell") and f["cell"][0].isalpha() and "+" not in f["cell"]}
    return {"sheets": workbook.order, "sheet": name, "grid": sheet_grid(workbook.sheets[name]),
            "flagged": flagged}
