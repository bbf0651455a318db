"""Benchmark: the file writer alone, on the change list a real `xlplugin run` makes.

    python -m benchmarks.write_only --rows 100000 [--bad] [--reps 1] [--profile]

The plan (benchmarks/plans.py) is analysed and rendered once and the change list kept in
benchmarks/.cache/ (pickled; the first run also analyses, so take figures from a second
one).  Only apply_to_file is timed: CPU seconds (user + system) per repetition and the
process's peak RSS (which includes the change list).  To compare two checkouts
in one run, run it with PYTHONPATH=OTHER_CHECKOUT and without.
"""

from __future__ import annotations

import argparse
import pickle
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.plans import CACHE, plan  # noqa: E402


def change_list(src: Path):
    """The change list `xlplugin run` makes for src (cached beside the plan)."""
    cache = CACHE / (src.stem + ".changes.pkl")
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    from xlplugin.pipeline import Options, analyse, compose, render
    opts, _ = compose(Options(), src.with_name("out.xlsx"))
    changes = render(analyse(src, opts), opts, src.name)
    cache.write_bytes(pickle.dumps(changes))
    return changes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--bad", action="store_true", help="the every-row-bad plan")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="pyinstrument's tree of the timed part")
    args = ap.parse_args()
    src = plan(args.rows, args.bad)
    changes = change_list(src)
    from xlplugin.file.write import apply_to_file
    out = CACHE / f"write-only-{src.name}"
    prof = None
    if args.profile:
        from pyinstrument import Profiler
        prof = Profiler()
        prof.start()
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(args.reps):
        apply_to_file(src, out, changes)
    r1, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - t0
    if prof is not None:
        prof.stop()
        print(prof.output_text())
    cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / args.reps
    print(f"apply_to_file {src.name}: {cpu:.3f} s CPU per run, {wall / args.reps:.2f} s wall, "
          f"peak RSS {r1.ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
