"""A student's data export (the right of access beside erasure): one zip with the
student's rows from every table that holds them, as JSON, their stored files, and a
README.txt saying what each file holds.

Tables are found from the metadata (a `user_id`-style foreign key to `students`, or a
`submission_id` to one of the student's submissions), so a table added later is exported
without touching this module. Rows and files are streamed into the zip one at a time.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require
from core.db import Base, session_scope, utcnow
from core.errors import NotFound
from core.models import LearningSubmission, Student
from core.storage import CHUNK, Storage, default_storage, sanitize_filename

ROW_BATCH = 1000


@dataclass
class ExportSummary:
    student_id: int
    rows: dict[str, int] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)


def student_tables() -> list[tuple[Table, str]]:
    """(table, how it is reached) for every table holding a student's rows:
    "student" (a foreign key to students) or "submission" (only via their submissions)."""
    import core.models  # noqa: F401 - every mapped table is in the metadata

    found = []
    for table in Base.metadata.sorted_tables:
        if table.name == "students":
            continue
        targets = {fk.column.table.name for column in table.columns for fk in column.foreign_keys}
        if "students" in targets:
            found.append((table, "student"))
        elif "learning_submissions" in targets and "submission_id" in table.columns:
            found.append((table, "submission"))
    return found


def _student_column(table: Table):
    return next(c for c in table.columns if any(fk.column.table.name == "students" for fk in c.foreign_keys))


def _rows_query(table: Table, how: str, student_id: int):
    if how == "student":
        where = _student_column(table) == student_id
    else:
        mine = select(LearningSubmission.id).where(LearningSubmission.user_id == student_id)
        where = table.c.submission_id.in_(mine)
    return select(table).where(where).order_by(*table.primary_key.columns)


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _write_json_rows(zf: zipfile.ZipFile, name: str, rows) -> int:
    """A JSON array written row by row, so a year of telemetry never sits in memory."""
    count = 0
    with zf.open(name, "w", force_zip64=True) as out:
        out.write(b"[")
        for row in rows:
            record = {key: _json_value(value) for key, value in row._mapping.items()}
            out.write((b",\n" if count else b"\n") + json.dumps(record, ensure_ascii=False, default=str).encode())
            count += 1
        out.write(b"\n]\n")
    return count


def _copy_file(zf: zipfile.ZipFile, name: str, source: IO[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with zf.open(name, "w", force_zip64=True) as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _readme(summary: ExportSummary, exported_at: datetime) -> str:
    lines = [
        f"Data export for student {summary.student_id}",
        f"Exported {exported_at:%Y-%m-%d %H:%M} UTC by the NGI Learning Module.",
        "",
        "Each tables/<name>.json file is a JSON array with one object per database row",
        "(column name -> value; times are ISO 8601 UTC, decimals are strings).",
        "",
        "tables/students.json: the student record (email, name, cohort).",
    ]
    descriptions = {
        "learning_progress": "progress through the modules, streaks and time invested",
        "learning_submissions": "every submitted file's record: activity, version, validator and AI-detection results",
        "learning_feedback": "feedback written on the submissions",
        "learning_leaderboard": "price targets entered on the leaderboard",
        "learning_telemetry": "raw learning events (page views, activity starts, submissions ...)",
        "learning_telemetry_daily": "daily totals of the learning events",
        "learning_activity_funnel": "per activity, when each step was first reached",
        "learning_telemetry_state": "the latest learning context seen",
        "learning_telemetry_keys": "identifiers of imported events (to import each only once)",
        "learning_validator_runs": "every validator run on the submissions, with its report",
        "learning_feedback_failures": "feedback generations that failed",
        "learning_check_failures": "validator checks the submissions failed",
        "learning_submission_outcomes": "a summary of each validated submission's outcome",
    }
    for table, count in summary.rows.items():
        if table != "students":
            what = descriptions.get(table, f"rows of {table}")
            lines.append(f"tables/{table}.json: {what} ({count} row{'s' if count != 1 else ''}).")
    lines += ["", ("files/: the stored files of the submissions, named <submission id>-<original name>;"
                   " sha256 matches learning_submissions.file_hash.")]
    lines += [f"  {f['path']}  {f['size']} bytes  sha256 {f['sha256']}" for f in summary.files]
    if summary.missing_files:
        lines += ["", "Stored files that could not be found (their rows are still exported):"]
        lines += [f"  {key}" for key in summary.missing_files]
    return "\n".join(lines) + "\n"


def export_student(
    engine: Engine, *, actor: Actor, student_id: int, target: str | Path | IO[bytes],
    storage: Storage | None = None,
) -> ExportSummary:
    """Write the zip to `target` (a path or a writable binary file) and audit the export."""
    require(actor, "students.export")
    storage = storage or default_storage()
    summary = ExportSummary(student_id=student_id)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        # One read transaction for all rows, so the tables agree with each other.
        with Session(engine) as session, session.begin():
            if session.get(Student, student_id) is None:
                raise NotFound(f"No student with id {student_id}.")
            students = Base.metadata.tables["students"]
            summary.rows["students"] = _write_json_rows(
                zf, "tables/students.json", session.execute(select(students).where(students.c.id == student_id)))
            for table, how in student_tables():
                rows = session.execute(_rows_query(table, how, student_id), execution_options={"yield_per": ROW_BATCH})
                summary.rows[table.name] = _write_json_rows(zf, f"tables/{table.name}.json", rows)
            stored = session.execute(
                select(LearningSubmission.id, LearningSubmission.file_path, LearningSubmission.file_name)
                .where(LearningSubmission.user_id == student_id).order_by(LearningSubmission.id)
            ).all()
        # Storage reads (possibly S3) happen after the transaction has ended.
        for submission_id, key, file_name in stored:
            path = f"files/{submission_id}-{sanitize_filename(file_name)}"
            try:
                source = storage.open(key)
            except NotFound:
                summary.missing_files.append(key)
                continue
            with source:
                size, sha = _copy_file(zf, path, source)
            summary.files.append({"path": path, "key": key, "size": size, "sha256": sha})
        zf.writestr("README.txt", _readme(summary, utcnow()))
    with session_scope(engine) as session:
        audit.record(session, actor, "student.export", target_type="student", target_id=student_id,
                     details={"rows": summary.rows, "files": len(summary.files),
                              "missing_files": len(summary.missing_files)})
    return summary


def export_to_tempfile(engine: Engine, *, actor: Actor, student_id: int) -> IO[bytes]:
    """The zip in a temporary file (deleted when closed), rewound for reading: what the
    review page's download button hands to Streamlit."""
    import tempfile

    spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller open
    try:
        export_student(engine, actor=actor, student_id=student_id, target=spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool

