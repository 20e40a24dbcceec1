"""Shared plumbing for CLI commands. Imports nothing heavy at module level: `ngi validate`
uses `print_json` and must not load SQLAlchemy."""

from __future__ import annotations

import ast
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def command_group(subparsers, name: str, *, help: str):
    """`ngi NAME ACTION ...`: the group's parser for its actions, one of which is required.
    The chosen action lands in `args.NAME_action`."""
    parser = subparsers.add_parser(name, help=help)
    return parser.add_subparsers(dest=f"{name}_action", required=True, metavar="ACTION")


def engine(*, migrated: bool = True) -> Engine:
    """The engine for DATABASE_URL, checked reachable and (by default) migrated."""
    from core.config import database_url
    from core.db import check_connection, make_engine
    from core.errors import Unavailable

    eng = make_engine(database_url())
    check_connection(eng)
    if migrated and not is_up_to_date(eng):
        raise Unavailable(
            f"the database at {eng.url.render_as_string(hide_password=True)} is not at the latest "
            "schema; run `ngi db upgrade` first."
        )
    return eng


MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"


def head_revisions(folder: Path = MIGRATIONS) -> set[str]:
    """The revisions no other migration builds on, read from the files' `revision` and
    `down_revision` assignments without importing Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in folder.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:  # `revision: str = "0006"`
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id == "revision":
                revisions.add(ast.literal_eval(value))
            elif isinstance(target, ast.Name) and target.id == "down_revision":
                parent = ast.literal_eval(value)
                parents.update([parent] if isinstance(parent, str) else parent or ())
    return revisions - parents


def is_up_to_date(eng: Engine) -> bool:
    """`core.schema.is_up_to_date` without Alembic's import (a tenth of a second of CPU,
    every database command): the alembic_version rows against the migration files' heads."""
    from sqlalchemy import column, inspect, select, table

    heads = head_revisions()
    if not heads:  # no migration files beside the code (an unusual install): ask Alembic
        from core import schema

        return schema.is_up_to_date(eng)
    with eng.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        current: set[str] = set(conn.scalars(select(column("version_num")).select_from(table("alembic_version"))))
    return current == heads


def _default(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(payload) -> None:
    json.dump(payload, sys.stdout, default=_default, indent=2, sort_keys=False)
    sys.stdout.write("\n")
