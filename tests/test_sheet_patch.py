"""Streaming worksheet patch: on real Excel sheets from the corpus and on XlsxWriter plans.

Every check reads the result back the way a user's tools would (openpyxl, calamine)
from a package whose only changes are the patched sheet and styles.xml.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

from tests.corpus import GOOD
from tests.plan_factory import make_plan
from xlplugin.changes import MARK_ERROR, MARK_WARNING, MarkCell, SetCell, Style
from xlplugin.errors import UnsupportedWorkbook, XlpluginError
from xlplugin.file.ooxml.package import open_package
from xlplugin.file.write.sheet_patch import (
    WORKSHEET_ORDER,
    CellMark,
    CellRemoval,
    CellRestore,
    CellWrite,
    ListRule,
    SheetEdits,
    excel_serial,
    legacy_drawing_rid,
    patch_sheet,
    read_cell_styles,
)
from xlplugin.file.write.styles import StyleBook
from xlplugin.model import cell_ref, split_ref

CORPUS = GOOD
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ROW_RE = re.compile(rb"<(?:x:)?row\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(?:/>|>.*?</(?:x:)?row>)", re.S)
CELL_RE = re.compile(rb"<(?:x:)?c\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*?\sr=\"([A-Z]+\d+)\"")


# ------------------------------------------------------------------ helpers
def repack(src: Path, dest: Path, parts: dict[str, bytes]) -> Path:
    """Copy a package, replacing some parts (the rest byte for byte)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, parts.get(info.filename, zin.read(info.filename)))
    return dest


def rows_by_number(xml: bytes) -> dict[int, bytes]:
    out, cur = {}, 0
    for m in ROW_RE.finditer(xml):
        r = re.search(rb"\sr=\"(\d+)\"", m.group(0)[:m.group(0).find(b">") + 1])
        cur = int(r.group(1)) if r else cur + 1
        out.setdefault(cur, m.group(0))
    return out


def top_level_order(xml: bytes) -> list[str]:
    root = etree.fromstring(xml)
    return [etree.QName(c).localname for c in root if isinstance(c.tag, str)]


def assert_schema_order(xml: bytes) -> None:
    names = [n for n in top_level_order(xml) if n in WORKSHEET_ORDER]
    ranks = [WORKSHEET_ORDER.index(n) for n in names]
    assert ranks == sorted(ranks), names


def sheet_name_for_part(path: Path, part: str) -> str:
    with open_package(path) as pkg:
        return next(s.name for s in pkg.sheets if s.part == part)


def styles_part(path: Path) -> bytes | None:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/styles.xml") if "xl/styles.xml" in z.namelist() else None


# ------------------------------------------------------------------ XlsxWriter plans
@pytest.fixture
def plan(tmp_path: Path) -> Path:
    return make_plan(tmp_path / "plan.xlsx")


def _patch_plan(path: Path, edits: SheetEdits, *, date1904: bool = False, part: str = "xl/worksheets/sheet1.xml"):
    with zipfile.ZipFile(path) as z:
        xml = z.read(part)
        book = StyleBook(z.read("xl/styles.xml"))
    res = patch_sheet(xml, edits, book, date1904=date1904)
    out = repack(path, path.with_name("out_" + path.name), {part: res.xml, "xl/styles.xml": book.to_bytes()})
    return xml, res, out


def test_writes_read_back_with_values_formulas_and_styles(plan: Path) -> None:
    edits = SheetEdits()
    edits.set_cell(SetCell("Plan", 1, 15, "Stage", style=Style(bold=True)))
    edits.set_cell(SetCell("Plan", 2, 15, "=cmd|' /C calc'!A0"))              # text, never a formula
    edits.set_cell(SetCell("Plan", 3, 15, 0.25, formula="I3/J3", style=Style(number_format="0.0%")))
    edits.set_cell(SetCell("Plan", 4, 15, "Review", formula='IF(I4>0,"Review","")'))
    edits.set_cell(SetCell("Plan", 5, 15, True, formula="I5>J5"))
    edits.set_cell(SetCell("Plan", 6, 15, "#DIV/0!", formula="1/0"))
    edits.set_cell(SetCell("Plan", 9, 2, dt.date(2027, 3, 1), style=Style(number_format="yyyy-mm-dd")))
    edits.set_cell(SetCell("Plan", 9, 3, "  padded\nline  "))
    edits.set_cell(SetCell("Plan", 9, 4, "bell\x07 and _x0041_"))
    edits.set_cell(SetCell("Plan", 9, 5, 1234567.891))
    edits.mark(MarkCell("Plan", 2, 9))
    edits.mark(MarkCell("Plan", 3, 9, MARK_WARNING))
    _, res, out = _patch_plan(plan, edits)
    assert_schema_order(res.xml)
    ws = openpyxl.load_workbook(out).active
    assert ws["O1"].value == "Stage" and ws["O1"].font.b
    assert ws["O2"].value == "=cmd|' /C calc'!A0" and ws["O2"].data_type == "s"
    assert ws["O3"].value == "=I3/J3" and ws["O3"].number_format == "0.0%"
    assert ws["B9"].value == dt.datetime(2027, 3, 1) and ws["B9"].number_format == "yyyy-mm-dd"
    assert ws["C9"].value == "  padded\nline  "
    # openpyxl does not decode OOXML's _xHHHH_ escape in inline strings; calamine (like Excel) does
    assert ws["D9"].value == "bell_x0007_ and _x005F_x0041_"
    assert ws["I2"].fill.fgColor.rgb == "FF" + MARK_ERROR and ws["I2"].value == 12000
    assert ws["I3"].fill.fgColor.rgb == "FF" + MARK_WARNING
    assert ws["F2"].number_format == "yyyy-mm-dd"               # neighbours keep their style
    cached = openpyxl.load_workbook(out, data_only=True).active
    assert cached["O3"].value == 0.25 and cached["O4"].value == "Review"
    assert cached["O5"].value is True and cached["O6"].value == "#DIV/0!"
    assert cached["E9"].value == 1234567.891
    sheet = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Plan").to_python()
    assert sheet[1][14] == "=cmd|' /C calc'!A0" and sheet[2][14] == 0.25
    assert sheet[8][3] == "bell\x07 and _x0041_"
    assert res.created_rows == {9} and (9, 2) in res.created_cells
    assert res.marked == {(2, 9): None, (3, 9): None}
    assert res.old_dimension == "A1:N6" and b'<dimension ref="A1:O9"/>' in res.xml


def test_untouched_rows_are_byte_identical_and_unchanged_sheet_is_returned_as_is(plan: Path) -> None:
    with zipfile.ZipFile(plan) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    book = StyleBook(styles_part(plan))
    assert patch_sheet(xml, SheetEdits(), book).xml == xml
    res = patch_sheet(xml, SheetEdits(writes=[CellWrite(4, 20, 1.5)]), book)
    before, after = rows_by_number(xml), rows_by_number(res.xml)
    assert {r: b for r, b in before.items() if r != 4} == {r: b for r, b in after.items() if r != 4}
    assert after[4].startswith(before[4][:-len(b"</row>")])   # the edited row only grew at its end


def test_mark_then_restore_gives_back_the_exact_bytes(plan: Path) -> None:
    with zipfile.ZipFile(plan) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    book = StyleBook(styles_part(plan))
    marks = [CellMark(2, 6, MARK_ERROR), CellMark(3, 9, MARK_ERROR), CellMark(4, 25, MARK_WARNING),
             CellMark(12, 2, MARK_ERROR)]
    res = patch_sheet(xml, SheetEdits(marks=marks), book)
    assert res.xml != xml
    assert res.marked[(2, 6)] == 1 and res.marked[(3, 9)] is None
    assert res.created_cells == {(4, 25), (12, 2)} and res.created_rows == {12}
    undo = SheetEdits(
        restores=[CellRestore(r, c, s) for (r, c), s in res.marked.items() if (r, c) not in res.created_cells],
        removals=[CellRemoval(r, c, row_created=r in res.created_rows) for r, c in res.created_cells])
    assert patch_sheet(res.xml, undo, book).xml == xml
    # and the styles in between are what a reader sees
    assert read_cell_styles(res.xml, [(2, 6), (3, 9)]) == {(2, 6): book.derive(1, Style(fill=MARK_ERROR)),
                                                          (3, 9): book.derive(0, Style(fill=MARK_ERROR))}


def test_marks_on_existing_cells_match_the_careful_path(plan: Path) -> None:
    """A row whose marks all fall on cells it has is restyled in place; a row that also
    needs a new cell is split into cells.  Both give the marked cells the same bytes."""
    with zipfile.ZipFile(plan) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    rows = range(2, 7)
    marks = [CellMark(r, c, fill) for r in rows for c, fill in ((6, MARK_ERROR), (9, MARK_WARNING), (6, MARK_WARNING))]
    quick = patch_sheet(xml, SheetEdits(marks=marks), StyleBook(styles_part(plan)))
    careful = patch_sheet(xml, SheetEdits(marks=marks + [CellMark(r, 30, MARK_ERROR) for r in rows]),
                          StyleBook(styles_part(plan)))
    new_cell = re.compile(rb'<c r="AD\d+" s="\d+"/>')
    after_quick, after_careful = rows_by_number(quick.xml), rows_by_number(careful.xml)
    for r in rows:
        assert after_quick[r] == new_cell.sub(b"", after_careful[r])
        assert after_quick[r] != rows_by_number(xml)[r]
    assert quick.marked == {k: v for k, v in careful.marked.items() if k[1] != 30}


def test_a_streamed_sheet_is_the_same_part_and_zip_member(plan: Path, tmp_path: Path) -> None:
    """Column writes make the sheet as it goes into the zip: the member read back is the
    whole patched part, and its stored bytes are what writing it in one piece gives."""
    from xlplugin.changes import FormulaColumn, ValueColumn
    from xlplugin.file.write import apply_to_file
    from xlplugin.file.write.packager import PartStream, _write_new

    n = len(rows_by_number(zipfile.ZipFile(plan).read("xl/worksheets/sheet1.xml"))) - 1
    edits = SheetEdits().set_column(ValueColumn("Plan", 15, 2, tuple(f"stage {i % 3}" for i in range(n))))
    edits.set_column(FormulaColumn("Plan", 16, 2, "I2*2", tuple(float(i) / 7 for i in range(n))))
    edits.marks.append(CellMark(3, 6, MARK_ERROR))
    with zipfile.ZipFile(plan) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    res = patch_sheet(xml, edits, StyleBook(styles_part(plan)))
    assert res.stream is not None and res.changed
    whole = res.xml
    assert b"".join(bytes(c) for c in res.stream.chunks()) == whole
    got = CalamineWorkbook.from_path(str(repack(plan, tmp_path / "whole.xlsx", {"xl/worksheets/sheet1.xml": whole})))
    assert got.get_sheet_by_name("Plan").to_python()[1][14:16] == ["stage 0", 0.0]
    big = whole * ((2 << 20) // len(whole) + 1)      # over 1 MB: the fast deflate level
    for data in (whole, big):
        one, streamed = tmp_path / "one.zip", tmp_path / "streamed.zip"
        with zipfile.ZipFile(one, "w") as z:
            _write_new(z, "s.xml", data)
        with zipfile.ZipFile(streamed, "w") as z:
            _write_new(z, "s.xml", PartStream(lambda d=data: (d[i:i + 7777] for i in range(0, len(d), 7777)), len(data)))
        assert one.read_bytes() == streamed.read_bytes()
    # the writer itself: the output's sheet is the patched part
    out = tmp_path / "out.xlsx"
    apply_to_file(plan, out, [ValueColumn("Plan", 15, 2, tuple(f"stage {i % 3}" for i in range(n)))])
    sheet = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml")
    assert sheet.count(b"stage 1") == len(range(1, n, 3))


def test_a_cell_in_a_styled_row_or_column_starts_from_that_style() -> None:
    xml = (f'<worksheet xmlns="{MAIN}"><cols><col min="3" max="5" width="12" style="2" customWidth="1"/></cols>'
           '<sheetData><row r="2" s="1" customFormat="1"><c r="A2"><v>1</v></c></row></sheetData></worksheet>').encode()
    book = StyleBook(None)
    one = book.derive(0, Style(bold=True))
    two = book.derive(0, Style(italic=True))
    assert (one, two) == (1, 2)
    res = patch_sheet(xml, SheetEdits(marks=[CellMark(2, 4, MARK_ERROR), CellMark(3, 4, MARK_ERROR)]), book)
    got = read_cell_styles(res.xml, [(2, 4), (3, 4)])
    assert got[(2, 4)] == book.derive(1, Style(fill=MARK_ERROR))      # the row's format wins
    assert got[(3, 4)] == book.derive(2, Style(fill=MARK_ERROR))      # else the column's


def test_column_widths_split_existing_ranges_and_keep_their_attributes() -> None:
    xml = (f'<worksheet xmlns="{MAIN}"><sheetFormatPr defaultRowHeight="15"/>'
           '<cols><col min="2" max="6" width="9" style="3" customWidth="1"/></cols>'
           '<sheetData/></worksheet>').encode()
    res = patch_sheet(xml, SheetEdits(col_widths={4: 30, 8: 12.5}), StyleBook(None))
    cols = [dict(c.attrib) for c in etree.fromstring(res.xml).iter(f"{{{MAIN}}}col")]
    assert [(c["min"], c["max"], c["width"], c.get("style")) for c in cols] == [
        ("2", "3", "9", "3"), ("4", "4", "30", "3"), ("5", "6", "9", "3"), ("8", "8", "12.5", None)]
    assert_schema_order(res.xml)
    fresh = patch_sheet(f'<worksheet xmlns="{MAIN}"><sheetFormatPr defaultRowHeight="15"/><sheetData/>'
                        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                        "</worksheet>".encode(), SheetEdits(col_widths={1: 20}), StyleBook(None))
    assert top_level_order(fresh.xml) == ["sheetFormatPr", "cols", "sheetData", "pageMargins"]


def test_list_validation_goes_in_schema_order_and_is_not_duplicated(plan: Path) -> None:
    xml = (f'<worksheet xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
           '<sheetData/><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>'
           '<conditionalFormatting sqref="A1"><cfRule type="expression" dxfId="0" priority="1"><formula>TRUE</formula></cfRule></conditionalFormatting>'
           '<hyperlinks><hyperlink ref="A1" location="S!A1"/></hyperlinks>'
           '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
           '<drawing r:id="rId1"/><tableParts count="0"/></worksheet>').encode()
    edits = SheetEdits(validations=[ListRule("K3:K40", ("Upstream", "Downstream", 'Say "hi"')),
                                    ListRule("L3:L40", source="$Z$1:$Z$5")], legacy_drawing="rId7")
    res = patch_sheet(xml, edits, StyleBook(None))
    assert top_level_order(res.xml) == ["sheetData", "mergeCells", "conditionalFormatting", "dataValidations",
                                        "hyperlinks", "pageMargins", "drawing", "legacyDrawing", "tableParts"]
    dv = etree.fromstring(res.xml).find(f"{{{MAIN}}}dataValidations")
    assert dv.get("count") == "2"
    assert [f.text for f in dv.iter(f"{{{MAIN}}}formula1")] == ['"Upstream,Downstream,Say ""hi"""', "$Z$1:$Z$5"]
    assert res.legacy_drawing_rid == "rId7" and legacy_drawing_rid(res.xml) == "rId7"
    again = patch_sheet(res.xml, edits, StyleBook(None))
    assert again.xml == res.xml and not again.changed        # idempotent
    with pytest.raises(XlpluginError, match="255"):
        patch_sheet(xml, SheetEdits(validations=[ListRule("A1", tuple(f"value {i}" for i in range(40)))]),
                    StyleBook(None))
    # a plan: the dropdown reads back in openpyxl
    _, res, out = _patch_plan(plan, SheetEdits(validations=[ListRule("H2:H6", ("Planned", "Done"))]))
    rules = openpyxl.load_workbook(out).active.data_validations.dataValidation
    assert [(str(r.sqref), r.type, r.formula1) for r in rules] == [("H2:H6", "list", '"Planned,Done"')]


def test_legacy_drawing_keeps_an_existing_one_and_can_be_dropped() -> None:
    xml = (f'<worksheet xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
           '<sheetData/><legacyDrawing r:id="rId3"/></worksheet>').encode()
    res = patch_sheet(xml, SheetEdits(legacy_drawing="rId9"), StyleBook(None))
    assert res.xml == xml and res.legacy_drawing_rid == "rId3"
    gone = patch_sheet(xml, SheetEdits(drop_legacy_drawing=True), StyleBook(None))
    assert b"legacyDrawing" not in gone.xml and gone.legacy_drawing_rid is None
    bare = f'<worksheet xmlns="{MAIN}"><sheetData/></worksheet>'.encode()   # no xmlns:r on the root
    added = patch_sheet(bare, SheetEdits(legacy_drawing="rId1"), StyleBook(None))
    el = etree.fromstring(added.xml).find(f"{{{MAIN}}}legacyDrawing")
    assert el.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id") == "rId1"


def test_rows_and_cells_without_r_and_out_of_order_rows() -> None:
    xml = (f'<worksheet xmlns="{MAIN}"><sheetData>'
           '<row><c><v>1</v></c><c t="inlineStr"><is><t>b</t></is></c></row>'     # row 1: A1, B1
           '<row><c><v>2</v></c></row>'                                           # row 2
           '<row r="7"><c r="B7"><v>7</v></c></row>'
           '<row r="5"><c r="A5"><v>5</v></c></row>'                              # out of order
           '</sheetData></worksheet>').encode()
    book = StyleBook(None)
    edits = SheetEdits(writes=[CellWrite(1, 2, "B!"), CellWrite(2, 3, 3.5), CellWrite(5, 2, "x"),
                               CellWrite(6, 1, "new")], marks=[CellMark(1, 1, MARK_ERROR)])
    res = patch_sheet(xml, edits, book)
    root = etree.fromstring(res.xml)
    rows = root.find(f"{{{MAIN}}}sheetData")
    assert [r.get("r") for r in rows] == [None, None, "6", "7", "5"]  # the new row 6 sits before row 7
    first = rows[0]
    assert first[0].get("r") is None and first[0].get("s") == "1"     # A1 marked in place
    assert first[1].get("r") == "B1" and first[1].find(f".//{{{MAIN}}}t").text == "B!"
    assert rows[1][1].get("r") == "C2"
    assert [c.get("r") for c in rows[4]] == ["A5", "B5"]
    assert res.created_rows == {6}


def test_prefixed_namespace_and_self_closed_sheetdata() -> None:
    xml = ('<?xml version="1.0" encoding="utf-8"?><x:worksheet xmlns:x="' + MAIN + '">'
           '<x:dimension ref="A1"/><x:sheetData/></x:worksheet>').encode()
    res = patch_sheet(xml, SheetEdits(writes=[CellWrite(3, 2, "hi", style=Style(bold=True))],
                                      validations=[ListRule("B3", ("a", "b"))]), StyleBook(None))
    root = etree.fromstring(res.xml)
    c = root.find(f".//{{{MAIN}}}c")
    assert c.get("r") == "B3" and c.get("t") == "inlineStr" and c.get("s") == "1"
    assert root.find(f"{{{MAIN}}}dimension").get("ref") == "B3"
    assert b"<x:row" in res.xml and b"<x:dataValidations" in res.xml


def test_overwriting_a_shared_formula_master_writes_out_its_dependants(tmp_path: Path) -> None:
    xml = (f'<worksheet xmlns="{MAIN}"><sheetData>'
           '<row r="1"><c r="A1"><f t="shared" ref="A1:B3" si="0">$D1*2+D$1&amp;"A1"</f><v>2</v></c>'
           '<c r="B1"><f t="shared" si="0"/><v>3</v></c><c r="C1"><f t="array" ref="C1:C2">D1:D2*2</f><v>2</v></c></row>'
           '<row r="2"><c r="A2"><f t="shared" si="0"/><v>4</v></c><c r="C2"><v>4</v></c></row>'
           '<row r="3"><c r="A3"><f t="shared" si="0"/><v>6</v></c><c r="B3"><f t="shared" si="0"/><v>6</v></c></row>'
           '<row r="4"><c r="A4"><f t="shared" ref="A4:A5" si="1">SUM(Sheet2!B4:B5,\'My Sheet\'!C4)</f><v>1</v></c></row>'
           '<row r="5"><c r="A5"><f t="shared" si="1"/><v>1</v></c></row>'
           '</sheetData></worksheet>').encode()
    book = StyleBook(None)
    res = patch_sheet(xml, SheetEdits(writes=[CellWrite(1, 1, 5), CellWrite(4, 1, "x")]), book)
    f = {c.get("r"): c.findtext(f"{{{MAIN}}}f") for c in etree.fromstring(res.xml).iter(f"{{{MAIN}}}c")}
    assert f["A1"] is None and f["A4"] is None
    assert f["B1"] == '$D1*2+E$1&"A1"'
    assert f["A2"] == '$D2*2+D$1&"A1"' and f["A3"] == '$D3*2+D$1&"A1"' and f["B3"] == '$D3*2+E$1&"A1"'
    assert f["A5"] == "SUM(Sheet2!B5:B6,'My Sheet'!C5)"
    assert b'<c r="A2"><f>$D2*2+D$1&amp;"A1"</f><v>4</v></c>' in res.xml     # cached value kept
    assert b'si="' not in res.xml.split(b"<row r=\"4\"")[1]
    with pytest.raises(UnsupportedWorkbook, match="array formula"):
        patch_sheet(xml, SheetEdits(writes=[CellWrite(2, 3, 5)]), book)
    ok = patch_sheet(xml, SheetEdits(writes=[CellWrite(2, 1, 5)], marks=[CellMark(1, 1, MARK_ERROR)]), book)
    assert ok.formulas_removed == [(2, 1)]                           # a dependant may be overwritten alone
    assert b'<c r="A1" s="1"><f t="shared" ref="A1:B3" si="0">' in ok.xml   # a mark keeps the master


def test_shift_formula() -> None:
    from xlplugin.file.write.sheet_patch import shift_formula
    assert shift_formula("A1+$B$2+C$3+$D4", 1, 1) == "B2+$B$2+D$3+$D5"
    assert shift_formula("SUM(A:A,2:3)+LOG10(B1)+Table1[[#This Row],[Col A1]]", 2, 1) == \
        "SUM(B:B,4:5)+LOG10(C3)+Table1[[#This Row],[Col A1]]"
    assert shift_formula("A1", -1, 0) == "#REF!" and shift_formula('"B2"&_xlfn.CONCAT(B2)', 0, 1) == '"B2"&_xlfn.CONCAT(C2)'


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_shared_formulas_of_a_real_sheet_survive_overwriting_the_master(tmp_path: Path) -> None:
    src = CORPUS / "calamine__tests_shared_formula_simple.xlsx"
    with zipfile.ZipFile(src) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    before = openpyxl.load_workbook(src).active
    book = StyleBook(styles_part(src))
    res = patch_sheet(xml, SheetEdits(writes=[CellWrite(1, 2, 99)]), book)
    out = repack(src, tmp_path / "o.xlsx", {"xl/worksheets/sheet1.xml": res.xml, "xl/styles.xml": book.to_bytes()})
    after = openpyxl.load_workbook(out).active
    assert after["B1"].value == 99
    for r in range(2, before.max_row + 1):   # openpyxl translates shared formulas itself: compare
        assert after.cell(r, 2).value == before.cell(r, 2).value


def test_dates_in_both_date_systems(tmp_path: Path) -> None:
    for date1904 in (False, True):
        path = make_plan(tmp_path / f"p{int(date1904)}.xlsx", date1904=date1904)
        edits = SheetEdits(writes=[CellWrite(2, 20, dt.date(2027, 3, 1), style=Style(number_format="yyyy-mm-dd")),
                                   CellWrite(3, 20, dt.datetime(2027, 3, 1, 18, 0), style=Style(number_format="yyyy-mm-dd hh:mm"))])
        _, res, out = _patch_plan(path, edits, date1904=date1904)
        ws = openpyxl.load_workbook(out).active
        assert ws["T2"].value == dt.datetime(2027, 3, 1) and ws["T3"].value == dt.datetime(2027, 3, 1, 18, 0)
    assert excel_serial(dt.date(1900, 1, 1)) == 1 and excel_serial(dt.date(1900, 3, 1)) == 61
    assert excel_serial(dt.date(1904, 1, 2), date1904=True) == 1


def test_table_plan_and_bad_cells(tmp_path: Path) -> None:
    path = make_plan(tmp_path / "t.xlsx", as_table=True, top_left="C5")
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    with pytest.raises(XlpluginError, match="outside"):
        patch_sheet(xml, SheetEdits(writes=[CellWrite(0, 1, 1)]), StyleBook(None))
    with pytest.raises(XlpluginError, match="non-finite"):
        patch_sheet(xml, SheetEdits(writes=[CellWrite(6, 3, float("nan"))]), StyleBook(None))
    _, res, out = _patch_plan(path, SheetEdits(marks=[CellMark(7, 11, MARK_ERROR)],
                                               writes=[CellWrite(6, 17, "Upstream")]))
    ws = openpyxl.load_workbook(out).active
    assert ws["K7"].fill.fgColor.rgb == "FF" + MARK_ERROR and ws["Q6"].value == "Upstream"


# ------------------------------------------------------------------ corpus sheets
FEATURES = {
    "shared formulas": rb't="shared"', "array formulas": rb't="array"', "inline strings": rb't="inlineStr"',
    "hidden rows": rb'<row[^>]*hidden="1"', "merged cells": rb"<mergeCell ", "data validations": rb"<dataValidations",
    "x14 extLst": rb"<x14:", "prefixed namespace": rb"<x:worksheet", "legacy drawing": rb"<legacyDrawing",
    "AlternateContent": rb"AlternateContent", "styled columns": rb"<col [^>]*style=",
    "styled rows": rb'customFormat="1"', "hyperlinks": rb"<hyperlinks", "conditional formats": rb"<conditionalFormatting",
    "tables": rb"<tableParts", "empty sheet": rb"<sheetData/>",
}


def corpus_sheets(per_feature: int = 2, limit: int = 32) -> list[tuple[str, str]]:
    if not CORPUS.is_dir():
        return []
    picked: dict[tuple[str, str], None] = {}
    counts = dict.fromkeys(FEATURES, 0)
    for f in sorted(CORPUS.glob("*.xls[xm]")):
        if f.stat().st_size > 2_000_000 or len(picked) >= limit:
            continue
        try:
            z = zipfile.ZipFile(f)
        except zipfile.BadZipFile:
            continue
        with z:
            for n in sorted(z.namelist()):
                if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n):
                    continue
                b = z.read(n)
                want = [k for k, pat in FEATURES.items() if counts[k] < per_feature and re.search(pat, b)]
                if want and len(picked) < limit:
                    picked[(f.name, n)] = None
                    for k in want:
                        counts[k] += 1
                    break
    return list(picked)


CORPUS_SHEETS = corpus_sheets()


def existing_cells(xml: bytes, n: int = 4) -> list[tuple[int, int]]:
    refs = [split_ref(m.group(1).decode()) for m in CELL_RE.finditer(xml[:2_000_000])]
    if not refs:
        return []
    pick = refs[:n - 1] + [refs[-1]]
    return list(dict.fromkeys(pick))


@pytest.mark.skipif(not CORPUS_SHEETS, reason="shared corpus not present")
def test_corpus_selection_covers_the_features() -> None:
    assert len(CORPUS_SHEETS) >= 25
    found = set()
    for name, part in CORPUS_SHEETS:
        with zipfile.ZipFile(CORPUS / name) as z:
            b = z.read(part)
        found |= {k for k, pat in FEATURES.items() if re.search(pat, b)}
    assert found == set(FEATURES)


@pytest.mark.parametrize(("name", "part"), CORPUS_SHEETS, ids=[f"{n[:40]}:{p[14:]}" for n, p in CORPUS_SHEETS])
def test_patch_real_excel_sheet(tmp_path: Path, name: str, part: str) -> None:
    src = CORPUS / name
    with zipfile.ZipFile(src) as z:
        xml = z.read(part)
    styles_xml = styles_part(src)

    # 1. nothing to do: the same bytes
    assert patch_sheet(xml, SheetEdits(), StyleBook(styles_xml)).xml == xml

    # 2. mark then restore: the exact original bytes, untouched rows identical meanwhile
    cells = existing_cells(xml)
    last_row = max([r for r, _ in cells] + [rows and max(rows) or 0 for rows in [rows_by_number(xml)]])
    marks = [CellMark(r, c, MARK_ERROR) for r, c in cells] + [CellMark(last_row + 2, 3, MARK_WARNING)]
    book = StyleBook(styles_xml)
    marked = patch_sheet(xml, SheetEdits(marks=marks), book)
    etree.fromstring(marked.xml)
    assert_schema_order(marked.xml)
    before, after = rows_by_number(xml), rows_by_number(marked.xml)
    touched = {m.row for m in marks}
    assert {r: b for r, b in before.items() if r not in touched} == {r: b for r, b in after.items() if r not in touched}
    undo = SheetEdits(
        restores=[CellRestore(r, c, s) for (r, c), s in marked.marked.items() if (r, c) not in marked.created_cells],
        removals=[CellRemoval(r, c, row_created=r in marked.created_rows) for r, c in marked.created_cells])
    assert patch_sheet(marked.xml, undo, book).xml == xml

    # 3. writes into a new column, a new row, a dropdown and a width: read back in openpyxl
    max_col = max([c for _, c in cells] + [1])
    col = min(max_col + 1, 16384)
    rows = sorted(before)[:2] or [1]
    if len(rows) < 2:
        rows.append(rows[0] + 1)
    writes = [CellWrite(rows[0], col, "Stage", style=Style(bold=True)),
              CellWrite(rows[-1], col, "=not a formula"),
              CellWrite(last_row + 3, col, 0.125, formula=f"{cell_ref(rows[0], 1)}*0+0.125",
                        style=Style(number_format="0.0%"))]
    book = StyleBook(styles_xml)
    edits = SheetEdits(writes=writes, marks=marks[:1], col_widths={col: 18},
                       validations=[ListRule(f"{cell_ref(last_row + 4, col)}:{cell_ref(last_row + 9, col)}",
                                             ("Upstream", "Downstream"))])
    try:
        res = patch_sheet(xml, edits, book)
    except UnsupportedWorkbook as e:   # only ever for a formula we must not split
        assert "formula" in str(e)
        return
    etree.fromstring(res.xml)
    assert_schema_order(res.xml)
    touched = {w.row for w in writes} | {marks[0].row}
    after = rows_by_number(res.xml)
    assert {r: b for r, b in before.items() if r not in touched} == {r: b for r, b in after.items() if r not in touched}

    out = repack(src, tmp_path / ("out" + src.suffix), {part: res.xml, "xl/styles.xml": book.to_bytes()})
    name_in_book = sheet_name_for_part(src, part)
    readers = 0
    try:
        CalamineWorkbook.from_path(str(src)).get_sheet_by_name(name_in_book).to_python()
    except Exception:   # calamine cannot read the original either: not ours to judge
        pass
    else:
        values = CalamineWorkbook.from_path(str(out)).get_sheet_by_name(name_in_book).to_python(skip_empty_area=False)
        assert values[rows[0] - 1][col - 1] == "Stage" and values[rows[-1] - 1][col - 1] == "=not a formula"
        assert values[last_row + 2][col - 1] == 0.125
        readers += 1
    if re.search(rb'<(?:x:)?col\b[^>]*max="16384"', xml):
        return   # openpyxl takes minutes on a style spanning every column; calamine checked the values
    try:
        assert name_in_book in openpyxl.load_workbook(src).sheetnames
    except Exception:
        assert readers, "neither calamine nor openpyxl could check this sheet"
        return
    wb = openpyxl.load_workbook(out)
    ws = wb[name_in_book]
    assert ws.cell(rows[0], col).value == "Stage" and ws.cell(rows[0], col).font.b
    assert ws.cell(rows[-1], col).value == "=not a formula" and ws.cell(rows[-1], col).data_type == "s"
    f = ws.cell(last_row + 3, col)
    assert f.value == f"={cell_ref(rows[0], 1)}*0+0.125" and f.number_format == "0.0%"
    assert ws.cell(marks[0].row, marks[0].col).fill.fgColor.rgb == "FF" + marks[0].fill
    assert any(dv.formula1 == '"Upstream,Downstream"' for dv in ws.data_validations.dataValidation)
    from openpyxl.utils import get_column_letter
    assert ws.column_dimensions[get_column_letter(col)].width == 18


@pytest.mark.slow
def test_big_sheet_streams(tmp_path: Path) -> None:
    """600k rows (~60 MB): only the two touched rows change; everything else is copied."""
    row = b'<row r="%d" spans="1:6"><c r="A%d"><v>1</v></c><c r="B%d" t="inlineStr"><is><t>activity</t></is></c><c r="C%d"><v>2.5</v></c></row>'
    body = b"".join(row % (i, i, i, i) for i in range(1, 600_001))
    xml = (f'<worksheet xmlns="{MAIN}"><dimension ref="A1:C600000"/><sheetData>').encode() + body + b"</sheetData></worksheet>"
    res = patch_sheet(xml, SheetEdits(marks=[CellMark(300_000, 3, MARK_ERROR)],
                                      writes=[CellWrite(600_000, 4, "Upstream")]), StyleBook(None))
    assert len(res.xml) == len(xml) + len(b' s="1"') + len(b'<c r="D600000" t="inlineStr"><is><t>Upstream</t></is></c>')
    assert res.xml.count(b"<row ") == 600_000


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_every_corpus_worksheet_marks_restores_and_takes_writes() -> None:
    """All ~790 worksheets: marks restore to the exact bytes; writes, a width, a dropdown and a
    legacyDrawing give a well-formed sheet in schema order (or a clear refusal)."""
    checked, problems = 0, []
    for f in sorted(CORPUS.glob("*.xls[xm]")):
        try:
            z = zipfile.ZipFile(f)
        except zipfile.BadZipFile:
            continue
        with z:
            styles_xml = z.read("xl/styles.xml") if "xl/styles.xml" in z.namelist() else None
            for part in z.namelist():
                if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", part):
                    continue
                xml = z.read(part)
                cells = existing_cells(xml, 6)
                last = max([*rows_by_number(xml), *(r for r, _ in cells), 0])
                book = StyleBook(styles_xml)
                marks = [CellMark(r, c, MARK_ERROR) for r, c in cells] + [CellMark(last + 2, 3, MARK_WARNING)]
                try:
                    m = patch_sheet(xml, SheetEdits(marks=marks), book)
                    etree.fromstring(m.xml)
                    undo = SheetEdits(
                        restores=[CellRestore(r, c, s) for (r, c), s in m.marked.items() if (r, c) not in m.created_cells],
                        removals=[CellRemoval(r, c, row_created=r in m.created_rows) for r, c in m.created_cells])
                    assert patch_sheet(m.xml, undo, book).xml == xml, "restore is not byte-identical"
                    col = min(max([c for _, c in cells] + [1]) + 1, 16384)
                    writes = ([CellWrite(r, c, "x", style=Style(bold=True)) for r, c in cells[:3]]
                              + [CellWrite(r, col, 1.5, formula="1+0.5") for r, _ in cells[:3]])
                    edits = SheetEdits(writes=writes, col_widths={2: 20}, legacy_drawing="rIdZ",
                                       validations=[ListRule("Z1:Z5", ("a", "b"))])
                    try:
                        res = patch_sheet(xml, edits, book)
                    except UnsupportedWorkbook as e:
                        assert "formula" in str(e)
                        continue
                    etree.fromstring(res.xml)
                    assert_schema_order(res.xml)
                    checked += 1
                except Exception as e:  # collect them all, then fail with the list
                    problems.append(f"{f.name}:{part}: {type(e).__name__} {e}")
    assert checked > 700 and not problems, problems[:5]


def test_clear_and_mark_again_in_one_pass_keeps_the_row_the_tools(plan: Path) -> None:
    with zipfile.ZipFile(plan) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    book = StyleBook(styles_part(plan))
    first = patch_sheet(xml, SheetEdits(marks=[CellMark(20, 2, MARK_ERROR)]), book)
    assert first.created_rows == {20}
    # re-run: ClearMarks (removal of the created cell) and the same mark again, one pass
    second = patch_sheet(first.xml, SheetEdits(removals=[CellRemoval(20, 2, row_created=True)],
                                               marks=[CellMark(20, 2, MARK_ERROR)]), book)
    assert second.xml == first.xml
    assert second.created_rows == {20} and second.created_cells == {(20, 2)}
    cleared = patch_sheet(second.xml, SheetEdits(removals=[CellRemoval(20, 2, row_created=True)]), book)
    assert cleared.xml == xml


def test_dropping_the_tools_dropdowns_gives_back_the_original() -> None:
    plain = (f'<worksheet xmlns="{MAIN}"><sheetData/>'
             '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>').encode()
    mine = ListRule("$K$3:$K$40", ("Upstream", "Downstream"))
    added = patch_sheet(plain, SheetEdits(validations=[mine]), StyleBook(None))
    assert patch_sheet(added.xml, SheetEdits(drop_validations=[mine.ref]), StyleBook(None)).xml == plain
    users = plain.replace(b"<pageMargins", b'<dataValidations count="1"><dataValidation type="whole" sqref="A1:A9">'
                                           b"<formula1>0</formula1></dataValidation></dataValidations><pageMargins")
    added = patch_sheet(users, SheetEdits(validations=[mine]), StyleBook(None))
    assert b'count="2"' in added.xml
    assert patch_sheet(added.xml, SheetEdits(drop_validations=["K3:K40"]), StyleBook(None)).xml == users


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_libreoffice_recalculates_patched_sheets(tmp_path: Path) -> None:
    """LibreOffice (forced to recalculate) loads the patched files and agrees with the
    cached values written: new formulas, and shared formulas written out after their
    master was overwritten."""
    from tests import libreoffice
    if not libreoffice.available():
        pytest.skip("LibreOffice not installed")
    plan = make_plan(tmp_path / "plan.xlsx")
    edits = SheetEdits(writes=[CellWrite(r, 15, (a - b) / a, formula=f"(I{r}-J{r})/I{r}", style=Style(number_format="0.0%"))
                               for r, a, b in ((2, 12000, 11500), (3, 18000, 0), (4, 30000, 28000))],
                       marks=[CellMark(2, 9, MARK_ERROR)], col_widths={15: 14})
    _, _, out_plan = _patch_plan(plan, edits)
    src = CORPUS / "calamine__tests_shared_formula_bench.xlsx"
    with zipfile.ZipFile(src) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    book = StyleBook(styles_part(src))
    res = patch_sheet(xml, SheetEdits(writes=[CellWrite(1, 2, 2, formula="A1*2")]), book)
    out_shared = repack(src, tmp_path / "shared.xlsx", {"xl/worksheets/sheet1.xml": res.xml,
                                                         "xl/styles.xml": book.to_bytes()})
    got = libreoffice.recalculate_values([out_plan, out_shared], tmp_path)
    cached_plan = libreoffice.read_values(out_plan)["Plan"]
    for r in (2, 3, 4):
        assert got[out_plan]["Plan"][(r, 15)] == pytest.approx(cached_plan[(r, 15)])
    cached = libreoffice.read_values(src)
    sheet = next(iter(cached.sheets))
    for key, value in cached[sheet].items():
        assert got[out_shared][sheet][key] == pytest.approx(value), key
    assert not got[out_shared].errors() and not got[out_plan].errors()
