"""Shared plumbing for CLI commands. Imports nothing heavy at module level: `ngi validate`
uses `print_json` and must not load SQLAlchemy."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def engine(*, migrated: bool = True) -> Engine:
    """The engine for DATABASE_URL, checked reachable and (by default) migrated."""
    from core import schema
    from core.config import database_url
    from core.db import check_connection, make_engine
    from core.errors import Unavailable

    eng = make_engine(database_url())
    check_connection(eng)
    if migrated and not schema.is_up_to_date(eng):
        raise Unavailable(
            f"the database at {eng.url.render_as_string(hide_password=True)} is not at the latest "
            "schema; run `ngi db upgrade` first."
        )
    return eng


def _default(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(payload) -> None:
    json.dump(payload, sys.stdout, default=_default, indent=2, sort_keys=False)
    sys.stdout.write("\n")
