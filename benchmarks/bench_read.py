"""Benchmark: read + locate a 100k-row plan, against an openpyxl read-only load of the same file.

Run: .venv/bin/python benchmarks/bench_read.py [--rows 100000] [--keep PATH]

The plan is built with XlsxWriter (constant_memory) at B3 under a title, with a few hidden
rows and error cells so the reader's sheet-XML scan does real work.  The baseline is
openpyxl's read_only load iterating every value (a read_only load alone reads nothing).
Prints seconds for each and the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HEADERS = ["ID", "Activity", "Description", "Category", "Channel", "Owner", "Start Date",
           "End Date", "Quarter", "Status", "Budget", "Actual", "KPI", "Target", "Leads",
           "Conversions", "Revenue", "Stage"]
CHANNELS = ["Search", "Social", "Email", "Events", "Research", "Content"]
STATUSES = ["Planned", "In progress", "Done", "Cancelled"]


def build(path: Path, rows: int) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Plan")
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write(0, 1, "Benchmark plan")
    for j, h in enumerate(HEADERS):
        ws.write_string(2, 1 + j, h)
    base = dt.datetime(2027, 1, 1)
    for i in range(rows):
        r = 3 + i
        start = base + dt.timedelta(days=i % 300)
        if i % 5000 == 0:
            ws.set_row(r, None, None, {"hidden": True})
        ws.write_string(r, 1, f"A-{i:06d}")
        ws.write_string(r, 2, f"Activity number {i} for channel {CHANNELS[i % 6]}")
        ws.write_string(r, 3, "A longer description of what this activity does and for whom")
        ws.write_string(r, 4, "Advertising" if i % 2 else "Market research")
        ws.write_string(r, 5, CHANNELS[i % 6])
        ws.write_string(r, 6, f"Owner {i % 17}")
        ws.write_datetime(r, 7, start, date)
        ws.write_datetime(r, 8, start + dt.timedelta(days=30), date)
        ws.write_string(r, 9, f"Q{(start.month - 1) // 3 + 1}")
        ws.write_string(r, 10, STATUSES[i % 4])
        ws.write_number(r, 11, 1000 + i % 977)
        if i % 10000 == 7:
            ws.write_formula(r, 12, "=1/0", None, "#DIV/0!")
        else:
            ws.write_number(r, 12, 900 + i % 911)
        ws.write_string(r, 13, "Leads")
        ws.write_number(r, 14, 100 + i % 50)
        ws.write_number(r, 15, i % 300)
        ws.write_number(r, 16, i % 40)
        ws.write_number(r, 17, (i % 40) * 1200.0)
        ws.write_string(r, 18, "Downstream" if i % 3 else "Upstream")
    wb.close()
    return path


def run_ours(path: Path) -> tuple[float, int]:
    from xlplugin.engine.locate import locate_plan
    from xlplugin.file.read import open_workbook

    t = time.perf_counter()
    with open_workbook(path) as wb:
        plan = locate_plan(wb)
        n = len(plan.data_rows)
        hidden = len(wb.grid(plan.sheet).hidden_rows)
    elapsed = time.perf_counter() - t
    assert hidden > 0
    return elapsed, n


def run_openpyxl(path: Path) -> tuple[float, int]:
    import openpyxl

    t = time.perf_counter()
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    n = 0
    for _row in wb["Plan"].iter_rows(values_only=True):
        n += 1
    wb.close()
    return time.perf_counter() - t, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="write the benchmark workbook here and keep it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench-plan.xlsx"
        t = time.perf_counter()
        build(path, args.rows)
        print(f"built {args.rows:,} rows in {time.perf_counter() - t:.1f} s "
              f"({path.stat().st_size / 1e6:.1f} MB)")
        import xlplugin.engine.locate  # noqa: F401  (import time is not reading time)
        ours, n = run_ours(path)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        base, m = run_openpyxl(path)
        print(f"xlplugin read+locate: {ours:6.2f} s  ({n:,} data rows, peak RSS {peak:.0f} MB)")
        print(f"openpyxl read_only:   {base:6.2f} s  ({m:,} rows)")
        print(f"ratio: openpyxl / xlplugin = {base / ours:.1f}x")


if __name__ == "__main__":
    main()
