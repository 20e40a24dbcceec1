"""`ngi companies list | add | edit | deactivate | activate`."""

from __future__ import annotations

from core import companies
from core.auth import system_actor
from core.cli._common import command_group, engine
from core.db import session_scope


def register(subparsers) -> None:
    actions = command_group(subparsers, "companies", help="the companies students can pick")
    actions.add_parser("list", help="list companies").set_defaults(handler=_list)
    add = actions.add_parser("add", help="add a company beyond the curated ten")
    add.add_argument("ticker")
    add.add_argument("--cik", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--fiscal-year-end", help="e.g. 'December 31', 'last Saturday of September', 'Saturday "
                     "nearest January 31'; when left out it is read from --companyfacts, or from the first build")
    add.add_argument("--companyfacts", metavar="PATH", help="SEC companyfacts JSON to infer the fiscal year end from")
    add.add_argument("--industry")
    add.add_argument("--revenue-model", default="QxP")
    add.set_defaults(handler=_add)
    edit = actions.add_parser("edit", help="correct a company's fiscal year end (audited)")
    edit.add_argument("ticker")
    edit.add_argument("--fiscal-year-end", required=True, help="e.g. 'last Sunday of October'")
    edit.set_defaults(handler=_edit)
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
    fiscal_year_end, inferred = args.fiscal_year_end, False
    if not fiscal_year_end and args.companyfacts:
        from core.sec import check_cik, load_companyfacts
        from core.sec.statements import infer_fiscal_year_end_of

        cf = load_companyfacts(args.companyfacts)
        check_cik(cf, args.cik, args.ticker.upper())
        fye = infer_fiscal_year_end_of(cf)
        fiscal_year_end, inferred = (fye.describe() if fye else None), fye is not None
    eng = engine()
    company = companies.add_company(
        eng, actor=system_actor(eng), ticker=args.ticker, company_name=args.name, cik=args.cik,
        fiscal_year_end=fiscal_year_end, inferred=inferred, industry=args.industry,
        revenue_model_type=args.revenue_model,
    )
    fye_text = company.fiscal_year_end or "read from the filing at the first build"
    print(f"added {company.ticker} ({company.company_name}, CIK {company.sec_cik}); fiscal year end: {fye_text}"
          + (" (inferred from the filing)" if inferred else ""))
    return 0


def _edit(args) -> int:
    eng = engine()
    stored = companies.edit_company(eng, actor=system_actor(eng), ticker=args.ticker,
                                    fiscal_year_end=args.fiscal_year_end)
    print(f"{args.ticker.upper()} fiscal year end is now {stored}")
    return 0


def _set_active(args) -> int:
    eng = engine()
    company = companies.set_active(eng, actor=system_actor(eng), ticker=args.ticker, active=args.active)
    print(f"{company.ticker} is now {'active' if args.active else 'inactive'}")
    return 0
