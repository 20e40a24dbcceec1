"""`ngi content export --out curriculum.yaml` and `ngi content import FILE [--dry-run]`:
the whole curriculum (tree, rules, prerequisites) as one YAML file.

Import exit codes: 0 applied (or, with --dry-run, would apply), 1 problems found (each
printed with its path; nothing changed).
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.auth import system_actor
from core.cli._common import engine


def register(subparsers) -> None:
    parser = subparsers.add_parser("content", help="export or import the curriculum as YAML")
    sub = parser.add_subparsers(dest="action", required=True)
    out = sub.add_parser("export", help="write the whole curriculum to a YAML file")
    out.add_argument("--out", required=True, metavar="FILE", help="where to write (- for standard output)")
    out.set_defaults(handler=_export)
    imp = sub.add_parser("import", help="check a curriculum file, then apply it in one transaction")
    imp.add_argument("path", metavar="FILE")
    imp.add_argument("--dry-run", action="store_true", help="check and report; change nothing")
    imp.set_defaults(handler=_import)


def _export(args) -> int:
    from core import curriculum
    from core.db import read_scope

    eng = engine()
    actor = system_actor(eng)
    with read_scope(eng) as session:
        text = curriculum.export_yaml(session, actor=actor)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def _import(args) -> int:
    from core import curriculum

    text = Path(args.path).read_text(encoding="utf-8")
    eng = engine()
    report = curriculum.import_yaml(eng, actor=system_actor(eng), text=text, dry_run=args.dry_run)
    if report.problems:
        for line in report.lines():
            print(f"{args.path}: {line}", file=sys.stderr)
        print(f"{len(report.problems)} problem(s); nothing was changed.", file=sys.stderr)
        return 1
    verb = "would create" if args.dry_run else "created"
    print(f"{verb} {len(report.created)}, {'would change' if args.dry_run else 'changed'} "
          f"{len(report.changed)}, {'would delete' if args.dry_run else 'deleted'} {len(report.deleted)}")
    return 0
