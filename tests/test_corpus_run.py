"""The good corpus through the full `xlplugin run`, as ops run it over a folder.

Per workbook a plan sheet is inserted at the package level (the writer's ReplaceSheet,
then its state sheet stripped, so the plan is the user's own sheet), then one
`xlplugin run FOLDER --out OUT` processes them all.  Each file must end one of two ways:

- handled: every part outside the intended ones (the plan sheet and its notes, rels and
  Table; the workbook's lists; styles; new parts) is byte-identical, so no other sheet,
  chart, image or macro was touched; the output passes the reader's door and the plan
  sheet carries its Stage column;
- refused: one line naming the file, no output, and the reason is the one pinned in
  tests/data/corpus_run_refusals.csv (any other refusal, or a pinned one that no longer
  happens, fails).

Anything else is damage.  The default suite runs a fixed sample; `make corpus-check`
(XLPLUGIN_CORPUS_FULL=1) runs every file and prints the figures.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import pytest

from tests.corpus import GOOD
from tests.hostile.runner import cli
from tests.test_corpus_roundtrip import insert_plan_sheet
from xlplugin.errors import XlpluginError
from xlplugin.file.ooxml.package import open_package, rels_path

pytestmark = pytest.mark.slow

ALL = sorted(p for p in GOOD.glob("*") if p.suffix.lower() in (".xlsx", ".xlsm")) if GOOD.is_dir() else []
FULL = bool(os.environ.get("XLPLUGIN_CORPUS_FULL"))
SAMPLE = ALL if FULL else ALL[::20]          # 14 files in the default suite
PINNED = Path(__file__).parent / "data" / "corpus_run_refusals.csv"


def pinned() -> dict[str, str]:
    with open(PINNED, newline="", encoding="utf-8") as fh:
        return {r["file"]: r["reason"] for r in csv.DictReader(fh)}


def _intended(pkg, plan: str) -> set[str]:
    """The parts a run may change: the plan sheet, what hangs off it, the workbook's lists."""
    part = pkg.sheet(plan).part
    out = {part, rels_path(part), pkg.workbook_part, rels_path(pkg.workbook_part), "[Content_Types].xml",
           "xl/styles.xml", "xl/sharedStrings.xml", "xl/calcChain.xml"}
    out |= {r.target for r in pkg.rels(part) if not r.external}
    return out | {n for n in pkg.names() if n.startswith("docProps/")}


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("corpus-run")
    mid, out = work / "in", work / "out"
    mid.mkdir()
    plans, insert_refused = {}, {}
    for i, src in enumerate(SAMPLE):
        dest = mid / f"{i:03d}{src.suffix}"
        try:
            plans[dest.name] = (src, insert_plan_sheet(src, dest))
        except XlpluginError as e:
            insert_refused[src.name] = str(e).removeprefix(src.name + ": ")
    r = cli("run", str(mid), "--out", str(out), "--jobs", "2", timeout=3600)
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    lines = {}
    for ln in r.stderr.splitlines():
        if ln.startswith("error: "):
            path, _, why = ln[len("error: "):].partition(": ")
            lines[Path(path).name] = why
    return {"mid": mid, "out": out, "plans": plans, "insert_refused": insert_refused, "errors": lines,
            "stderr": r.stderr, "seconds": r.seconds}


def test_corpus_full_run(corpus_run) -> None:
    mid, out = corpus_run["mid"], corpus_run["out"]
    expected = pinned()
    handled, refused, damaged = [], {}, {}
    for name, (src, plan) in sorted(corpus_run["plans"].items()):
        result = out / name
        why = corpus_run["errors"].get(name)
        if why is not None:
            assert not result.exists(), f"{src.name}: refused but written"
            refused[src.name] = why
            continue
        if not result.exists():
            damaged[src.name] = "no output and no error line"
            continue
        with open_package(mid / name) as pkg:
            allowed = _intended(pkg, plan)
        with zipfile.ZipFile(mid / name) as a, zipfile.ZipFile(result) as b:
            lost = sorted(set(a.namelist()) - set(b.namelist()) - allowed)
            changed = sorted(n for n in set(a.namelist()) & set(b.namelist())
                             if n not in allowed and a.read(n) != b.read(n))
        if lost or changed:
            damaged[src.name] = f"lost {lost[:3]} changed {changed[:3]}"
            continue
        try:
            with open_package(result) as pkg:
                sheet = pkg.read(pkg.sheet(plan).part)
        except XlpluginError as e:
            damaged[src.name] = f"output refused by the reader: {e}"
            continue
        if b"Stage" not in sheet and b"Stage" not in _shared_strings(result):
            damaged[src.name] = "no Stage column on the plan sheet"
            continue
        handled.append(src.name)
    refused.update(corpus_run["insert_refused"])
    print(f"\ncorpus run: {len(corpus_run['plans']) + len(corpus_run['insert_refused'])} workbooks, "
          f"{len(handled)} kept byte-identical outside the intended parts, {len(refused)} refused, "
          f"{len(damaged)} damaged ({corpus_run['seconds']:.0f} s for the run)")
    for name, why in sorted(refused.items()):
        print(f"  refused {name}: {why}")
    assert not damaged, damaged
    sampled = {p.name for p in SAMPLE}
    unexpected = {n: w for n, w in refused.items() if n not in expected or expected[n] not in w}
    assert not unexpected, f"refusals not pinned in {PINNED.name}: {unexpected}"
    gone = sorted(n for n in expected if n in sampled and n not in refused)
    assert not gone, f"pinned refusals that no longer happen (update {PINNED.name}): {gone}"


def _shared_strings(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in z.namelist() else b""
