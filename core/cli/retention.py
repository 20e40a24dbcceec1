"""`ngi retention apply [--dry-run]`: delete raw telemetry older than
NGI_TELEMETRY_RETENTION_DAYS once the rollups cover it (unset: nothing is deleted)."""

from __future__ import annotations

from core.cli._common import command_group, engine


def register(subparsers) -> None:
    actions = command_group(subparsers, "retention", help="delete old raw telemetry the rollups cover")
    apply = actions.add_parser("apply", help="delete the events past the retention period")
    apply.add_argument("--dry-run", action="store_true", help="print what would be deleted, delete nothing")
    apply.set_defaults(handler=_apply)


def _apply(args) -> int:
    from core import retention
    from core.auth import system_actor

    eng = engine()
    result = retention.apply(eng, actor=system_actor(eng), dry_run=args.dry_run)
    if result.horizon is None:
        print("NGI_TELEMETRY_RETENTION_DAYS is not set: every event is kept, nothing to do.")
        return 0
    verb = "would delete" if args.dry_run else "deleted"
    print(f"raw events before {result.horizon:%Y-%m-%d} ({retention.retention_days()} days):"
          f" {verb} {len(result.event_ids)}")
    for (month, event_type), count in sorted(result.by_month_type.items()):
        print(f"  {month}  {event_type:<28} {count}")
    if result.uncovered_days:
        print(f"kept: {result.uncovered_days} student-day(s) the daily rollup does not cover"
              " (run `ngi telemetry rollup --rebuild` first)")
    print("funnel steps and each student's first and latest event are always kept; the rollups stay.")
    return 0
