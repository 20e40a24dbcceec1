"""`ngi student erase ID`: GDPR erasure of one student."""

from __future__ import annotations

import sys

from core import audit, students
from core.auth import system_actor
from core.cli._common import engine
from core.db import session_scope


def register(subparsers) -> None:
    parser = subparsers.add_parser("student", help="student records")
    actions = parser.add_subparsers(dest="student_action", required=True, metavar="ACTION")
    erase = actions.add_parser("erase", help="delete a student and everything of theirs")
    erase.add_argument("student_id", type=int, metavar="ID")
    erase.set_defaults(handler=_erase)


def _erase(args) -> int:
    from core.storage import default_storage

    eng = engine()
    actor = system_actor(eng)
    with session_scope(eng) as session:
        keys = students.file_keys(session, args.student_id)
        counts = students.erase(session, actor=actor, student_id=args.student_id)
        # No target id: the erased id must not survive in the trail either.
        audit.record(session, actor, "student.erase", target_type="student", details={"rows": counts})
    if not students.forget_freed_pages(eng):
        print("warning: the database was busy, so its SQLite write-ahead log may hold the erased text "
              "until the app's last connection closes (a restart clears it)", file=sys.stderr)
    # Files go after the rows are gone for good; a leftover file is harmless, a row
    # pointing at a deleted file is not.
    storage = default_storage()
    removed_files = sum(1 for key in keys if storage.delete(key))
    print(f"erased student {args.student_id}:")
    for table, count in counts.items():
        print(f"  {table:<28} {count}")
    print(f"  {'stored files':<28} {removed_files}")
    return 0
