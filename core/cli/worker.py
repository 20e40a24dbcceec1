"""`ngi worker [--drain] [--concurrency N]`: run the background jobs (core.jobs).

PostgreSQL: a procrastinate worker on the learning queue, woken by LISTEN/NOTIFY.
SQLite: the in-process runner's poll loop, in the foreground. `--drain` runs what is
due (and what that creates) and exits, for scripts, the demo and tests.
"""

from __future__ import annotations

import logging
import threading

from core.cli._common import engine


def register(subparsers) -> None:
    parser = subparsers.add_parser("worker", help="run background jobs (recalculation, AI-detection, feedback)")
    parser.add_argument("--drain", action="store_true", help="run the jobs that are due, then exit")
    parser.add_argument("--concurrency", type=int, default=1, metavar="N",
                        help="jobs run at once (PostgreSQL; SQLite runs one at a time)")
    parser.set_defaults(handler=_worker)


def _worker(args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from core import jobs

    eng = engine()
    if args.drain:
        ran = jobs.drain(eng)
        print(f"ran {ran} job(s); nothing else is due")
        return 0
    print(f"worker on {eng.url.render_as_string(hide_password=True)}; Ctrl-C stops it")
    if eng.dialect.name == "postgresql":
        from core.jobs import pg

        pg.work(eng, concurrency=max(1, args.concurrency))
    else:
        from core.jobs import local

        local.loop(eng, threading.Event())
    return 0
