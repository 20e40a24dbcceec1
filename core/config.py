"""Settings from the environment.

Every variable the product reads is declared once in `SETTINGS`, so the README can be
checked against it (tests/test_config.py) and nothing reads `os.environ` ad hoc.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

# name -> (default, one-line description). The README's configuration table must list
# every name here.
SETTINGS: dict[str, tuple[str | None, str]] = {
    "DATABASE_URL": (None, "SQLAlchemy URL; default is SQLite at $NGI_DATA_DIR/ngi.db"),
    "NGI_DATA_DIR": ("./data", "where the embedded database and local files live"),
    "NGI_DEMO_MODE": (None, "1/0 to force demo mode; default on only for the embedded SQLite"),
    "NGI_STORAGE_URL": (None, "fsspec URL for stored files (s3://bucket/prefix, memory://x); default $NGI_DATA_DIR/files"),
    "NGI_TIMEZONE": ("America/New_York", "program timezone for streaks and daily figures"),
    "NGI_SEC_USER_AGENT": (None, "User-Agent the SEC requires for `ngi packages fetch` (name and email)"),
    "NGI_SEC_BASE_URL": ("https://data.sec.gov", "base URL of the SEC companyfacts API"),
    "OPENAI_API_KEY": (None, "enables the openai feedback provider"),
    "OPENAI_BASE_URL": (None, "OpenAI-compatible endpoint (Azure, vLLM, Ollama ...)"),
    "NGI_OPENAI_MODEL": ("gpt-4o-mini", "model used for feedback"),
    "NGI_FEEDBACK_ON_SUBMIT": ("1", "generate feedback when a submission passes validation"),
    "NGI_FEEDBACK_DAILY_BUDGET_USD": ("25", "daily OpenAI spend cap; past it feedback falls back to the rubric provider"),
    "NGI_FEEDBACK_MONTHLY_BUDGET_USD": ("500", "monthly budget shown on the cost panel"),
    "NGI_PRICES_FILE": (None, "JSON price table with effective dates; default core/config/prices.json"),
    "GPTZERO_API_KEY": (None, "enables AI-detection through GPTZero"),
    "NGI_GPTZERO_BASE_URL": ("https://api.gptzero.me", "GPTZero API base URL"),
    "NGI_AI_FLAG_THRESHOLD": ("70", "AI-detection score (0-100) above which work is flagged"),
    "NGI_LIBREOFFICE": (None, "path to soffice for recalculating workbooks; default: found on PATH"),
    "NGI_VALIDATION_CPU_SECONDS": ("20", "CPU seconds reading one uploaded workbook may take before it is rejected"),
    "NGI_SQLITE_BUSY_TIMEOUT_MS": ("15000", "how long SQLite waits for a write lock"),
    "NGI_PSEUDONYM_KEY": (None, "HMAC key for student aliases; default: made once in $NGI_DATA_DIR/pseudonym.key; "
                                "required with DATABASE_URL"),
    "NGI_JOB_ATTEMPTS": ("4", "tries a background job gets before it is parked on the moderation page"),
    "NGI_JOB_BACKOFF_SECONDS": ("30", "wait before a failed job's second try; each later wait is four times longer"),
    "NGI_JOBS_IN_PROCESS": (None, "1/0: run background jobs in the app's process; default on only for the embedded SQLite"),
    "NGI_TEST_EXIT_AFTER_STORE": (None, "tests only: 1 makes an upload exit between storing its file and committing"),
    "NGI_BACKUP_DIR": (None, "backups, their state, manifests and the erasure ledger copy; default $NGI_DATA_DIR/backups"),
    "NGI_BACKUP_RETENTION_DAYS": ("30", "days a backup is kept before `ngi backup prune` expires it"),
    "NGI_RESTIC_REPOSITORY": (None, "restic repository for stored files and SQLite snapshots; default $NGI_BACKUP_DIR/restic"),
    "NGI_RESTIC_PASSWORD_FILE": (None, "restic password file; default $NGI_BACKUP_DIR/restic-password (made, 0600, on first run)"),
    "NGI_PGBACKREST_STANZA": ("ngi", "pgBackRest stanza name for the PostgreSQL database"),
    "NGI_PGBACKREST_REPO": (None, "pgBackRest repo1-path; default $NGI_BACKUP_DIR/pgbackrest"),
    "NGI_PGBACKREST_PG_PATH": (None, "PostgreSQL data directory (pg1-path); default: asked from the server"),
    "NGI_TELEMETRY_RETENTION_DAYS": (None, "days of raw telemetry kept once the rollups cover it (`ngi retention apply`); unset keeps every event"),
    "NGI_S3_ENDPOINT_URL": (None, "S3 API endpoint for s3:// storage (MinIO, moto, another region); default AWS"),
    "NGI_SESSION_IDLE_TIMEOUT": ("8h", "a staff session ends after this long without a page run (30s, 15m, 8h, 2d)"),
    "NGI_SESSION_MAX_AGE": ("7d", "a staff session ends this long after sign-in, active or not"),
}


def env(name: str) -> str | None:
    """The value of a declared setting, or its default. Empty counts as unset."""
    if name not in SETTINGS:
        raise KeyError(f"{name} is not a declared setting (core/config.py)")
    value = os.environ.get(name, "")
    return value if value.strip() else SETTINGS[name][0]


def env_flag(name: str) -> bool | None:
    value = env(name)
    if value is None:
        return None
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_float(name: str) -> float:
    value = env(name)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def data_dir() -> Path:
    return Path(env("NGI_DATA_DIR") or "./data")


def backup_dir() -> Path:
    return Path(env("NGI_BACKUP_DIR") or data_dir() / "backups")


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'ngi.db'}"


def database_url() -> str:
    return env("DATABASE_URL") or default_database_url()


def uses_embedded_default() -> bool:
    """True when no DATABASE_URL is set: the app runs on its own SQLite file."""
    return env("DATABASE_URL") is None


def demo_mode() -> bool:
    """Demo accounts exist only here. Never on a database the operator pointed us at."""
    if not uses_embedded_default():
        return False
    forced = env_flag("NGI_DEMO_MODE")
    return True if forced is None else forced


def program_timezone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(env("NGI_TIMEZONE") or "America/New_York")


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def env_duration(name: str) -> timedelta:
    """A duration such as "90s", "15m", "8h" or "7d" (a bare number is seconds)."""
    value = (env(name) or "").strip().lower()
    number, unit = (value[:-1], value[-1]) if value[-1:] in _DURATION_UNITS else (value, "s")
    try:
        seconds = float(number) * _DURATION_UNITS[unit]
    except ValueError:
        raise ValueError(f"{name} must be a duration such as 30s, 15m, 8h or 7d, got {value!r}") from None
    if seconds <= 0:
        raise ValueError(f"{name} must be longer than zero, got {value!r}")
    return timedelta(seconds=seconds)
