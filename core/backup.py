"""Backups proven by restores: `ngi backup run | list | verify | restore | prune`, and
what the Operations page reads (`backup_status`, `last_verify`, `SCHEDULE`).

The tools do the work: pgBackRest for PostgreSQL (core/pgbackrest.py), SQLite's online
backup API for the embedded database with the snapshot kept by restic, and restic for
stored files on local storage (S3 storage relies on bucket versioning instead; README).

Each run leaves a manifest beside the state file: row counts per table and a hash per
stored file, taken from the very snapshot (SQLite) or at a named restore point
(PostgreSQL). `verify` restores the latest backup into a scratch database and folder
and compares it with that manifest, so a verify right after a backup passes and a
backup that no longer restores what was taken fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, inspect, select, table
from sqlalchemy.engine import Engine

from core import config, erasures
from core.db import make_engine, utcnow
from core.errors import Invalid, NotFound, Unavailable
from core.restic import Restic
from core.storage import LocalStorage, Storage, storage_for

KINDS = ("full", "incremental", "files")
# How often each kind runs (deploy/systemd/ngi-backup*.timer, the README's cron lines);
# a kind whose last good run is older than this is overdue.
SCHEDULE: dict[str, timedelta] = {"full": timedelta(days=1), "incremental": timedelta(hours=6),
                                  "files": timedelta(hours=6)}
VERIFY_EVERY = timedelta(days=31)
_KEEP_RECORDS = 500


@dataclass
class BackupRecord:
    id: str
    kind: str  # full | incremental | files
    tool: str  # pgbackrest | sqlite+restic | restic
    started_at: str
    finished_at: str
    size: int  # bytes the run added to the repository
    ok: bool = True
    error: str | None = None
    restore_point: str | None = None
    run: str = ""


@dataclass(frozen=True)
class BackupStatus:
    kind: str
    last_at: datetime | None
    age: timedelta | None
    size: int | None
    ok: bool  # the last attempt succeeded
    due_every: timedelta
    overdue: bool  # no good backup within `due_every`


@dataclass
class VerifyReport:
    at: str
    backup_id: str
    ok: bool
    lines: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)


# --- state (a JSON file in the backup folder: a database restore must not rewrite it) ---


def _state_path() -> Path:
    return config.backup_dir() / "state.json"


def _load() -> dict:
    path = _state_path()
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"backups": [], "verify": None}


def _save(state: dict) -> None:
    path = _state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _remember(record: BackupRecord) -> None:
    state = _load()
    state["backups"] = (state["backups"] + [asdict(record)])[-_KEEP_RECORDS:]
    _save(state)


def records() -> list[BackupRecord]:
    return [BackupRecord(**row) for row in _load()["backups"]]


def backup_status(now: datetime | None = None) -> list[BackupStatus]:
    """The last backup of each kind with its age, and whether it is older than its schedule."""
    now = now or utcnow()
    found = []
    for kind in KINDS:
        mine = [r for r in records() if r.kind == kind]
        good = [r for r in mine if r.ok]
        last = good[-1] if good else None
        last_at = datetime.fromisoformat(last.finished_at) if last else None
        age = now - last_at if last_at else None
        found.append(BackupStatus(kind=kind, last_at=last_at, age=age, size=last.size if last else None,
                                  ok=bool(mine) and mine[-1].ok, due_every=SCHEDULE[kind],
                                  overdue=age is None or age > SCHEDULE[kind]))
    return found


def last_verify() -> VerifyReport | None:
    row = _load().get("verify")
    return VerifyReport(**row) if row else None


def warnings(now: datetime | None = None) -> list[str]:
    """One sentence per backup older than its schedule, a failed last attempt, or a
    test restore that failed or is over a month old (the home page shows these to admins)."""
    now = now or utcnow()
    found = []
    for status in backup_status(now):
        hours = status.due_every.total_seconds() / 3600
        if status.last_at is None:
            found.append(f"No {status.kind} backup has been taken (due every {hours:.0f} h).")
        elif status.overdue:
            age = status.age.total_seconds() / 3600 if status.age else 0
            found.append(f"The last {status.kind} backup is {age:.0f} h old (due every {hours:.0f} h).")
        if not status.ok and status.last_at is not None:
            found.append(f"The last {status.kind} backup attempt failed.")
    verified = last_verify()
    if verified is None or now - datetime.fromisoformat(verified.at) > VERIFY_EVERY:
        found.append("No test restore (`ngi backup verify`) in the last month.")
    elif not verified.ok:
        found.append(f"The last test restore found {len(verified.differences)} difference(s).")
    return found


# --- manifests: what the source held at backup time ---


def _manifest_path(backup_id: str) -> Path:
    return config.backup_dir() / "manifests" / f"{backup_id}.json"


def _write_manifest(backup_id: str, payload: dict) -> None:
    path = _manifest_path(backup_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")


def read_manifest(backup_id: str) -> dict:
    path = _manifest_path(backup_id)
    if not path.exists():
        raise NotFound(f"No manifest for backup {backup_id} in {path.parent}; it was not taken by `ngi backup run`.")
    return json.loads(path.read_text(encoding="utf-8"))


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
        return {name: conn.scalar(select(func.count()).select_from(table(name))) or 0 for name in names}


def file_hashes(root: Path) -> dict[str, str]:
    hashes = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith(".upload-"):
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
            hashes[path.relative_to(root).as_posix()] = digest.hexdigest()
    return hashes


def compare(expected: dict, observed: dict, what: str) -> list[str]:
    """One line per difference between two {name: value} maps."""
    lines = []
    for name in sorted(set(expected) | set(observed)):
        if name not in observed:
            lines.append(f"{what} {name}: in the source at backup time, missing from the restore")
        elif name not in expected:
            lines.append(f"{what} {name}: in the restore, not in the source at backup time")
        elif expected[name] != observed[name]:
            lines.append(f"{what} {name}: source had {expected[name]}, restore has {observed[name]}")
    return lines


# --- the tools as configured ---


def restic() -> Restic:
    folder = config.backup_dir()
    return Restic(repository=config.env("NGI_RESTIC_REPOSITORY") or str(folder / "restic"),
                  password_file=Path(config.env("NGI_RESTIC_PASSWORD_FILE") or folder / "restic-password"))


def retention_days() -> int:
    return int(config.env("NGI_BACKUP_RETENTION_DAYS") or 30)


def local_files_root(storage: Storage | None = None) -> Path | None:
    """The folder restic backs up, or None when files live in S3 or elsewhere."""
    storage = storage or storage_for(config.env("NGI_STORAGE_URL"))
    return storage.root if isinstance(storage, LocalStorage) else None


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise Invalid("An in-memory SQLite database cannot be backed up.")
    return Path(database).resolve()


def _stamp() -> str:
    return utcnow().strftime("%Y%m%dT%H%M%S%fZ")


# --- run ---


def run(engine: Engine, *, kind: str = "incremental") -> list[BackupRecord]:
    """One scheduled run: the database (`kind` full or incremental), then stored files."""
    if kind not in ("full", "incremental"):
        raise Invalid(f"Backup kind must be full or incremental, not {kind!r}.")
    erasures.sync_file(engine)
    run_id = _stamp()
    done = []
    steps = [(kind, "sqlite+restic" if _is_sqlite(engine) else "pgbackrest", lambda: _run_database(engine, kind, run_id))]
    root = local_files_root()
    if root is not None:
        steps.append(("files", "restic", lambda: _run_files(root, run_id)))
    for step_kind, tool, step in steps:
        started = utcnow().isoformat()
        try:
            record = step()
        except Unavailable as err:  # remembered, so the Operations page shows the failure
            _remember(BackupRecord("", step_kind, tool, started, utcnow().isoformat(), 0, ok=False,
                                   error=err.message, run=run_id))
            raise
        _remember(record)
        done.append(record)
    return done


def _run_database(engine: Engine, kind: str, run_id: str) -> BackupRecord:
    if _is_sqlite(engine):
        return _run_sqlite(engine, kind, run_id)
    from core import pgbackrest_flows

    return pgbackrest_flows.run(engine, kind, run_id)


def _run_sqlite(engine: Engine, kind: str, run_id: str) -> BackupRecord:
    started = utcnow().isoformat()
    tool = restic()
    tool.ensure()
    staging = Path(tempfile.mkdtemp(prefix="sqlite-", dir=_scratch_root()))
    try:
        snapshot = staging / "ngi.db"
        # The online backup API copies a consistent image while the app keeps writing.
        source = sqlite3.connect(_sqlite_path(engine))
        target = sqlite3.connect(snapshot)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        snap_engine = make_engine(f"sqlite:///{snapshot}")
        counts = row_counts(snap_engine)
        snap_engine.dispose()
        snapshot_id, added, _ = tool.backup(staging, "ngi.db", ["ngi", "database", kind, f"run={run_id}"])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _write_manifest(snapshot_id, {"tables": counts})
    return BackupRecord(snapshot_id, kind, "sqlite+restic", started, utcnow().isoformat(), added, run=run_id)


def _run_files(root: Path, run_id: str) -> BackupRecord:
    started = utcnow().isoformat()
    tool = restic()
    tool.ensure()
    root.mkdir(parents=True, exist_ok=True)
    snapshot_id, added, _ = tool.backup(root.parent, root.name, ["ngi", "files", f"run={run_id}"])
    # Stored files never change under a key (a new upload is a new key), so hashing after
    # the snapshot describes what it holds; a key erased in between is left out.
    listed = tool.file_list(snapshot_id, root.name)
    hashes = {key: value for key, value in file_hashes(root).items() if key in listed}
    _write_manifest(snapshot_id, {"files": hashes})
    return BackupRecord(snapshot_id, "files", "restic", started, utcnow().isoformat(), added, run=run_id)


def _scratch_root() -> Path:
    folder = config.backup_dir() / "scratch"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- list and prune ---


def list_backups(engine: Engine) -> list[dict]:
    """What the repositories hold now (after expiry), oldest first, with sizes the runs recorded."""
    sizes = {r.id: r.size for r in records()}
    found = []
    if _is_sqlite(engine) or local_files_root() is not None:
        for snap in restic().snapshots("ngi"):
            kind = next((k for k in KINDS if k in snap.tags), "database")
            found.append({"id": snap.id[:8], "kind": kind, "tool": "restic", "time": snap.time,
                          "size": sizes.get(snap.id[:8], sizes.get(snap.id))})
    if not _is_sqlite(engine):
        from core.pgbackrest import PgBackRest

        for b in PgBackRest.configured().info():
            found.append({"id": b["label"], "kind": "full" if b["type"] == "full" else "incremental",
                          "tool": "pgbackrest", "time": b["stop"], "size": b["repo_size"]})
    return sorted(found, key=lambda row: row["time"])


def prune(engine: Engine) -> list[str]:
    """Expire what is older than the retention: `restic forget --keep-within Nd --prune`
    and pgBackRest's time-based `expire`."""
    days = retention_days()
    done = []
    if _is_sqlite(engine) or local_files_root() is not None:
        restic().forget(days)
        done.append(f"restic: kept snapshots of the last {days} days")
    if not _is_sqlite(engine):
        from core.pgbackrest import PgBackRest, cluster_of

        tool = PgBackRest.configured()
        tool.run("expire", as_user=cluster_of(engine).owner)
        done.append(f"pgbackrest: expired full backups older than {days} days (and their WAL)")
    return done
