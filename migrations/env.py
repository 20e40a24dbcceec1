"""Alembic environment: DATABASE_URL (or an injected connection), batch mode on SQLite,
and the models' metadata for autogenerate."""

from __future__ import annotations

from alembic import context

from core import models  # noqa: F401  (registers every table on Base.metadata)
from core.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _ours(name, type_, parent_names) -> bool:
    # procrastinate's queue tables (migration 0006) are its own, not our models'.
    return not (type_ == "table" and name and name.startswith("procrastinate_"))


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_ours,
    )


def run_migrations_offline() -> None:
    from core.config import database_url

    context.configure(
        url=config.get_main_option("sqlalchemy.url") or database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # Tests and `ngi db` hand in their own connection; otherwise use DATABASE_URL.
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # Foreign keys stay OFF here: batch mode's copy-and-drop would cascade deletes.
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None, foreign_keys=False)
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
