"""Validator performance on a big Excel-style workbook, next to plain openpyxl.

    .venv/bin/python benchmarks/bench_validate.py [--cells 250000] [--repeat 3]

Builds a capstone model plus a 250k-formula sensitivity sheet with XlsxWriter (which
stores cached values as Excel does), then measures, each in a fresh process so peak
memory is that operation's own: our validate_path, openpyxl.load_workbook (default),
and the rejection of a zip bomb. Prints median seconds, peak RSS, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
op, path = sys.argv[1], sys.argv[2]
if op == "validate":
    from core.validation import validate_path
    fn = lambda: validate_path(path, activity_id="capstone").status
elif op == "openpyxl":
    import openpyxl
    fn = lambda: openpyxl.load_workbook(path).sheetnames and "loaded"
def hwm_mb():
    # VmHWM belongs to this process image; ru_maxrss would inherit the parent's peak.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
base = hwm_mb()
start = time.perf_counter()
result = fn()
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "peak_mb": hwm_mb(), "import_mb": base, "result": result}}))
"""


def measure(op: str, path: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT)), op, str(path)],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "peak_mb": statistics.median(r["peak_mb"] for r in runs),
            "import_mb": statistics.median(r["import_mb"] for r in runs), "result": runs[0]["result"]}


def zip_bomb(path: Path) -> Path:
    bomb = path.with_name("bomb.xlsx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        with dst.open("xl/media/padding.bin", "w") as fh:
            block = b"\0" * (1 << 20)
            for _ in range(1024):  # 1 GiB of zeros, about 1 MB compressed
                fh.write(block)
    return bomb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from core.validation import templates

    work = Path(tempfile.mkdtemp(prefix="ngi-bench-"))
    path = work / "big_model.xlsx"
    path.write_bytes(templates.build_model("capstone", company_ticker="TSLA", rng=random.Random(1),
                                           scenario_cells=args.cells))
    print(f"workbook: {path.stat().st_size / 1e6:.1f} MB on disk, ~{args.cells:,} scenario formulas "
          f"plus the three-statement model")
    ours = measure("validate", path, args.repeat)
    naive = measure("openpyxl", path, args.repeat)
    print(f"validate_path           median {ours['seconds']:6.2f} s   peak RSS {ours['peak_mb']:6.0f} MB "
          f"(interpreter+imports {ours['import_mb']:.0f} MB)   status={ours['result']}")
    print(f"openpyxl.load_workbook  median {naive['seconds']:6.2f} s   peak RSS {naive['peak_mb']:6.0f} MB "
          f"(interpreter+imports {naive['import_mb']:.0f} MB)")
    print(f"ratio: {naive['seconds'] / ours['seconds']:.1f}x faster, "
          f"{naive['peak_mb'] / ours['peak_mb']:.1f}x less peak memory")
    bomb = zip_bomb(path)
    rejected = measure("validate", bomb, args.repeat)
    print(f"zip bomb ({bomb.stat().st_size / 1e6:.1f} MB, 1 GiB inside) rejected in median "
          f"{rejected['seconds'] * 1000:.1f} ms, peak RSS {rejected['peak_mb']:.0f} MB, status={rejected['result']}")


if __name__ == "__main__":
    main()
