"""restic (Debian's `restic`), the tool that backs up stored files and the embedded
SQLite snapshots: encrypted, deduplicated, so an "incremental" run stores only the
chunks that changed. This module only runs the binary and reads its JSON."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.errors import Unavailable


@dataclass(frozen=True)
class Snapshot:
    id: str
    time: datetime
    tags: tuple[str, ...]
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Restic:
    repository: str
    password_file: Path

    def _env(self) -> dict[str, str]:
        return {**os.environ, "RESTIC_REPOSITORY": self.repository,
                "RESTIC_PASSWORD_FILE": str(self.password_file), "RESTIC_PROGRESS_FPS": "0.016"}

    def run(self, *args: str, cwd: Path | None = None) -> str:
        binary = shutil.which("restic")
        if binary is None:
            raise Unavailable("restic is not installed (Debian: apt-get install restic); it backs up stored files.")
        done = subprocess.run([binary, *args], cwd=cwd, env=self._env(), check=False, capture_output=True, text=True)
        if done.returncode != 0:
            detail = (done.stderr.strip() or done.stdout.strip()).splitlines()
            raise Unavailable(f"restic {args[0]} failed for {self.repository}: {' / '.join(detail[-3:])}")
        return done.stdout

    def ensure(self) -> None:
        """Create the password file (0600) and the repository on first use."""
        if not self.password_file.exists():
            self.password_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32) + "\n")
        if "://" not in self.repository and ":" not in self.repository.split("/")[0]:
            if (Path(self.repository) / "config").exists():
                return
            Path(self.repository).mkdir(parents=True, exist_ok=True)
        else:
            try:
                self.run("cat", "config")
                return
            except Unavailable:
                pass
        self.run("init")

    def backup(self, folder: Path, name: str, tags: list[str]) -> tuple[str, int, int]:
        """Back up `folder/name` stored as `name`; (snapshot id, bytes added, bytes seen)."""
        args = ["backup", "--json", "--host", "ngi", name]
        for tag in tags:
            args += ["--tag", tag]
        summary = {}
        for line in self.run(*args, cwd=folder).splitlines():
            if line.startswith("{") and '"summary"' in line:
                summary = json.loads(line)
        return summary["snapshot_id"], int(summary.get("data_added", 0)), int(summary.get("total_bytes_processed", 0))

    def snapshots(self, tag: str | None = None) -> list[Snapshot]:
        args = ["snapshots", "--json"] + (["--tag", tag] if tag else [])
        rows = json.loads(self.run(*args) or "[]") or []
        found = [Snapshot(row["id"], _time(row["time"]), tuple(row.get("tags") or ()), tuple(row.get("paths") or ()))
                 for row in rows]
        return sorted(found, key=lambda s: s.time)

    def file_list(self, snapshot_id: str, top: str) -> set[str]:
        """Paths of the regular files in a snapshot, relative to its folder `top`."""
        found = set()
        for line in self.run("ls", "--json", snapshot_id).splitlines():
            node = json.loads(line) if line.startswith("{") else {}
            path = str(node.get("path", ""))
            if node.get("type") == "file" and path.startswith(f"/{top}/"):
                found.add(path[len(top) + 2:])
        return found

    def restore(self, snapshot_id: str, target: Path) -> None:
        self.run("restore", snapshot_id, "--target", str(target))

    def forget(self, keep_within_days: int) -> str:
        return self.run("forget", "--host", "ngi", "--keep-within", f"{keep_within_days}d", "--prune")

    def size(self) -> int:
        stats = json.loads(self.run("stats", "--json", "--mode", "raw-data"))
        return int(stats.get("total_size", 0))


def _time(text: str) -> datetime:
    # restic prints nanoseconds; Python takes microseconds.
    head, _, rest = text.partition(".")
    if rest:
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
