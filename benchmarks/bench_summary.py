"""Benchmark: summary_changes (and metric_changes) on a 100k-row plan, against a baseline
of pandas groupbys computing the same figures.

    .venv/bin/python benchmarks/bench_summary.py [ROWS]

No file I/O: the plan is built in memory as parse would hand it over (a ParsedPlan with
frame and raw), so the figures measure the summarise step alone.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADERS = ["ID", "Activity", "Channel", "Start Date", "Budget", "Actual", "Leads", "Conversions",
           "Revenue", "Impressions", "Clicks"]
FIELDS = ["id", "activity", "channel", "start", "budget", "actual", "leads", "conversions",
          "revenue", "impressions", "clicks"]


def make_parsed(n: int, as_table: bool = True):
    import numpy as np
    import pandas as pd

    from xlplugin.model import Column, Label, ParsedPlan, PlanTable, TableDef

    rng = np.random.default_rng(7)
    rows = np.arange(2, n + 2)
    channels = np.array(["Search", "Social", "Events", "Email", "Research", "TV", "Partners", "Print"])
    start = pd.Timestamp("2026-10-01") + pd.to_timedelta(rng.integers(0, 540, n), unit="D")
    start = start.where(rng.random(n) > 0.05)                       # 5% undated
    budget = rng.choice([0.0, 500.0, 1200.0, 2500.5, 8000.0, 30000.0], n)
    budget[rng.random(n) < 0.03] = np.nan                          # blanks
    frame = pd.DataFrame({
        "id": [f"A-{i}" for i in range(n)], "activity": [f"Activity {i}" for i in range(n)],
        "channel": channels[rng.integers(0, len(channels), n)], "start": start,
        "budget": budget, "actual": np.round(budget * rng.uniform(0.2, 1.3, n), 2),
        "leads": rng.choice([0.0, 10.0, 120.0, np.nan], n), "conversions": rng.choice([0.0, 1.0, 30.0], n),
        "revenue": rng.choice([0.0, 1000.0, 90000.0], n), "impressions": rng.choice([0.0, 1e3, 2.5e5], n),
        "clicks": rng.choice([0.0, 10.0, 3000.0], n)}, index=rows)
    raw = frame.astype(object).where(frame.notna(), None)
    raw["start"] = [None if pd.isna(v) else v.to_pydatetime() for v in frame["start"]]
    cols = [Column(h, i + 1, f) for i, (h, f) in enumerate(zip(HEADERS, FIELDS, strict=True))]
    table = (TableDef("Plan", "Plan", f"A1:K{n + 1}", 1, 1, n + 1, len(HEADERS), list(HEADERS))
             if as_table else None)
    plan = PlanTable("Plan", 1, 1, len(HEADERS), cols, list(rows), n + 1, table)
    stages = np.array(["Upstream", "Downstream", "Review"])[rng.integers(0, 3, n)]
    labels = [Label(int(r), s, 0.9, "bench") for r, s in zip(rows, stages, strict=True) if r % 17]
    return ParsedPlan(plan, frame, raw), labels


def baseline(parsed, labels) -> float:
    """The same figures with plain pandas groupbys (what a script would do)."""
    import pandas as pd

    t = time.perf_counter()
    f = parsed.frame
    stage = pd.Series({lab.row: lab.stage for lab in labels}).reindex(f.index).fillna("Not labelled")
    d = f.assign(stage=stage, quarter=f["start"].dt.to_period("Q-MAR").astype(str))
    d.groupby("stage")[["budget", "actual", "leads", "conversions", "revenue"]].sum()
    d.groupby(["quarter", "stage"])["budget"].sum()
    d.groupby(["channel", "stage"])["budget"].sum()
    d.groupby("channel")["actual"].sum()
    _ = (d["actual"] - d["budget"]) / d["budget"].where(d["budget"] != 0)
    return time.perf_counter() - t


def main(n: int = 100_000) -> None:
    from xlplugin.config import Config
    from xlplugin.render.metric_columns import metric_changes
    from xlplugin.render.summary import summary_changes

    parsed, labels = make_parsed(n)
    base = min(baseline(parsed, labels) for _ in range(3))
    t = time.perf_counter()
    sheet = summary_changes(parsed, labels, [], Config(fiscal_year_start=4), "bench.xlsx")
    t_summary = time.perf_counter() - t
    t = time.perf_counter()
    metrics = metric_changes(parsed)
    t_metrics = time.perf_counter() - t
    cells = len(sheet.changes[0].cells)
    print(f"rows: {n:,}")
    print(f"baseline pandas groupbys:      {base:8.3f} s")
    print(f"summary_changes:               {t_summary:8.3f} s  ({cells} Summary cells, "
          f"{t_summary / base:.1f}x baseline)")
    print(f"metric_changes:                {t_metrics:8.3f} s  ({len(metrics):,} changes)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
