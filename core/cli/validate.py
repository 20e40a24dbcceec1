"""`ngi validate PATH --activity ID [--json]`: run the validators on a file. No database.

Exit codes: 0 passed, 1 failed, 2 rejected (unsafe or unreadable).
"""

from __future__ import annotations

from core.cli._common import print_json

EXIT = {"passed": 0, "failed": 1, "rejected": 2}


def register(subparsers) -> None:
    parser = subparsers.add_parser("validate", help="validate a workbook or PDF (no database needed)")
    parser.add_argument("path", metavar="PATH")
    parser.add_argument("--activity", required=True, metavar="ACTIVITY_ID",
                        help="a1_drivers_map, a2_wc_debt or capstone")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=_validate)


def _validate(args) -> int:
    from core.validation import rubric_for, validate_path

    rubric_for(args.activity)  # unknown activity -> error: ... (exit 1)
    report = validate_path(args.path, activity_id=args.activity)
    if args.json:
        print_json(report.to_dict(full=False))
        return EXIT[report.status]
    print(f"{args.path}: {report.status.upper()}")
    if report.message:
        print(f"  {report.message}")
    for check in report.checks:
        print(f"  [{check.status:<7}] {check.id}" + (f" ({check.note})" if check.note else ""))
        for finding in check.findings[:20]:
            print(f"      - {finding.message}")
        if len(check.findings) > 20:
            print(f"      ... and {len(check.findings) - 20} more")
    for key, value in report.outputs.items():
        print(f"  {key}: {value:,.2f}")
    return EXIT[report.status]
