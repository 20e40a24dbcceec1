"""Running the Alembic migrations from code (the CLI, the app's start-up, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from core.db import make_engine

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def _migration_engine(engine: Engine) -> Engine:
    # A separate engine with SQLite foreign keys OFF (see migrations/env.py).
    return make_engine(engine.url, foreign_keys=False)


def _run(engine: Engine, fn, *args) -> None:
    migration_engine = _migration_engine(engine)
    try:
        with migration_engine.begin() as conn:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            fn(cfg, *args)
    finally:
        migration_engine.dispose()


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, command.downgrade, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
