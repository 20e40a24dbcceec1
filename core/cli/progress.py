"""`ngi progress recompute [--student ID]`: rebuild learning_progress from raw events."""

from __future__ import annotations

from core import progress
from core.cli._common import command_group, engine
from core.db import session_scope
from core.errors import NotFound
from core.models import Student


def register(subparsers) -> None:
    actions = command_group(subparsers, "progress", help="student progress and streaks")
    recompute = actions.add_parser("recompute", help="rebuild progress from raw telemetry (same result as incremental)")
    recompute.add_argument("--student", type=int, metavar="ID", help="only this student")
    recompute.set_defaults(handler=_recompute)


def _recompute(args) -> int:
    eng = engine()
    with session_scope(eng, immediate=True) as session:
        if args.student is not None and session.get(Student, args.student) is None:
            raise NotFound(f"No student with id {args.student}.")
        count = progress.recompute(session, args.student)
        # Everyone else's streak lapses as of today too, not only the recomputed student's.
        lapsed = progress.lapse_streaks_in(session)
    print(f"progress recomputed for {count} student(s); {lapsed} lapsed streak(s) set to 0")
    return 0
