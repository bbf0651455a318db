"""Every real Excel workbook of the corpus, through the file writer.

Per workbook: a plan sheet is inserted at the package level (the writer's own
ReplaceSheet, then its state sheet is stripped, so the plan is the user's sheet),
then a representative change list is applied (clear, set cells, mark, note on the
plan sheet; a Summary sheet with formulas, hyperlinks and a chart).  Proved:
every part outside the allowed set is byte-identical to the original, every other
sheet's values are unchanged (python-calamine), the output loads in openpyxl, and
(in one slow test) LibreOffice headless opens every output.  A workbook the writer
refuses must be refused with a one-line message naming it, and leave no output.

    pytest tests/test_corpus_roundtrip.py -q -s      # prints the handled/refused counts
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import os
import shutil
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from tests.corpus import GOOD
from tests.libreoffice import CSV_ALL_SHEETS
from tests.plan_factory import HEADERS, ROWS
from tests.test_notes import openpyxl_is_slow
from xlplugin import changes as ch
from xlplugin.errors import XlpluginError
from xlplugin.file.ooxml.package import open_package
from xlplugin.file.write import apply_to_file
from xlplugin.file.write.packager import PackageEdit
from xlplugin.file.write.state import STATE_SHEET
from xlplugin.file.write.workbook_parts import WorkbookXml

pytestmark = pytest.mark.slow

CORPUS = Path(os.environ.get("XLPLUGIN_CORPUS", GOOD))
FILES = sorted(p for p in CORPUS.glob("*") if p.suffix.lower() in (".xlsx", ".xlsm")) if CORPUS.is_dir() else []
ALLOWED = {"[Content_Types].xml", "xl/styles.xml", "xl/sharedStrings.xml", "xl/calcChain.xml"}

# The refusals we expect, by file and reason: any other refusal fails, and so does a pinned
# one that stops happening (then update the file).  Strict files, a protected workbook
# structure, a relationship to a missing part.
REFUSALS_CSV = Path(__file__).parent / "data" / "corpus_roundtrip_refusals.csv"
with open(REFUSALS_CSV, newline="", encoding="utf-8") as _fh:
    PINNED: dict[str, str] = {r["file"]: r["reason"] for r in csv.DictReader(_fh)}


def assert_pinned_refusal(src: Path, message: str) -> None:
    assert "\n" not in message and message.startswith(src.name + ": "), message
    assert src.name in PINNED, f"unexpected refusal (pin it in {REFUSALS_CSV.name} if right): {message}"
    assert PINNED[src.name] in message, f"refused for another reason than pinned: {message}"


_results: dict[str, dict] = {}      # file name -> outcome, shared with the summary tests
_workdir: list[Path] = []


def _allowed(part: str, workbook_part: str) -> bool:
    wb_rels = workbook_part.rsplit("/", 1)[0] + "/_rels/" + workbook_part.rsplit("/", 1)[1] + ".rels"
    return part in ALLOWED or part in (workbook_part, wb_rels) or part.startswith("docProps/")


def insert_plan_sheet(src: Path, dest: Path) -> str:
    """Test-only inserter: add a plan sheet, then strip the tool's state so it is the user's."""
    cells = [ch.SetCell("Plan", 3, 2 + j, h) for j, h in enumerate(HEADERS)]
    for i, row in enumerate(ROWS):
        for j, v in enumerate(row):
            if v is not None:
                style = ch.Style(number_format="yyyy-mm-dd") if isinstance(v, dt.date) else None
                cells.append(ch.SetCell("Plan", 4 + i, 2 + j, v, style=style))
    res = apply_to_file(src, dest, ch.ChangeList([ch.ReplaceSheet("Plan", cells=tuple(cells))]))
    name = res.renamed.get("Plan", "Plan")
    with open_package(dest) as pkg:
        edit = PackageEdit(pkg)
        wb = WorkbookXml(edit)
        wb.remove_sheet(STATE_SHEET)
        edit.write(dest)
    return name


def change_list(plan: str) -> ch.ChangeList:
    q = "'" + plan.replace("'", "''") + "'"
    summary = ch.ReplaceSheet(
        "Summary",
        cells=(ch.SetCell("Summary", 1, 1, "Stage", style=ch.Style(bold=True)),
               ch.SetCell("Summary", 1, 2, "Budget", style=ch.Style(bold=True)),
               ch.SetCell("Summary", 2, 1, "Upstream"),
               ch.SetCell("Summary", 2, 2, 30000, formula=f"SUM({q}!J4:J5)", style=ch.Style(number_format="#,##0")),
               ch.SetCell("Summary", 3, 1, "Downstream"),
               ch.SetCell("Summary", 3, 2, 63000, formula=f"SUM({q}!J6:J8)", style=ch.Style(number_format="#,##0")),
               ch.SetCell("Summary", 4, 1, "=HYPERLINK(\"x\")"),
               ch.SetCell("Summary", 4, 2, "ok", formula='IF(B2>0,"ok","none")')),
        col_widths=((1, 20.0),), freeze=(2, 1),
        hyperlinks=(ch.Hyperlink(2, 1, f"{q}!C4"),),
        charts=(ch.ChartSpec("doughnut", "Budget by stage",
                             (ch.Series("Budget", "'Summary'!$B$2:$B$3", "'Summary'!$A$2:$A$3"),), 6, 1),))
    return ch.ChangeList([
        ch.ClearMarks(),
        ch.SetCell(plan, 3, 16, "Stage", style=ch.Style(bold=True)),
        ch.SetCell(plan, 4, 16, "Upstream"),
        ch.SetCell(plan, 5, 16, 0.5, formula="J5/J4"),
        ch.MarkCell(plan, 5, 10), ch.MarkCell(plan, 6, 3, fill=ch.MARK_WARNING),
        ch.SetNote(plan, 5, 10, "Budget above the cap"),
        summary,
    ])


def _values(path: Path) -> dict[str, list] | None:
    """Every sheet's values through python-calamine; None only when calamine refuses the
    file itself (its own error: a workbook shape it does not support)."""
    from python_calamine import CalamineError, CalamineWorkbook
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except CalamineError:
        return None
    return {n: wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names}


def process(src: Path) -> dict:
    """Run one workbook; memoised so the LibreOffice test reuses the outputs."""
    if src.name in _results:
        return _results[src.name]
    if not _workdir:
        import tempfile
        _workdir.append(Path(tempfile.mkdtemp(prefix="xlp-corpus-")))
    work = _workdir[0] / f"{len(_results):03d}"
    (work / "mid").mkdir(parents=True)
    (work / "out").mkdir()
    mid, out = work / "mid" / src.name, work / "out" / src.name
    outcome: dict = {"src": src, "out": None, "refused": None}
    step = "insert"
    try:
        plan = insert_plan_sheet(src, mid)
        step = "apply"
        apply_to_file(mid, out, change_list(plan))
        outcome.update(out=out, plan=plan)
    except XlpluginError as e:
        outcome["refused"] = str(e)
        # Nothing may be left behind by the step that refused.
        outcome["leftovers"] = sorted(p.name for p in (work / ("mid" if step == "insert" else "out")).iterdir())
    _results[src.name] = outcome
    return outcome


@pytest.mark.parametrize("src", FILES, ids=[p.name[:80] for p in FILES])
def test_corpus_workbook(src: Path) -> None:
    r = process(src)
    if r["refused"]:
        assert_pinned_refusal(src, r["refused"])
        assert r["leftovers"] == [], r["leftovers"]   # nothing written when refused
        return
    assert src.name not in PINNED, f"pinned as refused ({PINNED.get(src.name)}) but handled now"
    out: Path = r["out"]
    with open_package(src) as pkg:
        wb_part = pkg.workbook_part
        orig_sheets = [s.name for s in pkg.sheets]
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        a_names, b_names = set(a.namelist()), set(b.namelist())
        missing = {n for n in a_names - b_names if not _allowed(n, wb_part)}
        assert not missing, f"parts lost: {sorted(missing)}"
        changed = [n for n in a_names & b_names if not _allowed(n, wb_part) and a.read(n) != b.read(n)]
        assert not changed, f"parts changed: {changed}"
        assert b.testzip() is None
    before, after = _values(src), _values(out)
    if before is not None:
        assert after is not None, "python-calamine cannot read the output"
        for name in orig_sheets:
            if name in before:
                assert after.get(name) == before[name], f"values of sheet {name!r} changed"
    if openpyxl_is_slow(out):
        # openpyxl takes minutes on a style spanning all 16,384 columns: read it back with
        # the package XML instead.
        import re
        with open_package(out) as pkg:
            states = {s.name: s.state for s in pkg.sheets}
            assert states.get(STATE_SHEET) == "veryHidden", states
            assert "Summary" in states or "Summary (xlplugin)" in states
            part = pkg.sheet(r["plan"]).part
            assert re.search(rb'<c r="P3"[^>]*t="inlineStr"><is><t>Stage</t>', pkg.read(part))
            assert any(rel.type.endswith("/comments") for rel in pkg.rels(part))
        r["checked"] = True
        return
    import openpyxl
    try:
        wb = openpyxl.load_workbook(out)
    except OPENPYXL_FAILS as e:
        # Acceptable only where openpyxl fails the same way on the untouched original.
        with pytest.raises(type(e)):
            openpyxl.load_workbook(src)
        r["checked"] = True
        return
    assert STATE_SHEET in wb.sheetnames and wb[STATE_SHEET].sheet_state == "veryHidden"
    assert "Summary" in wb.sheetnames or "Summary (xlplugin)" in wb.sheetnames
    ws = wb[r["plan"]]
    assert ws["P3"].value == "Stage" and ws["J5"].comment is not None
    wb.close()
    r["checked"] = True


# What openpyxl raises on the odd-but-valid corpus files it cannot load (never a bare Exception).
OPENPYXL_FAILS = (ValueError, TypeError, KeyError, IndexError, AttributeError, zipfile.BadZipFile)

_clear_counts: Counter = Counter()


@pytest.mark.parametrize("src", FILES, ids=[p.name[:80] for p in FILES])
def test_corpus_run_then_clear_restores_the_users_sheet(src: Path, tmp_path: Path) -> None:
    """Marks, a note, cells, a dropdown and a width on the workbook's own first
    worksheet, then a full clear: that sheet's XML comes back byte-identical (goal) or
    at least canonically identical (minimum), and no part is left over or lost."""
    from lxml import etree
    try:
        with open_package(src) as pkg:
            ws = [s for s in pkg.sheets if s.kind == "worksheet"]
    except XlpluginError as e:     # refused at the door
        assert_pinned_refusal(src, str(e))
        _clear_counts["refused"] += 1
        return
    if not ws:   # only chart sheets: a Strict file here, refused for writing anyway
        assert src.name in PINNED, "a workbook without a worksheet that is not pinned"
        return
    name, part = ws[0].name, ws[0].part
    run = ch.ChangeList([
        ch.ClearMarks(), ch.MarkCell(name, 2, 2), ch.MarkCell(name, 3, 3, fill=ch.MARK_WARNING),
        ch.SetNote(name, 2, 2, "tool note"), ch.SetCell(name, 1, 30, "Stage"), ch.SetCell(name, 2, 30, "Upstream"),
        ch.ListValidation(name, "AD2:AD9", ("Upstream", "Downstream")), ch.SetColumnWidth(name, 30, 12.0)])
    ran, cleared = tmp_path / ("ran" + src.suffix), tmp_path / ("cleared" + src.suffix)
    try:
        apply_to_file(src, ran, run)
    except XlpluginError as e:
        assert_pinned_refusal(src, str(e))
        assert not ran.exists()
        _clear_counts["refused"] += 1
        return
    assert src.name not in PINNED, f"pinned as refused ({PINNED.get(src.name)}) but handled now"
    apply_to_file(ran, cleared, ch.ChangeList([ch.ClearMarks(everything=True)]))
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(cleared) as b:
        assert set(b.namelist()) == set(a.namelist()) - {"xl/calcChain.xml"}
        before, after = a.read(part), b.read(part)
    if before == after:
        _clear_counts["byte-identical"] += 1
        return
    def canonical(xml: bytes) -> bytes:
        root = etree.fromstring(xml, etree.XMLParser(huge_tree=True))
        for el in root.iter():   # indentation between elements is not content
            if el.text is not None and not el.text.strip() and len(el) == 0 and etree.QName(el).localname != "t":
                el.text = None
            if el.tail is not None and not el.tail.strip():
                el.tail = None
        return etree.tostring(root, method="c14n")

    assert canonical(before) == canonical(after)
    _clear_counts["canonically identical"] += 1


def lo_opens(paths: list[Path], workdir: Path) -> set[Path]:
    """The paths LibreOffice headless opens (converts to CSV), in as few soffice calls as
    possible: one call over all files; when LibreOffice crashes on a file (some corpus
    files crash it even untouched), that file is noted and a new call takes the rest."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice
    profile, conv = workdir / "profile", workdir / "csv"
    ok: set[Path] = set()

    def run(batch: list[Path]) -> None:
        subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                        "--convert-to", CSV_ALL_SHEETS, "--outdir", str(conv), *map(str, batch)],
                       capture_output=True, timeout=1800, env=dict(os.environ, HOME=str(workdir)))
        ok.update(p for p in batch if any(conv.glob(glob.escape(p.stem) + "-*.csv")))

    pending = list(paths)
    while pending:
        run(pending)
        missing = [i for i, p in enumerate(pending) if p not in ok]
        if not missing:
            break
        # LibreOffice stopped around this file; a crash can also come just after a file
        # was written, so the first missing one gets a call of its own before it is blamed.
        first = pending[missing[0]]
        run([first])
        pending = [p for p in pending[missing[0] + 1:] if p not in ok]
    return ok


def orig_sheet_names(src: Path) -> set[str]:
    with open_package(src) as pkg:
        return {s.name for s in pkg.sheets}


def test_libreoffice_opens_every_output(tmp_path: Path) -> None:
    if not (shutil.which("soffice") or shutil.which("libreoffice")):
        pytest.skip("LibreOffice not installed")
    outs: dict[Path, Path] = {}            # renamed output -> source
    for src in FILES:
        r = process(src)
        if r["out"] is not None:
            named = tmp_path / "out" / (f"o{len(outs):03d}" + src.suffix)
            named.parent.mkdir(exist_ok=True)
            shutil.copyfile(r["out"], named)
            outs[named] = src
    opened = lo_opens(list(outs), tmp_path / "lo-out")
    # Read back what LibreOffice made of each output: the plan as inserted, the tool's
    # Stage column beside it, and the Summary sheet's labels.
    for named in sorted(opened):
        r = process(outs[named])
        sheets = {f.stem[len(named.stem) + 1:]: f for f in (tmp_path / "lo-out" / "csv").glob(named.stem + "-*.csv")}
        with open(sheets[r["plan"]], newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert rows[2][1:1 + len(HEADERS)] == HEADERS, (outs[named].name, rows[2])
        assert rows[2][15] == "Stage" and rows[3][2] == ROWS[0][1], (outs[named].name, rows[2:4])
        summary = sheets.get("Summary (xlplugin)") if "Summary" in orig_sheet_names(outs[named]) \
            else sheets.get("Summary")
        assert summary is not None and "Upstream" in summary.read_text(encoding="utf-8"), outs[named].name
    failed = [outs[p] for p in outs if p not in opened]
    if failed:   # acceptable only where LibreOffice cannot open the untouched original either
        originals = {}
        for i, src in enumerate(failed):
            named = tmp_path / "orig" / (f"s{i:03d}" + src.suffix)
            named.parent.mkdir(exist_ok=True)
            shutil.copyfile(src, named)
            originals[named] = src
        opened_orig = lo_opens(list(originals), tmp_path / "lo-orig")
        really = [originals[p].name for p in originals if p in opened_orig]
        print(f"\nLibreOffice: {len(opened)} of {len(outs)} outputs opened; "
              f"{len(failed) - len(really)} also fail untouched")
        assert not really, f"LibreOffice opens the original but not our output: {really}"
    else:
        print(f"\nLibreOffice: all {len(outs)} outputs opened")


def test_corpus_counts() -> None:
    """Prints the counts for the report (run with -s)."""
    for src in FILES:
        process(src)
    refused = Counter(r["refused"].split(": ", 1)[-1][:70] for r in _results.values() if r["refused"])
    handled = sum(1 for r in _results.values() if r["out"] is not None)
    print(f"\ncorpus: {len(FILES)} workbooks, {handled} handled, {sum(refused.values())} refused")
    for why, n in refused.most_common():
        print(f"  refused {n}: {why}")
    assert handled == len(FILES) - len(PINNED)
    assert {n for n, r in _results.items() if r["refused"]} == set(PINNED)
    if _clear_counts:
        print("run-then-clear of each workbook's first sheet: " + ", ".join(f"{n} {k}" for k, n in _clear_counts.items()))
