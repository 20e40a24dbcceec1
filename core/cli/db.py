"""`ngi db upgrade | downgrade REV | current`."""

from __future__ import annotations

from core import schema
from core.cli._common import command_group, engine


def register(subparsers) -> None:
    actions = command_group(subparsers, "db", help="migrate the database schema")
    up = actions.add_parser("upgrade", help="migrate to the latest revision (or REV)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(handler=_upgrade)
    down = actions.add_parser("downgrade", help="migrate down to REV (e.g. base, 0003, -1)")
    down.add_argument("revision")
    down.set_defaults(handler=_downgrade)
    actions.add_parser("current", help="print the current revision").set_defaults(handler=_current)


def _upgrade(args) -> int:
    eng = engine(migrated=False)
    schema.upgrade(eng, args.revision)
    print(f"database at revision {schema.current_revision(eng)}")
    return 0


def _downgrade(args) -> int:
    eng = engine(migrated=False)
    schema.downgrade(eng, args.revision)
    print(f"database at revision {schema.current_revision(eng) or 'base'}")
    return 0


def _current(args) -> int:
    eng = engine(migrated=False)
    current = schema.current_revision(eng)
    head = schema.head_revision()
    state = "up to date" if current == head else f"head is {head}"
    print(f"{current or 'base'} ({state})")
    return 0
