"""`ngi student erase ID`: GDPR erasure of one student; `ngi student export ID --out FILE.zip`:
the student's rows and files (the right of access)."""

from __future__ import annotations

import sys

from core import students
from core.auth import system_actor
from core.cli._common import command_group, engine


def register(subparsers) -> None:
    actions = command_group(subparsers, "student", help="student records")
    erase = actions.add_parser("erase", help="delete a student and everything of theirs")
    erase.add_argument("student_id", type=int, metavar="ID")
    erase.set_defaults(handler=_erase)
    export = actions.add_parser("export", help="write a student's rows and files to a zip")
    export.add_argument("student_id", type=int, metavar="ID")
    export.add_argument("--out", required=True, metavar="FILE.zip", help="the zip to write")
    export.set_defaults(handler=_export)


def _erase(args) -> int:
    from core.storage import default_storage

    eng = engine()
    erased = students.erase(eng, actor=system_actor(eng), student_id=args.student_id)
    if not students.forget_freed_pages(eng):
        print("warning: the database was busy, so its SQLite write-ahead log may hold the erased text "
              "until the app's last connection closes (a restart clears it)", file=sys.stderr)
    # Files go after the rows are gone for good; a leftover file is harmless, a row
    # pointing at a deleted file is not.
    storage = default_storage()
    removed_files = sum(1 for key in erased.file_keys if storage.delete(key))
    print(f"erased student {args.student_id}:")
    for table, count in erased.rows.items():
        print(f"  {table:<28} {count}")
    print(f"  {'stored files':<28} {removed_files}")
    return 0


def _export(args) -> int:
    from pathlib import Path

    from core.student_export import export_student


    eng = engine()
    out = Path(args.out)
    partial = out.with_name(out.name + ".partial")
    try:
        summary = export_student(eng, actor=system_actor(eng), student_id=args.student_id, target=partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)
    print(f"exported student {args.student_id} to {out}:")
    for table, count in summary.rows.items():
        print(f"  {table:<28} {count}")
    print(f"  {'stored files':<28} {len(summary.files)}")
    for key in summary.missing_files:
        print(f"  missing stored file: {key}")
    return 0
