"""The `ngi` command. Each command group is a module `core/cli/<name>.py` whose
`register(subparsers)` adds its subcommands; this file lists them, imports only the one
being run, and turns errors into one line."""

from __future__ import annotations

import argparse
import importlib
import sys

from core.errors import DomainError

# One line per command group: name -> the help `ngi --help` shows (the same words the
# module's `register` passes to `add_parser`). Only the group being run is imported, so
# `ngi --help` and `ngi validate` never load SQLAlchemy, pandas or openpyxl.
COMMANDS: dict[str, str] = {
    "backup": "back up, verify and restore the database and stored files",
    "companies": "the companies students can pick",
    "content": "export or import the curriculum as YAML",
    "db": "migrate the database schema",
    "feedback": "AI feedback on submissions",
    "packages": "build and list company packages",
    "progress": "student progress and streaks",
    "retention": "delete old raw telemetry the rollups cover",
    "seed": "upsert the ten companies and the content catalogue",
    "staff": "staff accounts that sign in to the dashboard",
    "storage": "check stored files against the database",
    "student": "student records",
    "submissions": "student submissions",
    "telemetry": "import telemetry events, rebuild the rollup",
    "validate": "validate a workbook or PDF (no database needed)",
    "worker": "run background jobs (recalculation, AI-detection, feedback)",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `ngi` parser with every group listed and only `command`'s arguments declared."""
    parser = argparse.ArgumentParser(prog="ngi", description="NGI Learning Module: data layer and admin tasks")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in sorted(COMMANDS.items()):
        if name == command:
            importlib.import_module(f"{__name__}.{name}").register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text)
    return parser


def _command_in(argv: list[str]) -> str | None:
    # `ngi` itself takes no option with a value, so the first word is the command.
    return next((arg for arg in argv if not arg.startswith("-")), None)


def _database_error(err: Exception) -> str | None:
    """The one-line message for an unreachable database, or None for any other error."""
    exc = sys.modules.get("sqlalchemy.exc")  # not loaded: the error cannot be SQLAlchemy's
    if exc is None or not isinstance(err, exc.DBAPIError):
        return None
    from core.config import database_url
    from core.db import describe_connection_error, describe_database_error

    if "database is locked" in str(err):  # connected fine; the write lock stayed taken
        return describe_database_error(err)
    if not isinstance(err, exc.OperationalError) and not getattr(err, "connection_invalidated", False):
        return None
    return describe_connection_error(database_url(), err)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except DomainError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        message = _database_error(err)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
