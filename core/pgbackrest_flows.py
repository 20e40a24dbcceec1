"""`ngi backup run | verify | restore` on PostgreSQL, through pgBackRest."""

from __future__ import annotations

import configparser
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import URL, func, inspect, select, table
from sqlalchemy.engine import Engine

from core import backup
from core.db import make_engine, utcnow
from core.errors import NotFound, Unavailable
from core.pgbackrest import (
    Cluster,
    PgBackRest,
    _as,
    bin_dir,
    cluster_of,
    is_running,
    server_control,
    wait_for_promotion,
)


def _check_archiving(engine: Engine, tool: PgBackRest) -> None:
    with engine.connect() as conn:
        mode = conn.exec_driver_sql("SHOW archive_mode").scalar()
        command = conn.exec_driver_sql("SHOW archive_command").scalar() or ""
    if mode not in ("on", "always") or str(tool.config_file) not in command:
        raise Unavailable(
            "WAL archiving is not set up for pgBackRest. Add to postgresql.conf and restart PostgreSQL:\n"
            f"  archive_mode = on\n  archive_command = '{tool.archive_command()}'\n  wal_level = replica"
        )


def run(engine: Engine, kind: str, run_id: str) -> backup.BackupRecord:
    cluster = cluster_of(engine)
    tool = PgBackRest.configured()
    tool.write_config(cluster)
    _check_archiving(engine, tool)
    owner = cluster.owner
    started = utcnow().isoformat()
    tool.run("stanza-create", as_user=owner)
    tool.run("backup", f"--type={'full' if kind == 'full' else 'incr'}", as_user=owner)
    latest = tool.info()[-1]
    restore_point = f"ngi-{run_id}"
    # The manifest's counts and the restore point share one snapshot, so `verify` can
    # restore to exactly the moment counted (commits landing in between are the margin).
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        conn.execute(select(func.pg_create_restore_point(restore_point)))
        names = sorted(inspect(conn).get_table_names())
        counts = {name: conn.scalar(select(func.count()).select_from(table(name))) or 0 for name in names}
    tool.run("check", as_user=owner)  # switches WAL and waits until the restore point is archived
    backup._write_manifest(latest["label"], {"tables": counts, "restore_point": restore_point})
    return backup.BackupRecord(latest["label"], "full" if latest["type"] == "full" else "incremental",
                               "pgbackrest", started, utcnow().isoformat(), int(latest["repo_size"]),
                               restore_point=restore_point, run=run_id)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _owned_folder(prefix: str, parent: Path | None, owner: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    if os.geteuid() == 0:
        user = pwd.getpwnam(owner)
        os.chown(folder, user.pw_uid, user.pw_gid)
    os.chmod(folder, 0o700)
    return folder


def latest_label(tool: PgBackRest | None = None) -> str:
    backups = (tool or PgBackRest.configured()).info()
    if not backups:
        raise NotFound("No pgBackRest backup yet; run `ngi backup run --full` first.")
    return backups[-1]["label"]


def verify(engine: Engine) -> tuple[str, dict[str, int], dict[str, int]]:
    """Restore the latest backup into a scratch cluster on a free port, to its restore
    point; return (label, counts at backup time, counts restored)."""
    cluster = cluster_of(engine)
    tool = PgBackRest.configured()
    label = latest_label(tool)
    manifest = backup.read_manifest(label)
    owner = cluster.owner
    scratch = _owned_folder("verify-pg-", backup._scratch_root(), owner)
    sockets = _owned_folder("ngi-pg-", None, owner)  # short path: sockets have a length limit
    pg_ctl = str(bin_dir(cluster.major) / "pg_ctl")
    started = False
    try:
        tool.run("restore", f"--pg1-path={scratch}", f"--set={label}", "--type=name",
                 f"--target={manifest['restore_point']}", "--target-action=promote", "--archive-mode=off",
                 as_user=owner)
        # The cluster's own configuration may live in /etc (Debian); a scratch copy gets a minimal one.
        (scratch / "postgresql.conf").write_text("listen_addresses = ''\nhot_standby = off\n")
        (scratch / "pg_hba.conf").write_text("local all all trust\n")
        (scratch / "pg_ident.conf").write_text("")
        if os.geteuid() == 0:
            user = pwd.getpwnam(owner)
            for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
                os.chown(scratch / name, user.pw_uid, user.pw_gid)
        port = _free_port()
        options = f"-p {port} -c unix_socket_directories={sockets} -c archive_mode=off -c listen_addresses=''"
        done = subprocess.run(_as(owner, [pg_ctl, "-D", str(scratch), "-w", "-t", "120", "-l",
                                          str(scratch / "verify.log"), "-o", options, "start"]),
                              check=False, capture_output=True, text=True)
        started = True
        if done.returncode != 0:
            log = scratch / "verify.log"
            logged = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
            tail = [line for line in logged if "FATAL" in line or "ERROR" in line][:3] or logged[-3:]
            raise Unavailable(f"the scratch PostgreSQL for backup {label} did not start: {' / '.join(tail)}")
        url = URL.create("postgresql+psycopg", username=cluster.user, database=cluster.database,
                         query={"host": str(sockets), "port": str(port)})
        restored = make_engine(url)
        try:
            wait_for_promotion(restored)
            observed = backup.row_counts(restored)
        finally:
            restored.dispose()
    finally:
        if started:
            subprocess.run(_as(owner, [pg_ctl, "-D", str(scratch), "-m", "immediate", "stop"]), check=False, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(sockets, ignore_errors=True)
    return label, manifest["tables"], observed


def _configured_cluster(tool: PgBackRest) -> Cluster:
    """The cluster as the last run wrote it down: a restore runs with the server stopped."""
    if not tool.config_file.exists():
        raise NotFound(f"No pgBackRest configuration at {tool.config_file}; run `ngi backup run` first.")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(tool.config_file)
    section = parser[tool.stanza]
    pg_path = Path(section["pg1-path"])
    return Cluster(pg_path=pg_path, port=int(section["pg1-port"]), socket_dir=section["pg1-socket-path"],
                   user=section["pg1-user"], database=section["pg1-database"],
                   major=int((pg_path / "PG_VERSION").read_text().strip()))


def restore(engine: Engine, *, to: str) -> str:
    """Stop the cluster, restore `to` (latest: the end of the archived WAL; a backup
    label; an ISO time for point-in-time recovery), start it and wait for promotion."""
    from core.restore import parse_target

    tool = PgBackRest.configured()
    cluster = _configured_cluster(tool)
    labels = [b["label"] for b in tool.info()]
    if to == "latest":
        args, chosen = [], f"latest ({labels[-1] if labels else 'no backup'} + archived WAL)"
    elif to in labels:
        args, chosen = [f"--set={to}", "--type=immediate", "--target-action=promote"], to
    else:
        moment = parse_target(to)
        assert moment is not None  # "latest" is handled above
        args = ["--type=time", f"--target={moment:%Y-%m-%d %H:%M:%S.%f%z}", "--target-action=promote"]
        chosen = f"point in time {moment.isoformat()}"
    if not labels:
        raise NotFound("No pgBackRest backup to restore; run `ngi backup run --full` first.")
    engine.dispose()
    if is_running(cluster.pg_path):
        server_control(cluster.pg_path, cluster.major, "stop")
    tool.run("restore", "--delta", *args, as_user=cluster.owner)
    server_control(cluster.pg_path, cluster.major, "start")
    wait_for_promotion(engine)
    return chosen
