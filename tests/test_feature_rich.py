"""A plan sheet rich in features through `xlplugin run`, `clear`, and `run` again, as a
user runs them (the CLI, a real file): nothing of it lost, clear restores the sheet
byte-identically, and run-clear-run equals run across every part of the package."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from tests import feature_rich
from tests.hostile.runner import cli

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PLAN = feature_rich.PLAN_PART
# Parts a run may change: the plan sheet, its Table, its notes, and the workbook's lists.
MAY_CHANGE = {PLAN, "xl/tables/table1.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
              "[Content_Types].xml", "docProps/app.xml", "xl/styles.xml", "xl/comments1.xml",
              "xl/drawings/vmlDrawing1.vml", "xl/worksheets/_rels/sheet1.xml.rels"}
# Everything of the sheet a run must keep as it was (the tool adds columns, cells, a dropdown).
KEPT = ["sheetViews", "mergeCells", "conditionalFormatting", "printOptions", "pageMargins",
        "pageSetup", "headerFooter", "legacyDrawing", "tableParts", "extLst", "sheetFormatPr"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("rich")
    src = feature_rich.build(d / "plan.xlsx")
    out = {"src": src}
    for step, cmd, inp in (("run", "run", src), ("clear", "clear", None), ("again", "run", None)):
        inp = inp or out[{"clear": "run", "again": "clear"}[step]]
        r = cli(cmd, str(inp), "--out", str(d / step))
        assert r.returncode in (0, 1), r.stderr[-3000:]
        out[step] = d / step / "plan.xlsx"
    return out


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _sheet(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def _c14n(el: etree._Element | None) -> bytes:
    return etree.tostring(el, method="c14n") if el is not None else b""


def test_run_loses_nothing(runs):
    before, after = _parts(runs["src"]), _parts(runs["run"])
    assert set(before) <= set(after), sorted(set(before) - set(after))
    changed = sorted(n for n in before if before[n] != after[n] and n not in MAY_CHANGE)
    assert not changed, changed
    # the threaded comment and its person list travel byte for byte
    assert after["xl/threadedComments/threadedComment1.xml"] == before["xl/threadedComments/threadedComment1.xml"]
    a, b = _sheet(before[PLAN]), _sheet(after[PLAN])
    for tag in KEPT:
        olds = a.findall(f"{{{NS}}}{tag}")
        assert olds, f"the test sheet lacks {tag}"
        assert [_c14n(e) for e in olds] == [_c14n(e) for e in b.findall(f"{{{NS}}}{tag}")], tag
    ext = _c14n(b.find(f"{{{NS}}}extLst"))
    for marker in (b"x14:dataValidation", b"x14:sparklineGroup", b"x14:dataBar"):
        assert marker in ext, marker
    # the user's own dropdown stays; the tool's Stage dropdown is added beside it
    old_dv = {_c14n(e) for e in a.iter(f"{{{NS}}}dataValidation")}
    assert old_dv <= {_c14n(e) for e in b.iter(f"{{{NS}}}dataValidation")}
    # grouped and hidden rows, and every original cell's value and formula
    rows_a = {r.get("r"): (r.get("hidden"), r.get("outlineLevel")) for r in a.iter(f"{{{NS}}}row")}
    rows_b = {r.get("r"): (r.get("hidden"), r.get("outlineLevel")) for r in b.iter(f"{{{NS}}}row")}
    assert rows_a == {k: rows_b[k] for k in rows_a}
    cells_b = {c.get("r"): c for c in b.iter(f"{{{NS}}}c")}
    for c in a.iter(f"{{{NS}}}c"):
        if c.get("r") in ("I4",):    # the budget cell the tool marks: its value stays, its style is the mark
            assert _c14n(c.find(f"{{{NS}}}v")) == _c14n(cells_b["I4"].find(f"{{{NS}}}v"))
            continue
        assert _c14n(c) == _c14n(cells_b[c.get("r")]), c.get("r")
    # the Table keeps its totals row; print titles and area stay defined
    assert b'totalsRowCount="1"' in after["xl/tables/table1.xml"]
    for name in (b"_xlnm.Print_Titles", b"_xlnm.Print_Area"):
        assert name in after["xl/workbook.xml"]


def test_run_never_overwrites_a_users_note(runs):
    """A finding on a cell that already holds the user's note: the note stays as it was
    (the writer skips its own there); the finding is still marked and listed."""
    import openpyxl
    wb = openpyxl.load_workbook(runs["run"])
    ws = wb["Plan"]
    assert ws["I4"].comment.text == "Finance approved 12k"
    assert ws["B5"].comment.text == "Check the focus group vendor"
    assert ws["B6"].comment.text == feature_rich.THREADED_FALLBACK
    assert ws["I4"].fill.fgColor.rgb != wb["Plan"]["I5"].fill.fgColor.rgb      # marked
    listed = [[c.value for c in row] for row in wb["Validation"].iter_rows()]
    assert any("I4" in row and "Budget" in row for row in listed), listed


def test_dimension_covers_every_used_cell(runs):
    sheet = _sheet(_parts(runs["run"])[PLAN])
    dim = sheet.find(f"{{{NS}}}dimension").get("ref")
    from xlplugin.file.read import parse_range
    r1, c1, r2, c2 = parse_range(dim)
    from xlplugin.model import split_ref
    for c in sheet.iter(f"{{{NS}}}c"):
        r, col = split_ref(c.get("r"))
        assert r1 <= r <= r2 and c1 <= col <= c2, f"{c.get('r')} outside <dimension ref={dim}>"


@pytest.mark.xfail(strict=True, reason="the writer sets fullCalcOnLoad=1; the speed branch keeps it "
                                       "(issue 13): drop this marker when that lands")
def test_full_calc_on_load_is_kept(runs):
    wb = _parts(runs["run"])["xl/workbook.xml"]
    assert re.search(rb'<calcPr[^>]*fullCalcOnLoad="0"', wb), re.search(rb"<calcPr[^>]*>", wb)


def test_clear_restores_the_sheet_byte_identically(runs):
    before, cleared = _parts(runs["src"]), _parts(runs["clear"])
    assert set(cleared) == set(before), sorted(set(cleared) ^ set(before))
    for part in (PLAN, "xl/comments1.xml", "xl/drawings/vmlDrawing1.vml",
                 "xl/worksheets/_rels/sheet1.xml.rels", "xl/threadedComments/threadedComment1.xml",
                 "xl/persons/person.xml"):
        assert cleared[part] == before[part], part
    # parts the run re-serialised come back with the same content
    for part in ("xl/tables/table1.xml", "[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
        assert _c14n(etree.fromstring(cleared[part])) == _c14n(etree.fromstring(before[part])), part


_PRODUCED = re.compile(rb'(<c r="B[1-6]"[^>]*>)<v>4\d{4}\.\d+</v>')   # the Summary's "Produced" time


def test_run_clear_run_equals_run_in_every_part(runs):
    once, again = _parts(runs["run"]), _parts(runs["again"])
    assert sorted(once) == sorted(again)
    differ = [n for n in once if once[n] != again[n]]
    for n in differ:
        assert _PRODUCED.sub(rb"\1", once[n]) == _PRODUCED.sub(rb"\1", again[n]), n
    assert len(differ) <= 1, differ
