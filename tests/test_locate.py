"""Finding the plan: sheet, header row, column meanings, data rows."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from tests.corpus import CORPUS as SHARED_CORPUS
from tests.plan_factory import HEADERS, ROWS, make_plan
from xlplugin import model
from xlplugin.config import Config
from xlplugin.engine.locate import locate_plan, normalize_header
from xlplugin.errors import PlanNotFound, XlpluginError
from xlplugin.file.read import open_workbook

CORPUS = SHARED_CORPUS


def locate(path: Path, **kw) -> model.PlanTable:
    with open_workbook(path) as wb:
        return locate_plan(wb, **kw)


def write_rows(ws, top: int, left: int, rows, date_fmt=None) -> None:
    """Write a list of rows at 0-based (top, left); None leaves the cell empty."""
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, dt.date):
                ws.write_datetime(top + i, left + j, v, date_fmt)
            else:
                ws.write(top + i, left + j, v)


def test_normalize_header() -> None:
    assert normalize_header("Budget (USD)") == "budget"
    assert normalize_header(" budget $ ") == "budget"
    assert normalize_header("Budget [€]") == "budget"
    assert normalize_header("START-DATE") == "startdate"
    assert normalize_header("Budget USD") == "budget"
    assert normalize_header("ROI %") == "roipct"
    assert normalize_header("Variance %") != normalize_header("Variance")
    assert normalize_header("#") == normalize_header("No.")


def test_plan_at_c5_on_an_unnamed_sheet(tmp_path: Path) -> None:
    path = make_plan(tmp_path / "c5.xlsx", sheet="Data", top_left="C5", extra_sheets=["Notes", "Other"])
    p = locate(path)
    assert (p.sheet, p.header_row, p.first_col, p.last_col) == ("Data", 5, 3, 3 + len(HEADERS) - 1)
    assert p.data_rows == [6, 7, 8, 9, 10] and p.last_row == 10
    assert p.fields["activity"].letter == "D" and p.fields["budget"].letter == "K"
    assert p.table is None
    assert [c.header for c in p.columns] == HEADERS


def test_plan_as_an_excel_table(tmp_path: Path) -> None:
    path = make_plan(tmp_path / "t.xlsx", sheet="Sheet1", as_table=True, table_name="Budget2027",
                     top_left="B2", extra_sheets=["Cover"])
    p = locate(path)
    assert p.table is not None and p.table.name == "Budget2027"
    assert (p.sheet, p.header_row, p.first_col) == ("Sheet1", 2, 2)
    assert p.data_rows == [3, 4, 5, 6, 7] and p.last_row == 7
    assert set(p.fields) >= {"id", "activity", "budget", "actual", "start", "end"}


def test_table_beats_a_plan_named_sheet_without_one(tmp_path: Path) -> None:
    path = tmp_path / "both.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Plan").write_row(0, 0, ["Activity", "Budget"])
    ws = wb.add_worksheet("Spend")
    ws.add_table("A1:C3", {"name": "Spend", "columns": [{"header": h} for h in ("Campaign", "Budget", "Owner")],
                           "data": [["Search ads", 100, "Jo"], ["Expo", 200, "Al"]]})
    wb.close()
    p = locate(path)
    assert (p.sheet, p.table.name) == ("Spend", "Spend")


def test_synonym_headers(tmp_path: Path) -> None:
    headers = ["Ref", "Campaign Name", "Media", "Responsible", "Launch", "Finish", "Planned Spend",
               "Spent", "Budget (USD)", "Qtr", "MQLs", "Deals Won", "Attributed Revenue"]
    rows = [["1", "Search ads", "Search", "Jo", dt.date(2027, 1, 1), dt.date(2027, 2, 1), 100, 90, 5,
             "Q1", 10, 1, 1000]]
    path = make_plan(tmp_path / "syn.xlsx", rows=rows, headers=headers, sheet="Sheet1", top_left="B2")
    p = locate(path)
    f = p.fields
    assert f["activity"].header == "Campaign Name" and f["activity"].matched == "Campaign Name"
    assert f["channel"].header == "Media" and f["owner"].header == "Responsible"
    assert f["start"].matched == "Launch" and f["end"].header == "Finish"
    assert f["actual"].header == "Spent" and f["quarter"].header == "Qtr"
    assert f["leads"].header == "MQLs" and f["conversions"].header == "Deals Won"
    assert f["revenue"].header == "Attributed Revenue" and f["id"].header == "Ref"
    # Two budget-like columns: the better synonym ("Budget") wins, the other maps to nothing.
    assert f["budget"].header == "Budget (USD)" and f["budget"].matched == "Budget"
    spend = next(c for c in p.columns if c.header == "Planned Spend")
    assert spend.field is None


def test_extra_columns_file_from_config(tmp_path: Path) -> None:
    extra = tmp_path / "cols.toml"
    # Words no shipped language pack knows (the German pack knows "Maßnahme" and "Etat").
    extra.write_text('[columns]\nactivity = ["Vorhabenpunkt"]\nbudget = ["Geldtopf"]\n', encoding="utf-8")
    headers = ["Vorhabenpunkt", "Geldtopf", "Owner", "Channel"]
    path = make_plan(tmp_path / "de.xlsx", rows=[["Messe", 100, "Jo", "Events"]], headers=headers,
                     sheet="Tabelle1")
    with pytest.raises(PlanNotFound):
        locate(path)
    p = locate(path, config=Config(columns_file=extra))
    assert p.fields["activity"].header == "Vorhabenpunkt" and p.fields["budget"].matched == "Geldtopf"
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\nnonsense = ["x"]\n')
    with pytest.raises(XlpluginError, match="unknown field 'nonsense'"):
        locate(path, config=Config(columns_file=bad))


def test_sheet_named_like_plan_wins_over_an_earlier_plan_like_sheet(tmp_path: Path) -> None:
    path = tmp_path / "named.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    write_rows(wb.add_worksheet("Last year"), 0, 0, [HEADERS, ROWS[0][:5]])
    write_rows(wb.add_worksheet("Marketing Plan 2027"), 3, 1, [["Activity", "Budget"], ["Expo", 5]])
    wb.close()
    p = locate(path)
    assert (p.sheet, p.header_row, p.first_col) == ("Marketing Plan 2027", 4, 2)
    assert p.data_rows == [5]


def test_explicit_sheet_and_config_sheet(tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    write_rows(wb.add_worksheet("Plan"), 0, 0, [HEADERS, ROWS[0]])
    write_rows(wb.add_worksheet("Draft"), 2, 0, [["Tactic", "Budget"], ["Expo", 5], ["Ads", 7]])
    wb.close()
    assert locate(path).sheet == "Plan"
    assert locate(path, sheet="Draft").data_rows == [4, 5]
    assert locate(path, config=Config(sheet="Draft")).sheet == "Draft"
    with pytest.raises(PlanNotFound) as e:
        locate(path, sheet="Budget")
    assert str(e.value) == "two.xlsx: no worksheet named 'Budget'; the worksheets are 'Plan', 'Draft'"


def test_plan_not_found_names_the_closest_candidate(tmp_path: Path) -> None:
    path = tmp_path / "none.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Cover").write("A1", "Hello")
    write_rows(wb.add_worksheet("Data"), 2, 0, [["Activity", "Budget", "Foo"], ["x", 1, 2]])
    wb.close()
    with pytest.raises(PlanNotFound) as e:
        locate(path)
    msg = str(e.value)
    assert msg.startswith("none.xlsx: no sheet has a plan header")
    assert "closest: 'Data' row 3 matched 2 of the needed columns (Activity, Budget)" in msg
    assert "\n" not in msg


def test_blank_rows_inside_and_the_end_of_the_plan(tmp_path: Path) -> None:
    rows = [ROWS[0], [None] * len(HEADERS), ROWS[1], [None] * len(HEADERS), [None] * len(HEADERS), ROWS[2]]
    path = tmp_path / "blank.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("Plan")
    write_rows(ws, 0, 0, [HEADERS, *rows], fmt)
    ws.write("A15", "Notes: six blank rows above end the plan")
    ws.write("Z2", "far-away scribble")   # beyond the header's columns: not part of the plan
    wb.close()
    p = locate(path)
    assert p.data_rows == [2, 4, 7]
    assert p.last_row == 7
    assert p.last_col == len(HEADERS)


def test_trailing_empty_columns_and_gaps(tmp_path: Path) -> None:
    path = tmp_path / "gap.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    write_rows(ws, 0, 0, [["Activity", None, "Budget", "Owner", None, None, None, "Scratch"],
                          ["Expo", "x", 5, "Jo", None, None, None, "n"]])
    ws.set_column("E:G", 20)   # formatted but empty trailing columns
    wb.close()
    p = locate(path)
    assert (p.first_col, p.last_col) == (1, 4)
    assert [c.header for c in p.columns] == ["Activity", "", "Budget", "Owner"]
    assert p.columns[1].field is None


def test_hidden_rows_and_columns_stay_in_the_plan(tmp_path: Path) -> None:
    path = tmp_path / "hidden.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("Plan")
    write_rows(ws, 0, 0, [HEADERS, *ROWS], fmt)
    ws.set_row(2, None, None, {"hidden": True})          # Excel row 3
    ws.set_column("I:I", None, None, {"hidden": True})   # Budget
    wb.close()
    with open_workbook(path) as wb:
        p = locate_plan(wb)
        g = wb.grid("Plan")
    assert 3 in p.data_rows and p.data_rows == [2, 3, 4, 5, 6]
    assert g.hidden_rows == {3} and g.hidden_cols == {9}
    assert p.fields["budget"].col == 9


def test_two_row_header_with_merged_cells(tmp_path: Path) -> None:
    path = tmp_path / "merged.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Sheet1")
    ws.write("A1", "FY27 marketing")
    ws.merge_range("A3:A4", "Activity", None)
    ws.merge_range("B3:B4", "Owner", None)
    ws.merge_range("C3:D3", "Spend", None)
    ws.write("C4", "Planned Spend")
    ws.write("D4", "Actual")
    ws.merge_range("E3:F3", "Dates", None)
    ws.write("E4", "Start")
    ws.write("F4", "End")
    write_rows(ws, 4, 0, [["Expo", "Jo", 100, 90, "2027-01-01", "2027-01-02"], ["Ads", "Al", 50, 10, None, None]])
    wb.close()
    p = locate(path)
    assert p.header_row == 4 and p.data_rows == [5, 6]
    f = p.fields
    assert (f["activity"].col, f["owner"].col, f["budget"].col, f["actual"].col) == (1, 2, 3, 4)
    assert (f["start"].col, f["end"].col) == (5, 6)


def test_header_cell_merged_across_two_columns(tmp_path: Path) -> None:
    path = tmp_path / "wide.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    ws.merge_range("B2:C2", "Activity", None)
    ws.write_row("D2", ["Channel", "Budget"])
    write_rows(ws, 2, 1, [["Expo", None, "Events", 10], ["Ads", None, "Search", 20]])
    wb.close()
    p = locate(path)
    assert (p.header_row, p.first_col, p.last_col) == (2, 2, 5)
    assert p.fields["activity"].col == 2 and p.fields["budget"].col == 5
    assert p.data_rows == [3, 4]


def test_totals_row_is_not_data(tmp_path: Path) -> None:
    path = tmp_path / "totals.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    write_rows(ws, 0, 0, [["Activity", "Budget", "Actual"], ["Expo", 10, 9], ["Ads", 20, 25]])
    ws.write("A4", "Total")
    ws.write_formula("B4", "=SUM(B2:B3)", None, 30)
    ws.write_formula("C4", "=SUM(C2:C3)", None, 34)
    ws2 = wb.add_worksheet("Tabled")
    ws2.add_table("A1:C4", {"name": "T", "total_row": True, "data": [["Expo", 10, 9], ["Ads", 20, 25]],
                            "columns": [{"header": "Activity", "total_string": "Total"},
                                        {"header": "Budget", "total_function": "sum"},
                                        {"header": "Owner"}]})
    wb.close()
    p = locate(path, sheet="Plan")
    assert p.data_rows == [2, 3] and p.last_row == 3   # the totals row is outside the plan area
    t = locate(path, sheet="Tabled")
    assert t.table is not None and t.table.totals_rows == 1
    assert t.data_rows == [2, 3] and t.last_row == 4


@pytest.mark.parametrize("date1904", [False, True])
def test_1904_dates(tmp_path: Path, date1904: bool) -> None:
    path = make_plan(tmp_path / "d.xlsx", date1904=date1904, top_left="B2")
    with open_workbook(path) as wb:
        p = locate_plan(wb)
        g = wb.grid(p.sheet)
        assert g.value(p.data_rows[0], p.fields["start"].col) == dt.date(2027, 1, 11)


def test_xlsm_plan(tmp_path: Path) -> None:
    src = next((CORPUS / "good").glob("*.xlsm"), None) if CORPUS.is_dir() else None
    if src is None:
        pytest.skip("no .xlsm in the corpus to borrow a VBA project from")
    vba = tmp_path / "vbaProject.bin"
    with zipfile.ZipFile(src) as z:
        name = next((n for n in z.namelist() if n.endswith("vbaProject.bin")), None)
        if name is None:
            pytest.skip("corpus .xlsm without a VBA project")
        vba.write_bytes(z.read(name))
    path = tmp_path / "plan.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_vba_project(str(vba))
    write_rows(wb.add_worksheet("Campaigns"), 4, 2, [HEADERS, *[r[:5] for r in ROWS]])
    wb.close()
    p = locate(path)
    assert (p.sheet, p.header_row, p.first_col) == ("Campaigns", 5, 3)
    assert len(p.data_rows) == 5


def test_list_values_from_dropdowns_else_config(tmp_path: Path) -> None:
    path = tmp_path / "dv.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    lists = wb.add_worksheet("Lists")
    lists.write_column("A2", ["Search", "Social", "Events"])
    write_rows(ws, 0, 0, [["Activity", "Channel", "Status", "Budget", "Owner"], ["Expo", "Events", "Done", 5, "Jo"]])
    ws.data_validation("B2:B200", {"validate": "list", "source": "=Lists!$A$2:$A$20"})
    ws.data_validation("C2:C200", {"validate": "list", "source": ["Planned", "Done"]})
    ws.data_validation("E300:E400", {"validate": "list", "source": ["Far", "Away"]})  # not the plan's rows
    wb.close()
    cfg = Config(allowed={"channel": ["Radio"], "stage": ["Upstream", "Downstream"]})
    p = locate(path, config=cfg)
    assert p.list_values["channel"] == ["Search", "Social", "Events"]   # the workbook's own list wins
    assert p.list_values["status"] == ["Planned", "Done"]
    assert p.list_values["stage"] == ["Upstream", "Downstream"]
    assert "owner" not in p.list_values


def test_tool_columns_map_to_no_field(tmp_path: Path) -> None:
    path = tmp_path / "tool.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    write_rows(ws, 1, 0, [["Activity", "Budget", "Actual", "Revenue", "ROI", "Stage"],
                          ["Expo", 10, 9, 30, 2.3, "Downstream"]])
    wb.define_name(model.TOOL_COLUMNS_NAME, "='Plan'!$E$2,'Plan'!$F$2")
    wb.close()
    p = locate(path)
    assert p.tool_cols == {"ROI": 5, "Stage": 6}
    assert "roi" not in p.fields and "stage" not in p.fields
    assert p.fields["revenue"].col == 4 and p.data_rows == [3]


def test_title_merged_across_the_top_does_not_widen_the_plan(tmp_path: Path) -> None:
    path = tmp_path / "title.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Sheet1")
    ws.merge_range("B2:M2", "Marketing plan 2027", None)
    write_rows(ws, 2, 1, [["Activity", "Owner", "Budget"], ["Expo", "Jo", 10]])
    wb.close()
    p = locate(path)
    assert (p.header_row, p.first_col, p.last_col) == (3, 2, 4)
    assert p.data_rows == [4]


def test_repeated_header_rows_and_lookalike_labels(tmp_path: Path) -> None:
    path = tmp_path / "repeat.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    header = ["Activity", "Owner", "Budget"]
    write_rows(ws, 0, 0, [header, ["Summer promotion", "Jo", 10], header, ["Totally new webinar", "Al", 5],
                          ["Sum", None, 15]])
    wb.close()
    p = locate(path)
    assert p.data_rows == [2, 4] and p.last_row == 4   # the "Sum" row is outside the plan area


def test_generic_headers_alone_are_not_a_plan(tmp_path: Path) -> None:
    path = make_plan(tmp_path / "inventory.xlsx", headers=["Item", "Date", "Cost", "Code"],
                     rows=[["Bolts", dt.date(2027, 1, 1), 3, "B1"]], sheet="Stock")
    with pytest.raises(PlanNotFound, match="closest: 'Stock' row 1 matched 4 of the needed columns"):
        locate(path)
    assert locate(path, sheet="Stock").fields["activity"].header == "Item"   # but the user may insist


def test_visible_sheets_before_hidden_ones(tmp_path: Path) -> None:
    path = tmp_path / "hidden-sheet.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    old = wb.add_worksheet("Plan 2026")
    write_rows(old, 0, 0, [HEADERS, ROWS[0]])
    old.hide()
    current = wb.add_worksheet("Current")
    current.activate()          # XlsxWriter does not hide the active sheet
    write_rows(current, 1, 1, [HEADERS, *ROWS])
    wb.close()
    with open_workbook(path) as book:
        assert book.sheet_states == {"Plan 2026": "hidden", "Current": "visible"}
    assert locate(path).sheet == "Current"
    assert locate(path, sheet="Plan 2026").data_rows == [2]


class _MemorySource:
    """A workbook source without a file (as the xlwings source is): locate needs no package."""

    def __init__(self, sheets: dict[str, list[list[object]]]) -> None:
        self._sheets = sheets
        self.sheet_names = list(sheets)
        self.file = "Book1"
        self.date1904 = False
        self.sheet_states = {n: "visible" for n in sheets}
        self.tables: list[model.TableDef] = []
        self.defined_names: dict[str, str] = {}

    def grid(self, name: str) -> model.Grid:
        return model.Grid(name=name, index=self.sheet_names.index(name), part="", cells=self._sheets[name],
                          origin_row=2, origin_col=2)

    def list_validations(self, sheet: str) -> list[tuple[str, list[str]]]:
        return [("C3:C100", ["Search", "Events"])]


def test_locate_works_on_any_workbook_source() -> None:
    src = _MemorySource({"Sheet1": [["Activity", "Channel", "Budget"], ["Expo", "Events", 5.0], [None, None, None],
                                    ["Ads", "Search", 7.0]]})
    p = locate_plan(src)
    assert (p.sheet, p.header_row, p.first_col, p.data_rows) == ("Sheet1", 2, 2, [3, 5])
    assert p.list_values["channel"] == ["Search", "Events"]
    with pytest.raises(PlanNotFound, match="^Book1: no worksheet named 'X'"):
        locate_plan(src, sheet="X")


def test_an_unreadable_sheet_does_not_hide_the_plan(tmp_path: Path) -> None:
    path = tmp_path / "stray.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    junk = wb.add_worksheet("Scratch")
    junk.write("A1", "notes")
    junk.write("XFD1048576", "oops")          # too large for a dense read
    write_rows(wb.add_worksheet("Budget"), 0, 0, [HEADERS, ROWS[0]])
    wb.close()
    assert locate(path).sheet == "Budget"
