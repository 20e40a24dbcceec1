"""`ngi storage reconcile [--fix] [--json]`: stored files against database rows."""

from __future__ import annotations

import sys

from core.cli._common import command_group, engine, print_json


def register(subparsers) -> None:
    actions = command_group(subparsers, "storage", help="check stored files against the database")
    rec = actions.add_parser("reconcile", help="list files with no row and rows whose file is missing")
    rec.add_argument("--fix", action="store_true",
                     help="remove files with no row that are older than an hour (never younger ones)")
    rec.add_argument("--json", action="store_true", help="print the report as JSON")
    rec.set_defaults(handler=_reconcile)


def _reconcile(args) -> int:
    from core.auth import system_actor
    from core.reconciliation import ORPHAN_MIN_AGE, reconcile

    eng = engine()
    report = reconcile(eng, actor=system_actor(eng), fix=args.fix)
    if args.json:
        print_json({
            "orphans": [{"key": o.key, "age_seconds": round(o.age_seconds)} for o in report.orphans],
            "missing": [{"table": m.table, "id": m.row_id, "key": m.key} for m in report.missing],
            "removed": report.removed, "spool_removed": report.spool_removed,
        })
    else:
        hours = ORPHAN_MIN_AGE.total_seconds() / 3600
        for o in report.orphans:
            state = "removed" if o.key in report.removed else (
                "kept: younger than an hour" if o.age_seconds < hours * 3600 else "remove with --fix")
            print(f"file without a row: {o.key} ({_age(o.age_seconds)} old; {state})")
        for m in report.missing:
            print(f"row without its file: {m.table} id {m.row_id}: {m.key}")
        if report.clean:
            print("storage and database agree")
        else:
            print(f"{len(report.orphans)} file(s) without a row ({len(report.removed)} removed), "
                  f"{len(report.missing)} row(s) without their file", file=sys.stderr)
    # Exit 1 while something is still wrong, so a cron job notices.
    return 0 if not report.missing and len(report.removed) == len(report.orphans) else 1


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 7200:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"
