"""Run every benchmark: `python -m benchmarks` (or `make bench`).

Each benchmarks/bench_*.py is run as its own process (`python -m benchmarks.bench_x`),
so one benchmark's memory and imports don't colour the next one's figures.
Pass names to run a subset: `python -m benchmarks read label`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    worst = 0
    for name in names:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, "-m", f"benchmarks.{name}"], cwd=HERE.parent)
        print(f"-- {name}: exit {rc}, {time.perf_counter() - t0:.1f} s\n", flush=True)
        worst = max(worst, rc)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
