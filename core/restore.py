"""`ngi backup verify` and `ngi backup restore`: a restore into a scratch copy compared
with the manifest taken at backup time, and a restore in place that replays the
erasures newer than the backup before anything uses the restored database."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from core import backup, config, erasures, schema
from core.db import make_engine, utcnow
from core.errors import Invalid, NotFound, Unavailable
from core.restic import Snapshot
from core.storage import LocalStorage, default_storage


@dataclass
class RestoreReport:
    database_backup: str
    files_backup: str | None
    replayed_erasures: int
    set_aside: Path | None  # where the replaced database and files were moved


def parse_target(to: str) -> datetime | None:
    """`latest` → None; an ISO time (UTC when no offset is given) → that moment."""
    if to == "latest":
        return None
    try:
        moment = datetime.fromisoformat(to.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"--to {to!r} is neither 'latest', a backup id nor an ISO time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pick(snapshots: list[Snapshot], to: str, what: str) -> Snapshot:
    if not snapshots:
        raise NotFound(f"No {what} backup in the restic repository; run `ngi backup run` first.")
    by_id = [s for s in snapshots if s.id.startswith(to)]
    if to != "latest" and by_id:
        return by_id[-1]
    moment = parse_target(to) if not by_id else None
    eligible = [s for s in snapshots if moment is None or s.time <= moment]
    if not eligible:
        raise NotFound(f"No {what} backup at or before {to}.")
    return eligible[-1]


def _files_snapshot(to: str, run_tag: str | None) -> Snapshot | None:
    if backup.local_files_root() is None:
        return None
    found = backup.restic().snapshots("files")
    if run_tag is None:  # a pgBackRest label: the files of the same `ngi backup run`
        run_tag = next((f"run={r.run}" for r in backup.records() if r.id == to and r.run), None)
    same_run = [s for s in found if run_tag and run_tag in s.tags]
    if same_run:
        return same_run[-1]
    try:
        return pick(found, "latest" if to == "latest" else parse_target(to).isoformat(), "files")  # type: ignore[union-attr]
    except Invalid:
        raise NotFound(f"No files backup belongs to {to}; restore with --to latest or a time.") from None


def _run_tag(snapshot: Snapshot) -> str | None:
    return next((t for t in snapshot.tags if t.startswith("run=")), None)


# --- verify ---


def verify(engine: Engine) -> backup.VerifyReport:
    lines: list[str] = []
    differences: list[str] = []
    backup_id = "?"
    run_tag = None
    try:
        if backup._is_sqlite(engine):
            snap = pick(backup.restic().snapshots("database"), "latest", "database")
            backup_id, run_tag = snap.id[:8], _run_tag(snap)
            expected = backup.read_manifest(snap.id[:8])["tables"]
            scratch = Path(tempfile.mkdtemp(prefix="verify-db-", dir=backup._scratch_root()))
            try:
                backup.restic().restore(snap.id, scratch)
                restored = make_engine(f"sqlite:///{scratch / 'ngi.db'}")
                observed = backup.row_counts(restored)
                restored.dispose()
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        else:
            from core import pgbackrest_flows

            backup_id = pgbackrest_flows.latest_label()
            backup_id, expected, observed = pgbackrest_flows.verify(engine)
        differences += backup.compare(expected, observed, "table")
        lines.append(f"database backup {backup_id}: {len(observed)} tables, "
                     f"{sum(observed.values())} rows restored")
    except (Unavailable, NotFound) as err:
        differences.append(f"database backup {backup_id}: could not be restored: {err.message}")
    files = _files_snapshot("latest", run_tag)
    if files is not None:
        try:
            expected_files: dict[str, str] = backup.read_manifest(files.id[:8])["files"]
            scratch = Path(tempfile.mkdtemp(prefix="verify-files-", dir=backup._scratch_root()))
            try:
                backup.restic().restore(files.id, scratch)
                top = backup.local_files_root().name  # type: ignore[union-attr]
                observed_files = backup.file_hashes(scratch / top)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            differences += backup.compare(expected_files, observed_files, "file")
            lines.append(f"files backup {files.id[:8]}: {len(observed_files)} files restored, hashes compared")
        except (Unavailable, NotFound) as err:
            differences.append(f"files backup {files.id[:8]}: could not be restored: {err.message}")
    report = backup.VerifyReport(at=utcnow().isoformat(), backup_id=backup_id, ok=not differences,
                                 lines=lines, differences=differences)
    state = backup._load()
    state["verify"] = asdict(report)
    backup._save(state)
    return report


# --- restore in place ---


def restore(engine: Engine, *, to: str) -> RestoreReport:
    """Replace the database (and local files) with the backup `to` names, then replay
    the erasure ledger. Stop the app first: it must not write while this runs."""
    root = backup.local_files_root()
    aside = config.backup_dir() / f"replaced-{backup._stamp()}"
    if backup._is_sqlite(engine):
        snap = pick(backup.restic().snapshots("database"), to, "database")
        database_id, run_tag = snap.id[:8], _run_tag(snap)
    else:
        database_id, run_tag = "", None
    files = _files_snapshot(to, run_tag)
    staged_files = _stage_files(files, root) if files is not None and root is not None else None
    if backup._is_sqlite(engine):
        db_path = backup._sqlite_path(engine)
        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=db_path.parent))
        backup.restic().restore(snap.id, staging)
        restored = make_engine(f"sqlite:///{staging / 'ngi.db'}")
        replayed = _replay(restored, LocalStorage(staged_files) if staged_files else default_storage())
        restored.dispose()
        engine.dispose()
        aside.mkdir(parents=True)
        for suffix in ("", "-wal", "-shm"):
            current = Path(f"{db_path}{suffix}")
            if current.exists():
                shutil.move(current, aside / current.name)
        os.replace(staging / "ngi.db", db_path)
        shutil.rmtree(staging, ignore_errors=True)
        _swap_files(staged_files, root, aside)
    else:
        from core import pgbackrest_flows

        aside.mkdir(parents=True)
        _swap_files(staged_files, root, aside)
        database_id = pgbackrest_flows.restore(engine, to=to)
        replayed = _replay(engine, default_storage())
    return RestoreReport(database_id, files.id[:8] if files else None, replayed, aside)


def _replay(engine: Engine, storage) -> int:
    # A backup from before a later migration is brought to the code's schema first.
    if not schema.is_up_to_date(engine):
        schema.upgrade(engine)
    return len(erasures.replay(engine, storage))


def _stage_files(files: Snapshot, root: Path) -> Path:
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=root.parent))
    backup.restic().restore(files.id, staging)
    return staging / root.name


def _swap_files(staged: Path | None, root: Path | None, aside: Path) -> None:
    if staged is None or root is None:
        return
    if root.exists():
        shutil.move(root, aside / "files")
    os.replace(staged, root)
    shutil.rmtree(staged.parent, ignore_errors=True)
