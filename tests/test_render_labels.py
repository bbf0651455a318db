"""Labels -> Stage / Stage basis columns: placement, Table extension, dropdown, the
tool-columns name, re-runs, a user's own Stage column; and real files through the writer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.plan_factory import make_plan
from xlplugin.changes import (
    ChangeList,
    DefinedName,
    ExtendTable,
    ListValidation,
    SetCell,
    SetColumnWidth,
    ValueColumn,
)
from xlplugin.engine.stages.label import label_plan
from xlplugin.model import TOOL_COLUMNS_NAME, Column, Label, ParsedPlan, PlanTable, TableDef
from xlplugin.render.labels import label_changes, label_columns, tool_columns_name


def plan_of(headers: list[str], fields: list[str | None], rows: list[int], *, header_row: int = 4,
            first_col: int = 2, table: bool = False, tool_cols: dict[str, int] | None = None) -> PlanTable:
    cols = [Column(h, first_col + i, f) for i, (h, f) in enumerate(zip(headers, fields, strict=True))]
    last_col = first_col + len(headers) - 1
    tdef = None
    if table:
        tdef = TableDef("Plan", "Plan", f"B{header_row}:X{rows[-1]}", header_row, first_col, rows[-1],
                        last_col, headers)
    return PlanTable("Plan", header_row, first_col, last_col, cols, rows, rows[-1], tdef,
                     tool_cols=tool_cols or {})


def parsed_of(plan: PlanTable, **columns: list[object]) -> ParsedPlan:
    frame = pd.DataFrame(columns, index=plan.data_rows)
    return ParsedPlan(plan, frame, frame.copy())


def expanded(changes) -> list[SetCell]:
    """Every cell write, the column changes expanded row by row."""
    return list(ChangeList(list(changes)).cells())


def cells(changes) -> dict[tuple[int, int], object]:
    return {(c.row, c.col): c.value for c in expanded(changes)}


LABELS = [Label(5, "Upstream", 0.91, "research: 'focus group'"),
          Label(6, "Downstream", 0.88, "advertising: 'paid search'"),
          Label(7, "Review", 0.0, "no stage words found: decide by hand", source="none")]


def test_plain_range_gets_stage_and_basis_right_of_the_plan():
    plan = plan_of(["ID", "Activity", "Budget"], ["id", "activity", "budget"], [5, 6, 7])
    ch = list(label_changes(parsed_of(plan, activity=["a", "b", "c"]), LABELS))
    got = cells(ch)
    # B..D is the plan: E = Stage, F = Stage basis
    assert got[(4, 5)] == "Stage" and got[(4, 6)] == "Stage basis"
    assert [got[(r, 5)] for r in (5, 6, 7)] == ["Upstream", "Downstream", "Review"]
    assert got[(5, 6)] == "Upstream (0.91): research: 'focus group'"
    assert got[(7, 6)] == "Review: no stage words found: decide by hand"
    assert not any(isinstance(c, ExtendTable) for c in ch)
    head = next(c for c in expanded(ch) if c.row == 4)
    assert head.style is not None and head.style.bold
    [dv] = [c for c in ch if isinstance(c, ListValidation)]
    assert (dv.ref, dv.values) == ("E5:E7", ("Upstream", "Downstream", "Review"))
    assert {c.col for c in ch if isinstance(c, SetColumnWidth)} == {5, 6}
    [name] = [c for c in ch if isinstance(c, DefinedName)]
    assert (name.name, name.value) == (TOOL_COLUMNS_NAME, "'Plan'!$E$4:$F$4")


def test_table_is_extended_with_matching_header_cells():
    plan = plan_of(["ID", "Activity"], ["id", "activity"], [5, 6, 7], table=True)
    ch = list(label_changes(parsed_of(plan, activity=["a", "b", "c"]), LABELS))
    [ext] = [c for c in ch if isinstance(c, ExtendTable)]
    assert (ext.table, ext.sheet) == ("Plan", "Plan")
    assert [c.name for c in ext.columns] == ["Stage", "Stage basis"]
    assert all(c.formula is None for c in ext.columns)
    headers = {c.col: c.value for c in expanded(ch) if c.row == 4}
    assert headers == {4: "Stage", 5: "Stage basis"}            # right next to the Table (B:C)
    assert all(c.style is None for c in expanded(ch) if c.row == 4)
    assert ch.index(ext) < min(ch.index(c) for c in ch if isinstance(c, ValueColumn))


def test_rerun_reuses_the_tool_columns_and_clears_rows_without_labels():
    plan = plan_of(["ID", "Activity", "Stage", "Stage basis", "ROI"], ["id", "activity", None, None, None],
                   [5, 6, 7, 8], table=True, tool_cols={"Stage": 4, "Stage basis": 5, "ROI": 6})
    ch = list(label_changes(parsed_of(plan, activity=["a", "b", "c", "d"]), LABELS))
    assert not any(isinstance(c, ExtendTable) for c in ch)      # both columns already in the Table
    got = cells(ch)
    assert got[(4, 4)] == "Stage" and got[(5, 4)] == "Upstream"
    assert got[(8, 4)] is None and got[(8, 5)] is None           # row 8 has no label: cleared
    assert max(col for _, col in got) == 5                       # nothing new to the right
    [name] = [c for c in ch if isinstance(c, DefinedName)]
    assert name.value == "'Plan'!$D$4:$F$4"                       # merged with the ROI column
    assert label_columns(plan) == {"Stage": 4, "Stage basis": 5}


def test_users_stage_column_keeps_what_they_set_and_gets_the_blanks_filled():
    plan = plan_of(["ID", "Activity", "Stage"], ["id", "activity", "stage"], [5, 6, 7])
    parsed = parsed_of(plan, activity=["Retargeting ads", "Focus groups", "Paid search"],
                       stage=["Upstream", None, "downstream"])
    labels = label_plan(parsed)
    ch = list(label_changes(parsed, labels))
    got = cells(ch)
    # D = the user's Stage: rows a person set are untouched, the blank one is filled
    assert (5, 4) not in got and (7, 4) not in got
    assert got[(6, 4)] == "Upstream"
    assert got[(4, 5)] == "Stage basis" and (4, 4) not in got
    assert got[(5, 5)].startswith("set by you; the tool suggests Downstream")
    assert got[(6, 5)].startswith("Upstream (")
    assert not any(isinstance(c, ListValidation) for c in ch)
    assert label_columns(plan) == {"Stage": 4, "Stage basis": 5}


def test_header_clash_with_a_user_column_gets_a_distinct_name():
    plan = plan_of(["Activity", "Stage basis"], ["activity", "stage_basis"], [5])
    got = cells(label_changes(parsed_of(plan, activity=["Focus groups"]), LABELS[:1]))
    assert got[(4, 4)] == "Stage" and got[(4, 5)] == "Stage basis (xlplugin)"


def test_text_that_looks_like_a_formula_stays_text():
    plan = plan_of(["Activity"], ["activity"], [5])
    lab = Label(5, "Review", 1.0, "=cmd|' /C calc'!A0", source="user")
    [c] = [c for c in expanded(label_changes(parsed_of(plan, activity=["x"]), [lab]))
           if c.row == 5 and c.col == 4]
    assert c.value == "=cmd|' /C calc'!A0" and c.formula is None


def test_a_column_is_one_change_whatever_the_number_of_rows():
    rows = list(range(5, 20_005))
    plan = plan_of(["ID", "Activity"], ["id", "activity"], rows)
    labels = [Label(r, "Upstream", 0.9, "research: 'survey'") for r in rows]
    ch = label_changes(parsed_of(plan, activity=["survey"] * len(rows)), labels)
    blocks = [c for c in ch if isinstance(c, ValueColumn)]
    assert [(b.col, b.first_row, b.last_row) for b in blocks] == [(4, 5, 20_004), (5, 5, 20_004)]
    assert len(ch) < 10 and not any(isinstance(c, SetCell) for c in ch)
    assert blocks[0].describe().startswith("set Plan!D5:D20004 header 'Stage', values 'Upstream'")


def test_tool_columns_name_ranges():
    plan = plan_of(["A", "B"], ["activity", None], [5], tool_cols={"ROI": 20, "CPL": 21})
    assert tool_columns_name(plan, {"Stage": 16, "Stage basis": 17}).value == \
        "'Plan'!$P$4:$Q$4,'Plan'!$T$4:$U$4"
    assert tool_columns_name(plan_of(["A"], ["activity"], [5]), {"Stage": 3}).value == "'Plan'!$C$4"


# ---------------------------------------------------------------- real files, real writer

def run_label(src: Path, out: Path):
    from xlplugin.pipeline import Options, process_file

    out.mkdir(exist_ok=True)
    result = process_file(src, Options(steps=frozenset({"label"}), out_dir=out))
    assert result.error is None, result.error
    return result


@pytest.mark.parametrize("as_table", [True, False])
def test_label_a_workbook_and_rerun_it(tmp_path, as_table):
    import openpyxl

    src = make_plan(tmp_path / "plan.xlsx", as_table=as_table, top_left="B3")
    first = run_label(src, tmp_path / "one")
    second = run_label(first.output, tmp_path / "two")
    for path in (first.output, second.output):
        wb = openpyxl.load_workbook(path)
        ws = wb["Plan"]
        header = [c.value for c in ws[3]]
        assert header.count("Stage") == 1 and header.count("Stage basis") == 1
        stage_col = header.index("Stage") + 1
        assert stage_col == 2 + 14                               # right after the 14 plan columns
        stages = [ws.cell(r, stage_col).value for r in range(4, 9)]
        assert stages == ["Upstream", "Upstream", "Downstream", "Downstream", "Downstream"]
        assert "focus group" in ws.cell(5, stage_col + 1).value
        dv = [d for d in ws.data_validations.dataValidation if d.type == "list"]
        assert [str(d.sqref) for d in dv] == ["P4:P8"]
        assert wb.defined_names[TOOL_COLUMNS_NAME].attr_text == "'Plan'!$P$3:$Q$3"
        if as_table:
            [table] = ws.tables.values()
            assert table.ref == "B3:Q8"
            names = [c.name for c in table.tableColumns]
            assert names[-2:] == ["Stage", "Stage basis"]
            assert names == header[1:17]                          # Table names equal header cells


def test_a_stage_picked_by_a_person_after_a_run_survives_the_next_run(tmp_path):
    """Row 4 is labelled Upstream by the tool; a marketer picks Downstream from the dropdown
    (simulated by editing the tool-made cell with the writer, as Excel would save it); the
    next run keeps Downstream, says so in the basis, and still relabels the other rows."""
    import openpyxl

    from xlplugin.changes import ChangeList
    from xlplugin.file.write import apply_to_file

    src = make_plan(tmp_path / "plan.xlsx", top_left="B3")
    first = run_label(src, tmp_path / "one")
    stage_col = 2 + 14
    edited = tmp_path / "edited.xlsx"
    apply_to_file(first.output, edited, ChangeList([SetCell("Plan", 4, stage_col, "Downstream")]))
    second = run_label(edited, tmp_path / "two")
    ws = openpyxl.load_workbook(second.output)["Plan"]
    assert ws.cell(4, stage_col).value == "Downstream"
    assert ws.cell(4, stage_col + 1).value.startswith("set by you")
    assert ws.cell(5, stage_col).value == "Upstream"
    assert ws.cell(5, stage_col + 1).value.startswith("Upstream (")
    warn = [f for f in second.findings if f.rule == "XP401"]
    assert [f.cell for f in warn] == ["P4"]
