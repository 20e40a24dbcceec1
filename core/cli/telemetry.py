"""`ngi telemetry import FILE [--format jsonl|xapi] [--strict]` and
`ngi telemetry rollup --rebuild`."""

from __future__ import annotations

import json
import sys
import time

from core import rollup, telemetry, telemetry_bulk
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
    imp.add_argument("--chunk-size", type=int, default=telemetry_bulk.CHUNK_SIZE, metavar="N",
                     help=f"events per chunk (default {telemetry_bulk.CHUNK_SIZE:,})")
    imp.set_defaults(handler=_import)
    roll = actions.add_parser("rollup", help="rebuild the daily rollup and progress from raw events")
    roll.add_argument("--rebuild", action="store_true", required=True, help="recompute everything from scratch")
    roll.set_defaults(handler=_rollup)


class _RateBar:
    """A one-line bar on stderr: share of the file read, events so far and events/s."""

    finished = False

    def __call__(self, p: telemetry_bulk.Progress) -> None:
        percent = int(100 * p.bytes_read / p.bytes_total) if p.bytes_total else 100
        if self.finished:
            return
        self.finished = percent >= 100
        filled = percent * 30 // 100
        sys.stderr.write(f"\rimport [{'#' * filled}{'.' * (30 - filled)}] {percent:3d}%  {p.events:,} events"
                         f"  {p.events_per_second:,.0f} events/s  {p.seconds:5.1f}s")
        if percent >= 100:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _import(args) -> int:
    fmt = args.format or ("xapi" if args.file.lower().endswith(".json") else "jsonl")
    eng = engine()
    result = telemetry_bulk.import_bulk(eng, args.file, actor=system_actor(eng), fmt=fmt, strict=args.strict,
                                        chunk_size=args.chunk_size, on_progress=_RateBar())
    if result.accepted:
        rollup.analyze(eng)
    for line, message in result.errors[:50]:
        print(f"line {line}: {message}", file=sys.stderr)
    if len(result.errors) > 50:
        print(f"... and {len(result.errors) - 50} more bad lines", file=sys.stderr)
    print(json.dumps(result.as_json()))
    return 0


def _rollup(args) -> int:
    eng = engine()
    started = time.monotonic()
    with session_scope(eng, immediate=True) as session:
        students = telemetry.rebuild_rollup(session)
    rollup.analyze(eng)
    print(f"rollup rebuilt for {students} students in {time.monotonic() - started:.1f}s")
    return 0
