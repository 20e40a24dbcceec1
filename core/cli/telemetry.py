"""`ngi telemetry import FILE [--format jsonl|xapi] [--strict]` and
`ngi telemetry rollup --rebuild`."""

from __future__ import annotations

import sys
import time

from core import rollup, telemetry
from core.auth import system_actor
from core.cli._common import command_group, engine
from core.db import session_scope


def register(subparsers) -> None:
    actions = command_group(subparsers, "telemetry", help="import telemetry events, rebuild the rollup")
    imp = actions.add_parser("import", help="import JSON Lines events or xAPI 1.0.3 statements")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--format", choices=("jsonl", "xapi"), default=None,
                     help="default: xapi for *.json files, else jsonl")
    imp.add_argument("--strict", action="store_true", help="reject the whole file if any line is bad")
    imp.set_defaults(handler=_import)
    roll = actions.add_parser("rollup", help="rebuild the daily rollup and progress from raw events")
    roll.add_argument("--rebuild", action="store_true", required=True, help="recompute everything from scratch")
    roll.set_defaults(handler=_rollup)


class _Bar:
    """A one-line progress bar on stderr (bytes of the file read)."""

    def __init__(self, label: str):
        self.label, self.started, self.shown = label, time.monotonic(), -1

    def __call__(self, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if percent == self.shown:
            return
        self.shown = percent
        filled = percent * 30 // 100
        elapsed = time.monotonic() - self.started
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {percent:3d}%  {elapsed:5.1f}s")
        if percent >= 100:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _import(args) -> int:
    fmt = args.format or ("xapi" if args.file.lower().endswith(".json") else "jsonl")
    eng = engine()
    with session_scope(eng, immediate=True) as session:
        result = telemetry.import_events(session, args.file, actor=system_actor(eng), fmt=fmt, strict=args.strict, on_progress=_Bar("import"))
    if result.accepted:
        rollup.analyze(eng)
    for line, message in result.errors[:50]:
        print(f"line {line}: {message}", file=sys.stderr)
    if len(result.errors) > 50:
        print(f"... and {len(result.errors) - 50} more bad lines", file=sys.stderr)
    print(result.summary())
    return 0


def _rollup(args) -> int:
    eng = engine()
    started = time.monotonic()
    with session_scope(eng, immediate=True) as session:
        students = telemetry.rebuild_rollup(session)
    rollup.analyze(eng)
    print(f"rollup rebuilt for {students} students in {time.monotonic() - started:.1f}s")
    return 0
