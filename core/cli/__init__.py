"""The `ngi` command. Each module in this package adds its subcommands through
`register(subparsers)`; this file only finds them and turns errors into one line."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from sqlalchemy.exc import DBAPIError, OperationalError

from core.errors import DomainError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ngi", description="NGI Learning Module: data layer and admin tasks")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{info.name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except DomainError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return err.exit_code
    except (OperationalError, DBAPIError) as err:
        from core.config import database_url
        from core.db import describe_connection_error, describe_database_error

        if "database is locked" in str(err):  # connected fine; the write lock stayed taken
            print(f"error: {describe_database_error(err)}", file=sys.stderr)
            return 2
        if isinstance(err, OperationalError) or getattr(err, "connection_invalidated", False):
            print(f"error: {describe_connection_error(database_url(), err)}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
