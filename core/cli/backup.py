"""`ngi backup run | list | verify | restore | prune`: backups with pgBackRest (PostgreSQL),
SQLite's online backup API + restic (embedded database) and restic (stored files)."""

from __future__ import annotations

from core.cli._common import command_group, engine


def register(subparsers) -> None:
    actions = command_group(subparsers, "backup", help="back up, verify and restore the database and stored files")
    run = actions.add_parser("run", help="back up the database, then stored files (local storage)")
    kind = run.add_mutually_exclusive_group()
    kind.add_argument("--full", dest="kind", action="store_const", const="full")
    kind.add_argument("--incremental", dest="kind", action="store_const", const="incremental")
    run.set_defaults(handler=_run, kind="incremental")
    actions.add_parser("list", help="the backups the repositories hold").set_defaults(handler=_list)
    actions.add_parser("verify", help="restore the latest backup into a scratch copy and compare it with "
                       "the source at backup time; exit 1 on any difference").set_defaults(handler=_verify)
    restore = actions.add_parser("restore", help="replace the database and files with a backup, then replay "
                                 "newer erasures (stop the app first)")
    restore.add_argument("--to", required=True, metavar="latest|BACKUP_ID|ISO_TIME",
                         help="'latest', a backup id from `ngi backup list`, or a time (point-in-time on PostgreSQL)")
    restore.set_defaults(handler=_restore)
    actions.add_parser("prune", help="expire backups older than NGI_BACKUP_RETENTION_DAYS").set_defaults(handler=_prune)


def _size(value) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)


def _run(args) -> int:
    from core import backup

    for record in backup.run(engine(), kind=args.kind):
        print(f"{record.kind:<12} {record.id:<24} {record.tool:<14} added {_size(record.size)}")
    return 0


def _list(args) -> int:
    from core import backup

    rows = backup.list_backups(engine())
    if not rows:
        print("no backups yet")
    for row in rows:
        print(f"{row['time']:%Y-%m-%d %H:%M:%S} UTC  {row['kind']:<12} {row['id']:<24} {row['tool']:<10} "
              f"{_size(row['size'])}")
    return 0


def _verify(args) -> int:
    from core import restore

    report = restore.verify(engine())
    for line in report.lines:
        print(line)
    for line in report.differences:
        print(f"DIFFERENCE: {line}")
    print("verify: OK, the backup restores what was backed up" if report.ok
          else f"verify: FAILED, {len(report.differences)} difference(s)")
    return 0 if report.ok else 1


def _restore(args) -> int:
    from core import restore
    from core.config import database_url
    from core.db import make_engine

    # Not `engine()`: PostgreSQL may be stopped for the restore, and a restored backup may
    # be at an older schema, which restore upgrades.
    report = restore.restore(make_engine(database_url()), to=args.to)
    print(f"restored database backup {report.database_backup}"
          + (f" and files backup {report.files_backup}" if report.files_backup else ""))
    print(f"replayed {report.replayed_erasures} erasure(s) newer than the backup")
    if report.set_aside:
        print(f"the replaced database and files were moved to {report.set_aside}; delete that folder once "
              "the restore is checked (erasures from now on do not reach it)")
    return 0


def _prune(args) -> int:
    from core import backup

    for line in backup.prune(engine()):
        print(line)
    return 0
