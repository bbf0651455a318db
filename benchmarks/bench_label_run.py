"""Stage labels through the whole user path: `xlplugin run` on plan workbooks built from the
sources kept out of training, then the Stage column read back and scored.

    python -m benchmarks.bench_label_run                   # tests/data/stages_fresh
    python -m benchmarks.bench_label_run --fresh DIR ...   # other folders of source CSVs

bench_label scores `label_texts`, the call the pipeline makes; this runs the real command as a
user would (a process, a workbook with the usual plan columns around the text, the file it
writes) and reads what a person would see: the Stage and Stage basis cells.  One workbook with
the description column, one with the activity name alone; Owner, dates, budget and actual are
filled so the sheet is a plan and not a list.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_label import FRESH, TEXT_MODES, fresh_rows, report, score  # noqa: E402
from xlplugin.engine.stages.taxonomy import load_taxonomy  # noqa: E402

MODES = TEXT_MODES
OWNERS = ("Ana", "Ben", "Chloé", "Dev", "Emma", "Farid")


@dataclass
class ReadLabel:
    stage: str
    confidence: float


def build_plan(rows: list[dict[str, str]], fields: tuple[str, ...], path: Path, seed: int = 5) -> None:
    """A plan sheet: ID, Activity, [Description], Owner, Start, End, Budget, Actual, one row each."""
    import openpyxl

    rng = random.Random(seed)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plan"
    ws.append(["ID", "Activity", *(["Description"] if "description" in fields else []),
               "Owner", "Start", "End", "Budget", "Actual"])
    for i, r in enumerate(rows, start=1):
        start = date(2026, 1, 5) + timedelta(days=rng.randrange(300))
        budget = rng.randrange(5, 200) * 100
        ws.append([f"A-{i:04d}", r["activity"], *([r["description"]] if "description" in fields else []),
                   rng.choice(OWNERS), start, start + timedelta(days=rng.randrange(7, 90)), budget,
                   round(budget * rng.uniform(0.4, 1.2), 2)])
    wb.save(path)


def read_labels(path: Path, n: int) -> list[ReadLabel]:
    """The Stage column and the confidence its Stage basis cell states ('Upstream (0.91): ...')."""
    import openpyxl

    ws = openpyxl.load_workbook(path, read_only=True)["Plan"]
    rows = ws.iter_rows(values_only=True)
    header = list(next(rows))
    stage, basis = header.index("Stage"), header.index("Stage basis")
    out = []
    for row in rows:
        if row[1] is None:
            continue
        m = re.match(r"\w+ \((\d\.\d+)\)", str(row[basis] or ""))
        out.append(ReadLabel(str(row[stage]), float(m.group(1)) if m else 0.0))
    if len(out) != n:
        raise SystemExit(f"{path}: read {len(out)} labelled rows, wrote {n}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fresh", type=Path, nargs="+", default=[FRESH])
    args = ap.parse_args(argv)
    rows = fresh_rows(args.fresh)
    tax = load_taxonomy()
    xlplugin = Path(sys.executable).with_name("xlplugin")
    cmd = [str(xlplugin)] if xlplugin.exists() else [sys.executable, "-m", "xlplugin.cli"]
    print(f"{len(rows)} rows from {len({r['source'] for r in rows})} sources ({', '.join(map(str, args.fresh))}), "
          f"labelled by `xlplugin run` and read back from the written workbook")
    with tempfile.TemporaryDirectory() as tmp:
        for mode, fields in MODES.items():
            src, out = Path(tmp) / f"plan-{len(fields)}.xlsx", Path(tmp) / "out"
            build_plan(rows, fields, src)
            t = time.perf_counter()
            done = subprocess.run([*cmd, "run", str(src), "--out", str(out)], capture_output=True, text=True)
            wall = time.perf_counter() - t
            if done.returncode not in (0, 1):          # 1: findings; the file is written all the same
                raise SystemExit(f"xlplugin run failed ({done.returncode}):\n{done.stderr[-2000:]}")
            print(report(score(rows, read_labels(out / src.name, len(rows)), mode, tax), tax))
            print(f"                         (`xlplugin run` on {len(rows)} rows: {wall:.1f} s wall)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
