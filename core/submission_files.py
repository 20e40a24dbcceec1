"""Submitted files for reviewers: unique download names and "Download all" as a zip.

Two students' `DE_a1_drivers_map_v1.xlsx` used to download under the same name. Each
name is now built from the viewer's alias for the student, the activity, the version
and the submission id, so it is unique and still blind. The zip of a filtered queue is
written to a temporary file one stored file at a time (each copied in chunks), never
held in memory whole.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import pseudonyms
from core.access import Actor, require
from core.db import get_or_not_found
from core.models import LearningSubmission
from core.storage import Storage, default_storage

CHUNK = 1 << 20


def download_name(*, alias: str, activity_id: str, version: int, submission_id: int, file_name: str) -> str:
    """"Analyst_3F7A9C_a1_drivers_map_v1_s42.xlsx": unique per submission, no real name."""
    extension = Path(file_name).suffix.lower() or ".bin"
    stem = re.sub(r"[^A-Za-z0-9]+", "_", f"{alias} {activity_id}").strip("_")
    return f"{stem}_v{version}_s{submission_id}{extension}"


def _name_of(sub: LearningSubmission, actor: Actor) -> str:
    return download_name(alias=pseudonyms.alias(sub.user_id, actor.role), activity_id=sub.activity_id,
                         version=sub.version, submission_id=sub.id, file_name=sub.file_name)


def file_for_download(session: Session, *, actor: Actor, submission_id: int,
                      storage: Storage | None = None) -> tuple[str, bytes]:
    """(unique download name, the file's bytes)."""
    require(actor, "review.read")
    sub = get_or_not_found(session, LearningSubmission, submission_id, f"No submission with id {submission_id}.")
    return _name_of(sub, actor), (storage or default_storage()).read_bytes(sub.file_path)


def zip_submissions(session: Session, *, actor: Actor, submission_ids: list[int],
                    storage: Storage | None = None) -> dict[str, Any]:
    """Write the files of these submissions into a zip in a temporary file; returns its
    path, how many files went in and the ones whose stored file was missing. The caller
    deletes the file when it has been sent."""
    require(actor, "review.read")
    storage = storage or default_storage()
    fd, zip_path = tempfile.mkstemp(prefix="ngi-submissions-", suffix=".zip")
    os.close(fd)
    added, missing = 0, []
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for start in range(0, len(submission_ids), 500):
            chunk = submission_ids[start:start + 500]
            subs = {s.id: s for s in session.scalars(select(LearningSubmission)
                                                       .where(LearningSubmission.id.in_(chunk)))}
            for sub_id in chunk:
                sub = subs.get(sub_id)
                if sub is None:
                    continue
                try:
                    source = storage.open(sub.file_path)
                except (FileNotFoundError, OSError):
                    missing.append(sub_id)
                    continue
                with source, archive.open(_name_of(sub, actor), "w") as target:
                    shutil.copyfileobj(source, target, CHUNK)
                added += 1
    return {"path": Path(zip_path), "files": added, "missing": missing}
