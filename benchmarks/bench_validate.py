"""How much validation adds to reading a plan: 100k rows, read+locate vs parse+check.

    .venv/bin/python benchmarks/bench_validate.py [--rows 100000] [--bad 0.01] [--repeat 3]

Writes a plan with XlsxWriter (real dates, and a fraction of hand-typed bad cells:
text numbers, text dates, placeholders, negative budgets), then times, in one run:
  baseline   open_workbook + locate_plan + grid  (what any command pays to read)
  validate   parse_plan + check_plan (with labels and a config, so every rule runs)
and prints seconds (best of --repeat) and validate / baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import xlsxwriter  # noqa: E402

HEADERS = ["ID", "Activity", "Channel", "Owner", "Start Date", "End Date", "Status", "Budget", "Actual",
           "KPI", "Leads", "Conversions", "Revenue"]
CHANNELS = ["Search", "Social", "Events", "Email", "Research"]


def write_plan(path: Path, rows: int, bad: float, seed: int = 7) -> int:
    rnd = random.Random(seed)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Plan")
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, HEADERS)
    planted = 0
    base = dt.date(2027, 1, 1)
    for i in range(1, rows + 1):
        start = base + dt.timedelta(days=rnd.randrange(300))
        budget = float(rnd.randrange(1000, 50000))
        leads = rnd.randrange(0, 500)
        ws.write_string(i, 0, f"A-{i:06}")
        ws.write_string(i, 1, f"Activity {i} {rnd.choice(['survey', 'search ads', 'trade show', 'email'])}")
        ws.write_string(i, 2, rnd.choice(CHANNELS))
        ws.write_string(i, 3, rnd.choice(["Dana", "Luis", "Priya", "Sam"]))
        ws.write_datetime(i, 4, start, date)
        ws.write_datetime(i, 5, start + dt.timedelta(days=rnd.randrange(1, 60)), date)
        ws.write_string(i, 6, "Planned")
        ws.write_number(i, 7, budget)
        ws.write_number(i, 8, budget * rnd.uniform(0.5, 1.1))
        ws.write_string(i, 9, "Awareness" if i % 3 == 0 else rnd.choice(["Leads", "Revenue"]))
        ws.write_number(i, 10, leads)
        ws.write_number(i, 11, rnd.randrange(0, leads + 1))
        ws.write_number(i, 12, float(rnd.randrange(0, 100000)))
        if rnd.random() < bad:
            planted += 1
            kind = rnd.randrange(4)
            if kind == 0:
                ws.write_string(i, 7, f"${budget:,.0f}")
            elif kind == 1:
                ws.write_string(i, 4, start.strftime("%m/%d/%Y"))
            elif kind == 2:
                ws.write_string(i, 10, "n/a")
            else:
                ws.write_number(i, 7, -budget)
    wb.close()
    return planted


def run(path: Path, repeat: int) -> tuple[float, float, int, int, float]:
    from xlplugin.config import Config
    from xlplugin.engine.check import check_plan
    from xlplugin.engine.locate import locate_plan
    from xlplugin.engine.parse import parse_plan
    from xlplugin.file.read import open_workbook
    from xlplugin.model import Label

    config = Config(period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31), budget_cap=1e12,
                    allowed={"channel": CHANNELS})
    best_read = best_val = float("inf")
    n = found = 0
    # Imports are paid once per process, outside the per-file timings; measured apart.
    import pandas  # noqa: F401
    t = time.perf_counter()
    from xlplugin.engine.check import load_schema
    load_schema()  # imports pandera, registers the xp_ checks, reads the YAML
    once = time.perf_counter() - t
    for _ in range(repeat):
        t0 = time.perf_counter()
        with open_workbook(path) as wb:
            plan = locate_plan(wb, config=config)
            grid = wb.grid(plan.sheet)
            date1904 = wb.date1904
        t1 = time.perf_counter()
        labels = [Label(row=r, stage="Upstream" if (r - 1) % 3 == 0 else "Downstream", confidence=1.0, reason="bench")
                  for r in plan.data_rows]
        t2 = time.perf_counter()
        parsed = parse_plan(grid, plan, date1904=date1904)
        findings = check_plan(parsed, config, labels=labels)
        t3 = time.perf_counter()
        best_read, best_val = min(best_read, t1 - t0), min(best_val, t3 - t2)
        n, found = len(plan.data_rows), len(findings)
    return best_read, best_val, n, found, once


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--bad", type=float, default=0.01, help="fraction of rows with a planted bad cell")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "plan-100k.xlsx"
        planted = write_plan(path, args.rows, args.bad)
        read_s, val_s, n, found, once = run(path, args.repeat)
    print(f"rows {n}, planted bad cells {planted}, findings {found}")
    print(f"read+locate (baseline)  {read_s:6.2f} s")
    print(f"parse+check (validate)  {val_s:6.2f} s")
    print(f"validate / baseline     {val_s / read_s:6.2f}")
    print(f"once per process: import pandera + load schema {once:.2f} s")


if __name__ == "__main__":
    main()
