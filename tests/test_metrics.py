"""Metric columns: guarded per-row formulas (structured or A1) with Excel-true cached values.

LibreOffice's recalculation of these cells is checked in test_summary.py (every formula
cell of the change list, plan sheet included)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from tests.plan_factory import make_plan
from tests.test_summary import HEADERS, gen_rows, parse_file
from xlplugin.changes import DefinedName, ExtendTable, SetColumnWidth
from xlplugin.engine import metrics as M
from xlplugin.model import TOOL_COLUMNS_NAME, col_letter
from xlplugin.render.metric_columns import label_columns, metric_changes, metric_columns


def _by_name(name: str) -> M.Metric:
    return next(m for m in M.METRICS if m.name == name)


def test_guarded_formula_in_both_layouts():
    m = _by_name("Variance %")
    a1 = M.row_formula(m, {"budget": "J5", "actual": "K5"})
    # blank or text inputs: "" ; nothing spent yet (K5 = 0) or no budget: "n/a", not -100%
    assert a1 == 'IF(AND(ISNUMBER(J5),ISNUMBER(K5)),IF(AND(J5<>0,K5<>0),(K5-J5)/J5,"n/a"),"")'
    t = "Plan[[#This Row],[{}]]"
    sr = M.row_formula(m, {"budget": t.format("Budget"), "actual": t.format("Actual")})
    assert sr == ('IF(AND(ISNUMBER(Plan[[#This Row],[Budget]]),ISNUMBER(Plan[[#This Row],[Actual]])),'
                  'IF(AND(Plan[[#This Row],[Budget]]<>0,Plan[[#This Row],[Actual]]<>0),'
                  '(Plan[[#This Row],[Actual]]-Plan[[#This Row],[Budget]])'
                  '/Plan[[#This Row],[Budget]],"n/a"),"")')
    share = M.row_formula(_by_name("Share of budget"), {"budget": "J5", M.TOTAL: "SUM($J$5:$J$9)"})
    assert share == 'IF(ISNUMBER(J5),IF(SUM($J$5:$J$9)<>0,J5/SUM($J$5:$J$9),"n/a"),"")'
    assert M.row_formula(_by_name("CPM"), {"actual": "K5", "impressions": "P5"}).endswith(',K5/P5*1000,"n/a"),"")')
    roi = M.row_formula(_by_name("ROI"), {"revenue": "N5", "actual": "K5"})
    assert 'IF(AND(K5<>0,N5<>0),(N5-K5)/K5,"n/a")' in roi     # no revenue yet: n/a, not -100%


def test_every_division_is_guarded_against_zero_and_blank():
    for m in M.METRICS:
        refs = {f: f"{f.upper()}1" for f in M.placeholders(m)}
        formula = M.row_formula(m, refs)
        for f in m.inputs:
            assert f"ISNUMBER({refs[f]})" in formula, m.name
        for d in m.denominators:
            assert f"{refs[d]}<>0" in formula, m.name
        if "/" in m.expr:
            assert m.denominators, m.name


def test_cached_values_blank_zero_and_text():
    import pandas as pd

    nums = {"budget": pd.Series([100.0, 0.0, float("nan"), 50.0]),
            "actual": pd.Series([90.0, 5.0, 3.0, float("nan")])}
    assert M.row_values(_by_name("Variance %"), nums) == [pytest.approx(-0.1), "n/a", "", ""]
    assert M.row_values(_by_name("Variance"), nums) == [-10.0, 5.0, "", ""]
    assert M.row_values(_by_name("Share of budget"), nums, total_budget=150.0) == [
        pytest.approx(100 / 150), 0.0, "", pytest.approx(50 / 150)]
    assert M.row_values(_by_name("Share of budget"), nums, total_budget=0.0) == ["n/a", "n/a", "", "n/a"]
    unspent = {"budget": pd.Series([100.0]), "actual": pd.Series([0.0])}
    assert M.row_values(_by_name("Variance %"), unspent) == ["n/a"]      # not -100%
    assert M.row_values(_by_name("Spent %"), unspent) == [0.0]


def test_table_plan_gets_calculated_columns_after_stage_columns(tmp_path):
    rows, _ = gen_rows(12)
    parsed = parse_file(make_plan(tmp_path / "t.xlsx", rows, HEADERS, as_table=True))
    plan = parsed.plan
    changes = metric_changes(parsed)
    ext = [c for c in changes if isinstance(c, ExtendTable)]
    assert len(ext) == 1 and ext[0].table == "Plan"
    names = [c.name for c in ext[0].columns]
    assert names == list(M.METRIC_NAMES)          # every input exists in this plan
    assert all(c.formula and "[#This Row]" in c.formula and "[@" not in c.formula for c in ext[0].columns)
    lab = label_columns(plan)
    assert lab == {"Stage": plan.last_col + 1, "Stage basis": plan.last_col + 2}
    cells = list(changes.cells())
    headers = {c.value: c.col for c in cells if c.row == plan.header_row}
    assert headers["Variance"] == plan.last_col + 3
    assert sorted(headers.values()) == list(range(plan.last_col + 3, plan.last_col + 3 + len(names)))
    # each data cell repeats the calculated column formula, with its cached value
    formulas = {c.name: c.formula for c in ext[0].columns}
    body = [c for c in cells if c.row > plan.header_row]
    assert len(body) == len(names) * len(plan.data_rows)
    for c in body:
        name = next(n for n, col in headers.items() if col == c.col)
        assert c.formula == formulas[name]
        assert c.style.number_format == _by_name(name).number_format
    names_ = [c for c in changes if isinstance(c, DefinedName)]
    first, last = col_letter(plan.last_col + 1), col_letter(plan.last_col + 2 + len(names))
    assert names_ == [DefinedName(TOOL_COLUMNS_NAME, f"'Plan'!${first}$1:${last}$1")]
    assert any(isinstance(c, SetColumnWidth) for c in changes)


def test_range_plan_gets_a1_formulas_and_excel_true_cached_values(tmp_path):
    rows, _ = gen_rows(11)
    rows.insert(4, [None] * len(HEADERS))          # a blank row inside the plan
    parsed = parse_file(make_plan(tmp_path / "r.xlsx", rows, HEADERS, top_left="C5"))
    plan = parsed.plan
    assert plan.header_row == 5 and plan.table is None
    changes = metric_changes(parsed)
    assert not any(isinstance(c, ExtendTable) for c in changes)
    cells = {(c.row, c.col): c for c in changes.cells()}
    col = {c.value: c.col for c in cells.values() if c.row == 5}
    b, a = plan.fields["budget"].letter, plan.fields["actual"].letter
    r = 6
    assert cells[(r, col["Variance %"])].formula == (
        f'IF(AND(ISNUMBER({b}{r}),ISNUMBER({a}{r})),IF(AND({b}{r}<>0,{a}{r}<>0),'
        f'({a}{r}-{b}{r})/{b}{r},"n/a"),"")')
    assert f"SUM(${b}$6:${b}${plan.last_row})" in cells[(r, col["Share of budget"])].formula
    # the blank row keeps formulas (filled down) and caches ""
    assert cells[(10, col["Variance"])].formula and cells[(10, col["Variance"])].value == ""
    raw = dict(zip(range(6, 6 + len(rows)), rows, strict=True))
    for r in plan.data_rows:
        budget, actual = raw[r][8], raw[r][9]
        ok = all(isinstance(v, (int, float)) for v in (budget, actual))
        got = cells[(r, col["Variance"])].value
        if ok:
            assert math.isclose(got, actual - budget)
        else:   # blank, "n/a" or "1,200" typed as text: Excel's ISNUMBER says no
            assert got == ""


def test_user_metric_column_is_not_overwritten_and_runs_are_idempotent(tmp_path):
    headers = [*HEADERS, "ROI"]
    rows = [[*r, 0.5] for r in gen_rows(5)[0]]
    parsed = parse_file(make_plan(tmp_path / "u.xlsx", rows, headers, as_table=True))
    cols = metric_columns(parsed.plan)
    names = [h for _, h, _ in cols]
    assert "ROI (xlplugin)" in names and "ROI" not in names
    # a second run: the columns are recorded as tool columns; the same positions come back
    plan2 = dataclasses.replace(parsed.plan, tool_cols={h: c for _, h, c in cols}
                                | label_columns(parsed.plan), last_col=max(c for *_, c in cols))
    assert [(h, c) for _, h, c in metric_columns(plan2)] == [(h, c) for _, h, c in cols]


def test_only_metrics_whose_inputs_exist(tmp_path):
    headers = ["ID", "Activity", "Budget", "Actual"]
    parsed = parse_file(make_plan(tmp_path / "s.xlsx", [["1", "Ads", 100, 80], ["2", "Survey", 0, 5]], headers))
    assert [h for _, h, _ in metric_columns(parsed.plan)] == ["Variance", "Variance %", "Spent %", "Share of budget"]
