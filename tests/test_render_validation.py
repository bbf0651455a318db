"""Findings rendered into the workbook: marks, notes, the Validation sheet; clear restores."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from tests.bad_plans import check_file, parsed_file
from tests.plan_factory import HEADERS, ROWS, make_plan
from xlplugin.changes import (
    MARK_ERROR,
    MARK_WARNING,
    ClearMarks,
    DefinedName,
    MarkCell,
    ReplaceSheet,
    SetNote,
)
from xlplugin.model import Finding
from xlplugin.render.validation import COLUMNS, clear_changes, validation_changes


def _bad_plan(tmp_path, top_left="A1"):
    rows = [list(r) for r in ROWS]
    rows[0][HEADERS.index("Budget")] = "$1,2OO"                 # XP101 error
    rows[1][HEADERS.index("Budget")] = "-5"                     # XP102 error (text the totals leave out)
    rows[2][HEADERS.index("Activity")] = "=cmd|' /C calc'!A0"   # harmless here, but must stay text
    rows[2][HEADERS.index("Leads")] = "n/a"                     # XP106 warning
    return make_plan(tmp_path / "bad.xlsx", rows, top_left=top_left)


def _sheet_of(changes) -> ReplaceSheet:
    [sheet] = [c for c in changes if isinstance(c, ReplaceSheet)]
    return sheet


def _visible(path):
    return [ws.title for ws in openpyxl.load_workbook(path).worksheets if ws.sheet_state == "visible"]


def _analyse(path):
    return parsed_file(path), check_file(path)


def test_change_list_marks_each_cell_once_worst_severity_wins(tmp_path):
    parsed, findings = _analyse(_bad_plan(tmp_path))
    changes = list(validation_changes(findings, parsed, "bad.xlsx"))
    assert changes[0] == ClearMarks()
    marks = {(c.row, c.col): c.fill for c in changes if isinstance(c, MarkCell)}
    assert marks == {(2, 9): MARK_ERROR, (3, 9): MARK_ERROR, (4, 12): MARK_WARNING}
    notes = {(c.row, c.col): c.text for c in changes if isinstance(c, SetNote)}
    assert 'XP102 error: budget is text "-5": Excel\'s totals leave it out' in notes[(3, 9)]
    [sheet] = [c for c in changes if isinstance(c, ReplaceSheet)]
    assert sheet.name == "Validation" and sheet.page is not None and sheet.page.landscape
    # printed, the findings' header row repeats on every page
    [titles] = [c for c in changes if isinstance(c, DefinedName)]
    assert titles.name == "_xlnm.Print_Titles" and titles.sheet == "Validation"


def test_validation_sheet_lists_every_finding_with_a_link(tmp_path):
    parsed, findings = _analyse(_bad_plan(tmp_path, "C5"))
    sheet = _sheet_of(validation_changes(findings, parsed, "bad.xlsx"))
    grid = {(c.row, c.col): c.value for c in sheet.all_cells()}
    header_row = next(r for (r, c), v in grid.items() if v == "Severity" and c == 1)
    assert [grid[(header_row, c)] for c in range(1, 9)] == list(COLUMNS)
    assert sheet.freeze == (header_row + 1, 1)
    rows = [[grid.get((header_row + i, c)) for c in range(1, 9)] for i in range(1, len(findings) + 1)]
    assert rows[0] == ["error", "XP101", "Plan", "K6", "Budget", "$1,2OO", 'budget must be a number, found "$1,2OO"',
                       findings[0].hint]
    assert [link.location for link in sheet.hyperlinks] == [f"'Plan'!{f.cell}" for f in findings]
    # counts per rule at the top
    counts = {grid[(r, 1)]: grid[(r, 3)] for r in range(5, header_row - 1)}
    assert counts == {"XP101": 1, "XP102": 1, "XP106": 1}
    assert all(c.formula is None for c in sheet.all_cells())
    assert dict(sheet.col_widths)[7] >= 60


def test_no_findings_still_replaces_the_sheet():
    changes = validation_changes([], None, "ok.xlsx").changes
    assert changes[0] == ClearMarks()
    assert any(c.value == "No problems found." for c in _sheet_of(changes).cells)


def test_plan_level_finding_links_to_the_column_header(tmp_path):
    parsed = parsed_file(make_plan(tmp_path / "p.xlsx", top_left="C5"))
    f = Finding("XP301", "error", "Plan", "total budget 93,000 is above the cap", col=11, column="Budget",
                scope="column")
    changes = validation_changes([f], parsed, "p.xlsx").changes
    assert not any(isinstance(c, MarkCell) for c in changes)
    assert _sheet_of(changes).hyperlinks[0].location == "'Plan'!K5"


def test_clear_changes():
    assert clear_changes().changes == [ClearMarks(everything=True)]


def _sheet_xml(path, part="xl/worksheets/sheet1.xml"):
    with zipfile.ZipFile(path) as z:
        return z.read(part)


def test_in_the_workbook_then_rerun_then_clear(tmp_path):
    """The user's view: red/amber cells with notes, a Validation sheet with working links;
    re-running replaces them; clear restores the plan sheet byte for byte."""
    from xlplugin.file.write import apply_to_file

    src = _bad_plan(tmp_path)
    original = _sheet_xml(src)
    parsed, findings = _analyse(src)
    out = tmp_path / "bad.checked.xlsx"
    apply_to_file(src, out, validation_changes(findings, parsed, src.name))

    wb = openpyxl.load_workbook(out)
    assert _visible(out) == ["Plan", "Validation"]
    plan = wb["Plan"]
    assert plan["I2"].fill.fgColor.rgb.endswith(MARK_ERROR)
    assert plan["L4"].fill.fgColor.rgb.endswith(MARK_WARNING)
    assert "budget must be a number" in plan["I2"].comment.text
    assert plan["B4"].value == "=cmd|' /C calc'!A0" and plan["B4"].data_type == "s"
    val = wb["Validation"]
    values = [[c.value for c in row] for row in val.iter_rows()]
    header = next(i for i, r in enumerate(values) if r[:2] == ["Severity", "Rule"])
    listed = values[header + 1:]
    assert [(r[1], r[3]) for r in listed] == [(f.rule, f.cell) for f in findings]
    link = val.cell(header + 2, 4).hyperlink
    assert link.location == "'Plan'!I2"
    assert val.freeze_panes == f"A{header + 2}"

    # run again on the output: still one Validation sheet, marks replaced
    parsed2, findings2 = _analyse(out)
    again = tmp_path / "again.xlsx"
    apply_to_file(out, again, validation_changes(findings2, parsed2, out.name))
    assert _visible(again) == ["Plan", "Validation"]

    cleared = tmp_path / "cleared.xlsx"
    apply_to_file(again, cleared, clear_changes())
    assert _visible(cleared) == ["Plan"]
    assert _sheet_xml(cleared) == original


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path):
    from xlplugin.file.write import apply_to_file

    rows = [list(r) for r in ROWS]
    rows[0][HEADERS.index("Budget")] = "=HYPERLINK(\"http://x\",1)"
    src = make_plan(tmp_path / "f.xlsx", rows)
    parsed, findings = _analyse(src)
    assert [f.rule for f in findings] == ["XP101"]
    out = tmp_path / "f.checked.xlsx"
    apply_to_file(src, out, validation_changes(findings, parsed, src.name))
    ws = openpyxl.load_workbook(out)["Validation"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == rows[0][HEADERS.index("Budget")])
    assert cell.data_type == "s"


@pytest.mark.parametrize("layout", [{"top_left": "C5"}, {"as_table": True}])
def test_marks_land_on_the_right_cells_in_other_layouts(tmp_path, layout):
    from xlplugin.file.write import apply_to_file

    rows = [list(r) for r in ROWS]
    rows[3][HEADERS.index("End Date")] = "soon"
    src = make_plan(tmp_path / "l.xlsx", rows, **layout)
    parsed, findings = _analyse(src)
    [f] = findings
    out = tmp_path / "l.checked.xlsx"
    apply_to_file(src, out, validation_changes(findings, parsed, src.name))
    ws = openpyxl.load_workbook(out)["Plan"]
    assert ws[f.cell].value == "soon"
    assert ws[f.cell].fill.fgColor.rgb.endswith(MARK_ERROR)


def test_blank_required_cells_are_marked_and_clear_removes_them(tmp_path):
    """A blank required cell has no <c> element: marking creates one, clear must take it away."""
    from xlplugin.file.write import apply_to_file

    rows = [list(r) for r in ROWS]
    rows[1][HEADERS.index("Start Date")] = None
    src = make_plan(tmp_path / "blank.xlsx", rows, as_table=True)
    original = _sheet_xml(src)
    parsed, findings = _analyse(src)
    assert [(f.rule, f.cell, f.value) for f in findings] == [("XP202", "F3", None)]
    out = tmp_path / "blank.checked.xlsx"
    apply_to_file(src, out, validation_changes(findings, parsed, src.name))
    ws = openpyxl.load_workbook(out)["Plan"]
    assert ws["F3"].value is None and ws["F3"].fill.fgColor.rgb.endswith(MARK_ERROR)
    assert ws["F3"].comment.text.startswith("XP202 error: start date is required")
    cleared = tmp_path / "cleared.xlsx"
    apply_to_file(out, cleared, clear_changes())
    assert _sheet_xml(cleared) == original


def test_notes_are_capped_per_sheet_but_every_finding_is_listed():
    from xlplugin.changes import MarkCell, ReplaceSheet, SetNote
    from xlplugin.model import Finding
    from xlplugin.render.validation import MAX_NOTES_PER_SHEET, validation_changes

    n = MAX_NOTES_PER_SHEET + 50
    findings = [Finding("XP206", "error", "Plan", f"ID 'A' is already used in row {r - 1}",
                        cell=f"A{r}", row=r, col=1, column="ID", value="A") for r in range(2, 2 + n)]
    changes = list(validation_changes(findings, None, "big.xlsx"))
    assert sum(isinstance(c, MarkCell) for c in changes) == n
    assert sum(isinstance(c, SetNote) for c in changes) == MAX_NOTES_PER_SHEET
    [sheet] = [c for c in changes if isinstance(c, ReplaceSheet)]
    assert len(sheet.hyperlinks) == n
    texts = [c.value for c in sheet.cells if c.row == 3 and c.col == 1]
    assert texts and "first 1,000 marked cells" in texts[0]
