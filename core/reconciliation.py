"""Stored files against the rows that name them: `ngi storage reconcile [--fix]`.

An upload stores its file first and commits its row after (no slow I/O inside a
transaction), so a process killed in between leaves a file with no row, and a commit
whose outcome was unknown keeps its file on purpose. This finds both kinds of drift:
files no row names (orphans) and rows whose file is gone (missing). `fix` removes
orphans older than ORPHAN_MIN_AGE only: a younger one may belong to an upload that is
between storing and committing right now. Missing files are reported, never "fixed":
only a person can say where the work went.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.access import Actor, require
from core.db import read_scope
from core.models import LearningPackage, LearningSubmission
from core.storage import Storage, default_storage, sweep_spool

ORPHAN_MIN_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class Orphan:
    key: str
    age_seconds: float


@dataclass(frozen=True)
class Missing:
    table: str
    row_id: int
    key: str


@dataclass
class Report:
    orphans: list[Orphan] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    spool_removed: int = 0

    @property
    def clean(self) -> bool:
        return not self.orphans and not self.missing


def reconcile(engine: Engine, *, actor: Actor, fix: bool = False, storage: Storage | None = None,
              min_age: timedelta = ORPHAN_MIN_AGE, now: float | None = None) -> Report:
    require(actor, "storage.manage")
    storage = storage or default_storage()
    report = Report()
    # Files first, rows second: a file committed between the two reads then has its
    # row, so it is never taken for an orphan.
    files = dict(storage.listing())
    with read_scope(engine) as session:
        rows = [("learning_submissions", i, k) for i, k in session.execute(
            select(LearningSubmission.id, LearningSubmission.file_path))]
        rows += [("learning_packages", i, k) for i, k in session.execute(
            select(LearningPackage.id, LearningPackage.file_path))]
    named = {key for _table, _id, key in rows}
    now = now or time.time()
    for key in sorted(set(files) - named):
        report.orphans.append(Orphan(key=key, age_seconds=max(0.0, now - files[key])))
    for table, row_id, key in rows:
        # Stored after our listing? Then it is there; ask the storage to be sure.
        if key not in files and not storage.exists(key):
            report.missing.append(Missing(table=table, row_id=row_id, key=key))
    if fix:
        for orphan in report.orphans:
            if orphan.age_seconds >= min_age.total_seconds():
                storage.remove(orphan.key)
                report.removed.append(orphan.key)
        report.spool_removed = len(sweep_spool())
    return report
