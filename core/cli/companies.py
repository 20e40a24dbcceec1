"""`ngi companies list | add | deactivate | activate`."""

from __future__ import annotations

from core import companies, packages
from core.auth import system_actor
from core.cli._common import engine
from core.db import session_scope


def register(subparsers) -> None:
    parser = subparsers.add_parser("companies", help="the companies students can pick")
    actions = parser.add_subparsers(dest="companies_action", required=True, metavar="ACTION")
    actions.add_parser("list", help="list companies").set_defaults(handler=_list)
    add = actions.add_parser("add", help="add a company beyond the curated ten")
    add.add_argument("ticker")
    add.add_argument("--cik", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--fiscal-year-end", default="December 31", help="e.g. 'December 31', 'Sunday nearest August 31'")
    add.add_argument("--industry")
    add.add_argument("--revenue-model", default="QxP")
    add.set_defaults(handler=_add)
    for name, active in (("deactivate", False), ("activate", True)):
        sub = actions.add_parser(name, help=f"{name} a company (history is kept)")
        sub.add_argument("ticker")
        sub.set_defaults(handler=_set_active, active=active)


def _list(args) -> int:
    with session_scope(engine()) as session:
        for c in companies.list_companies(session, include_inactive=True):
            state = "active" if c.is_active else "inactive"
            print(f"{c.ticker:<6} {c.company_name:<32} CIK {c.sec_cik or '-':<8} FYE {c.fiscal_year_end or '-':<26} {state}")
    return 0


def _add(args) -> int:
    eng = engine()
    with session_scope(eng) as session:
        company = packages.add_company(
            session, actor=system_actor(eng), ticker=args.ticker, company_name=args.name, cik=args.cik,
            fiscal_year_end=args.fiscal_year_end, industry=args.industry, revenue_model_type=args.revenue_model,
        )
        print(f"added {company.ticker} ({company.company_name}, CIK {company.sec_cik})")
    return 0


def _set_active(args) -> int:
    eng = engine()
    with session_scope(eng) as session:
        company = packages.set_company_active(session, actor=system_actor(eng), ticker=args.ticker,
                                              active=args.active)
        print(f"{company.ticker} is now {'active' if args.active else 'inactive'}")
    return 0
