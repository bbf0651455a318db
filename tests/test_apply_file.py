"""The lossless file writer, at the level a user acts: a workbook file in, a workbook
file out, read back with openpyxl, python-calamine and the raw package."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

from tests.corpus import GOOD
from tests.plan_factory import make_plan
from xlplugin import changes as ch
from xlplugin.errors import UnsupportedWorkbook, XlpluginError
from xlplugin.file.write import apply_to_file
from xlplugin.file.write import charts as charts_mod
from xlplugin.file.write import tables as tables_mod
from xlplugin.file.write.state import STATE_SHEET, State, from_sheet_xml, to_sheet_xml

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "vt": "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
      "ep": "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"}


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def raw_members(path: Path) -> dict[str, tuple[int, int, int]]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: (i.CRC, i.compress_size, i.compress_type) for i in z.infolist()}


def sheet_part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        wb = etree.fromstring(z.read("xl/workbook.xml"))
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    rid = next(s.get(f"{{{NS['r']}}}id") for s in wb.iterfind(".//m:sheet", NS) if s.get("name") == name)
    target = next(r.get("Target") for r in rels if r.get("Id") == rid)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def summary_sheet(name: str = "Summary", after: str | None = None) -> ch.ReplaceSheet:
    cells = (
        ch.SetCell(name, 1, 1, "Stage", style=ch.Style(bold=True)),
        ch.SetCell(name, 1, 2, "Budget", style=ch.Style(bold=True)),
        ch.SetCell(name, 2, 1, "Upstream"),
        ch.SetCell(name, 2, 2, 30000.0, formula="SUM(Plan!I2:I3)", style=ch.Style(number_format="#,##0")),
        ch.SetCell(name, 3, 1, "Downstream"),
        ch.SetCell(name, 3, 2, 63000.0, formula="SUM(Plan!I4:I6)", style=ch.Style(number_format="#,##0")),
        ch.SetCell(name, 4, 1, "=cmd|' /C calc'!A0"),                    # text, never a formula
        ch.SetCell(name, 4, 2, "big", formula='IF(B2>1,"big","small")'),  # text result: t="str"
        ch.SetCell(name, 5, 1, True, formula="B2>0"),
        ch.SetCell(name, 5, 2, "#DIV/0!", formula="1/0"),
        ch.SetCell(name, 6, 1, dt.date(2027, 1, 11)),
        ch.SetCell(name, 6, 2, "  spaced  "),
    )
    series = (ch.Series("Budget", f"'{name}'!$B$2:$B$3", f"'{name}'!$A$2:$A$3", color="1F4E79"),)
    return ch.ReplaceSheet(
        name, cells=cells, col_widths=((1, 22.0), (2, 12.5)), freeze=(2, 1),
        hyperlinks=(ch.Hyperlink(2, 1, "'Plan'!B2", tooltip="Go to the plan"),),
        charts=(ch.ChartSpec("doughnut", "Budget by stage", series, 8, 1),
                ch.ChartSpec("column_stacked", "Spend", series, 8, 9)),
        after=after, tab_color="1F4E79")


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    return make_plan(tmp_path / "plan.xlsx", extra_sheets=["Notes"])


@pytest.fixture
def table_plan(tmp_path: Path) -> Path:
    return make_plan(tmp_path / "table.xlsx", as_table=True, extra_sheets=["Notes"])


# --------------------------------------------------------------------------- new sheets
def test_new_sheet_values_formulas_links_and_untouched_parts(plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    before = raw_members(plan)
    res = apply_to_file(plan, out, ch.ChangeList([summary_sheet()]))
    assert res.sheets_added == ["Summary"]

    # Every part the writer had no reason to touch keeps its compressed bytes.
    after = raw_members(out)
    for name in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/sharedStrings.xml",
                 "xl/theme/theme1.xml", "docProps/core.xml", "_rels/.rels"):
        assert after[name] == before[name], name

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Notes", "Plan", "Summary", STATE_SHEET]
    assert wb[STATE_SHEET].sheet_state == "veryHidden"
    ws = wb["Summary"]
    assert ws["B2"].value == "=SUM(Plan!I2:I3)" and ws["B2"].number_format == "#,##0"
    assert ws["A1"].font.b
    assert ws["A4"].value == "=cmd|' /C calc'!A0" and ws["A4"].data_type == "s"
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width == 22
    assert ws["A2"].hyperlink.location == "'Plan'!B2"
    assert ws.sheet_properties.tabColor.rgb == "FF1F4E79"

    values = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Summary").to_python()
    assert values[1][1] == 30000 and values[3][1] == "big" and values[3][0].startswith("=cmd")
    assert values[4][0] is True and values[5][1] == "  spaced  "
    assert values[5][0] == dt.date(2027, 1, 11) or values[5][0] == dt.datetime(2027, 1, 11)

    xml = parts(out)[sheet_part(out, "Summary")]
    root = etree.fromstring(xml)
    c = {e.get("r"): e for e in root.iterfind(".//m:c", NS)}
    assert c["B4"].get("t") == "str" and c["B4"].findtext("m:v", namespaces=NS) == "big"
    assert c["A5"].get("t") == "b" and c["B5"].get("t") == "e"
    assert c["A4"].get("t") == "inlineStr" and c["A4"].find("m:f", NS) is None


def test_chart_series_point_at_their_ranges(plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    apply_to_file(plan, out, ch.ChangeList([summary_sheet()]))
    p = parts(out)
    ct = p["[Content_Types].xml"].decode()
    charts = sorted(n for n in p if n.startswith("xl/charts/chart"))
    assert len(charts) == 2
    for n in charts:
        assert f'PartName="/{n}"' in ct
        root = etree.fromstring(p[n])
        assert root.xpath("//c:val//c:f/text()", namespaces=NS) == ["'Summary'!$B$2:$B$3"]
        assert root.xpath("//c:cat//c:f/text()", namespaces=NS) == ["'Summary'!$A$2:$A$3"]
        assert root.xpath("//c:val//c:pt/c:v/text()", namespaces=NS) == ["30000", "63000"]
    assert b"<c:doughnutChart>" in p[charts[0]] and b'<c:grouping val="stacked"/>' in p[charts[1]]
    wb = openpyxl.load_workbook(out)
    assert len(wb["Summary"]._charts) == 2


@pytest.mark.parametrize("kind,tag", [("doughnut", "doughnutChart"), ("column_stacked", "barChart"),
                                      ("bar_clustered", "barChart")])
def test_chart_xml_kinds(kind: str, tag: str) -> None:
    spec = ch.ChartSpec(kind, "T", (ch.Series("A", "'S'!$B$1:$B$2", "'S'!$A$1:$A$2"),
                                    ch.Series("B", "'S'!$C$1:$C$2", "'S'!$A$1:$A$2")), 1, 1)
    root = etree.fromstring(charts_mod.chart_xml(spec, lambda ref: None))
    assert root.find(f".//c:{tag}", NS) is not None
    assert root.xpath("//c:ser/c:val//c:f/text()", namespaces=NS) == ["'S'!$B$1:$B$2", "'S'!$C$1:$C$2"]
    if kind == "bar_clustered":
        assert root.find(".//c:barDir", NS).get("val") == "bar"
        assert root.find(".//c:grouping", NS).get("val") == "clustered"


def test_user_sheet_with_the_same_name_is_never_touched(plan: Path, tmp_path: Path) -> None:
    src = make_plan(tmp_path / "busy.xlsx", extra_sheets=["Summary"])
    out = tmp_path / "out.xlsx"
    res = apply_to_file(src, out, ch.ChangeList([summary_sheet(), ch.DefinedName("Total", "'Summary'!$B$2")]))
    assert res.renamed == {"Summary": "Summary (xlplugin)"}
    assert parts(out)["xl/worksheets/sheet1.xml"] == parts(src)["xl/worksheets/sheet1.xml"]
    wb = openpyxl.load_workbook(out)
    assert wb["Summary"]["A1"].value == "Summary notes"
    new = wb["Summary (xlplugin)"]
    assert new["A2"].hyperlink.location == "'Plan'!B2"
    assert wb.defined_names["Total"].attr_text == "'Summary (xlplugin)'!$B$2"
    chart = next(v for k, v in parts(out).items() if k.startswith("xl/charts/"))
    assert b"'Summary (xlplugin)'!$B$2:$B$3" in chart
    # Re-running replaces the tool's sheet; it never adds "Summary (xlplugin) (xlplugin)".
    out2 = tmp_path / "out2.xlsx"
    apply_to_file(out, out2, ch.ChangeList([summary_sheet()]))
    assert openpyxl.load_workbook(out2).sheetnames == wb.sheetnames


def test_idempotent_apply_twice_equals_once(plan: Path, tmp_path: Path) -> None:
    cl = ch.ChangeList([ch.ClearMarks(), summary_sheet(after="Notes"),
                        ch.MarkCell("Plan", 3, 9), ch.SetNote("Plan", 3, 9, "Budget looks high"),
                        ch.SetCell("Plan", 1, 15, "Stage"), ch.SetCell("Plan", 2, 15, "Upstream"),
                        ch.DefinedName("_xlplugin_columns", "'Plan'!$O$1")])
    once, twice = tmp_path / "once.xlsx", tmp_path / "twice.xlsx"
    apply_to_file(plan, once, cl)
    apply_to_file(once, twice, cl)
    p1, p2 = parts(once), parts(twice)
    assert sorted(p1) == sorted(p2)
    assert [n for n in p1 if p1[n] != p2[n]] == []
    assert openpyxl.load_workbook(twice).sheetnames == ["Notes", "Summary", "Plan", STATE_SHEET]


# --------------------------------------------------------------------------- clear
def test_run_then_clear_everything_restores_plan_sheet_bytes(table_plan: Path, tmp_path: Path) -> None:
    plan_part = sheet_part(table_plan, "Plan")
    orig = parts(table_plan)
    run = ch.ChangeList([
        ch.ClearMarks(), summary_sheet(),
        ch.ExtendTable("Plan", "Plan", (ch.TableColumn("Stage"), ch.TableColumn("Variance", "[@Actual]-[@Budget]"))),
        ch.SetCell("Plan", 1, 15, "Stage"), ch.SetCell("Plan", 2, 15, "Upstream"),
        ch.SetCell("Plan", 1, 16, "Variance"), ch.SetCell("Plan", 2, 16, -500, formula="Plan[@Actual]-Plan[@Budget]"),
        ch.MarkCell("Plan", 3, 9), ch.MarkCell("Plan", 4, 3, fill=ch.MARK_WARNING), ch.MarkCell("Plan", 9, 2),
        ch.SetNote("Plan", 3, 9, "Budget over the cap"),
        ch.ListValidation("Plan", "O2:O6", ("Upstream", "Downstream", "Review")),
        ch.DefinedName("_xlplugin_columns", "'Plan'!$O$1:$P$1"),
        ch.SetColumnWidth("Plan", 15, 14.0), ch.SetColumnWidth("Plan", 2, 30.0),
    ])
    ran, cleared = tmp_path / "ran.xlsx", tmp_path / "cleared.xlsx"
    res = apply_to_file(table_plan, ran, run)
    assert res.marks == 3 and res.notes == 1 and res.table_columns == 2
    wb = openpyxl.load_workbook(ran)
    assert wb["Plan"]["I3"].fill.fgColor.rgb.endswith(ch.MARK_ERROR)
    assert wb["Plan"]["I3"].comment.text == "Budget over the cap"
    assert wb["Plan"].tables["Plan"].ref == "A1:P6"
    assert wb["Plan"]["O2"].value == "Upstream"
    assert wb["Plan"].column_dimensions["O"].width == 14

    apply_to_file(ran, cleared, ch.ChangeList([ch.ClearMarks(everything=True)]))
    after = parts(cleared)
    assert after[plan_part] == orig[plan_part]
    assert sorted(after) == sorted(orig)
    table = next(n for n in orig if n.startswith("xl/tables/"))
    assert etree.tostring(etree.fromstring(after[table]), method="c14n") == \
        etree.tostring(etree.fromstring(orig[table]), method="c14n")
    wb = openpyxl.load_workbook(cleared)
    assert wb.sheetnames == ["Notes", "Plan"]
    assert "_xlplugin_columns" not in wb.defined_names


def test_clear_marks_restores_exact_style_index(plan: Path, tmp_path: Path) -> None:
    marked, cleared = tmp_path / "m.xlsx", tmp_path / "c.xlsx"
    apply_to_file(plan, marked, ch.ChangeList([ch.ClearMarks(), ch.MarkCell("Plan", 2, 6),
                                               ch.MarkCell("Plan", 2, 2), ch.SetNote("Plan", 2, 2, "x")]))
    # Re-running replaces marks: still one record per cell, original style kept.
    apply_to_file(marked, marked, ch.ChangeList([ch.ClearMarks(), ch.MarkCell("Plan", 2, 6)]))
    apply_to_file(marked, cleared, ch.ChangeList([ch.ClearMarks()]))
    part = sheet_part(plan, "Plan")
    assert parts(cleared)[part] == parts(plan)[part]
    assert openpyxl.load_workbook(cleared).sheetnames == ["Notes", "Plan"]  # empty state sheet removed


# --------------------------------------------------------------------------- safety
def test_lock_file_refused_and_nothing_written(plan: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out.xlsx"
    (tmp_path / "~$out.xlsx").write_bytes(b"owner")
    with pytest.raises(XlpluginError, match="open in Excel"):
        apply_to_file(plan, dest, ch.ChangeList([summary_sheet()]))
    assert not dest.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx", "~$out.xlsx"]


def test_failure_leaves_no_output_and_in_place_input_intact(plan: Path, tmp_path: Path) -> None:
    before = plan.read_bytes()
    with pytest.raises(UnsupportedWorkbook, match="no sheet named 'Nope'"):
        apply_to_file(plan, plan, ch.ChangeList([summary_sheet(), ch.SetCell("Nope", 1, 1, 1)]))
    assert plan.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx"]
    apply_to_file(plan, plan, ch.ChangeList([summary_sheet()]))      # --in-place
    assert "Summary" in openpyxl.load_workbook(plan).sheetnames


def test_chartsheet_target_refused(tmp_path: Path) -> None:
    import xlsxwriter
    src = tmp_path / "cs.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("Data")
    ws.write_column(0, 0, [1, 2, 3])
    cs = wb.add_chartsheet("Chart1")
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=Data!$A$1:$A$3"})
    cs.set_chart(chart)
    wb.close()
    with pytest.raises(UnsupportedWorkbook, match="chartsheet"):
        apply_to_file(src, tmp_path / "o.xlsx", ch.ChangeList([ch.SetCell("Chart1", 1, 1, 5)]))
    assert not (tmp_path / "o.xlsx").exists()


# --------------------------------------------------------------------------- workbook parts
def test_insert_in_the_middle_shifts_local_names_and_active_tab(tmp_path: Path) -> None:
    import xlsxwriter
    src = tmp_path / "names.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    for n in ("A", "B", "C"):
        wb.add_worksheet(n).write(0, 0, n)
    wb.worksheets()[2].activate()
    wb.worksheets()[2].print_area("A1:B2")         # _xlnm.Print_Area localSheetId=2
    wb.close()
    out = tmp_path / "o.xlsx"
    apply_to_file(src, out, ch.ChangeList([ch.ReplaceSheet("New", cells=(ch.SetCell("New", 1, 1, 1),), after="A"),
                                           ch.DefinedName("Local", "'C'!$A$1", sheet="C")]))
    root = etree.fromstring(parts(out)["xl/workbook.xml"])
    assert [s.get("name") for s in root.iterfind(".//m:sheet", NS)] == ["A", "New", "B", "C", STATE_SHEET]
    names = {(d.get("name"), d.get("localSheetId")) for d in root.iterfind(".//m:definedName", NS)}
    assert names == {("_xlnm.Print_Area", "3"), ("Local", "3")}
    assert root.find(".//m:workbookView", NS).get("activeTab") == "3"
    ids = [s.get("sheetId") for s in root.iterfind(".//m:sheet", NS)]
    assert len(set(ids)) == len(ids)
    wbo = openpyxl.load_workbook(out)
    assert wbo["C"].print_area == "'C'!$A$1:$B$2"

    app = etree.fromstring(parts(out)["docProps/app.xml"])
    titles = app.xpath("//ep:TitlesOfParts/vt:vector/vt:lpstr/text()", namespaces=NS)
    assert titles[:5] == ["A", "New", "B", "C", STATE_SHEET]
    vec = app.find(".//ep:TitlesOfParts/vt:vector", NS)
    assert int(vec.get("size")) == len(titles)
    counts = [int(x) for x in app.xpath("//ep:HeadingPairs//vt:i4/text()", namespaces=NS)]
    assert sum(counts) == len(titles)
    ct = parts(out)["[Content_Types].xml"].decode()
    assert f'PartName="/{sheet_part(out, "New")}"' in ct


def test_calc_chain_dropped_when_cells_change(tmp_path: Path) -> None:
    src = GOOD
    with_chain = next((p for p in sorted(src.glob("*.xlsx"))
                       if "xl/calcChain.xml" in zipfile.ZipFile(p).namelist()), None)
    if with_chain is None:
        pytest.skip("no corpus workbook with a calcChain")
    out = tmp_path / "o.xlsx"
    apply_to_file(with_chain, out, ch.ChangeList([ch.ReplaceSheet("Summary", cells=(ch.SetCell("Summary", 1, 1, "x"),))]))
    p = parts(out)
    assert "xl/calcChain.xml" not in p
    assert b"calcChain" not in p["[Content_Types].xml"] and b"calcChain" not in p["xl/_rels/workbook.xml.rels"]


def test_extend_table_unit() -> None:
    xml = (b'<table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="1" name="Plan" '
           b'displayName="Plan" ref="B2:C5"><autoFilter ref="B2:C5"/><tableColumns count="2">'
           b'<tableColumn id="1" name="ID"/><tableColumn id="2" name="Budget"/></tableColumns></table>')
    root = etree.fromstring(xml)
    added = tables_mod.extend_table(root, (ch.TableColumn("budget"), ch.TableColumn("ROI", "[@Revenue]/[@Budget]"),
                                           ch.TableColumn("Stage")))
    assert added == ["ROI", "Stage"]
    assert root.get("ref") == "B2:E5" and root.find("m:autoFilter", NS).get("ref") == "B2:E5"
    cols = root.find("m:tableColumns", NS)
    assert cols.get("count") == "4"
    assert [(c.get("id"), c.get("name")) for c in cols] == [("1", "ID"), ("2", "Budget"), ("3", "ROI"), ("4", "Stage")]
    assert cols[2].findtext("m:calculatedColumnFormula", namespaces=NS) == "[@Revenue]/[@Budget]"
    assert tables_mod.remove_columns(root, added) == added
    assert etree.tostring(root, method="c14n") == etree.tostring(etree.fromstring(xml), method="c14n")


def test_state_round_trip_including_excel_shared_strings() -> None:
    st = State()
    st.add("sheet", "Summary")
    st.add("mark", "Plan", ref="E7", s="12", created=False)
    st.add("note", "Plan's", ref="E7")
    st.add("table", "Plan", table="Plan", part="xl/tables/table1.xml", columns=["Stage", "_x0041_"])
    back = from_sheet_xml(to_sheet_xml(st))

    def key(r: dict) -> str:
        return repr(sorted(r.items()))

    assert sorted(map(key, back.records)) == sorted(map(key, st.records))
    # As Excel saves it: shared strings instead of inline strings.
    sst = ["kind", "sheet", "data", "mark", "Plan", '{"ref":"E7","s":"12"}']
    xml = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
           b'<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="s"><v>4</v></c><c r="C2" t="s"><v>5</v></c></row>'
           b'</sheetData></worksheet>')
    assert from_sheet_xml(xml, sst).records == [{"kind": "mark", "sheet": "Plan", "ref": "E7", "s": "12"}]


def test_date1904_serials(tmp_path: Path) -> None:
    src = make_plan(tmp_path / "mac.xlsx", date1904=True)
    out = tmp_path / "o.xlsx"
    apply_to_file(src, out, ch.ChangeList([ch.ReplaceSheet("S", cells=(ch.SetCell("S", 1, 1, dt.date(2027, 1, 11)),)),
                                           ch.SetCell("Plan", 2, 16, dt.date(2027, 1, 11),
                                                      style=ch.Style(number_format="yyyy-mm-dd"))]))
    wb = openpyxl.load_workbook(out)
    assert wb["S"]["A1"].value.date() == dt.date(2027, 1, 11)
    assert wb["Plan"]["P2"].value.date() == dt.date(2027, 1, 11)


def test_clear_errors_for_bad_names_protected_structure_and_missing_folder(plan: Path, tmp_path: Path) -> None:
    with pytest.raises(XlpluginError, match="not a valid sheet name"):
        apply_to_file(plan, tmp_path / "o.xlsx", ch.ChangeList([ch.ReplaceSheet("a/b")]))
    with pytest.raises(XlpluginError, match="cannot write") as e:
        apply_to_file(plan, tmp_path / "missing" / "o.xlsx", ch.ChangeList([summary_sheet()]))
    assert "\n" not in str(e.value)
    import xlsxwriter
    locked = tmp_path / "locked.xlsx"
    wb = xlsxwriter.Workbook(str(locked))
    wb.add_worksheet("Plan").write(0, 0, "x")
    wb.close()
    with zipfile.ZipFile(locked) as z:
        items = {n: z.read(n) for n in z.namelist()}
    items["xl/workbook.xml"] = items["xl/workbook.xml"].replace(
        b"<bookViews>", b'<workbookProtection lockStructure="1"/><bookViews>')
    with zipfile.ZipFile(locked, "w") as z:
        for n, data in items.items():
            z.writestr(n, data)
    with pytest.raises(UnsupportedWorkbook, match="structure is protected"):
        apply_to_file(locked, tmp_path / "o.xlsx", ch.ChangeList([summary_sheet()]))
    assert not (tmp_path / "o.xlsx").exists()


def test_column_widths_restored_exactly_when_the_sheet_had_cols(tmp_path: Path) -> None:
    import xlsxwriter
    src = tmp_path / "cols.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("Plan")
    ws.set_column(0, 3, 18.5)
    ws.write_row(0, 0, ["ID", "Activity", "Budget", "Owner"])
    wb.close()
    ran, cleared = tmp_path / "r.xlsx", tmp_path / "c.xlsx"
    apply_to_file(src, ran, ch.ChangeList([ch.SetColumnWidth("Plan", 2, 40.0), ch.SetColumnWidth("Plan", 6, 9.0),
                                           ch.SetCell("Plan", 1, 6, "Stage")]))
    assert openpyxl.load_workbook(ran)["Plan"].column_dimensions["B"].width == 40
    apply_to_file(ran, cleared, ch.ChangeList([ch.ClearMarks(everything=True)]))
    assert parts(cleared)["xl/worksheets/sheet1.xml"] == parts(src)["xl/worksheets/sheet1.xml"]


PNG_1PX = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def test_removing_a_tool_sheet_keeps_media_another_sheet_shares(tmp_path: Path) -> None:
    import xlsxwriter

    from xlplugin.file.ooxml.package import open_package
    from xlplugin.file.write.packager import PackageEdit
    img = tmp_path / "dot.png"
    img.write_bytes(PNG_1PX)
    src = tmp_path / "img.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    for name in ("Mine", "Theirs"):
        wb.add_worksheet(name).insert_image("B2", str(img))   # one xl/media/image1.png, two drawings
    wb.close()
    with open_package(src) as pkg:
        edit = PackageEdit(pkg)
        removed = edit.remove_tree(pkg.sheet("Mine").part)
    assert "xl/drawings/drawing1.xml" in removed
    assert "xl/media/image1.png" not in removed
