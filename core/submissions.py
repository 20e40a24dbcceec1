"""Receiving student work: one `submit` used by the CLI, the review page and the platform.

Order of work, and why:
1. Spool the upload to a temp file (hashing it) and run the validators there. Unsafe
   or unreadable files are refused here, before anything is stored or written.
2. Put the file into storage under a generated key.
3. One short transaction, serialised per student (SQLite BEGIN IMMEDIATE; PostgreSQL
   SELECT ... FOR UPDATE on the student row): version = previous + 1, flip is_latest,
   insert the row, its validator run, telemetry, progress and the leaderboard entry.
   PostgreSQL deadlocks and serialization failures are retried (db.retrying).
   If the transaction surely rolled back, the stored file is deleted: no orphan file, no
   row. If the COMMIT's outcome is unknown (connection lost after it was sent) the file
   is kept: a committed row must never lose its file; `ngi storage reconcile` finds a
   file left without a row.
   The same transaction enqueues the follow-up jobs (core.jobs, an outbox): LibreOffice
   recalculation of a workbook saved without values, AI-detection of PDF text, and
   feedback. The upload returns as soon as it commits; workers do the slow part.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import (
    audit,
    companies,
    config,
    content_tree,
    jobs,
    leaderboard_entries,
    prerequisites,
    telemetry,
    validation,
)
from core.access import Actor, require
from core.db import CommitOutcomeUnknown, read_scope, retrying, session_scope, utcnow
from core.errors import Invalid, NotFound
from core.models import LearningSubmission, Student, ValidatorRun
from core.rules import ActivityRules
from core.storage import (
    CHUNK,
    Storage,
    default_storage,
    new_key,
    sanitize_filename,
    spool_file,
)

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
EXTENSIONS = {"xlsx": "excel", "pdf": "pdf"}
ATTEMPTS = 5


@dataclass(frozen=True)
class SubmitResult:
    submission_id: int
    version: int
    status: str  # passed | failed
    report: dict
    file_key: str
    ai_detection_status: str | None = None


def check_filename(filename: str | None) -> tuple[str, str]:
    """(sanitised name, extension). A name carrying a path is refused outright: browsers
    send base names only, so a path means a crafted request."""
    raw = filename or ""
    if not raw.strip():
        raise Invalid("The upload has no file name.")
    parts = set(PurePosixPath(raw).parts) | set(PureWindowsPath(raw).parts)
    if "\x00" in raw or "/" in raw or "\\" in raw or ".." in parts:
        raise Invalid(f"The file name {raw!r} contains a path; upload the file itself (e.g. model.xlsx).")
    name = sanitize_filename(raw)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in EXTENSIONS:
        raise Invalid(f"{name}: only Excel workbooks (.xlsx) and PDF files (.pdf) are accepted.")
    return name, ext


def rubric(session: Session | None, activity_id: str) -> ActivityRules:
    """The activity's rules, read through the content tree like every other consumer."""
    rules = content_tree.activity_rules(session, activity_id)
    if rules is None:
        known = content_tree.current(session).activity_keys() if session is not None else []
        raise Invalid(f"Unknown activity {activity_id!r}; known activities: {', '.join(known)}.")
    return rules


def _spool(fileobj: BinaryIO, target: Path, max_bytes: int, label: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(target, "wb") as out:
        while chunk := fileobj.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise Invalid(f"{label} is larger than {max_bytes // (1024 * 1024)} MB.")
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _lock_student(session: Session, student_id: int) -> None:
    query = select(Student.id).where(Student.id == student_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    if session.scalar(query) is None:
        raise NotFound(f"No student with id {student_id}.")


def submission_row(*, student_id: int, company_id: int | None, activity_id: str, module: str | None,
                   submission_type: str, version: int, stored, name: str, notes: str | None,
                   is_latest: bool = True, ai_detection_status: str = "not_run", created_at=None) -> dict:
    """The learning_submissions row an upload inserts (the demo bulk-inserts the same rows)."""
    return dict(
        user_id=student_id, company_id=company_id, activity_id=activity_id, module=module or "",
        submission_type=submission_type, version=version, file_path=stored.key, file_name=name,
        file_size_bytes=stored.size, file_hash=stored.sha256, submission_notes=notes, is_latest=is_latest,
        ai_detection_status=ai_detection_status, created_at=created_at or utcnow(),
    )


def validator_run_row(*, submission_id: int, status: str, report: dict, run_by: int | None, run_at=None) -> dict:
    """The learning_validator_runs row for one validation of a submission."""
    return dict(submission_id=submission_id, status=status, report=report, run_by=run_by, run_at=run_at or utcnow())


def record_run(session: Session, submission: LearningSubmission, report: validation.Report,
               *, run_by: int | None) -> ValidatorRun:
    """A new ValidatorRun, mirrored onto the submission row."""
    run = ValidatorRun(**validator_run_row(submission_id=submission.id, status=report.status,
                                           report=report.to_dict(), run_by=run_by))
    session.add(run)
    submission.validator_status = report.status
    submission.validator_errors = report.errors
    submission.validator_run_at = run.run_at
    session.flush()
    return run


def record_outcome(session: Session, submission: LearningSubmission, report: validation.Report, *,
                   ip_address: str | None = None, user_agent: str | None = None) -> None:
    """The validator event and, for a capstone workbook, the leaderboard entry: at upload,
    or when a recalculation job settles a pending workbook."""
    failed = [c.id for c in report.checks if c.status == "failed"]
    telemetry.record_event(session, event_type="validator_pass" if report.status == "passed" else "validator_fail",
                           event_category="submission",
                           event_data={"status": report.status, "failed_checks": failed},
                           user_id=submission.user_id, module=submission.module, activity=submission.activity_id,
                           company_id=submission.company_id, submission_id=submission.id, ip_address=ip_address,
                           user_agent=user_agent)
    # Progress (current activity, capstone_submitted) follows from the events above:
    # record_event derives it, so a recompute from events gives the same result.
    if submission.activity_id == "capstone" and submission.submission_type == "excel" and report.outputs:
        leaderboard_entries.upsert_entry(session, user_id=submission.user_id, company_id=submission.company_id,
                                         submission_id=submission.id, targets=report.outputs,
                                         valuation_date=utcnow().date())


def submit(
    engine: Engine, *, student_id: int, activity_id: str, company_ticker: str, fileobj: BinaryIO, filename: str,
    actor: Actor, notes: str | None = None, submission_type: str | None = None, storage: Storage | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES, ip_address: str | None = None, user_agent: str | None = None,
) -> SubmitResult:
    """Store, version and validate one upload. Raises Invalid (nothing stored) for a
    file that is unsafe, unreadable or of a type the activity does not take."""
    require(actor, "submissions.submit")
    name, ext = check_filename(filename)
    with read_scope(engine) as session:
        rules = rubric(session, activity_id)
        module = content_tree.current(session).module_of(activity_id)
        if session.get(Student, student_id) is None:
            raise NotFound(f"No student with id {student_id}.")
        company = companies.get_by_ticker(session, company_ticker)
        company_id = company.id
    allowed = list(rules.submission_types)
    if ext == "xlsx":
        submission_type = "excel"
    else:
        submission_type = submission_type or next((t for t in allowed if t.startswith("pdf")), "pdf_memo")
    if submission_type not in allowed:
        raise Invalid(f"{name}: activity {activity_id} accepts {', '.join(allowed)}, not {submission_type}.")

    with spool_file(suffix=f".{ext}") as tmp:
        _spool(fileobj, tmp, max_bytes, name)
        if ext == "pdf":
            report, text = validation.read_pdf(tmp, name=name, rules=rules.pdf_rules(submission_type))
        else:
            # A workbook without saved values comes back "pending": LibreOffice runs in a job.
            report, text = validation.validate_path(tmp, name=name, rules=rules, defer_recalc=True), ""
        if report.status == "rejected":
            raise Invalid(report.message or f"{name} was rejected.")
        storage = storage or default_storage()
        key = new_key(f"submissions/{student_id}/{activity_id}", ext)
        with open(tmp, "rb") as fh:
            stored = storage.put(key, fh, max_bytes=max_bytes)
    _test_exit_after_store()

    try:
        submission_id, version = _record(
            engine, student_id=student_id, activity_id=activity_id, module=module, company_id=company_id,
            submission_type=submission_type, stored=stored, name=name, notes=notes, report=report, actor=actor,
            ip_address=ip_address, user_agent=user_agent, follow_ups=jobs.follow_ups(report.status, has_text=bool(text)),
        )
    except CommitOutcomeUnknown:
        # The row may exist: keep the file. Reconcile reports it if the row does not.
        log.error("commit of %s may not have been saved; keeping stored file %s", name, stored.key)
        raise
    except BaseException:
        storage.delete(stored.key)
        raise
    return SubmitResult(submission_id=submission_id, version=version, status=report.status, report=report.to_dict(),
                        file_key=stored.key, ai_detection_status="pending" if text else "not_run")


def _test_exit_after_store() -> None:
    """Test hook (NGI_TEST_EXIT_AFTER_STORE=1): the process dies between storing the file
    and committing its row, as a killed upload would; reconcile tests rely on it."""
    if config.env_flag("NGI_TEST_EXIT_AFTER_STORE"):
        os._exit(75)


def _record(engine: Engine, *, student_id, activity_id, module, company_id, submission_type, stored, name, notes,
            report, actor, ip_address, user_agent, follow_ups) -> tuple[int, int]:
    def unit() -> tuple[int, int]:
        with session_scope(engine) as session:
            return _insert(session, student_id=student_id, activity_id=activity_id, module=module,
                           company_id=company_id, submission_type=submission_type, stored=stored, name=name,
                           notes=notes, report=report, actor=actor, ip_address=ip_address, user_agent=user_agent,
                           follow_ups=follow_ups)

    for attempt in range(ATTEMPTS):
        try:
            return retrying(unit)
        except IntegrityError:
            # Another writer took this version between our read and our insert (only
            # possible where the row lock is unavailable); read again and retry.
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _insert(session: Session, *, student_id, activity_id, module, company_id, submission_type, stored, name,
            notes, report, actor, ip_address, user_agent, follow_ups=()) -> tuple[int, int]:
    _lock_student(session, student_id)
    scope = (LearningSubmission.user_id == student_id, LearningSubmission.activity_id == activity_id)
    version = (session.scalar(select(func.max(LearningSubmission.version)).where(*scope)) or 0) + 1
    # Flip the old latest first: the partial unique index allows one latest at a time.
    session.execute(update(LearningSubmission).where(*scope, LearningSubmission.is_latest.is_(True))
                    .values(is_latest=False))
    ai_status = "pending" if jobs.AI_DETECTION in follow_ups else "not_run"
    submission = LearningSubmission(**submission_row(
        student_id=student_id, company_id=company_id, activity_id=activity_id, module=module,
        submission_type=submission_type, version=version, stored=stored, name=name, notes=notes,
        ai_detection_status=ai_status,
    ))
    submission.prerequisites_met = not prerequisites.unmet_prerequisites(session, student_id, activity_id)
    session.add(submission)
    session.flush()
    record_run(session, submission, report, run_by=getattr(actor, "id", None))
    common = dict(user_id=student_id, module=module, activity=activity_id, company_id=company_id,
                  submission_id=submission.id, ip_address=ip_address, user_agent=user_agent)
    telemetry.record_event(session, event_type="submission", event_category="submission",
                           event_data={"version": version, "submission_type": submission_type,
                                       "file_size_bytes": stored.size}, **common)
    if report.status != "pending":
        record_outcome(session, submission, report, ip_address=ip_address, user_agent=user_agent)
    for task in follow_ups:  # the outbox: committed with the submission, or not at all
        jobs.enqueue(session, task, submission_id=submission.id)
    if actor is not None:
        audit.record(session, actor, "submission.upload_on_behalf", target_type="submission",
                     target_id=submission.id, details={"student_id": student_id, "activity_id": activity_id,
                                                       "version": version, "file_name": name})
    return submission.id, version


def revalidate(engine: Engine, *, actor: Actor, submission_id: int, storage: Storage | None = None) -> validation.Report:
    """Run the validators again on the stored file; records a new ValidatorRun."""
    require(actor, "review.act")
    storage = storage or default_storage()
    with read_scope(engine) as session:
        submission = session.get(LearningSubmission, submission_id)
        if submission is None:
            raise NotFound(f"No submission with id {submission_id}.")
        key, name, activity_id = submission.file_path, submission.file_name, submission.activity_id
        submission_type = submission.submission_type
        rules = rubric(session, activity_id)
    from core.storage import copy_to_tempfile

    tmp = copy_to_tempfile(storage, key, suffix=Path(key).suffix)
    try:
        if validation.kind_for(name) == "pdf":
            report = validation.read_pdf(tmp, name=name, rules=rules.pdf_rules(submission_type))[0]
        else:
            report = validation.validate_path(tmp, name=name, rules=rules)
    finally:
        tmp.unlink(missing_ok=True)
    with session_scope(engine) as session:
        submission = session.get(LearningSubmission, submission_id)
        if submission is None:
            raise NotFound(f"Submission {submission_id} was deleted while it was being revalidated.")
        record_run(session, submission, report, run_by=getattr(actor, "id", None))
        if actor is not None:
            audit.record(session, actor, "submission.revalidate", target_type="submission", target_id=submission_id,
                         details={"status": report.status})
    return report


def local_copy(storage: Storage, key: str) -> Path:
    """A temp copy of a stored file (caller deletes)."""
    from core.storage import copy_to_tempfile

    return copy_to_tempfile(storage, key, suffix=Path(key).suffix)

