"""Benchmark: writing changes into a large plan workbook with the file target.

    .venv/bin/python benchmarks/bench_write.py [--rows 100000] [--no-openpyxl]

Builds a plan sheet of N rows with XlsxWriter (constant_memory), then times, each in
a fresh subprocess so peak RSS (resource.getrusage ru_maxrss) belongs to that step:

  zip-copy   baseline: read every member and write a new zip (recompressing)
  apply      apply_to_file: eleven columns on every row (2 ValueColumns, 9 FormulaColumns), 1,000 marks,
             200 notes, a Summary sheet with a chart   (the label + check + summary run)
  reapply    the same change list on the output (ClearMarks first: the re-run case)
  marks      only the marks, notes and Summary sheet (a validate run: no Stage column)
  openpyxl   baseline: openpyxl load + save of the same workbook (skippable)

and prints seconds, peak RSS and ratios against the baselines measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADERS = ["ID", "Activity", "Description", "Channel", "Owner", "Start Date", "End Date",
           "Status", "Budget", "Actual", "KPI", "Leads", "Conversions", "Revenue"]


def build(path: Path, rows: int) -> None:
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("Plan")
    ws.write_row(0, 0, HEADERS)
    channels = ["Search", "Social", "Events", "Email", "Research"]
    start = dt.date(2027, 1, 1)
    for r in range(1, rows + 1):
        ws.write_string(r, 0, f"A-{r:06d}")
        ws.write_string(r, 1, f"Activity {r} for {channels[r % 5]}")
        ws.write_string(r, 2, "Campaign description text of moderate length")
        ws.write_string(r, 3, channels[r % 5])
        ws.write_string(r, 4, ["Dana", "Luis", "Priya", "Sam"][r % 4])
        ws.write_datetime(r, 5, start + dt.timedelta(days=r % 300), date)
        ws.write_datetime(r, 6, start + dt.timedelta(days=r % 300 + 30), date)
        ws.write_string(r, 7, "Planned")
        ws.write_number(r, 8, 1000 + r % 977)
        ws.write_number(r, 9, 900 + r % 1013)
        ws.write_string(r, 10, "Leads")
        ws.write_number(r, 11, r % 300)
        ws.write_number(r, 12, r % 40)
        ws.write_number(r, 13, 3000 + r % 5000)
    wb.add_worksheet("Notes").write(0, 0, "Other sheet")
    wb.close()


def change_list(rows: int, stage_column: bool = True):
    from xlplugin import changes as ch
    cl = ch.ChangeList([ch.ClearMarks()])
    if stage_column:
        # a run's eleven columns: Stage and Stage basis as values, nine metrics as shared formulas
        cl.add(ch.ValueColumn("Plan", 15, 2, tuple("Upstream" if r % 3 else "Downstream" for r in range(2, rows + 2)),
                              header="Stage", header_style=ch.Style(bold=True)))
        cl.add(ch.ValueColumn("Plan", 16, 2, tuple(f"basis of row {r}: keyword" for r in range(2, rows + 2)),
                              header="Stage basis", header_style=ch.Style(bold=True)))
        for j in range(9):
            cl.add(ch.FormulaColumn("Plan", 17 + j, 2, f'IF(I2<>0,J2/I2*{j + 1},"")',
                                    tuple(float(r % 977) / 7 for r in range(2, rows + 2)),
                                    ch.Style(number_format="0.0%"), header=f"Metric {j + 1}"))
    step = max(rows // 1000, 1)
    for r in range(2, rows + 2, step):
        cl.add(ch.MarkCell("Plan", r, 9))
    for r in range(2, rows + 2, max(rows // 200, 1)):
        cl.add(ch.SetNote("Plan", r, 9, f"Budget in row {r} is above the cap"))
    series = (ch.Series("Budget", "'Summary'!$B$2:$B$3", "'Summary'!$A$2:$A$3"),)
    cl.add(ch.ReplaceSheet("Summary", cells=(
        ch.SetCell("Summary", 1, 1, "Stage"), ch.SetCell("Summary", 1, 2, "Budget"),
        ch.SetCell("Summary", 2, 1, "Upstream"), ch.SetCell("Summary", 2, 2, 1.0, formula='SUMIFS(Plan!I:I,Plan!O:O,"Upstream")'),
        ch.SetCell("Summary", 3, 1, "Downstream"), ch.SetCell("Summary", 3, 2, 1.0, formula='SUMIFS(Plan!I:I,Plan!O:O,"Downstream")')),
        charts=(ch.ChartSpec("doughnut", "Budget by stage", series, 5, 1),)))
    return cl


def step(name: str, src: Path, dest: Path, rows: int) -> dict:
    """Run inside a subprocess: one measured step."""
    t0 = time.perf_counter()
    if name == "zip-copy":
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, zin.read(info))
    elif name in ("apply", "reapply", "marks"):
        from xlplugin.file.write import apply_to_file
        cl = change_list(rows, stage_column=name != "marks")
        t0 = time.perf_counter()          # time the writer, not building the list
        apply_to_file(src, dest, cl)
    elif name == "openpyxl":
        import openpyxl
        wb = openpyxl.load_workbook(src)
        wb.save(dest)
    secs = time.perf_counter() - t0
    return {"step": name, "seconds": secs, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(name: str, src: Path, dest: Path, rows: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", name, str(src), str(dest), str(rows)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--no-openpyxl", action="store_true")
    ap.add_argument("--child", nargs=4, metavar=("STEP", "SRC", "DEST", "ROWS"))
    a = ap.parse_args()
    if a.child:
        name, src, dest, rows = a.child
        print(json.dumps(step(name, Path(src), Path(dest), int(rows))))
        return
    with tempfile.TemporaryDirectory(prefix="xlp-bench-") as tmp:
        tmp = Path(tmp)
        src = tmp / "plan.xlsx"
        t0 = time.perf_counter()
        build(src, a.rows)
        with zipfile.ZipFile(src) as z:
            sheet_mb = z.getinfo("xl/worksheets/sheet1.xml").file_size / 1e6
        print(f"built {a.rows:,} rows in {time.perf_counter() - t0:.1f}s: file {src.stat().st_size / 1e6:.1f} MB, "
              f"plan sheet XML {sheet_mb:.1f} MB uncompressed")
        base = run_child("zip-copy", src, tmp / "copy.xlsx", a.rows)
        res = [base, run_child("apply", src, tmp / "out.xlsx", a.rows)]
        res.append(run_child("reapply", tmp / "out.xlsx", tmp / "out2.xlsx", a.rows))
        res.append(run_child("marks", src, tmp / "out3.xlsx", a.rows))
        if not a.no_openpyxl:
            res.append(run_child("openpyxl", src, tmp / "opx.xlsx", a.rows))
        opx = next((r for r in res if r["step"] == "openpyxl"), None)
        print(f"{'step':<10} {'seconds':>8} {'peak RSS MB':>12} {'x zip-copy':>11} {'x openpyxl':>11}")
        for r in res:
            ratio_o = f"{r['seconds'] / opx['seconds']:.2f}" if opx else "-"
            print(f"{r['step']:<10} {r['seconds']:8.2f} {r['peak_rss_mb']:12.0f} "
                  f"{r['seconds'] / base['seconds']:11.2f} {ratio_o:>11}")
        print(f"peak RSS of apply / plan sheet XML size: {res[1]['peak_rss_mb'] / sheet_mb:.1f}x "
              f"(python + lxml baseline included; see zip-copy row)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
