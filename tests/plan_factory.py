"""Build small plan workbooks for tests with XlsxWriter (a new file, never a user's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import xlsxwriter

HEADERS = ["ID", "Activity", "Description", "Channel", "Owner", "Start Date", "End Date",
           "Status", "Budget", "Actual", "KPI", "Leads", "Conversions", "Revenue"]

ROWS = [
    ["A-001", "Customer needs survey", "Online survey of 400 IT buyers on pain points",
     "Research", "Dana", dt.date(2027, 1, 11), dt.date(2027, 2, 15), "Planned", 12000, 11500,
     "Insights delivered", None, None, None],
    ["A-002", "Focus groups for new product concept", "Three focus groups testing the concept",
     "Research", "Luis", dt.date(2027, 2, 1), dt.date(2027, 2, 28), "Planned", 18000, 0,
     "Concept score", None, None, None],
    ["A-003", "Paid search campaign", "Google Ads on core keywords after launch", "Search",
     "Priya", dt.date(2027, 4, 1), dt.date(2027, 6, 30), "Planned", 30000, 28000, "Leads",
     600, 45, 90000],
    ["A-004", "Trade show booth", "Booth and demos at the annual industry expo", "Events",
     "Sam", dt.date(2027, 5, 10), dt.date(2027, 5, 12), "Planned", 25000, 26500, "Leads",
     250, 20, 60000],
    ["A-005", "Loyalty email program", "Monthly offers to existing customers", "Email",
     "Dana", dt.date(2027, 3, 1), dt.date(2027, 12, 31), "In progress", 8000, 3000,
     "Retention", 120, 30, 24000],
]


def make_plan(path: str | Path, rows: Sequence[Sequence[object]] = ROWS,
              headers: Sequence[str] = HEADERS, *, sheet: str = "Plan", top_left: str = "A1",
              as_table: bool = False, table_name: str = "Plan", extra_sheets: Sequence[str] = (),
              date1904: bool = False) -> Path:
    """Write a plan at `top_left` of `sheet`; dates as real date cells."""
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path), {"date_1904": date1904})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name in extra_sheets:
        wb.add_worksheet(name).write(0, 0, f"{name} notes")
    ws = wb.add_worksheet(sheet)
    r0, c0 = xlsxwriter.utility.xl_cell_to_rowcol(top_left)
    if as_table:
        data = [list(r) for r in rows]
        ws.add_table(r0, c0, r0 + max(len(rows), 1), c0 + len(headers) - 1,
                     {"name": table_name, "columns": [{"header": h} for h in headers],
                      "data": data or None})
        for i, row in enumerate(rows):  # rewrite dates with a date format
            for j, v in enumerate(row):
                if isinstance(v, dt.date):
                    ws.write_datetime(r0 + 1 + i, c0 + j, v, date_fmt)
    else:
        for j, h in enumerate(headers):
            ws.write(r0, c0 + j, h)
        write_values(ws, r0 + 1, c0, rows, date_fmt)
    wb.close()
    return path


def write_values(ws, first_row: int, first_col: int, rows: Sequence[Sequence[object]], date_fmt) -> None:
    """Rows of plan values from (first_row, first_col), 0-based: dates as date cells, text
    always as text, None left blank."""
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write_datetime(first_row + i, first_col + j, v, date_fmt)
            elif v is None:
                continue
            elif isinstance(v, str):
                ws.write_string(first_row + i, first_col + j, v)
            else:
                ws.write(first_row + i, first_col + j, v)
