"""Column writes through the real CLI: `xlplugin run` on a real plan, the output read back.

The metric columns are shared formulas (t="shared"): openpyxl and calamine see their
cached values, LibreOffice recalculates them to the same numbers, `clear` gives the
plan sheet back byte for byte, <dimension> covers every used cell, and the workbook's
calcPr attributes are kept.
"""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests import libreoffice as lo
from tests.plan_factory import HEADERS, make_plan
from tests.test_cli import cli
from tests.test_summary import gen_rows
from xlplugin.changes import FormulaColumn, ValueColumn, shift_formula
from xlplugin.engine import metrics as M
from xlplugin.model import col_index


def _sheet_xml(path: Path, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(part)


def _run(tmp: Path, src: Path) -> Path:
    res = cli("run", str(src), "--out", str(tmp / "out"))
    assert res.returncode in (0, 1), res.stderr
    out = tmp / "out" / src.name
    assert out.exists(), res.stdout + res.stderr
    return out


def _metric_cols(ws) -> dict[str, int]:
    heads = {ws.cell(1, c).value: c for c in range(1, ws.max_column + 1)}
    return {m: heads[m] for m in M.METRIC_NAMES if m in heads}


@pytest.fixture(scope="module")
def plan_run(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("columns")
    rows, _ = gen_rows(60, seed=3)
    src = make_plan(tmp / "plan.xlsx", rows, HEADERS)
    return src, _run(tmp, src)


def test_metric_columns_are_shared_formulas_whose_cached_values_every_reader_sees(plan_run):
    src, out = plan_run
    xml = _sheet_xml(out).decode()
    masters = re.findall(r'<f t="shared" ref="([A-Z]+)(\d+):\1(\d+)" si="(\d+)">', xml)
    assert len(masters) >= 9                       # one shared formula per metric column
    assert xml.count('t="shared" si=') > 9 * 50    # and every other row refers to it

    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb["Plan"]
    formulas = openpyxl.load_workbook(out)["Plan"]
    cal = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Plan").to_python()
    cols = _metric_cols(ws)
    budget, actual = HEADERS.index("Budget") + 1, HEADERS.index("Actual") + 1
    checked = 0
    for r in range(2, ws.max_row + 1):
        b, a = ws.cell(r, budget).value, ws.cell(r, actual).value
        got = ws.cell(r, cols["Variance"]).value
        # openpyxl expands the shared formula to this row's own references
        assert formulas.cell(r, cols["Variance"]).value.startswith("=IF(")
        assert f"J{r}" in formulas.cell(r, cols["Variance"]).value
        if isinstance(b, (int, float)) and isinstance(a, (int, float)):
            assert math.isclose(got, a - b) and math.isclose(cal[r - 1][cols["Variance"] - 1], a - b)
            checked += 1
        else:   # guarded out: text ("" or "n/a"), the same to both readers
            assert not isinstance(got, float) and cal[r - 1][cols["Variance"] - 1] == (got or "")
    assert checked > 20


@pytest.mark.skipif(not lo.available(), reason="LibreOffice is not installed")
def test_libreoffice_recalculates_the_shared_formulas_to_the_cached_values(plan_run, tmp_path):
    _, out = plan_run
    cached = lo.read_values(out)["Plan"]
    recalc = lo.recalculate_values([out], tmp_path)[out]["Plan"]
    wb = openpyxl.load_workbook(out, read_only=True)
    cols = _metric_cols(wb["Plan"])
    wb.close()
    compared = 0
    for name, col in cols.items():
        for (r, c), v in cached.items():
            if c != col or r == 1:
                continue
            w = recalc.get((r, c))
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                assert isinstance(w, (int, float)) and math.isclose(v, w, rel_tol=1e-9, abs_tol=1e-9), (name, r, v, w)
                compared += 1
            else:
                assert w == v or (w in ("", None) and v in ("", None)), (name, r, v, w)   # "" or "n/a"
    assert compared > 100


def test_clear_gives_the_plan_sheet_back_byte_for_byte(plan_run, tmp_path):
    src, out = plan_run
    res = cli("clear", str(out), "--out", str(tmp_path / "cleared"))
    assert res.returncode == 0, res.stdout + res.stderr
    cleared = tmp_path / "cleared" / out.name
    assert _sheet_xml(cleared) == _sheet_xml(src)


def test_dimension_covers_every_used_cell(plan_run):
    _, out = plan_run
    xml = _sheet_xml(out).decode()
    ref = re.search(r'<dimension ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"', xml)
    assert ref is not None
    used = [(int(r), col_index(c)) for c, r in re.findall(r'<c r="([A-Z]+)(\d+)"', xml)]
    assert (col_index(ref.group(1)), int(ref.group(2))) == (1, 1)
    assert int(ref.group(4)) == max(r for r, _ in used)
    assert col_index(ref.group(3)) == max(c for _, c in used)


def _with_calc_pr(src: Path, dest: Path, calc_pr: str) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                data = re.sub(rb"<calcPr[^>]*/>", b"", data).replace(b"</workbook>", calc_pr.encode() + b"</workbook>")
            zout.writestr(info, data)
    return dest


def test_calc_pr_attributes_the_writer_does_not_own_are_kept(tmp_path):
    rows, _ = gen_rows(12, seed=5)
    base = make_plan(tmp_path / "base.xlsx", rows, HEADERS)
    calc = '<calcPr calcId="191029" calcMode="manual" iterate="1" iterateCount="50" fullCalcOnLoad="1"/>'
    src = _with_calc_pr(base, tmp_path / "calc.xlsx", calc)
    out = _run(tmp_path, src)
    res = cli("clear", str(out), "--out", str(tmp_path / "cleared"))
    assert res.returncode == 0, res.stdout + res.stderr
    for path in (out, tmp_path / "cleared" / src.name):
        got = re.search(rb"<calcPr[^>]*/>", _sheet_xml(path, "xl/workbook.xml")).group(0).decode()
        for attr in ('calcId="191029"', 'calcMode="manual"', 'iterate="1"', 'iterateCount="50"',
                     'fullCalcOnLoad="1"'):
            assert attr in got, (path.name, got)


def test_fill_down_matches_shift_formula_and_describes_by_column():
    f = 'IF(AND(ISNUMBER(J5),ISNUMBER(K5),J5<>0),(K5-J5)/J5/SUM($J$5:$J$9),"")'
    col = FormulaColumn("Plan", 16, 5, f, (0.1, "", 0.3, 0.4, 0.5))
    cells = list(col.cells())
    assert [c.formula for c in cells] == [shift_formula(f, i, 0) for i in range(5)]
    assert cells[2].formula.startswith("IF(AND(ISNUMBER(J7),ISNUMBER(K7),J7<>0)") and "$J$5:$J$9" in cells[2].formula
    assert col.describe().startswith("fill Plan!P5:P9 =IF(")
    vc = ValueColumn("Plan", 15, 5, ("Upstream",) * 1000)
    assert vc.describe() == "set Plan!O5:O1004 values 'Upstream', 'Upstream', 'Upstream', ... (1,000 rows)"


def test_a_new_sheet_mixes_single_cells_and_columns_in_column_order(tmp_path):
    """The Validation sheet's rows are made from column blocks a window at a time; single
    cells left of, among and beyond the columns land in their places, in column order."""
    from xlplugin.changes import ReplaceSheet, SetCell
    from xlplugin.file.write import apply_to_file

    plan = make_plan(tmp_path / "plan.xlsx")
    n = 5000          # more than one window of rows
    spec = ReplaceSheet("Findings", cells=(
        SetCell("Findings", 1, 1, "title"), SetCell("Findings", 3, 1, "left"), SetCell("Findings", 4, 3, "among"),
        SetCell("Findings", n + 9, 2, "below")),
        columns=(ValueColumn("Findings", 2, 3, tuple(f"b{i}" for i in range(n))),
                 ValueColumn("Findings", 4, 3, tuple(None if i % 2 else i for i in range(n)))))
    out = tmp_path / "out.xlsx"
    apply_to_file(plan, out, [spec])
    ws = openpyxl.load_workbook(out)["Findings"]
    assert [c.value for c in ws[3]] == ["left", "b0", None, 0]
    assert [c.value for c in ws[4]] == [None, "b1", "among", None]
    assert ws.cell(n + 2, 2).value == f"b{n - 1}" and ws.cell(n + 1, 4).value == n - 2
    assert ws.cell(n + 9, 2).value == "below" and ws.max_row == n + 9
    with zipfile.ZipFile(out) as z:
        part = next(n for n in z.namelist() if n.startswith("xl/worksheets/") and b"among" in z.read(n))
        row4 = re.search(rb'<row r="4">.*?</row>', z.read(part)).group(0)
    assert re.findall(rb'<c r="([A-Z]+)4"', row4) == [b"B", b"C"]
