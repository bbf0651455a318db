"""parse_plan: cells typed by hand become typed values plus findings at their cells."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from tests.bad_plans import parsed_file
from tests.plan_factory import HEADERS, ROWS, make_plan, write_values
from xlplugin.engine.parse import parse_plan, read_date, read_number, serial_to_datetime
from xlplugin.model import Column, Grid, PlanTable


@pytest.mark.parametrize("text,value", [
    ("$1,200", 1200), (" 300 ", 300), ("1.200,50", 1200.5), ("12%", 0.12), ("(300)", -300),
    ("-$5", -5), ("1 200,5", 1200.5), ("12,5", 12.5), ("1,234,567.89", 1234567.89), ("1.200", 1.2),
    ("1.200.000", 1200000), ("EUR 5", 5), ("5 €", 5), ("1'200", 1200), ("\u00a01\u00a0200\u00a0", 1200),
    ("1e3", 1000), ("£0.5", 0.5), ("12k", 12000), ("$1.5K", 1500),
])
def test_read_number_reads_what_people_type(text, value):
    assert read_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["$1,2OO", "abc", "", "1,2,3", "12 kg", "1.2.3,4,5", "--5", "5$5"])
def test_read_number_refuses_what_is_not_a_number(text):
    assert read_number(text) is None


@pytest.mark.parametrize("text,expected,how", [
    ("2027-03-01", dt.datetime(2027, 3, 1), "year-month-day"),
    ("2027/3/1", dt.datetime(2027, 3, 1), "year-month-day"),
    ("03/01/2027", dt.datetime(2027, 3, 1), "month first"),
    ("13/03/2027", dt.datetime(2027, 3, 13), "day first"),
    ("01.03.2027", dt.datetime(2027, 3, 1), "day first"),
    ("3/1/27", dt.datetime(2027, 3, 1), "month first"),
    ("1 Mar 2027", dt.datetime(2027, 3, 1), "month name"),
    ("March 1, 2027", dt.datetime(2027, 3, 1), "month name"),
    ("Mar 1st 2027", dt.datetime(2027, 3, 1), "month name"),
])
def test_read_date_reads_iso_us_eu_and_named_months(text, expected, how):
    assert read_date(text) == (expected, how)


def test_read_date_follows_the_columns_order_when_ambiguous():
    assert read_date("03/01/2027", dayfirst=True)[0] == dt.datetime(2027, 1, 3)
    assert read_date("2027-02-30")[0] is None
    assert read_date("next spring")[0] is None


def test_serials_in_both_date_systems():
    assert serial_to_datetime(46447) == dt.datetime(2027, 3, 1)
    assert serial_to_datetime(46447 - 1462, date1904=True) == dt.datetime(2027, 3, 1)
    assert serial_to_datetime(2027) is None          # a year typed into a date column


def _grid_plan(rows, headers=("Activity", "Start Date", "Budget"), fields=("activity", "start", "budget")):
    grid = Grid(name="Plan", index=0, part="", cells=[list(headers)] + [list(r) for r in rows])
    plan = PlanTable(sheet="Plan", header_row=1, first_col=1, last_col=len(headers),
                     columns=[Column(h, i + 1, f, h) for i, (h, f) in enumerate(zip(headers, fields, strict=True))],
                     data_rows=list(range(2, 2 + len(rows))), last_row=1 + len(rows))
    return grid, plan


def test_frame_types_index_and_raw_values(tmp_path):
    parsed = parsed_file(make_plan(tmp_path / "p.xlsx", top_left="C5"))
    frame, raw = parsed.frame, parsed.raw
    assert list(frame.index) == [6, 7, 8, 9, 10]
    assert frame["budget"].dtype == np.float64 and frame["start"].dtype == "datetime64[ns]"
    assert frame["activity"].dtype == object and frame["id"].dtype == object
    assert frame.at[8, "budget"] == 30000.0
    assert frame.at[6, "start"] == pd.Timestamp("2027-01-11")
    assert pd.isna(frame.at[6, "leads"])                # blank stays blank
    assert raw.at[6, "start"] == dt.date(2027, 1, 11)   # raw keeps the cell's own value
    assert list(raw.columns) == list(frame.columns)
    assert parsed.findings == []


def test_real_excel_error_cells_are_findings(tmp_path):
    """Error values written as Excel writes them (t="e", cached from a formula)."""
    path = tmp_path / "errors.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    ws.write_row(0, 0, HEADERS)
    write_values(ws, 1, 0, ROWS, wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.write_formula(2, 8, "=1/0", None, "#DIV/0!")
    ws.write_formula(3, 11, "=#REF!", None, "#REF!")
    ws.write_formula(4, 1, "=NA()", None, "#N/A")
    wb.close()
    parsed = parsed_file(path)
    got = [(f.rule, f.severity, f.cell, f.message) for f in parsed.findings]
    assert got == [
        ("XP107", "error", "I3", "budget holds the Excel error #DIV/0!"),
        ("XP107", "error", "L4", "leads holds the Excel error #REF!"),
        ("XP107", "error", "B5", "activity holds the Excel error #N/A"),
    ]
    assert pd.isna(parsed.frame.at[3, "budget"]) and parsed.frame.at[5, "activity"] is None
    assert parsed.raw.at[3, "budget"] == "#DIV/0!"


def test_serial_dates_in_a_1904_workbook(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][HEADERS.index("Start Date")] = 46447 - 1462      # 2027-03-01 in the 1904 system
    rows[0][HEADERS.index("End Date")] = dt.date(2027, 3, 31)
    parsed = parsed_file(make_plan(tmp_path / "mac.xlsx", rows, date1904=True))
    assert parsed.frame.at[2, "start"] == pd.Timestamp("2027-03-01")
    assert parsed.frame.at[3, "start"] == pd.Timestamp("2027-02-01")   # real dates unaffected
    [f] = parsed.findings
    assert (f.rule, f.cell) == ("XP105", "F2")


def test_text_dates_take_the_columns_order():
    """One unambiguous day-first date decides the column's ambiguous ones."""
    grid, plan = _grid_plan([["a", "25/12/2027", 1], ["b", "03/01/2027", 1]])
    parsed = parse_plan(grid, plan)
    assert parsed.frame.at[3, "start"] == pd.Timestamp("2027-01-03")
    assert [f.message for f in parsed.findings][1] == \
        'start date is text "03/01/2027", read as 2027-01-03 (day first)'


def test_dates_as_eight_digits_read_as_yyyymmdd():
    """Ad platforms and databases export 20270301 for 2027-03-01, as a number or as text."""
    grid, plan = _grid_plan([["a", 20270301, 1], ["b", "20270302", 1], ["c", 20271302, 1], ["d", 12345678, 1]])
    parsed = parse_plan(grid, plan)
    assert list(parsed.frame["start"][:2]) == [pd.Timestamp("2027-03-01"), pd.Timestamp("2027-03-02")]
    assert parsed.frame["start"][2:].isna().all()
    assert [(f.rule, f.cell, f.message) for f in parsed.findings] == [
        ("XP105", "B2", "start date is the number 20270301, read as the date 2027-03-01 (yyyymmdd)"),
        ("XP104", "B3", 'start date is text "20270302", read as 2027-03-02 (yyyymmdd)'),
        # no 13th month, no year 1234: an error, the number shown as typed
        ("XP103", "B4", "start date must be a date, found the number 20271302"),
        ("XP103", "B5", "start date must be a date, found the number 12345678"),
    ]


def test_odd_values_in_every_kind_of_column():
    grid, plan = _grid_plan([
        [1001.0, dt.datetime(2027, 1, 5, 9, 30), True],
        ["   ", 2027, dt.date(2027, 1, 1)],
        ["ok", "TBD", "  "],
    ])
    parsed = parse_plan(grid, plan)
    assert parsed.frame.at[2, "activity"] == "1001"           # a number in a text column is text
    assert parsed.frame.at[2, "start"] == pd.Timestamp("2027-01-05 09:30")
    assert parsed.frame.at[3, "activity"] is None              # spaces only: blank
    assert pd.isna(parsed.frame.at[4, "budget"])               # spaces only: blank, no finding
    got = [(f.rule, f.cell, f.message) for f in parsed.findings]
    assert got == [
        ("XP101", "C2", "budget must be a number, found True"),
        ("XP103", "B3", "start date must be a date, found the number 2027"),
        ("XP101", "C3", "budget must be a number, found the date 2027-01-01"),
        ("XP106", "B4", 'start date holds the placeholder "TBD" instead of a date'),
    ]
    assert all(f.hint for f in parsed.findings)


def test_unreadable_number_hint_spots_lookalike_letters():
    grid, plan = _grid_plan([["a", dt.date(2027, 1, 1), "$1,2OO"], ["b", dt.date(2027, 1, 1), "lots"]])
    f1, f2 = parse_plan(grid, plan).findings
    assert f1.hint.startswith("did you mean 1,200?")
    assert f2.hint.startswith("type digits only")


def test_rows_beyond_the_grid_and_missing_cells_are_blank():
    grid, plan = _grid_plan([["a"]])
    plan.data_rows = [2, 3]
    parsed = parse_plan(grid, plan)
    assert parsed.frame["budget"].isna().all() and parsed.frame.at[3, "activity"] is None
