"""pgBackRest (Debian's `pgbackrest`) for the PostgreSQL database: the configuration
`ngi backup` writes for the configured database, running the binary as the data
directory's owner, and starting/stopping a cluster for a restore.

pgBackRest backs up the whole cluster behind DATABASE_URL and must run on its host
(it reads the data directory). WAL archiving is the server's `archive_command`, which
`ngi backup run` checks and names when it is missing.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core import config
from core.errors import Unavailable


@dataclass(frozen=True)
class Cluster:
    """What pgBackRest needs to know of the server (read once from it)."""

    pg_path: Path
    port: int
    socket_dir: str
    user: str
    database: str
    major: int

    @property
    def owner(self) -> str:
        return pwd.getpwuid(self.pg_path.stat().st_uid).pw_name


def cluster_of(engine: Engine) -> Cluster:
    with engine.connect() as conn:
        show = {name: conn.scalar(select(func.current_setting(name))) for name in
                ("data_directory", "port", "unix_socket_directories", "server_version_num")}
    pg_path = config.env("NGI_PGBACKREST_PG_PATH") or str(show["data_directory"])
    return Cluster(pg_path=Path(pg_path), port=int(str(show["port"])),
                   socket_dir=str(show["unix_socket_directories"]).split(",")[0].strip(),
                   user=engine.url.username or "postgres", database=engine.url.database or "postgres",
                   major=int(str(show["server_version_num"])) // 10000)


@dataclass(frozen=True)
class PgBackRest:
    folder: Path  # config, logs and locks; the repository is `repo`
    repo: Path
    stanza: str
    retention_days: int

    @classmethod
    def configured(cls) -> PgBackRest:
        folder = config.backup_dir() / "pgbackrest"
        repo = Path(config.env("NGI_PGBACKREST_REPO") or folder / "repo")
        return cls(folder, repo, config.env("NGI_PGBACKREST_STANZA") or "ngi",
                   int(config.env("NGI_BACKUP_RETENTION_DAYS") or 30))

    @property
    def config_file(self) -> Path:
        return self.folder / "pgbackrest.conf"

    def archive_command(self) -> str:
        return f"pgbackrest --config={self.config_file} --stanza={self.stanza} archive-push %p"

    def write_config(self, cluster: Cluster) -> None:
        """The configuration for this cluster; owned by the data directory's owner,
        since the server's archive_command runs pgbackrest as that user."""
        for folder in (self.folder, self.repo, self.folder / "log", self.folder / "lock"):
            folder.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(
            "# Written by `ngi backup`; edits are overwritten on the next run.\n"
            "[global]\n"
            f"repo1-path={self.repo}\n"
            "repo1-retention-full-type=time\n"
            f"repo1-retention-full={self.retention_days}\n"
            f"log-path={self.folder / 'log'}\n"
            f"lock-path={self.folder / 'lock'}\n"
            "log-level-console=warn\nlog-level-file=info\n"
            "start-fast=y\ncompress-type=lz4\n\n"
            f"[{self.stanza}]\n"
            f"pg1-path={cluster.pg_path}\n"
            f"pg1-port={cluster.port}\n"
            f"pg1-socket-path={cluster.socket_dir}\n"
            f"pg1-user={cluster.user}\n"
            f"pg1-database={cluster.database}\n",
            encoding="utf-8",
        )
        if os.geteuid() == 0:
            owner = pwd.getpwnam(cluster.owner)
            # Only what we made: pgBackRest itself runs as the owner, so its files are theirs.
            for path in [self.folder, self.repo, self.config_file, self.folder / "log", self.folder / "lock"]:
                os.chown(path, owner.pw_uid, owner.pw_gid)

    def run(self, *args: str, as_user: str | None = None, check: bool = True) -> str:
        binary = shutil.which("pgbackrest")
        if binary is None:
            raise Unavailable("pgbackrest is not installed (Debian: apt-get install pgbackrest); "
                              "it backs up the PostgreSQL database.")
        command = [binary, f"--config={self.config_file}", f"--stanza={self.stanza}", *args]
        if as_user is None and self.repo.exists():  # the repository's owner: the server's user
            as_user = pwd.getpwuid(self.repo.stat().st_uid).pw_name
        done = subprocess.run(_as(as_user, command), check=False, capture_output=True, text=True)
        if check and done.returncode != 0:
            detail = (done.stderr.strip() or done.stdout.strip()).splitlines()
            raise Unavailable(f"pgbackrest {args[0]} failed: {' / '.join(detail[-3:])}")
        return done.stdout

    def info(self) -> list[dict]:
        """The repository's backups, oldest first: label, type, start, stop, sizes."""
        stanzas = json.loads(self.run("info", "--output=json", check=False) or "[]")
        found = []
        for stanza in stanzas:
            for b in stanza.get("backup", []):
                found.append({
                    "label": b["label"], "type": b["type"],
                    "start": datetime.fromtimestamp(b["timestamp"]["start"], UTC),
                    "stop": datetime.fromtimestamp(b["timestamp"]["stop"], UTC),
                    "size": b["info"]["size"], "repo_size": b["info"]["repository"]["delta"],
                })
        return found


def _as(user: str | None, command: list[str]) -> list[str]:
    """Run as `user` when we are root and they are not (pgBackRest must read the data
    directory as its owner, and the server refuses to run as root)."""
    if user and os.geteuid() == 0 and user != "root":
        return ["runuser", "-u", user, "--", *command]
    return command


def bin_dir(major: int) -> Path:
    debian = Path(f"/usr/lib/postgresql/{major}/bin")
    if debian.is_dir():
        return debian
    found = shutil.which("pg_ctl")
    if found is None:
        raise Unavailable(f"pg_ctl for PostgreSQL {major} is not installed.")
    return Path(found).parent


def debian_cluster(pg_path: Path) -> tuple[str, str] | None:
    """(version, name) when `pg_path` is a Debian cluster (config in /etc/postgresql)."""
    if shutil.which("pg_lsclusters") is None:
        return None
    out = subprocess.run(["pg_lsclusters", "--no-header"], check=False, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 6 and Path(parts[5]) == pg_path:
            return parts[0], parts[1]
    return None


def server_control(pg_path: Path, major: int, action: str) -> None:
    """Start or stop the cluster at `pg_path` (Debian's pg_ctlcluster when it is one)."""
    owner = pwd.getpwuid(pg_path.stat().st_uid).pw_name
    debian = debian_cluster(pg_path)
    if debian:
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", *debian, action]
        if action == "stop":
            command += ["-m", "fast"]
        done = subprocess.run(command, check=False, capture_output=True, text=True)
    else:
        command = [str(bin_dir(major) / "pg_ctl"), "-D", str(pg_path), "-w", "-l", str(pg_path / "restore.log"), action]
        done = subprocess.run(_as(owner, command), check=False, capture_output=True, text=True)
    if done.returncode != 0 and not (action == "stop" and "not running" in (done.stderr + done.stdout)):
        raise Unavailable(f"could not {action} PostgreSQL at {pg_path}: {(done.stderr or done.stdout).strip()}")


def is_running(pg_path: Path) -> bool:
    return (pg_path / "postmaster.pid").exists()


def wait_for_promotion(engine: Engine, timeout: float = 120) -> None:
    """Recovery to the target ends with promotion; until then the database is read-only."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with engine.connect() as conn:
                if not conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar():
                    return
        except Exception:  # noqa: BLE001 - still starting up
            pass
        if time.monotonic() > deadline:
            raise Unavailable("PostgreSQL did not finish recovery in time; see its log.")
        time.sleep(0.5)
