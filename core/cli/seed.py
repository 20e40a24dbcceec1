"""`ngi seed`: the curated companies and the content catalogue (idempotent)."""

from __future__ import annotations

from core import catalogue, companies, schema
from core.cli._common import engine
from core.db import session_scope


def register(subparsers) -> None:
    parser = subparsers.add_parser("seed", help="upsert the ten companies and the content catalogue")
    parser.add_argument("--demo", action="store_true", help="also generate a demo cohort (embedded database only)")
    parser.add_argument("--students", type=int, default=200, help="demo cohort size (default 200)")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the demo cohort")
    parser.add_argument("--if-empty", action="store_true", help="with --demo: only when there are no students yet")
    parser.add_argument("--url", default="http://localhost:8501",
                        help="with --demo: the app's address, printed with the accounts (scripts/app passes $PORT's)")
    parser.set_defaults(handler=_seed)


def _seed(args) -> int:
    eng = engine(migrated=False)
    schema.upgrade(eng)
    with session_scope(eng) as session:
        result = companies.seed_curated(session)
        created = catalogue.seed_catalogue(session)
    print(f"companies: {result.created} created, {result.updated} updated")
    print(f"content: {created} created")
    if args.demo:
        from core import demo

        demo.seed_demo_cli(eng, students=args.students, seed=args.seed, if_empty=args.if_empty, url=args.url)
    return 0
