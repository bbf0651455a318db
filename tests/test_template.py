"""The shipped template and the demo sample plan: up to date, well-formed, found by locate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from templates import build_template, sample_plan
from xlplugin.engine.locate import locate_plan
from xlplugin.file.read import open_workbook

TEMPLATES = Path(build_template.__file__).resolve().parent
TEMPLATE = TEMPLATES / "plan-template.xlsx"
SAMPLE = TEMPLATES / "sample-plan.xlsx"


def _values(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path)
    try:
        return {ws.title: [tuple(c.value for c in row) for row in ws.iter_rows()] for ws in wb.worksheets}
    finally:
        wb.close()


@pytest.mark.parametrize("module, shipped", [(build_template, TEMPLATE), (sample_plan, SAMPLE)],
                         ids=["template", "sample"])
def test_shipped_file_matches_its_build_script(tmp_path: Path, module, shipped: Path) -> None:
    """The committed .xlsx is what the script builds now (re-run the script after edits)."""
    fresh = module.build(tmp_path / shipped.name)
    assert _values(fresh) == _values(shipped)


def test_template_is_an_excel_table_with_dropdowns() -> None:
    with open_workbook(TEMPLATE) as wb:
        p = locate_plan(wb)
        assert wb.sheet_names == ["Plan", "Instructions", "Lists"]
        grid = wb.grid("Plan")
    assert p.table is not None and p.table.name == "Plan" and p.sheet == "Plan"
    assert (p.header_row, p.first_col, p.last_col) == (1, 1, len(build_template.HEADERS))
    assert p.data_rows == list(range(2, 2 + len(build_template.SAMPLE_ROWS)))
    assert [c.header for c in p.columns] == build_template.HEADERS
    assert all(c.field for c in p.columns), [c.header for c in p.columns if not c.field]
    assert p.list_values["channel"] == build_template.CHANNELS
    assert p.list_values["status"] == ["Planned", "In progress", "Done", "Cancelled"]
    assert p.list_values["stage"] == ["Upstream", "Downstream", "Review"]
    # Quarter is a formula whose cached value calamine already sees.
    qc, sc = p.fields["quarter"].col, p.fields["start"].col
    for r in p.data_rows:
        start = grid.value(r, sc)
        assert isinstance(start, dt.date)
        assert grid.value(r, qc) == f"Q{(start.month - 1) // 3 + 1}"
    stages = {grid.value(r, p.fields["stage"].col) for r in p.data_rows}
    assert stages == {"Upstream", "Downstream", "Review"}


def test_template_formats_freeze_and_instructions() -> None:
    wb = openpyxl.load_workbook(TEMPLATE)
    ws = wb["Plan"]
    assert ws.freeze_panes == "C2"
    assert ws["G2"].number_format == "yyyy-mm-dd"            # Start Date
    assert "$" in ws["K2"].number_format                     # Budget
    assert ws["I2"].value.startswith("=IF(Plan[[#This Row],[Start Date]]")
    assert ws.column_dimensions["B"].width > 20
    kinds = {(dv.type, str(dv.sqref).split(":")[0]) for dv in ws.data_validations.dataValidation}
    assert {("list", "E2"), ("list", "J2"), ("list", "R2")} <= kinds
    text = " ".join(str(c.value) for c in wb["Instructions"]["A"] if c.value)
    assert "Upstream" in text and "Downstream" in text and "release of the product" in text


def test_sample_plan_is_found_below_its_title() -> None:
    with open_workbook(SAMPLE) as wb:
        p = locate_plan(wb)
        grid = wb.grid(p.sheet)
        assert wb.tables == []
    assert (p.sheet, p.header_row, p.first_col) == ("2027 Plan", 3, 2)
    assert p.table is None
    assert len(p.data_rows) == len(sample_plan.ROWS) == 40
    assert p.data_rows == list(range(4, 44))
    assert p.last_row == 43 and grid.value(44, 3) == "Total"     # totals row: outside the plan area
    f = p.fields
    assert f["activity"].header == "Campaign" and f["budget"].header == "Budget ($)"
    assert f["actual"].header == "Actual Spend"
    assert p.list_values["channel"] == build_template.CHANNELS
    assert all(grid.value(r, f["stage"].col) is None for r in p.data_rows)


def test_sample_plan_holds_exactly_the_planted_problems() -> None:
    with open_workbook(SAMPLE) as wb:
        p = locate_plan(wb)
        g = wb.grid(p.sheet)
    f = p.fields
    rows = {r: {k: g.value(r, c.col) for k, c in f.items()} for r in p.data_rows}
    ids = [v["id"] for v in rows.values()]
    assert [i for i in set(ids) if ids.count(i) > 1] == ["BL-038"]
    text_budgets = [v["budget"] for v in rows.values() if isinstance(v["budget"], str)]
    assert text_budgets == ["$1,2OO"]
    assert [v["id"] for v in rows.values() if v["budget"] is None] == ["BL-040"]
    assert [v["id"] for v in rows.values() if isinstance(v["actual"], float) and v["actual"] < 0] == ["BL-025"]
    assert [v["id"] for v in rows.values() if v["end"] < v["start"]] == ["BL-030"]
    bad_channels = [v["channel"] for v in rows.values() if v["channel"] not in p.list_values["channel"]]
    assert bad_channels == ["Serach"]
    statuses = {v["status"] for v in rows.values()}
    assert statuses <= set(p.list_values["status"])
    assert all(isinstance(v["start"], dt.date) and v["start"].year == 2027 for v in rows.values())
    assert set(sample_plan.PLANTED) <= set(ids)


@pytest.mark.slow
def test_cached_formula_values_agree_with_libreoffice(tmp_path: Path) -> None:
    from tests import libreoffice

    if not libreoffice.available():
        pytest.skip("LibreOffice not installed")
    books = libreoffice.recalculate_values([TEMPLATE, SAMPLE], tmp_path)
    for path, book in books.items():
        assert not book.errors(), (path.name, book.errors())
        cached = libreoffice.read_values(path)
        for sheet, cells in cached.sheets.items():
            for key, value in cells.items():
                got = book[sheet].get(key)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    assert got == pytest.approx(value), (path.name, sheet, key)
                elif isinstance(value, str):
                    assert got == value, (path.name, sheet, key)
