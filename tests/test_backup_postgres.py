"""The PostgreSQL drill with pgBackRest: WAL archiving needs server settings and a
restart, so the test creates its own cluster on a free port (`pg_createcluster`),
leaves the shared server on 5432 alone, and drops the cluster afterwards."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import backup, demo, schema, students
from core.cli import main
from core.db import make_engine, session_scope
from core.models import LearningSubmission, Student
from core.storage import default_storage
from tests.support import unavailable

pytestmark = pytest.mark.backup


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def drill_cluster(monkeypatch):
    for tool in ("pgbackrest", "restic", "pg_createcluster", "pg_dropcluster", "pg_ctlcluster"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed (Debian: pgbackrest, restic, postgresql-common)")
    if os.geteuid() != 0:
        unavailable("the PostgreSQL drill creates its own cluster with pg_createcluster, which needs root")
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not versions:
        unavailable("no PostgreSQL server binaries in /usr/lib/postgresql")
    version = versions[-1].parent.parent.name
    folder = Path(tempfile.mkdtemp(prefix="ngi-drill-"))
    folder.chmod(0o755)  # the server's user writes WAL into the pgBackRest repository here
    name, port = f"ngi_drill_{os.getpid()}", _free_port()
    stanza = "drill"
    conf = folder / "backups" / "pgbackrest" / "pgbackrest.conf"
    try:
        subprocess.run(
            ["pg_createcluster", version, name, "-p", str(port), "--start-conf=manual",
             "-o", "archive_mode=on", "-o", "wal_level=replica", "-o", "max_wal_senders=3",
             "-o", f"archive_command=pgbackrest --config={conf} --stanza={stanza} archive-push %p",
             "--", "--auth-local=trust", "--auth-host=trust"],
            check=True, capture_output=True, text=True)
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"],
                       check=True, capture_output=True, text=True)
        admin = make_engine(f"postgresql+psycopg://postgres@/postgres?host=/var/run/postgresql&port={port}",
                            isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql("CREATE DATABASE ngi")
        admin.dispose()
        url = f"postgresql+psycopg://postgres@/ngi?host=/var/run/postgresql&port={port}"
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("NGI_DATA_DIR", str(folder / "data"))
        monkeypatch.setenv("NGI_BACKUP_DIR", str(folder / "backups"))
        monkeypatch.setenv("NGI_PGBACKREST_STANZA", stanza)
        for unset in ("NGI_STORAGE_URL", "NGI_PGBACKREST_REPO", "NGI_PGBACKREST_PG_PATH",
                      "NGI_RESTIC_REPOSITORY", "NGI_RESTIC_PASSWORD_FILE"):
            monkeypatch.delenv(unset, raising=False)
        yield url, folder
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_postgres_drill_backup_change_verify_restore(drill_cluster, capsys):
    url, folder = drill_cluster
    engine = make_engine(url)
    schema.upgrade(engine)
    demo.seed_demo(engine, students=6, storage=default_storage())
    assert main(["backup", "run", "--full"]) == 0
    label = next(r.id for r in backup.records() if r.tool == "pgbackrest")

    with session_scope(engine) as session:
        erased = session.scalar(select(LearningSubmission.user_id).order_by(LearningSubmission.id))
        keys = students.file_keys(session, erased)
    files = folder / "data" / "files"
    assert keys and all((files / k).exists() for k in keys)
    assert main(["student", "erase", str(erased)]) == 0
    with session_scope(engine) as session:
        before = session.scalar(select(func.count()).select_from(Student))
        session.add(Student(email="late@example.edu", full_name="Joined After The Backup"))
    engine.dispose()
    # verify compares the backup with the source at backup time: the change does not fail it
    assert main(["backup", "verify"]) == 0
    assert "verify: OK" in capsys.readouterr().out

    capsys.readouterr()
    assert main(["backup", "restore", "--to", label]) == 0
    assert "replayed 1 erasure(s)" in capsys.readouterr().out
    engine = make_engine(url)
    with session_scope(engine) as session:
        assert session.get(Student, erased) is None  # the erasure survived the restore
        assert session.scalar(select(func.count()).select_from(Student)) == before  # the late joiner is gone
    engine.dispose()
    assert not any((files / k).exists() for k in keys)

    # Tampered: the backup's table files in the repository are damaged.
    damaged = 0
    for path in (folder / "backups" / "pgbackrest" / "repo" / "backup").rglob("pg_data/base/*/*"):
        if path.is_file() and path.stat().st_size > 64:
            raw = bytearray(path.read_bytes())
            raw[32:64] = bytes(32)
            path.write_bytes(bytes(raw))
            damaged += 1
    assert damaged
    assert main(["backup", "verify"]) == 1
    out = capsys.readouterr().out
    assert "verify: FAILED" in out and f"database backup {label}" in out, out
