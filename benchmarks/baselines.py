"""The two baselines bench_run times against xlplugin, each run as its own process:

    python -m benchmarks.baselines naive PLAN OUT   # what an analyst writes first
    python -m benchmarks.baselines floor PLAN OUT   # the least any tool must do

naive: pandas.read_excel, a keyword stage per row, then openpyxl load, the Stage and
Stage basis columns and nine metric formulas per row written cell by cell, save.
floor: python-calamine reads every cell of the plan sheet, and the package is copied.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

METRICS = [("Variance", "J{r}-I{r}"), ("Variance %", "IF(I{r}<>0,(J{r}-I{r})/I{r},\"\")"),
           ("Spent %", "IF(I{r}<>0,J{r}/I{r},\"\")"), ("ROI", "IF(J{r}<>0,(N{r}-J{r})/J{r},\"\")"),
           ("ROAS", "IF(J{r}<>0,N{r}/J{r},\"\")"), ("CPL", "IF(L{r}<>0,J{r}/L{r},\"\")"),
           ("CPA", "IF(M{r}<>0,J{r}/M{r},\"\")"), ("Conversion rate", "IF(L{r}<>0,M{r}/L{r},\"\")"),
           ("Share of budget", "I{r}/SUM($I$2:$I${last})")]
UPSTREAM = ("research", "survey", "focus", "brand", "webinar", "video")


def naive(src: Path, dest: Path) -> None:
    import openpyxl
    import pandas as pd

    df = pd.read_excel(src, sheet_name="Plan")
    stages = ["Upstream" if any(w in str(a).lower() for w in UPSTREAM) else "Downstream"
              for a in df["Activity"]]
    wb = openpyxl.load_workbook(src)
    ws = wb["Plan"]
    col = ws.max_column + 1
    last = len(df) + 1
    ws.cell(1, col, "Stage")
    ws.cell(1, col + 1, "Stage basis")
    for j, (name, _) in enumerate(METRICS):
        ws.cell(1, col + 2 + j, name)
    for i, stage in enumerate(stages):
        r = i + 2
        ws.cell(r, col, stage)
        ws.cell(r, col + 1, f"{stage}: keyword match")
        for j, (_, f) in enumerate(METRICS):
            ws.cell(r, col + 2 + j, "=" + f.format(r=r, last=last)).number_format = "0.00"
    wb.save(dest)


def floor(src: Path, dest: Path) -> None:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(src)).get_sheet_by_name("Plan").to_python()
    assert rows
    shutil.copyfile(src, dest)


if __name__ == "__main__":
    kind, src, dest = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    {"naive": naive, "floor": floor}[kind](src, dest)
