"""Keyed aliases for students, so staff who may not see names can still tell them apart.

An alias is HMAC-SHA256 over (viewer role, student id) with a secret key: without the key
nobody can walk an alias back to an id by hashing candidate ids, and the alias a program
lead sees differs from the one an instructor sees, so two roles cannot pool what they
know. The same student has the same alias on every page for one role.

The key is `NGI_PSEUDONYM_KEY`. On the embedded SQLite default a random key is made once
and kept beside the database (`$NGI_DATA_DIR/pseudonym.key`, mode 0600); with a
`DATABASE_URL` there is no safe place to invent one, so a missing key is refused.
"""

from __future__ import annotations

import hmac
import os
import secrets
from functools import lru_cache
from hashlib import sha256
from pathlib import Path

from core import config
from core.errors import Unavailable

KEY_FILE = "pseudonym.key"
PREFIX = "Analyst"


def _load_key(value: str | None, folder: Path, embedded: bool) -> bytes:
    if value:
        return value.encode()
    if not embedded:
        raise Unavailable("NGI_PSEUDONYM_KEY is not set: with DATABASE_URL set, give the app a secret key for "
                          "student aliases (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`).")
    path = folder / KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: the key file appears whole or not at
        # all, and when two processes start together the first link wins for both.
        draft = folder / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        except OSError:  # a filesystem without hard links: rename, the same key for one process
            if not path.exists():
                os.replace(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    key = path.read_text().strip()
    if not key:
        raise Unavailable(f"{path} is empty; delete it to have a new alias key made, or set NGI_PSEUDONYM_KEY.")
    return key.encode()


@lru_cache(maxsize=8)
def _key_for(value: str | None, folder: str, embedded: bool) -> bytes:
    return _load_key(value, Path(folder), embedded)


def key() -> bytes:
    """The alias key for the current settings (read or created once per setting)."""
    return _key_for(config.env("NGI_PSEUDONYM_KEY"), str(config.data_dir().resolve()),
                    config.uses_embedded_default())


def alias(student_id: int, viewer_role: str) -> str:
    """'Analyst 3F7A9C': the student as `viewer_role` sees them, everywhere."""
    digest = hmac.new(key(), f"student:{viewer_role}:{int(student_id)}".encode(), sha256).hexdigest()
    return f"{PREFIX} {digest[:6].upper()}"


def aliases(student_ids, viewer_role: str) -> dict[int, str]:
    """{student id: alias} for a batch (the key is read once)."""
    return {int(i): alias(int(i), viewer_role) for i in set(student_ids)}
