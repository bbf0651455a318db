"""A plan sheet carrying every feature a marketer's sheet may hold, built for the tests.

XlsxWriter writes most of it (notes, conditional formatting with 2010 data bars and icon
sets, sparklines, a Table with a totals row, frozen panes, grouped and hidden rows, merged
cells, print settings, data validation).  What it cannot write is grafted at the package
level from files Excel wrote: an Excel-2010 (x14) list validation pointing at another
sheet, and a threaded comment with its person list (from the corpus file
poi right-to-left.xlsx, written by Excel 365)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import xlsxwriter

from tests.corpus import GOOD
from tests.plan_factory import HEADERS, ROWS, write_values

THREADED_SOURCE = GOOD / "poi__test-data_spreadsheet_right-to-left.xlsx"
THREAD_ID = "{EED4186C-0FC5-48B4-8B16-E53E0D0C63AF}"
THREADED_FALLBACK = (
    "[Threaded comment]\n\nYour version of Excel allows you to read this threaded comment; however, "
    "any edits to it will get removed if the file is opened in a newer version of Excel. Learn more: "
    "https://go.microsoft.com/fwlink/?linkid=870924\n\nComment:\n    test comment")
X14_DV = (
    '<ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
    "<x14:formula1><xm:f>Lists!$A$1:$A$4</xm:f></x14:formula1><xm:sqref>H3:H7</xm:sqref>"
    "</x14:dataValidation></x14:dataValidations></ext>")
PLAN_PART = "xl/worksheets/sheet1.xml"
FIRST_ROW = 3      # the Table's header row (1-based); a merged title sits above it


def build(path: Path, full_calc_on_load: str = "0") -> Path:
    raw = path.with_suffix(".raw.xlsx")
    wb = xlsxwriter.Workbook(str(raw))
    ws = wb.add_worksheet("Plan")
    lists = wb.add_worksheet("Lists")
    for i, status in enumerate(["Planned", "In progress", "Done", "Cancelled"]):
        lists.write_string(i, 0, status)
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    title = wb.add_format({"bold": True, "font_size": 14, "align": "center"})
    ws.merge_range(0, 0, 0, 5, "Marketing Plan 2027", title)
    ws.merge_range(1, 0, 1, 2, "Owner: Marketing ops")
    r0 = FIRST_ROW - 1
    n = len(ROWS)
    columns = [{"header": h} for h in HEADERS]
    columns[0]["total_string"] = "Total"
    columns[8]["total_function"] = "sum"
    columns[9]["total_function"] = "sum"
    ws.add_table(r0, 0, r0 + n + 1, len(HEADERS) - 1,
                 {"name": "PlanTable", "columns": columns, "total_row": True, "style": "Table Style Medium 2"})
    rows = [list(r) for r in ROWS]
    rows[0][8] = -12000       # a finding on a cell that already holds a user's note (I4)
    write_values(ws, r0 + 1, 0, rows, date_fmt)
    ws.write_formula(r0 + n + 1, 8, "=SUBTOTAL(109,PlanTable[Budget])", None, sum(r[8] for r in rows))
    ws.write_formula(r0 + n + 1, 9, "=SUBTOTAL(109,PlanTable[Actual])", None, sum(r[9] for r in ROWS))
    # notes, one of them the legacy half of a threaded comment
    ws.write_comment(r0 + 2, 1, "Check the focus group vendor", {"author": "Dana"})
    ws.write_comment(r0 + 1, 8, "Finance approved 12k", {"author": "Luis"})
    ws.write_comment(r0 + 3, 1, THREADED_FALLBACK, {"author": f"tc={THREAD_ID}"})
    # conditional formatting: a 2010 data bar, an icon set, a cell rule
    ws.conditional_format(r0 + 1, 8, r0 + n, 8, {"type": "data_bar", "bar_color": "#63BE7B",
                                                 "data_bar_2010": True, "bar_solid": True})
    ws.conditional_format(r0 + 1, 9, r0 + n, 9, {"type": "icon_set", "icon_style": "3_traffic_lights"})
    ws.conditional_format(r0 + 1, 11, r0 + n, 11, {"type": "cell", "criteria": ">", "value": 200,
                                                   "format": wb.add_format({"bg_color": "#FFC7CE"})})
    # sparklines beside the table, over Leads..Revenue
    for i in range(n):
        r = r0 + 1 + i
        ws.add_sparkline(r, len(HEADERS) + 1, {"range": f"Plan!L{r + 1}:N{r + 1}", "markers": True})
    # a classic list validation on Channel
    ws.data_validation(r0 + 1, 3, r0 + n, 3, {"validate": "list",
                                              "source": ["Research", "Search", "Events", "Email"]})
    ws.freeze_panes(FIRST_ROW, 2)
    for i in (1, 2):                       # rows 5-6 grouped, row 6 hidden
        ws.set_row(r0 + 1 + i, None, None, {"level": 1, "hidden": i == 2})
    ws.set_column(1, 2, 30)
    ws.set_landscape()
    ws.center_horizontally()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(r0)
    ws.print_area(0, 0, r0 + n + 1, len(HEADERS) - 1)
    ws.set_header("&CMarketing Plan")
    ws.set_footer("&RPage &P of &N")
    ws.set_margins(left=0.5, right=0.5)
    wb.close()
    _graft(raw, path, full_calc_on_load)
    raw.unlink()
    return path


def _graft(src: Path, dest: Path, full_calc_on_load: str) -> None:
    """Add the x14 validation and the threaded comment (with its person list)."""
    with zipfile.ZipFile(THREADED_SOURCE) as t:
        threaded = t.read("xl/threadedComments/threadedComment1.xml").replace(b'ref="A3"', b'ref="B6"')
        persons = t.read("xl/persons/person.xml")
    with zipfile.ZipFile(src) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts[PLAN_PART].decode()
    cut = sheet.rfind("<extLst>")     # the worksheet's own, not a cfRule's
    assert cut > sheet.rfind("</conditionalFormatting>")
    sheet = sheet[:cut] + "<extLst>" + X14_DV + sheet[cut + len("<extLst>"):]
    parts[PLAN_PART] = sheet.encode()
    rels = "xl/worksheets/_rels/sheet1.xml.rels"
    parts[rels] = parts[rels].replace(b"</Relationships>", b'<Relationship Id="rId90" Type="http://schemas.'
                                      b'microsoft.com/office/2017/10/relationships/threadedComment" '
                                      b'Target="../threadedComments/threadedComment1.xml"/></Relationships>')
    wrels = "xl/_rels/workbook.xml.rels"
    parts[wrels] = parts[wrels].replace(b"</Relationships>", b'<Relationship Id="rId90" Type="http://schemas.'
                                        b'microsoft.com/office/2017/10/relationships/person" '
                                        b'Target="persons/person.xml"/></Relationships>')
    ct = "[Content_Types].xml"
    parts[ct] = parts[ct].replace(b"</Types>", b'<Override PartName="/xl/threadedComments/threadedComment1.xml" '
                                  b'ContentType="application/vnd.ms-excel.threadedcomments+xml"/>'
                                  b'<Override PartName="/xl/persons/person.xml" '
                                  b'ContentType="application/vnd.ms-excel.person+xml"/></Types>')
    wbx = parts["xl/workbook.xml"].decode()
    wbx = re.sub(r"<calcPr [^>]*/>", f'<calcPr calcId="191029" fullCalcOnLoad="{full_calc_on_load}"/>', wbx)
    parts["xl/workbook.xml"] = wbx.encode()
    parts["xl/threadedComments/threadedComment1.xml"] = threaded
    parts["xl/persons/person.xml"] = persons
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
