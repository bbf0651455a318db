"""Benchmark: `xlplugin run` end to end, side by side with the naive pipeline and the floor.

    python -m benchmarks.bench_run [--sizes 1000,10000,100000,1048575] [--no-ribbon]
    python -m benchmarks.bench_run --only-ribbon [--ribbon-rows 100000]

For each plan size (generated once, cached in benchmarks/.cache/), three processes, each
timed on its own with its peak RSS (os.wait4's ru_maxrss):
  xlplugin   the real `xlplugin run PLAN --out DIR` (check, label, summarize, write)
  naive      pandas read_excel, then openpyxl load, edit, save (skipped above 100k rows:
             it takes minutes and gigabytes there)
  floor      python-calamine reads the plan sheet, and the package is copied
then the every-row-bad plan (every row has a finding) at 100k rows, and the ribbon path
(xlwings' remote engine: payload in, actions out) at 100k rows.  Prints a table and
writes it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks.plans import plan  # noqa: E402

SIZES = (1_000, 10_000, 100_000, 1_048_575)
NAIVE_MAX = 100_000
RESULTS = HERE / "RESULTS.md"


@dataclass
class Run:
    seconds: float
    peak_mb: float
    rc: int
    cpu: float = 0.0      # user + system CPU seconds: steadier than wall time on a busy machine


# A child may not take more than this address space: a run that would not fit fails on its
# own instead of pushing the machine into swap or the OOM killer.
MAX_AS = 14 << 30


def _limit() -> None:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (MAX_AS, MAX_AS))


def timed(cmd: list[str]) -> Run:
    """Run cmd; wall time and the child's own peak RSS."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_limit)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):   # 1: the plan has errors (run still writes its output)
        print(f"   {' '.join(cmd[:4])}... failed ({proc.returncode}): {err.strip()[-400:]}", flush=True)
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime)


def xlplugin_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("xlplugin")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from xlplugin.cli import main; main()"]


def bench_size(rows: int, bad: bool, out: Path) -> dict:
    src = plan(rows, bad)
    res: dict = {"rows": rows, "bad": bad}
    dest = out / f"{rows}{'-bad' if bad else ''}"
    dest.mkdir(parents=True, exist_ok=True)
    res["floor"] = timed([sys.executable, "-m", "benchmarks.baselines", "floor", str(src), str(dest / "floor.xlsx")])
    res["xlplugin"] = timed([*xlplugin_cmd(), "run", str(src), "--out", str(dest / "run")])
    if rows <= NAIVE_MAX and not bad:
        res["naive"] = timed([sys.executable, "-m", "benchmarks.baselines", "naive", str(src),
                              str(dest / "naive.xlsx")])
    return res


def ribbon(rows: int) -> str:
    """The ribbon's run_all on a plan through xlwings' remote engine, in a child process:
    wall and CPU seconds of the command (payload in, actions out; building the payload
    is the client's work and not counted), the actions, their JSON size in all and the
    largest one (Excel on the web takes at most 5 MB a request)."""
    code = (
        "import os,time,json,sys;os.environ['XLWINGS_LICENSE_KEY']='noncommercial';"
        "sys.path.insert(0,'.');from tests.test_excel import payload_from_file;import xlwings as xw;"
        "from xlplugin import excel;from benchmarks.plans import plan;"
        f"p=payload_from_file(plan({rows}));t=time.perf_counter();c=time.process_time();b=xw.Book(json=p);"
        "r=excel.ribbon_on(b,'run_all');acts=b.json()['actions'];"
        "s=time.perf_counter()-t;c=time.process_time()-c;"
        "sizes=[len(json.dumps(a,default=str)) for a in acts];"
        "print(f'{s:.2f} s ({c:.2f} s CPU), {len(acts)} actions, {sum(sizes)/1e6:.1f} MB in all, '"
        "f'largest {max(sizes)/1e6:.2f} MB')"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    return p.stdout.strip() or f"failed: {p.stderr.strip()[-300:]}"


def table(results: list[dict]) -> list[str]:
    lines = ["| plan rows | xlplugin s (CPU s) | peak MB | rows/s | floor s (CPU s) | x floor (CPU) "
             "| naive s (CPU s) | naive peak MB | naive / xlplugin (CPU) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        x, f, n = r["xlplugin"], r["floor"], r.get("naive")
        name = f"{r['rows']:,}" + (" every row bad" if r["bad"] else "")
        fail = "" if x.rc in (0, 1) else f" (failed, exit {x.rc})"
        naive = (f"{n.seconds:.1f} ({n.cpu:.1f}) | {n.peak_mb:.0f} | {n.seconds / x.seconds:.1f}x "
                 f"({n.cpu / max(x.cpu, 1e-9):.1f}x)" if n
                 else "skipped above 100k | | " if r["rows"] > NAIVE_MAX else "| | ")
        lines.append(f"| {name} | {x.seconds:.2f} ({x.cpu:.2f}){fail} | {x.peak_mb:.0f} | "
                     f"{r['rows'] / x.seconds:,.0f} | {f.seconds:.2f} ({f.cpu:.2f}) | "
                     f"{x.seconds / f.seconds:.2f}x ({x.cpu / max(f.cpu, 1e-9):.2f}x) | {naive} |")
    return lines


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--no-ribbon", action="store_true")
    ap.add_argument("--only-ribbon", action="store_true", help="only the ribbon path (writes no RESULTS.md)")
    ap.add_argument("--ribbon-rows", type=int, default=100_000)
    ap.add_argument("--no-write", action="store_true", help="don't rewrite benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    if args.only_ribbon:
        print(f"ribbon path, {args.ribbon_rows:,} rows (remote engine, run_all): {ribbon(args.ribbon_rows)}")
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results = []
    with tempfile.TemporaryDirectory(prefix="xlplugin-bench-") as tmp:
        for rows in sizes:
            print(f"-- {rows:,} rows", flush=True)
            results.append(bench_size(rows, False, Path(tmp)))
        bad = 100_000 if 100_000 in sizes or not sizes else min(sizes)
        print(f"-- {bad:,} rows, every row bad", flush=True)
        results.append(bench_size(bad, True, Path(tmp)))
    lines = table(results)
    rib = None if args.no_ribbon else ribbon(args.ribbon_rows)
    print("\n".join(lines))
    if rib:
        print(f"ribbon path, 100,000 rows (remote engine, run_all): {rib}")
    if not args.no_write:
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        text = ["# Benchmark results", "",
                f"`make bench` (`python -m benchmarks`), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                f"{machine}. Seconds are wall time of the whole process; peak MB is its maximum RSS. "
                "naive: pandas `read_excel`, then openpyxl load, edit, save (not run above 100k rows). "
                "floor: python-calamine reads the plan sheet, the package is copied. "
                "CPU s (user + system) is given beside wall time: the machine is shared, and "
                "wall time swings with its load.", "", *lines, ""]
        if rib:
            text += [f"Ribbon path, 100,000 rows (xlwings remote engine, `run_all`): {rib}.", ""]
        RESULTS.write_text("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
