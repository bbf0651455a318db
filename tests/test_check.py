"""check_plan at the user's level: a real workbook in, findings at their cells out."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import xlsxwriter

from tests.bad_plans import LAYOUTS, PLANTS, check_file, parsed_file, planted_workbook
from tests.plan_factory import HEADERS, ROWS, make_plan, write_values
from xlplugin.config import Config
from xlplugin.engine.check import check_plan, load_schema
from xlplugin.engine.rules import BY_CODE
from xlplugin.errors import XlpluginError
from xlplugin.model import Label

ROOT = Path(__file__).resolve().parents[1]
PRODUCED: set[str] = set()   # rule codes the tests saw (checked against rules.py)


def _only(findings, rule):
    PRODUCED.update(f.rule for f in findings)
    assert [f.rule for f in findings] == [rule], [(f.rule, f.cell, f.message) for f in findings]
    return findings[0]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: p.kind)
def test_planted_cell_is_reported_at_its_cell(tmp_path, plant, layout):
    path, cell = planted_workbook(tmp_path, plant, layout)
    f = _only(check_file(path, plant.config), plant.rule)
    assert f.cell == cell
    assert f.severity == plant.severity
    assert plant.message in f.message
    assert f.sheet == "Plan"
    assert f.column == plant.column
    assert f.hint
    if plant.value is not None and not isinstance(plant.value, dt.date):
        assert f.value == plant.value


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_clean_plan_has_no_findings(tmp_path, layout):
    path = make_plan(tmp_path / "clean.xlsx", **LAYOUTS[layout])
    labels = [Label(row=r, stage=s, confidence=1, reason="t") for r, s in
              zip(parsed_file(path).frame.index, ["Upstream", "Upstream", "Downstream", "Downstream",
                                                  "Downstream"], strict=True)]
    cfg = Config(period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31), budget_cap=250000,
                 allowed={"channel": ["Research", "Search", "Events", "Email"]})
    assert check_file(path, cfg, labels=labels) == []


def test_template_passes(tmp_path):
    template = ROOT / "templates" / "plan-template.xlsx"
    if not template.exists():
        pytest.skip("templates/plan-template.xlsx not built yet")
    assert check_file(template) == []


def test_realistic_plan_passes(tmp_path):
    """A larger plan with synonyms for headers, a Table, text everywhere it is allowed."""
    headers = ["Tactic ID", "Campaign", "Details", "Medium", "Responsible", "Launch Date", "Due Date",
               "Progress", "Planned Spend", "Actual", "KPI", "Leads", "Conversions", "Revenue", "ROI"]
    rows = []
    for i in range(60):
        start = dt.date(2027, 1 + i % 12, 1 + i % 20)
        actual = 1000.0 + 37 * i
        revenue = 0.0 if i % 3 else 4000.0 + 50 * i
        rows.append([f"T-{i:03}", f"Campaign {i}", "", ["Search", "Social", "Events"][i % 3], "Kim", start,
                     start + dt.timedelta(days=20), "Planned", 1200.0 + 40 * i, actual, "Leads",
                     100 + i, 10 + i % 7, revenue, round((revenue - actual) / actual, 4)])
    path = make_plan(tmp_path / "real.xlsx", rows, headers, as_table=True, table_name="Plan2027")
    assert check_file(path) == []


def test_header_typo_suggests_closest_header(tmp_path):
    headers = list(HEADERS)
    headers[HEADERS.index("Budget")] = "Budjet"
    path = make_plan(tmp_path / "typo.xlsx", headers=headers, top_left="C5")
    f = _only(check_file(path), "XP201")
    assert f.message == 'required column "Budget" (budget) not found in header row 5; closest header is "Budjet"'
    assert 'rename "Budjet" to "Budget"' in f.hint
    assert "Planned Spend" in f.hint          # the synonyms that would be accepted
    assert f.row == 5 and f.cell is None


def test_missing_column_names_the_synonyms_accepted_elsewhere(tmp_path):
    headers = ["ID", "Campaign", "Launch Date", "Finish", "Channel"]
    rows = [[r[0], r[1], r[5], r[6], r[3]] for r in ROWS]
    f = _only(check_file(make_plan(tmp_path / "syn.xlsx", rows, headers)), "XP201")
    assert f.message.startswith('required column "Budget" (budget) not found')
    assert 'accepted here: "Campaign" as activity, "Launch Date" as start, "Finish" as end' in f.hint


def test_missing_required_column_without_close_header(tmp_path):
    headers = [h for h in HEADERS if h != "End Date"]
    rows = [[v for h, v in zip(HEADERS, r, strict=True) if h != "End Date"] for r in ROWS]
    f = _only(check_file(make_plan(tmp_path / "noend.xlsx", rows, headers)), "XP201")
    assert '"End Date" (end)' in f.message and "closest" not in f.message
    assert "Finish" in f.hint


def test_list_validation_on_column_restricts_values(tmp_path):
    """A dropdown on the Status column is the allowed list; a value outside it is reported."""
    path = tmp_path / "dv.xlsx"
    rows = [list(r) for r in ROWS]
    rows[3][HEADERS.index("Status")] = "Plannned"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    ws.write_row(0, 0, HEADERS)
    write_values(ws, 1, 0, rows, wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.data_validation(1, 7, 200, 7, {"validate": "list", "source": ["Planned", "In progress", "Done",
                                                                       "Cancelled"]})
    wb.close()
    f = _only(check_file(path), "XP208")
    assert f.cell == "H5"
    assert 'did you mean "Planned"?' in f.hint
    assert "allowed: Planned, In progress, Done, Cancelled" in f.hint


def test_no_list_means_no_restriction(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][HEADERS.index("Channel")] = "Carrier pigeon"
    assert check_file(make_plan(tmp_path / "free.xlsx", rows)) == []


def test_stored_roi_and_variance_that_disagree(tmp_path):
    headers = HEADERS + ["ROI", "Variance"]
    rows = []
    for r in ROWS:
        actual, budget, revenue = r[9], r[8], r[13]
        roi = (revenue - actual) / actual if revenue and actual else None
        rows.append(list(r) + [roi, actual - budget])
    rows[2][-2] = 3.5          # (90000 - 28000) / 28000 = 2.21
    rows[3][-1] = 999          # 26500 - 25000 = 1500
    rows[4][-2] = 700.0        # (24000-3000)/3000 = 7 -> 700 as a percentage is fine
    rows[1][-1] = 18000        # budget - actual sign convention is accepted
    findings = check_file(make_plan(tmp_path / "roi.xlsx", rows, headers))
    PRODUCED.update(f.rule for f in findings)
    assert [(f.rule, f.cell) for f in findings] == [("XP210", "O4"), ("XP210", "P5")]
    assert findings[0].message == "stored ROI 3.5 disagrees with (revenue - actual) / actual = 2.214"
    assert findings[1].message.startswith("stored variance 999 disagrees with actual - budget = 1,500")


def test_budget_cap_and_stage_floor(tmp_path):
    path = make_plan(tmp_path / "cap.xlsx")
    labels = [Label(row=r, stage=s, confidence=1, reason="t") for r, s in
              zip(range(2, 7), ["Upstream", "Review", "Downstream", "Downstream", "Downstream"], strict=True)]
    findings = check_file(path, Config(budget_cap=90000, stage_floor=0.2), labels=labels)
    PRODUCED.update(f.rule for f in findings)
    by_rule = {f.rule: f for f in findings}
    assert set(by_rule) == {"XP301", "XP302"}
    assert by_rule["XP301"].message == "total budget 93,000 is above the cap of 90,000 (by 3,000)"
    assert by_rule["XP301"].column == "Budget" and by_rule["XP301"].scope == "column"
    # the Review row (18,000) counts for neither side: 12,000 of 75,000 = 16%
    assert by_rule["XP302"].message == ("upstream activities get 16% of the budget (12,000 of 75,000; "
                                        "downstream 84%), below the 20% floor")


def test_kpi_of_the_other_stage(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[1][HEADERS.index("KPI")] = "Conversion rate"      # on the focus groups
    rows[2][HEADERS.index("KPI")] = "Brand awareness"      # on paid search
    path = make_plan(tmp_path / "kpi.xlsx", rows)
    labels = [Label(row=r, stage=s, confidence=1, reason="t") for r, s in
              zip(range(2, 7), ["Upstream", "Upstream", "Downstream", "Downstream", "Downstream"], strict=True)]
    findings = check_file(path, labels=labels)
    PRODUCED.update(f.rule for f in findings)
    assert [(f.rule, f.cell, f.severity) for f in findings] == [("XP303", "K3", "warning"),
                                                                 ("XP303", "K4", "warning")]
    assert findings[0].message == ('KPI "Conversion rate" measures downstream results, but this '
                                   '"Focus groups for new product concept" is an upstream activity')
    assert check_file(path) == []     # without labels the rule has nothing to go on


def test_several_problems_sorted_by_row_then_column(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[3][HEADERS.index("Budget")] = -1
    rows[3][HEADERS.index("Start Date")] = "soon"
    rows[0][HEADERS.index("Leads")] = "TBD"
    findings = check_file(make_plan(tmp_path / "many.xlsx", rows, top_left="C5"))
    PRODUCED.update(f.rule for f in findings)
    assert [(f.rule, f.cell) for f in findings] == [("XP106", "N6"), ("XP103", "H9"), ("XP203", "K9")]


def test_unreadable_cell_is_not_reported_twice(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][HEADERS.index("Budget")] = "lots"
    f = _only(check_file(make_plan(tmp_path / "once.xlsx", rows)), "XP101")
    assert f.cell == "I2"


def test_team_schema_adds_a_check(tmp_path):
    schema = tmp_path / "team.yaml"
    schema.write_text(
        "schema_type: dataframe\ncolumns:\n  owner:\n    dtype: object\n    nullable: true\n"
        "    required: false\n    xp_one_of:\n      allowed: [Dana, Luis, Priya, Sam]\n"
        "  budget:\n    dtype: float64\n    nullable: false\n    required: true\n"
        "    xp_not_negative:\n      min_value: 10000\n", encoding="utf-8")
    findings = check_file(make_plan(tmp_path / "team.xlsx"), schema_path=schema)
    PRODUCED.update(f.rule for f in findings)
    assert [(f.rule, f.cell) for f in findings] == [("XP203", "I6")]
    assert findings[0].message == "budget must be at least 10,000, found 8,000"


def test_team_schema_with_a_builtin_check_is_named_in_the_message(tmp_path):
    schema = tmp_path / "team.yaml"
    schema.write_text("schema_type: dataframe\ncolumns:\n  owner:\n    dtype: object\n    nullable: true\n"
                      "    required: false\n    str_length:\n      max_value: 4\n", encoding="utf-8")
    findings = check_file(make_plan(tmp_path / "team.xlsx"), schema_path=schema)
    PRODUCED.update(f.rule for f in findings)
    assert [(f.rule, f.cell) for f in findings] == [("XP290", "E4")]
    assert findings[0].message == 'owner "Priya" fails str_length(max_value=4)'


def test_bad_schema_files_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_type: dataframe\ncolumns:\n  budget:\n    no_such_check: 1\n", encoding="utf-8")
    with pytest.raises(XlpluginError, match="unknown check"):
        load_schema(bad)
    with pytest.raises(XlpluginError, match="not found"):
        load_schema(tmp_path / "missing.yaml")


def test_shipped_schema_names_only_registered_checks():
    import xlplugin.engine.checks as checks
    text = (ROOT / "validators" / "marketing_plan.yaml").read_text(encoding="utf-8")
    named = set(re.findall(r"\b(xp_\w+)", text))
    assert named and named <= set(checks.CHECK_RULES)
    assert set(checks.CHECK_RULES.values()) <= set(BY_CODE)


def test_empty_plan_has_only_plan_level_findings(tmp_path):
    path = make_plan(tmp_path / "empty.xlsx", rows=[ROWS[0]])
    parsed = parsed_file(path)
    parsed.frame = parsed.frame.iloc[0:0]
    parsed.raw = parsed.raw.iloc[0:0]
    assert check_plan(parsed) == []


def test_every_produced_rule_is_catalogued(tmp_path):
    """Every code the checks can emit (in the source) and every code these tests saw is in rules.py."""
    for plant in PLANTS:
        PRODUCED.update(f.rule for f in check_file(planted_workbook(tmp_path, plant)[0], plant.config))
    in_source = set()
    for module in (ROOT / "xlplugin").rglob("*.py"):
        in_source |= set(re.findall(r'"(XP\d{3})"', module.read_text(encoding="utf-8")))
    assert set(BY_CODE) >= PRODUCED | in_source
    assert len(PRODUCED) >= 15


def test_registered_checks_on_frames_pandas_builds_itself():
    """Team code may hand the checks pandas' own str dtype: blanks and case behave the same."""
    import numpy as np
    import pandas as pd

    import xlplugin.engine.checks as checks

    df = pd.DataFrame({"activity": np.array(["Survey", "survey ", "Ads", None], dtype=object),
                       "budget": [1.0, 1.0, 2.0, np.nan],
                       "channel": np.array([None, None, "x", None], dtype=object)}, index=[2, 3, 4, 5])
    assert checks.xp_no_duplicate_rows(df, columns=["activity", "budget", "channel"]).tolist() == \
        [True, False, True, True]
    assert checks.xp_unique(df["activity"]).tolist() == [True, False, True, True]
    assert checks.xp_one_of(df["channel"], allowed=["X"]).tolist() == [True, True, True, True]
    assert checks.xp_not_above(df.assign(leads=[5.0, -1, 1, 1], conversions=[6.0, 3, 1, np.nan]),
                               column="conversions", limit="leads").tolist() == [False, True, True, True]


def test_sample_plan_planted_problems_are_all_found():
    """templates/sample-plan.xlsx (another helper's) plants six problems; each is found at its row."""
    sample = ROOT / "templates" / "sample-plan.xlsx"
    if not sample.exists():
        pytest.skip("templates/sample-plan.xlsx not built yet")
    from xlplugin.templates.sample_plan import PLANTED

    parsed = parsed_file(sample)
    findings = check_plan(parsed)
    ids = parsed.frame["id"]
    for pid, (header, _what) in PLANTED.items():
        rows = ids.index[ids == pid].tolist()
        hits = [f for f in findings if f.row in rows and f.column == header and f.severity == "error"]
        assert hits, f"{pid} {header}: {_what}"
    assert all(f.severity == "error" for f in findings) and len(findings) == len(PLANTED)


def test_duplicate_row_with_blank_cells_names_the_first_row(tmp_path):
    rows = [list(r) for r in ROWS]
    copy = list(ROWS[0])
    copy[0] = "A-009"
    rows.append(copy)      # the survey again: blank leads, conversions and revenue in both
    f = _only(check_file(make_plan(tmp_path / "dup.xlsx", rows, top_left="C5")), "XP207")
    assert (f.cell, f.message.split(" (")[0]) == ("D11", "row repeats row 6")


def _failure_key(f) -> tuple:
    return (str(f.reason), f.column, str(f.check), list(f.rows))


@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: p.kind)
def test_lean_failures_are_pandera_own_failures(tmp_path, plant):
    """check's quick path runs each check through pandera and keeps the failing rows; on
    every planted plan it finds what pandera's own lazy validation finds, in its order."""
    from xlplugin.config import Config
    from xlplugin.engine.check import _lean_failures, _pandera_failures, _runtime_schema, load_schema

    path, _ = planted_workbook(tmp_path, plant)
    parsed = parsed_file(path)
    schema = _runtime_schema(load_schema(None, parsed.plan.kind), parsed.plan, Config(),
                             set(parsed.frame.columns))
    lean = _lean_failures(schema, parsed.frame)
    assert lean is not None                       # the shipped schema takes the quick path
    assert [_failure_key(f) for f in lean] == [_failure_key(f) for f in _pandera_failures(schema, parsed.frame)]
