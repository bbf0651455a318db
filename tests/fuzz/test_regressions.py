"""Every input the fuzzer (tests/fuzz/fuzz_package.py) ever crashed on, replayed: each
must now read, or be refused with one clean line naming it (target.one_input raises
for anything else)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fuzz.target import one_input

CASES = sorted((Path(__file__).parent / "regressions").glob("*.xlsx"))


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_fuzzer_crash_is_now_handled(case: Path, tmp_path: Path) -> None:
    path = tmp_path / case.name
    shutil.copyfile(case, path)
    one_input(path)
