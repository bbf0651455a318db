"""Plant one kind of bad cell into an otherwise clean plan (tests/plan_factory.ROWS).

Each Plant names the column (by header), the data row (0-based index into ROWS),
the value to type there, and what the check must say: rule code, severity, and a
message fragment.  `planted_workbook` writes the plan with its header at A1, C5 or
as an Excel Table, and returns the path plus the Excel address of the planted cell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.plan_factory import HEADERS, ROWS, make_plan
from xlplugin.config import Config
from xlplugin.model import Finding, Label, cell_ref, split_ref

LAYOUTS = {"A1": {"top_left": "A1"}, "C5": {"top_left": "C5"}, "table": {"as_table": True}}


@dataclass(frozen=True)
class Plant:
    kind: str
    column: str              # header in plan_factory.HEADERS
    row: int                 # index into ROWS (or len(ROWS) for an appended copy)
    value: object
    rule: str
    severity: str
    message: str             # a fragment the message must contain
    config: Config = field(default_factory=Config)
    append: tuple = ()       # a whole extra row to add before planting (duplicate rows)


PERIOD = Config(period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31))
CHANNELS = Config(allowed={"channel": ["Research", "Search", "Events", "Email", "Social"]})

PLANTS: tuple[Plant, ...] = (
    Plant("currency-text", "Budget", 2, "$1,200", "XP102", "error",
          'budget is text "$1,200": Excel\'s totals leave it out (it reads as 1,200)'),
    Plant("padded-text", "Actual", 3, " 300 ", "XP102", "error",
          'actual is text " 300 ": Excel\'s totals leave it out (it reads as 300)'),
    Plant("eu-decimal-text", "Budget", 0, "1.200,50", "XP102", "error",
          'budget is text "1.200,50": Excel\'s totals leave it out (it reads as 1,200.5)'),
    Plant("percent-text", "Revenue", 2, "12%", "XP102", "error",
          'revenue is text "12%": Excel\'s totals leave it out (it reads as 0.12)'),
    Plant("unreadable-number", "Budget", 2, "$1,2OO", "XP101", "error",
          'budget must be a number, found "$1,2OO"'),
    Plant("iso-date-text", "Start Date", 4, "2027-03-01", "XP104", "warning",
          'start date is text "2027-03-01", read as 2027-03-01'),
    Plant("us-date-text", "Start Date", 4, "03/01/2027", "XP104", "warning",
          "read as 2027-03-01 (month first)"),
    Plant("eu-date-text", "Start Date", 4, "13.03.2027", "XP104", "warning",
          "read as 2027-03-13 (day first)"),
    Plant("unreadable-date", "Start Date", 4, "early March", "XP103", "error",
          'start date must be a date, found "early March"'),
    Plant("serial-date", "End Date", 3, 46519, "XP105", "warning",
          "end date is the number 46519, read as the date 2027-05-12"),
    Plant("placeholder", "Leads", 2, "n/a", "XP106", "warning", 'leads holds the placeholder "n/a"'),
    Plant("required-placeholder", "Budget", 1, "TBD", "XP202", "error",
          'budget is required; "TBD" is a placeholder'),
    Plant("excel-error-text", "Budget", 3, "#DIV/0!", "XP107", "error", "budget holds the Excel error #DIV/0!"),
    Plant("blank-activity", "Activity", 1, None, "XP202", "error", "activity is required"),
    Plant("blank-end", "End Date", 1, None, "XP202", "error", "end date is required"),
    Plant("negative-budget", "Budget", 0, -5000, "XP203", "error", "budget must not be negative, found -5,000"),
    Plant("negative-leads", "Leads", 3, -20, "XP203", "error", "leads must not be negative"),
    Plant("end-before-start", "End Date", 0, dt.date(2027, 1, 1), "XP204", "error",
          "end date 2027-01-01 is before start date 2027-01-11"),
    Plant("outside-period", "End Date", 4, dt.date(2028, 2, 15), "XP205", "error",
          "end date 2028-02-15 is outside the plan period 2027-01-01..2027-12-31", PERIOD),
    Plant("duplicate-id", "ID", 3, "A-001", "XP206", "error", 'ID "A-001" is already used in row'),
    Plant("not-allowed", "Channel", 2, "Serach", "XP208", "error", 'channel "Serach" is not an allowed value',
          CHANNELS),
    Plant("conversions-above-leads", "Conversions", 2, 700, "XP209", "error",
          "conversions (700) exceed leads (600)"),
    Plant("duplicate-row", "Activity", 5, "Paid search campaign", "XP207", "warning", "row repeats row",
          append=("A-006", *ROWS[2][1:])),
)


def planted_rows(p: Plant) -> list[list[object]]:
    rows = [list(r) for r in ROWS]
    if p.append:
        rows.append(list(p.append))
    rows[p.row][HEADERS.index(p.column)] = p.value
    return rows


def planted_workbook(tmp: Path, p: Plant, layout: str = "A1") -> tuple[Path, str]:
    """Write the planted plan; return (path, the planted cell's address)."""
    opts = LAYOUTS[layout]
    path = make_plan(tmp / f"bad-{p.kind}-{layout}.xlsx", planted_rows(p), **opts)
    r0, c0 = split_ref(opts.get("top_left", "A1"))
    return path, cell_ref(r0 + 1 + p.row, c0 + HEADERS.index(p.column))


def expected_row(p: Plant, layout: str = "A1") -> int:
    r0, _ = split_ref(LAYOUTS[layout].get("top_left", "A1"))
    return r0 + 1 + p.row


def check_file(path: Path, config: Config | None = None, labels: Sequence[Label] | None = None,
               schema_path: Path | None = None) -> list[Finding]:
    """read -> locate -> parse -> check, the way the pipeline runs them."""
    from xlplugin.engine.check import check_plan
    from xlplugin.engine.locate import locate_plan
    from xlplugin.engine.parse import parse_plan
    from xlplugin.file.read import open_workbook

    with open_workbook(path) as wb:
        plan = locate_plan(wb, config=config)
        parsed = parse_plan(wb.grid(plan.sheet), plan, date1904=wb.date1904)
    return check_plan(parsed, config, labels=list(labels) if labels else None, schema_path=schema_path)


def parsed_file(path: Path, config: Config | None = None):
    from xlplugin.engine.locate import locate_plan
    from xlplugin.engine.parse import parse_plan
    from xlplugin.file.read import open_workbook

    with open_workbook(path) as wb:
        plan = locate_plan(wb, config=config)
        return parse_plan(wb.grid(plan.sheet), plan, date1904=wb.date1904)
