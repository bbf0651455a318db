"""Reading workbook files: values with true addresses, package details, clean errors."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from tests.corpus import CORPUS as SHARED_CORPUS
from tests.plan_factory import make_plan
from xlplugin.errors import UnreadableWorkbook, XlpluginError
from xlplugin.file.read import open_workbook, parse_range, split_sheet_ref

CORPUS = SHARED_CORPUS
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")


def _bad_files() -> list[Path]:
    return sorted(p for p in (CORPUS / "bad").glob("*") if p.name != "MANIFEST.csv") if CORPUS.is_dir() else []


def _bad_kinds() -> dict[str, str]:
    path = CORPUS / "bad" / "MANIFEST.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as fh:
        return {r["file"]: r["kind"] for r in csv.DictReader(fh)}


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Values of every kind away from A1, plus hidden rows/cols, merges, errors, formulas."""
    path = tmp_path / "mixed.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("Data")
    ws.write_string("C5", "Activity")
    ws.write_number("D5", 3.0)
    ws.write_number("E5", 2.5)
    ws.write_boolean("F5", True)
    ws.write_datetime("C6", dt.date(2027, 3, 15), date)
    ws.write_formula("D6", "=1/0", None, "#DIV/0!")
    ws.write_formula("E6", "=D5*2", None, 6)
    ws.write_string("F6", "   ")
    ws.write_formula("C7", '=NA()', None, "#N/A")
    ws.merge_range("C9:E9", "Merged header", None)
    ws.set_row(6, None, None, {"hidden": True})      # Excel row 7
    ws.set_column("E:E", None, None, {"hidden": True})
    wb.add_worksheet("Empty")
    wb.define_name("Budgets", "=Data!$D$5:$E$5")
    wb.define_name("Data!LocalName", "=Data!$C$5")
    wb.close()
    return path


def test_values_keep_true_excel_addresses(mixed: Path) -> None:
    with open_workbook(mixed) as wb:
        g = wb.grid("Data")
        assert (g.origin_row, g.origin_col) == (5, 3)
        assert g.value(5, 3) == "Activity"
        assert g.value(5, 4) == 3.0 and isinstance(g.value(5, 4), float)
        assert g.value(5, 5) == 2.5
        assert g.value(5, 6) is True
        assert g.value(6, 3) == dt.date(2027, 3, 15)
        assert g.value(6, 5) == 6.0                      # a formula's cached value
        assert g.value(1, 1) is None and g.value(100, 100) is None
    # same addresses as openpyxl sees
    ws = openpyxl.load_workbook(mixed)["Data"]
    assert ws["C5"].value == "Activity" and ws["E6"].value == "=D5*2"


def test_error_cells_read_as_their_text(mixed: Path) -> None:
    with open_workbook(mixed) as wb:
        g = wb.grid("Data")
        assert g.value(6, 4) == "#DIV/0!"
        assert g.value(7, 3) == "#N/A"


def test_hidden_rows_cols_merges_and_state(mixed: Path) -> None:
    with open_workbook(mixed) as wb:
        g = wb.grid("Data")
        assert g.hidden_rows == {7}
        assert g.hidden_cols == {5}
        assert g.merged == [(9, 3, 9, 5)]
        assert g.state == "visible" and g.index == 0 and g.part.startswith("xl/worksheets/")
        empty = wb.grid("Empty")
        assert empty.cells == [] or all(v is None for r in empty.cells for v in r)
        assert wb.grid("Data") is g                      # cached


def test_blank_strings_become_none_but_whitespace_is_kept(mixed: Path) -> None:
    with open_workbook(mixed) as wb:
        g = wb.grid("Data")
        assert g.value(8, 3) is None
        assert g.value(6, 6) == "   "                   # parse decides what a space means


def test_defined_names_and_unknown_sheet(mixed: Path) -> None:
    with open_workbook(mixed) as wb:
        assert wb.defined_names["Budgets"] == "Data!$D$5:$E$5"
        assert wb.defined_names["Data!LocalName"] == "Data!$C$5"
        assert wb.sheet_names == ["Data", "Empty"]
        with pytest.raises(KeyError):
            wb.grid("Nope")


@pytest.mark.parametrize("date1904", [False, True])
def test_dates_in_both_date_systems(tmp_path: Path, date1904: bool) -> None:
    path = make_plan(tmp_path / "p.xlsx", date1904=date1904)
    with open_workbook(path) as wb:
        assert wb.date1904 is date1904
        g = wb.grid("Plan")
        assert g.value(2, 6) == dt.date(2027, 1, 11)
        assert g.value(4, 7) == dt.date(2027, 6, 30)
    # the serial stored really differs between the systems
    epoch = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
    serial = (dt.date(2027, 1, 11) - epoch).days
    raw = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert f"<v>{serial}</v>".encode() in raw


def test_tables_from_package_xml(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Intro").write("A1", "hi")
    ws = wb.add_worksheet("Plan")
    ws.add_table("B3:D6", {"name": "MyPlan", "columns": [{"header": h} for h in ("ID", "Activity", "Budget")],
                           "total_row": True})
    wb.close()
    with open_workbook(path) as wb:
        (t,) = wb.tables
        assert (t.name, t.sheet, t.ref) == ("MyPlan", "Plan", "B3:D6")
        assert (t.first_row, t.first_col, t.last_row, t.last_col) == (3, 2, 6, 4)
        assert t.columns == ["ID", "Activity", "Budget"]
        assert (t.header_rows, t.totals_rows) == (1, 1)
        assert t.part.startswith("xl/tables/")


def test_list_validations_inline_range_and_name(tmp_path: Path) -> None:
    path = tmp_path / "dv.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    lists = wb.add_worksheet("Lists")
    for i, v in enumerate(["Search", "Social", "Email", None, "Events"]):
        if v:
            lists.write(1 + i, 0, v)
    lists.write_column("B1", ["Upstream", "Downstream", "Review"])
    ws.write_column("H1", [1, 2, 3])
    wb.define_name("Stages", "=Lists!$B$1:$B$3")
    ws.data_validation("B2:B50", {"validate": "list", "source": ["Planned", "In progress", "Done"]})
    ws.data_validation("C2:C50", {"validate": "list", "source": "=Lists!$A$2:$A$9",
                                 "multi_range": "C2:C50 E2:E50"})
    ws.data_validation("D2:D50", {"validate": "list", "source": "=Stages"})
    ws.data_validation("F2:F50", {"validate": "list", "source": "=$H$1:$H$3"})
    ws.data_validation("G2:G50", {"validate": "integer", "criteria": ">", "value": 0})
    wb.close()
    with open_workbook(path) as wb:
        got = dict(wb.list_validations("Plan"))
    assert got == {
        "B2:B50": ["Planned", "In progress", "Done"],
        "C2:C50 E2:E50": ["Search", "Social", "Email", "Events"],
        "D2:D50": ["Upstream", "Downstream", "Review"],
        "F2:F50": ["1", "2", "3"],
    }


@needs_corpus
def test_x14_list_validations_from_an_excel_file() -> None:
    path = CORPUS / "good" / "ClosedXML__ClosedXML.Tests_Resource_TryToLoad_ValidationWithSheetReference.xlsx"
    with open_workbook(path) as wb:
        found = [(s, v) for s in wb.sheet_names for v in wb.list_validations(s)]
    assert found, "the x14 extLst validation was not read"
    assert all(vals for _s, (_sq, vals) in found)


def test_ref_helpers() -> None:
    assert split_sheet_ref("'It''s'!$A$1:$B$2") == ("It's", "$A$1:$B$2")
    assert split_sheet_ref("A1") == (None, "A1")
    assert parse_range("$B$2:$A$9") == (2, 1, 9, 2)
    assert parse_range("C:C")[1::2] == (3, 3)
    assert parse_range("INDIRECT(A1)") is None


def test_lock_file_and_missing_file(tmp_path: Path) -> None:
    lock = tmp_path / "~$plan.xlsx"
    lock.write_bytes(b"\x05user" + b" " * 100)
    with pytest.raises(UnreadableWorkbook, match="lock file"):
        open_workbook(lock)
    with pytest.raises(UnreadableWorkbook, match="nothere.xlsx"):
        open_workbook(tmp_path / "nothere.xlsx")


def test_damaged_sheet_part_is_a_clean_error(tmp_path: Path) -> None:
    good = make_plan(tmp_path / "good.xlsx")
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]          # truncated XML
            zout.writestr(info, data)
    with pytest.raises(UnreadableWorkbook) as e, open_workbook(bad) as wb:
        wb.grid("Plan")
    assert "bad.xlsx" in str(e.value) and "\n" not in str(e.value)


@needs_corpus
@pytest.mark.parametrize("path", _bad_files(), ids=lambda p: p.name[-40:])
def test_every_bad_corpus_file_gives_one_clean_line(path: Path) -> None:
    """Truly broken files are UnreadableWorkbook; the rest read fine and hold no plan."""
    from xlplugin.engine.locate import locate_plan

    with pytest.raises(XlpluginError) as e, open_workbook(path) as wb:
        for s in wb.sheet_names:
            wb.grid(s)
            wb.list_validations(s)
        _ = wb.tables, wb.defined_names
        locate_plan(wb)
    msg = str(e.value)
    assert path.name in msg and "\n" not in msg and "Traceback" not in msg
    if _bad_kinds().get(path.name, "zip") != "zip" or "corrupted" in path.name:
        assert isinstance(e.value, UnreadableWorkbook)


@needs_corpus
@pytest.mark.slow
def test_every_good_corpus_file_reads() -> None:
    failures = {}
    files = sorted((CORPUS / "good").glob("*.xls[xm]"))
    for path in files:
        try:
            with open_workbook(path) as wb:
                for s in wb.sheet_names:
                    wb.grid(s)
                    wb.list_validations(s)
                _ = wb.tables, wb.defined_names
        except XlpluginError as e:
            failures[path.name] = str(e)
    # Pinned by file and reason; any other refusal fails.  One LibreOffice-written file
    # lists VBA modules as sheets without a part (calamine refuses it, cleanly); one
    # names a data-connections part the package does not hold (Excel repairs it).
    expected = {
        "ClosedXML__ClosedXML.Tests_Resource_TryToLoad_LO_xlsm_tdf111974.xlsm": "Relationship not found",
        "poi__test-data_spreadsheet_picture.xlsx": "names a missing part xl/connections.xml",
    }
    assert set(failures) == set(expected), failures
    for name, why in expected.items():
        assert failures[name].startswith(name + ": ") and why in failures[name], failures[name]
    assert len(files) > 250


def test_workbook_with_an_excel4_macro_sheet_still_reads(tmp_path: Path) -> None:
    """calamine refuses such workbooks outright; we still read the worksheets' values."""
    src = make_plan(tmp_path / "src.xlsx")
    path = tmp_path / "macro.xlsm"
    rel_type = "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"</sheets>", b'<sheet name="Macro1" sheetId="9" r:id="rId99"/></sheets>')
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", f'<Relationship Id="rId99" Type="{rel_type}" '
                                    f'Target="macrosheets/sheet1.xml"/></Relationships>'.encode())
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/macrosheets/sheet1.xml" '
                                    b'ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>')
            zout.writestr(info, data)
        zout.writestr("xl/macrosheets/sheet1.xml", b'<?xml version="1.0"?><xm:macrosheet '
                      b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"/>')
    import python_calamine as pc

    with pytest.raises(pc.CalamineError):
        pc.CalamineWorkbook.from_path(str(path))
    with open_workbook(path) as wb:
        assert [s.kind for s in wb.package.sheets] == ["worksheet", "xlMacrosheet"]
        assert wb.sheet_names == ["Plan"]
        assert wb.grid("Plan").value(2, 2) == "Customer needs survey"


def test_list_validation_from_a_table_column(tmp_path: Path) -> None:
    """Excel users point dropdowns at a Table column through INDIRECT or a name."""
    path = tmp_path / "tablelist.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    lists = wb.add_worksheet("Lists")
    lists.add_table("B2:C5", {"name": "Choices", "columns": [{"header": "Channel"}, {"header": "Stage"}],
                              "data": [["Search", "Upstream"], ["Social", "Downstream"], ["Email", "Review"]]})
    wb.define_name("StageList", "=Choices[Stage]")
    ws.data_validation("A2:A9", {"validate": "list", "source": '=INDIRECT("Choices[Channel]")'})
    ws.data_validation("B2:B9", {"validate": "list", "source": "=StageList"})
    wb.close()
    with open_workbook(path) as wb:
        got = dict(wb.list_validations("Plan"))
    assert got == {"A2:A9": ["Search", "Social", "Email"], "B2:B9": ["Upstream", "Downstream", "Review"]}


def test_a_stray_value_far_away_is_refused_not_a_memory_blowup(tmp_path: Path) -> None:
    path = tmp_path / "stray.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    ws.write("A1", "Activity")
    ws.write("XFD1048576", "oops")
    wb.close()
    with open_workbook(path) as wb, pytest.raises(UnreadableWorkbook, match="too large to read"):
        wb.grid("Plan")


def test_a_formatted_blank_far_away_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "styled.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    ws.write("B2", "Activity")
    ws.write_blank("XFD1048576", None, wb.add_format({"bold": True}))
    wb.close()
    assert b'<dimension ref="B2:XFD1048576"/>' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    with open_workbook(path) as wb:
        g = wb.grid("Plan")
    assert (g.origin_row, g.origin_col, g.max_row, g.max_col) == (2, 2, 2, 2)
