"""Benchmark: build a package from the 2.5 MB shared companyfacts file.

Times parse → map → validate → write workbook (what `ngi packages build` does before
the database insert), reports the median of several runs and the peak memory of one
run (tracemalloc), and compares with a naive baseline in the same process: index every
fact of every concept, then look lines up in that index. Target: under 2 s and
300 MB on the 2-core machine.

    .venv/bin/python benchmarks/bench_package_build.py [--runs 7] [--file PATH]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openpyxl import load_workbook

from core.package_workbook import PackageInfo, write_workbook
from core.sec import build_statements, load_companyfacts, validate
from core.sec.facts import ANNUAL_FORMS, Fact
from core.sec.fiscal import fiscal_year_for, is_annual_duration, parse_fiscal_year_end
from core.sec.mapping import US_GAAP
from core.sec.statements import Cell, Statements, _derive

DEFAULT_FILE = ROOT.parent / "shared" / "data" / "sec" / "CIK0001640147.json"
FYE = "January 31"
INFO = PackageInfo(ticker="SNOW", company_name="Snowflake Inc.", fiscal_year_end=FYE, revenue_model_type="QxP",
                   revenue_driver_notes="Q=Customers, P=Revenue per customer", version=1,
                   built_at=datetime.now(UTC))


def build(path: Path) -> bytes:
    st = build_statements(load_companyfacts(path), ticker="SNOW", fiscal_year_end=FYE)
    return write_workbook(st, INFO, validate(st))


def naive_build(path: Path) -> bytes:
    """The straightforward way: json.load, index every fact of every concept with its
    fiscal year (keeping the latest filed), then fill the same statement lines from
    that index and hand the result to the same validation and writer."""
    with open(path) as fh:
        doc = json.load(fh)
    fye = parse_fiscal_year_end(FYE)
    index: dict[tuple[str, int, bool], Fact] = {}
    for taxonomy, concepts in doc["facts"].items():
        for concept, body in concepts.items():
            for unit, rows in body["units"].items():
                for row in rows:
                    end = date.fromisoformat(row["end"])
                    start = date.fromisoformat(row["start"]) if "start" in row else None
                    if row["form"] not in ANNUAL_FORMS or (start and not is_annual_duration(start, end)):
                        continue
                    year = fiscal_year_for(end, fye)
                    if year is None:
                        continue
                    fact = Fact(taxonomy, concept, unit, start, end, float(row["val"]), row["accn"], row["form"],
                                date.fromisoformat(row["filed"]))
                    key = (concept, year, start is None)
                    held = index.get(key)
                    if held is None or (fact.filed, fact.accn) > (held.filed, held.accn):
                        index[key] = fact

    def first(line, year):
        return next((index[(c, year, line.instant)] for c in line.concepts if (c, year, line.instant) in index), None)

    revenue, assets = US_GAAP.line("revenue"), US_GAAP.line("total_assets")
    years = sorted(y for y in {k[1] for k in index} if first(revenue, y) and first(assets, y))[-5:]
    st = Statements(entity_name=doc["entityName"], cik=str(doc["cik"]), template=US_GAAP, currency="USD", fye=fye,
                    years=years, period_ends={y: first(revenue, y).end for y in years})
    scale = {"money": 1e6, "per_share": 1.0, "shares": 1e6}
    for line in US_GAAP.lines:
        st.lines[line.key] = {}
        for y in years:
            fact = first(line, y)
            st.lines[line.key][y] = Cell(fact.val / scale[line.unit], fact) if fact else Cell()
    _derive(st)
    return write_workbook(st, INFO, validate(st))


def timed(fn, path: Path, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(path)
        out.append(time.perf_counter() - start)
    return out


def peak_mb(fn, path: Path) -> float:
    tracemalloc.start()
    fn(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1048576


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    args = parser.parse_args()
    if not args.file.is_file():
        print(f"{args.file} is not present; pass --file PATH to a companyfacts JSON file.", file=sys.stderr)
        return 2
    size = args.file.stat().st_size / 1048576
    build(args.file)  # warm imports and caches once
    a, b = load_workbook(io.BytesIO(build(args.file))), load_workbook(io.BytesIO(naive_build(args.file)))
    same = all([[c.value for c in r] for r in a[n].iter_rows()] == [[c.value for c in r] for r in b[n].iter_rows()]
               for n in ("Income Statement", "Balance Sheet", "Cash Flow"))
    print(f"naive and package builds give the same statements: {same}")
    ours = timed(build, args.file, args.runs)
    naive = timed(naive_build, args.file, args.runs)
    ours_peak, naive_peak = peak_mb(build, args.file), peak_mb(naive_build, args.file)
    m_ours, m_naive = statistics.median(ours), statistics.median(naive)
    print(f"file: {args.file.name} ({size:.1f} MB), {args.runs} runs each")
    print(f"package build (parse, map, validate, write): median {m_ours:.3f} s "
          f"(min {min(ours):.3f}, max {max(ours):.3f}); peak traced memory {ours_peak:.1f} MB")
    print(f"naive baseline (index every fact first):     median {m_naive:.3f} s; peak {naive_peak:.1f} MB")
    print(f"ratio naive/ours: time {m_naive / m_ours:.2f}x, memory {naive_peak / ours_peak:.2f}x")
    print(f"target: < 2 s and < 300 MB -> {'met' if m_ours < 2 and ours_peak < 300 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
