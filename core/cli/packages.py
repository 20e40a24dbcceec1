"""`ngi packages build | fetch | list` — company packages from SEC companyfacts."""

from __future__ import annotations

from core import packages
from core.auth import system_actor
from core.cli._common import command_group, engine, print_json
from core.db import session_scope
from core.sec import DEFAULT_YEARS


def register(subparsers) -> None:
    actions = command_group(subparsers, "packages", help="build and list company packages")

    build = actions.add_parser("build", help="build a new package version from a companyfacts JSON file")
    build.add_argument("ticker")
    build.add_argument("--companyfacts", required=True, metavar="PATH", help="SEC companyfacts JSON file")
    _common_build_args(build)
    build.set_defaults(handler=_build)

    fetch = actions.add_parser("fetch", help="download companyfacts from the SEC (NGI_SEC_USER_AGENT) and build")
    fetch.add_argument("ticker")
    _common_build_args(fetch)
    fetch.set_defaults(handler=_fetch)

    listing = actions.add_parser("list", help="version history of a company's packages")
    listing.add_argument("ticker")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)


def _common_build_args(parser) -> None:
    parser.add_argument("--years", type=int, default=DEFAULT_YEARS, help="fiscal years to include (default 5)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--force-current", action="store_true",
                        help="make the new version current even if validation fails (audited)")


def _report(result: packages.BuildResult, as_json: bool) -> int:
    if as_json:
        print_json(result.as_json())
    else:
        state = "current" if result.is_current else "not current"
        print(f"{result.ticker} v{result.version}: {result.validation_status}, {state}, "
              f"{', '.join(result.fiscal_years)} (fiscal year end: {result.fiscal_year_end}; data as of "
              f"{result.package_date}) -> {result.file_path} ({result.file_size_bytes} bytes)")
        for error in result.validation_errors:
            print(f"  - {error['message']}")
    return 0 if result.validation_status == "passed" else 1


def _build(args) -> int:
    eng = engine()
    result = packages.build_package(eng, actor=system_actor(eng), ticker=args.ticker, companyfacts=args.companyfacts,
                                    years=args.years, force_current=args.force_current)
    return _report(result, args.json)


def _fetch(args) -> int:
    eng = engine()
    result = packages.fetch_and_build(eng, actor=system_actor(eng), ticker=args.ticker, years=args.years,
                                      force_current=args.force_current)
    return _report(result, args.json)


def _list(args) -> int:
    eng = engine()
    with session_scope(eng) as session:
        versions = packages.list_versions(session, actor=system_actor(eng), ticker=args.ticker)
    if args.json:
        print_json([packages.version_dict(v) for v in versions])
        return 0
    if not versions:
        print(f"{args.ticker.upper()} has no packages yet.")
    for v in versions:
        flags = " ".join(f for f in ("current" if v.is_current else "", "stale" if v.stale else "") if f)
        print(f"v{v.version:<3} {v.package_date} {v.validation_status or '-':<7} {v.ingestion_method or '-':<9} "
              f"{v.file_path} {flags}")
    return 0
