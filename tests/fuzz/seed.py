"""Seed inputs for the package fuzzer: generated plans and the small corpus files.

    python -m tests.fuzz.seed build/fuzz/corpus
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.corpus import BAD, GOOD
from tests.plan_factory import make_plan

SMALL = 24_000     # bytes: small seeds mutate faster


def seed(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    make_plan(folder / "plan.xlsx")
    make_plan(folder / "plan-table.xlsx", as_table=True, top_left="C3", extra_sheets=("Notes",))
    n = 2
    for src in (*sorted(GOOD.glob("*.xls[xm]")), *sorted(BAD.glob("*.xls[xm]"))):
        if src.stat().st_size <= SMALL:
            shutil.copyfile(src, folder / f"{n:04d}{src.suffix}")
            n += 1
    return n


if __name__ == "__main__":
    print(f"{seed(Path(sys.argv[1]))} seeds in {sys.argv[1]}")
