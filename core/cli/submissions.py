"""`ngi submissions add --student ID --activity ID --company TICKER --file PATH [--notes TEXT]`."""

from __future__ import annotations

from pathlib import Path

from core.cli._common import command_group, engine, print_json
from core.errors import Invalid


def register(subparsers) -> None:
    actions = command_group(subparsers, "submissions", help="student submissions")
    add = actions.add_parser("add", help="store, version and validate a student's file")
    add.add_argument("--student", type=int, required=True, metavar="ID")
    add.add_argument("--activity", required=True, metavar="ACTIVITY_ID")
    add.add_argument("--company", required=True, metavar="TICKER")
    add.add_argument("--file", required=True, metavar="PATH")
    add.add_argument("--notes", default=None)
    add.add_argument("--type", dest="submission_type", choices=["excel", "pdf_memo", "pdf_deck"], default=None,
                     help="for PDFs: memo (default) or deck")
    add.add_argument("--wait", action="store_true",
                     help="also run the background jobs now (recalculation, AI-detection, feedback)")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=_add)


def _add(args) -> int:
    from core.auth import system_actor
    from core.submissions import submit

    path = Path(args.file)
    if not path.is_file():
        raise Invalid(f"{args.file} does not exist or is not a file.")
    eng = engine()
    with open(path, "rb") as fh:
        result = submit(eng, actor=system_actor(eng), student_id=args.student, activity_id=args.activity, company_ticker=args.company,
                        fileobj=fh, filename=path.name, notes=args.notes, submission_type=args.submission_type)
    if args.wait:
        from core import jobs

        jobs.drain(eng)
    if args.json:
        print_json({"submission_id": result.submission_id, "version": result.version, "status": result.status,
                    "file_key": result.file_key, "ai_detection_status": result.ai_detection_status,
                    "report": result.report})
    else:
        print(f"submission {result.submission_id}: version {result.version}, validators {result.status}")
        for check in result.report["checks"]:
            if check["status"] != "passed":
                print(f"  [{check['status']}] {check['id']}: {len(check['findings'])} finding(s)")
    return 0
