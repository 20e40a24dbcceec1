"""Benchmark: how long `ngi` takes to start, and how much memory it holds, as a user runs it.

Each command runs as a fresh `python -m core.cli …` subprocess (what the `ngi` script
does) and is compared with `python -c pass`, the floor no command can beat. Wall time is
the median of N runs; peak memory is the child's own maximum resident set size
(`os.wait4`, the figure `/usr/bin/time -v` prints), the largest over the runs.

    ngi --help
    ngi companies list                        on a temporary, seeded SQLite database
    ngi packages build SNOW --companyfacts …  the 2.5 MB shared Snowflake file
    ngi validate small.xlsx --activity a1_drivers_map

Goals (2-core machine): `ngi --help` under 0.3 s and 40 MB; the package build under 2 s
as a whole command.

    .venv/bin/python benchmarks/bench_cli_startup.py [--runs 5] [--file PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT.parent / "shared" / "data" / "sec" / "CIK0001640147.json"
TIME = shutil.which("time", path="/usr/bin:/bin")
BUILD_WORKBOOK = ("import random, sys; from core.validation import templates; "
                  "open(sys.argv[1], 'wb').write(templates.build_model('a1_drivers_map', "
                  "company_ticker='COST', rng=random.Random(5)))")
GOALS = {"ngi --help": (0.3, 40.0), "ngi packages build": (2.0, None)}


def run_once(argv: list[str], env: dict) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS in MB of one child process.

    Linux charges a child, until it execs, with the memory of the process it was forked
    from (~14 MB for this one), so the peak comes from GNU time, a small C parent, when
    it is installed; otherwise from `os.wait4`, whose floor is this process's size."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        prefix = [TIME, "-f", "%M", "-o", rss_file.name] if TIME else []
        started = time.perf_counter()
        child = subprocess.Popen(prefix + argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert child.stderr is not None
        stderr = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        child.stderr.close()
        lines = rss_file.read().split()
        peak_kib = int(lines[-1]) if TIME else usage.ru_maxrss  # both in KiB on Linux
    if child.returncode not in (0, 1):
        sys.exit(f"{' '.join(argv[1:])} exited {child.returncode}:\n{stderr.decode(errors='replace')}")
    return elapsed, usage.ru_utime + usage.ru_stime, peak_kib / 1024


def measure(argv: list[str], env: dict, runs: int) -> tuple[float, float, float]:
    samples = [run_once(argv, env) for _ in range(runs)]
    return (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples),
            max(s[2] for s in samples))


def prepare(tmp: Path, companyfacts: Path) -> tuple[dict, Path]:
    """A migrated, seeded SQLite database with Snowflake registered, a data dir and a small workbook."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}", NGI_DATA_DIR=str(tmp / "data"),
               PYTHONPATH=str(ROOT))
    ngi = [sys.executable, "-m", "core.cli"]
    for args in (["seed"],
                 ["companies", "add", "SNOW", "--cik", "1640147", "--name", "Snowflake Inc.",
                  "--fiscal-year-end", "January 31"]):
        subprocess.run(ngi + args, env=env, cwd=ROOT, check=True, capture_output=True)
    workbook = tmp / "small.xlsx"
    # Built in a child, so this process stays small (see `run_once`).
    subprocess.run([sys.executable, "-c", BUILD_WORKBOOK, str(workbook)], env=env, cwd=ROOT, check=True)
    if not companyfacts.is_file():
        sys.exit(f"{companyfacts} is not there; pass --file PATH")
    return env, workbook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="companyfacts JSON for the package build")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ngi-bench-") as tmp:
        env, workbook = prepare(Path(tmp), args.file)
        ngi = [sys.executable, "-m", "core.cli"]
        cases = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ("ngi --help", [*ngi, "--help"]),
            ("ngi companies list", [*ngi, "companies", "list"]),
            ("ngi packages build", [*ngi, "packages", "build", "SNOW", "--companyfacts", str(args.file)]),
            ("ngi validate", [*ngi, "validate", str(workbook), "--activity", "a1_drivers_map"]),
        ]
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{args.runs} runs each: median wall and CPU (user+sys) time, peak RSS; load average {load}\n")
        print(f"{'command':<22} {'wall s':>7} {'x base':>7} {'CPU s':>7} {'RSS MB':>7} {'x base':>7}  goal")
        base_time = base_rss = 0.0
        for label, argv in cases:
            wall, cpu, rss = measure(argv, env, args.runs)
            if not base_time:
                base_time, base_rss = wall, rss
            goal = ""
            if label in GOALS:
                max_s, max_mb = GOALS[label]
                memory_ok = max_mb is None or rss < max_mb
                verdict = "met" if wall < max_s and memory_ok else "MISSED"
                if verdict == "MISSED" and memory_ok and cpu < max_s:
                    verdict = "missed on wall time but met on CPU time: the machine is busy"
                goal = f"< {max_s} s" + (f", < {max_mb:.0f} MB" if max_mb else "") + f" {verdict}"
            print(f"{label:<22} {wall:7.3f} {wall / base_time:7.1f} {cpu:7.3f} {rss:7.1f} {rss / base_rss:7.1f}  {goal}")


if __name__ == "__main__":
    main()
