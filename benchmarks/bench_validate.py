"""Validator performance: linear in sheet size, next to plain openpyxl, and on hostile files.

    .venv/bin/python benchmarks/bench_validate.py [--cells 250000] [--repeat 3]
        [--sizes 64K,256K,1M,4M,16M,64M] [--table-repeat 1] [--skip-openpyxl]

1. Scaling: a capstone model whose sensitivity sheet is generated here at 64 KB ... 64 MB
   of sheet XML (the same row shape XlsxWriter writes: numbers, formulas, cached
   values). Time per MB should stay flat: the reader is one linear pass.
2. Builds a capstone model plus a 250k-formula sensitivity sheet with XlsxWriter (which
   stores cached values as Excel does), then measures, each in a fresh process so peak
   memory is that operation's own: our validate_path, openpyxl.load_workbook (default),
   and the rejection of a zip bomb. Prints median seconds, peak RSS, and the ratios.
3. The issue's hostile file (1 MiB of `<c r="A1">1`, never closed): its rejection time.

Wall seconds suffer from whatever else the machine runs; the CPU column (this thread's
CPU time, what NGI_VALIDATION_CPU_SECONDS limits) is the steadier figure.
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
cpu = time.thread_time()
start = time.perf_counter()
result = fn()
elapsed = time.perf_counter() - start
cpu = time.thread_time() - cpu
print(json.dumps({{"seconds": elapsed, "cpu": cpu, "peak_mb": hwm_mb(), "import_mb": base, "result": result}}))
"""


def measure(op: str, path: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT)), op, str(path)],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "cpu": statistics.median(r["cpu"] for r in runs),
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


SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
              b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
              b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData>')
SHEET_TAIL = b'</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
WIDTH = 50


def _letters(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _grid_rows(rng: random.Random):
    """Rows of the capstone's sensitivity grid, as XlsxWriter writes them, for ever."""
    letters = [_letters(c) for c in range(1, WIDTH + 1)]
    r = 1
    while True:
        rate, value = rng.uniform(-0.02, 0.05), rng.uniform(50, 5000)
        step = 1 + (rate if rate > 0 else rate / 2)
        cells = [f'<row r="{r}" spans="1:{WIDTH}"><c r="A{r}"><v>{rate!r}</v></c><c r="B{r}"><v>{value!r}</v></c>']
        for c in range(2, WIDTH):
            value *= step
            cells.append(f'<c r="{letters[c]}{r}"><f>IF($A{r}&gt;0,{letters[c - 1]}{r}*(1+$A{r}),'
                         f'{letters[c - 1]}{r}*(1+$A{r}/2))</f><v>{value!r}</v></c>')
        cells.append("</row>")
        yield "".join(cells).encode()
        r += 1


def _replace_part(template: Path, out: Path, part: str, write, level: int = 1) -> None:
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst:
        for info in src.infolist():
            if info.filename == part:
                with dst.open(part, "w") as fh:
                    write(fh)
            else:
                dst.writestr(info.filename, src.read(info))


def scaled(template: Path, size: int) -> tuple[Path, int]:
    """A copy of `template` whose Scenarios sheet is `size` bytes of XML; returns it and its cell count."""
    from core.validation.workbook import _sheet_parts

    with zipfile.ZipFile(template) as archive:
        part = dict(_sheet_parts(archive, template.name)[0])["Scenarios"]
    out = template.with_name(f"scaled_{size}.xlsx")
    cells = 0

    def write(fh) -> None:
        nonlocal cells
        fh.write(SHEET_HEAD)
        written = len(SHEET_HEAD) + len(SHEET_TAIL)
        for row in _grid_rows(random.Random(size)):
            if written + len(row) > size:
                break
            fh.write(row)
            written += len(row)
            cells += WIDTH
        fh.write(SHEET_TAIL)

    _replace_part(template, out, part, write)
    return out, cells


def hostile(template: Path) -> Path:
    """The issue's file: its first sheet is 1 MiB of an unclosed cell."""
    from core.validation.workbook import _sheet_parts

    with zipfile.ZipFile(template) as archive:
        part = _sheet_parts(archive, template.name)[0][0][1]
    out = template.with_name("hostile.xlsx")
    _replace_part(template, out, part, lambda fh: fh.write(b'<c r="A1">1' * ((1 << 20) // 11)), level=9)
    return out


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text)


def scaling_table(work: Path, sizes: list[int], repeat: int) -> None:
    from core.validation import templates

    template = work / "small_capstone.xlsx"
    template.write_bytes(templates.build_model("capstone", company_ticker="TSLA", rng=random.Random(1),
                                               scenario_cells=WIDTH))
    print("validation time vs sheet XML size (capstone model + generated Scenarios sheet; "
          f"median of {repeat}, fresh process each)")
    print(f"{'sheet XML':>10} {'cells':>9} {'zip MB':>7} {'wall s':>8} {'CPU s':>7} {'CPU ms/MB':>10} "
          f"{'peak MB':>8}  status")
    for size in sizes:
        path, cells = scaled(template, size)
        m = measure("validate", path, repeat)
        mb = size / (1 << 20)
        print(f"{_label(size):>10} {cells:>9,} {path.stat().st_size / 1e6:>7.2f} {m['seconds']:>8.3f} "
              f"{m['cpu']:>7.3f} {m['cpu'] * 1000 / mb:>10.1f} {m['peak_mb']:>8.0f}  {m['result']}")
        path.unlink()
    bad = hostile(template)
    m = measure("validate", bad, max(repeat, 3))
    print(f"hostile file ({bad.stat().st_size / 1e3:.1f} KB zip, 1 MiB of unclosed <c r=\"A1\">1): "
          f"{m['result']} in median {m['seconds'] * 1000:.0f} ms wall, {m['cpu'] * 1000:.0f} ms CPU")


def _label(size: int) -> str:
    return f"{size >> 20}M" if size >= 1 << 20 else f"{size >> 10}K"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="64K,256K,1M,4M,16M,64M", help="sheet XML sizes for the scaling table")
    parser.add_argument("--table-repeat", type=int, default=1)
    parser.add_argument("--skip-openpyxl", action="store_true", help="scaling table and hostile file only")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from core.validation import templates

    work = Path(tempfile.mkdtemp(prefix="ngi-bench-"))
    scaling_table(work, [_size(s) for s in args.sizes.split(",")], args.table_repeat)
    if args.skip_openpyxl:
        return
    print()
    path = work / "big_model.xlsx"
    path.write_bytes(templates.build_model("capstone", company_ticker="TSLA", rng=random.Random(1),
                                           scenario_cells=args.cells))
    print(f"workbook: {path.stat().st_size / 1e6:.1f} MB on disk, ~{args.cells:,} scenario formulas "
          f"plus the three-statement model")
    ours = measure("validate", path, args.repeat)
    naive = measure("openpyxl", path, args.repeat)
    print(f"validate_path           median {ours['seconds']:6.2f} s ({ours['cpu']:.2f} s CPU)   peak RSS {ours['peak_mb']:6.0f} MB "
          f"(interpreter+imports {ours['import_mb']:.0f} MB)   status={ours['result']}")
    print(f"openpyxl.load_workbook  median {naive['seconds']:6.2f} s ({naive['cpu']:.2f} s CPU)   peak RSS {naive['peak_mb']:6.0f} MB "
          f"(interpreter+imports {naive['import_mb']:.0f} MB)")
    print(f"ratio: {naive['seconds'] / ours['seconds']:.1f}x faster ({naive['cpu'] / ours['cpu']:.1f}x by CPU), "
          f"{naive['peak_mb'] / ours['peak_mb']:.1f}x less peak memory")
    bomb = zip_bomb(path)
    rejected = measure("validate", bomb, args.repeat)
    print(f"zip bomb ({bomb.stat().st_size / 1e6:.1f} MB, 1 GiB inside) rejected in median "
          f"{rejected['seconds'] * 1000:.1f} ms, peak RSS {rejected['peak_mb']:.0f} MB, status={rejected['result']}")


if __name__ == "__main__":
    main()
