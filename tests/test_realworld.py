"""Real marketing workbooks written outside the project, through `xlplugin run`.

Asserts only what must hold whatever the locating rules decide: no traceback (nor
an "unexpected ... please report it" internal error), an exit code in {0, 1, 2},
exactly one error line naming the file on exit 2 (and no output), the input left
byte-identical, and in any output every part of the input outside the one edited
worksheet (its rels and the parts they point to) and the workbook-level parts the
writer maintains is byte-identical.  Which table was found,
and whether it was the right one, is measured by `python -m benchmarks.bench_workbooks`
(benchmarks/WORKBOOKS.md), not asserted here.

The workbooks are listed in tests/data/realworld/MANIFEST.csv with where each came
from; they are looked for in $XLPLUGIN_REALWORLD, ../shared/realworld beside the
checkout, then tests/data/realworld (benchmarks/realworld_sources.md says why they
are not committed).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from benchmarks.bench_workbooks import package_diff, workbooks

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = [Path(p) for p in [os.environ.get("XLPLUGIN_REALWORLD", "")] if p] + [
    ROOT.parent / "shared" / "realworld", ROOT / "tests" / "data" / "realworld"]
FOLDER = next((p for p in CANDIDATES if workbooks([p])), None)
FILES = workbooks([FOLDER]) if FOLDER else []
# Each run is a fresh interpreter and takes 1-5 s (20-40 s for the two largest exports),
# so the default suite runs a sample that covers every kind and every outcome (found,
# wrong row, not found, not a workbook) in well under a minute; XLPLUGIN_REALWORLD_ALL=1
# runs them all (python -m benchmarks.bench_workbooks always does).
SAMPLE = {
    "cc_internee_calendar.xlsx", "ms_marketing_project_planner.xlsx",
    "ms_event_budget.xlsx", "ms_channel_marketing_budget.xlsx", "perf_campaign_spend_sales.xlsx",
    "ru_mp_roxot.xlsx", "mediaplanpy_export.xlsx", "seo_digital_marketing_keywords.xlsx",
    "ru_lockfile.xlsx", "es_markdown_named_xlsx.xlsx",
}
ALL = os.environ.get("XLPLUGIN_REALWORLD_ALL") == "1" or not any(p.name in SAMPLE for p in FILES)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(src: Path, out: Path) -> tuple[str, subprocess.CompletedProcess, str]:
    before = _sha(src)
    out.mkdir()
    p = subprocess.run([sys.executable, "-m", "xlplugin.cli", "run", str(src), "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    return before, p, _sha(src)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, request) -> dict[Path, tuple]:
    """Every selected workbook through the CLI, two at a time (each run is mostly interpreter start-up)."""
    chosen = [item.callspec.params["src"] for item in request.session.items
              if item.module is sys.modules[__name__] and hasattr(item, "callspec")
              and not item.get_closest_marker("skip")]
    base = tmp_path_factory.mktemp("realworld")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {src: pool.submit(_run, src, base / src.stem) for src in chosen}
        return {src: (*f.result(), base / src.stem) for src, f in futures.items()}


def _param(p: Path):
    skip = pytest.mark.skip(reason="outside the sample: set XLPLUGIN_REALWORLD_ALL=1")
    return pytest.param(p, id=p.name, marks=[] if ALL or p.name in SAMPLE else [skip])


@pytest.mark.skipif(not FILES, reason="no real-world workbooks here: set XLPLUGIN_REALWORLD "
                    "(benchmarks/realworld_sources.md says where they come from)")
@pytest.mark.parametrize("src", [_param(p) for p in FILES])
def test_run_on_a_real_workbook(src: Path, runs: dict) -> None:
    before, p, after, outdir = runs[src]
    both = p.stdout + p.stderr
    assert "Traceback" not in both, both[-2000:]
    assert "please report it" not in both, both[-2000:]   # an exception the pipeline caught but did not expect
    assert p.returncode in (0, 1, 2), both[-2000:]
    assert after == before, "the input workbook changed"
    outputs = [q for q in outdir.iterdir() if q.suffix.lower() in (".xlsx", ".xlsm")]
    if p.returncode == 2:
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and src.name in lines[0], p.stderr
        assert not outputs, "exit 2 but an output was written"
        return
    assert len(outputs) == 1, f"exit {p.returncode} but outputs {outputs}"
    diff = package_diff(src, outputs[0])
    assert len(diff.edited_sheets) <= 1, f"more than one of the user's sheets edited: {diff.edited_sheets}"
    assert not diff.unexpected, f"parts changed or lost outside the edited sheet: {diff.unexpected}"


def test_the_part_check_catches_a_touched_sheet(tmp_path: Path) -> None:
    """The byte-identity check above must be able to fail: on the project's own plan, a
    clean run passes it, and an output where a second sheet or the theme was touched
    does not."""
    cli = [sys.executable, "-m", "xlplugin.cli"]
    plan = tmp_path / "plan.xlsx"
    subprocess.run(cli + ["new", str(plan)], check=True, capture_output=True)
    subprocess.run(cli + ["run", str(plan), "--out", str(tmp_path / "out")], capture_output=True, timeout=300)
    out = tmp_path / "out" / "plan.xlsx"
    clean = package_diff(plan, out)
    assert clean.edited_sheets == ["Plan"] and clean.first_row == 1 and not clean.unexpected

    tampered = tmp_path / "tampered.xlsx"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(tampered, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/theme/theme1.xml":
                continue                                   # a part lost
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"</sheetData>", b"</sheetData>", 1) + b"\n"   # a second sheet touched
            dst.writestr(info, data)
    bad = package_diff(plan, tampered)
    assert len(bad.edited_sheets) == 2 and "Plan" in bad.edited_sheets
    assert "xl/theme/theme1.xml" in bad.unexpected
