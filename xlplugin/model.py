"""Plain data passed between the stages of the flow (see DESIGN.md).

read -> Workbook/Grid, locate -> PlanTable, parse -> ParsedPlan, check -> Finding,
label -> Label.  Nothing here does I/O or imports pandas at module load.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

CellValue = str | float | int | bool | dt.datetime | dt.date | dt.time | None

Severity = Literal["error", "warning"]
Stage = Literal["Upstream", "Downstream", "Review"]
STAGES: tuple[str, ...] = ("Upstream", "Downstream", "Review")

# Canonical plan fields, in the order a template lays them out.
FIELDS: tuple[str, ...] = (
    "id", "activity", "description", "category", "objective", "channel", "owner",
    "start", "end", "quarter", "status", "budget", "forecast", "actual", "kpi", "target",
    "result", "impressions", "clicks", "leads", "conversions", "revenue", "roi",
    "variance", "stage", "stage_basis",
    # Fields of the other sheet kinds (budgets, performance logs, calendars, media plans).
    "placement", "audience", "period", "reach", "engagement", "units", "ctr", "cpc", "cpm", "cpa",
    "conversion_rate", "roas",
)
NUMBER_FIELDS = frozenset({
    "budget", "forecast", "actual", "target", "impressions", "clicks", "leads",
    "conversions", "revenue", "roi", "variance",
    "reach", "engagement", "units", "ctr", "cpc", "cpm", "cpa", "conversion_rate", "roas",
})
DATE_FIELDS = frozenset({"start", "end"})
# The kinds of marketing sheet xlplugin recognises (locate sets PlanTable.kind).
SHEET_KINDS: tuple[str, ...] = ("activity_plan", "budget", "performance_log", "content_calendar",
                                "media_plan")
# Everything else is text.

# Hidden workbook-level defined name listing the plan columns the tool added
# (e.g. "'Plan'!$P$4:$Z$4"); read by locate, written by render through DefinedName.
TOOL_COLUMNS_NAME = "_xlplugin_columns"


def col_letter(col: int) -> str:
    """1 -> A, 28 -> AB."""
    s = ""
    while col:
        col, r = divmod(col - 1, 26)
        s = chr(65 + r) + s
    return s


def col_index(letters: str) -> int:
    """A -> 1, AB -> 28."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def cell_ref(row: int, col: int, absolute: bool = False) -> str:
    """(7, 5) -> 'E7' (or '$E$7')."""
    if absolute:
        return f"${col_letter(col)}${row}"
    return f"{col_letter(col)}{row}"


def split_ref(ref: str) -> tuple[int, int]:
    """'E7' or '$E$7' -> (7, 5)."""
    ref = ref.replace("$", "")
    i = 0
    while i < len(ref) and ref[i].isalpha():
        i += 1
    return int(ref[i:]), col_index(ref[:i])


def quote_sheet(name: str) -> str:
    """Sheet name as it must appear in a formula or hyperlink location."""
    return "'" + name.replace("'", "''") + "'"


@dataclass
class TableDef:
    """An Excel Table (ListObject) as defined in xl/tables/tableN.xml."""

    name: str            # the `name` attribute (what structured references use: displayName)
    sheet: str
    ref: str             # e.g. "B2:H40"
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    columns: list[str]   # tableColumn names, left to right
    header_rows: int = 1
    totals_rows: int = 0
    part: str = ""       # package part name, e.g. "xl/tables/table1.xml"


@dataclass
class Grid:
    """One worksheet's cell values.  Rows/cols are 1-based Excel numbers."""

    name: str
    index: int                              # position among the workbook's sheets, 0-based
    part: str                               # e.g. "xl/worksheets/sheet1.xml"
    cells: list[list[CellValue]]            # cells[r][c] is Excel row origin_row+r, col origin_col+c
    origin_row: int = 1
    origin_col: int = 1
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2
    state: str = "visible"                  # visible | hidden | veryHidden

    @property
    def max_row(self) -> int:
        return self.origin_row + len(self.cells) - 1

    @property
    def max_col(self) -> int:
        width = max((len(r) for r in self.cells), default=0)
        return self.origin_col + width - 1

    def value(self, row: int, col: int) -> CellValue:
        r, c = row - self.origin_row, col - self.origin_col
        if r < 0 or c < 0 or r >= len(self.cells):
            return None
        line = self.cells[r]
        return line[c] if c < len(line) else None


@dataclass
class Column:
    """One plan column: where it is and what it means."""

    header: str          # the header text as the user typed it
    col: int             # 1-based column number
    field: str | None    # canonical field (FIELDS), or None when not recognised
    matched: str = ""    # the synonym that matched, for "which synonym was accepted"

    @property
    def letter(self) -> str:
        return col_letter(self.col)


@dataclass
class PlanTable:
    """Where the plan sits in its sheet, and what each column holds."""

    sheet: str
    header_row: int
    first_col: int
    last_col: int
    columns: list[Column]
    data_rows: list[int]                 # Excel row numbers holding data (blank rows skipped)
    last_row: int                        # last row of the plan area (Table ref end, or last data row)
    table: TableDef | None = None        # set when the plan is an Excel Table
    list_values: dict[str, list[str]] = field(default_factory=dict)  # field -> allowed values found in workbook
    # Columns the tool added on an earlier run (header -> col), recorded in the workbook
    # as the hidden defined name TOOL_COLUMNS_NAME.  They map to no field, so a tool-made
    # "ROI" column is never mistaken for the user's stored ROI.
    tool_cols: dict[str, int] = field(default_factory=dict)
    # What kind of sheet this is (see SHEET_KINDS); locate decides, check/summary adapt.
    kind: str = "activity_plan"
    # Months or dates across the columns (col -> period label as written): read as one row per
    # item and period (xlplugin/engine/layouts.py).  Empty for a table of one row per item.
    periods: dict[int, str] = field(default_factory=dict)
    # "rows" (one row per item), "across" (periods across the columns) or "weekday_grid" (a
    # calendar: Mon..Sun across, one entry per cell; `periods` then maps col -> weekday).
    layout: str = "rows"
    # The last column right of the plan holding anything within the plan's rows (another table
    # side by side, a note): columns the tool adds go after it, never over it.  0: nothing there.
    right_edge: int = 0
    # Rows inside the plan's range that hold something but no data (a subtotal, a section's
    # heading, the header repeated): sums over the range must leave them out.
    between: tuple[int, ...] = ()

    @property
    def fields(self) -> dict[str, Column]:
        return {c.field: c for c in self.columns if c.field}


@dataclass
class ParsedPlan:
    """parse's output.

    frame: index = Excel row number (int), one column per recognised canonical field.
      number fields -> float64 (NaN when blank or unparseable)
      date fields   -> datetime64[ns] (NaT when blank or unparseable)
      text fields   -> object (str, or None when blank)
    raw: same index and columns, object dtype, the value as it sits in the cell.
    findings: problems met while parsing (a number typed as text that cannot be read, ...).
    """

    plan: PlanTable
    frame: pd.DataFrame
    raw: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)
    # The plan's own number format for amounts ("$#,##0"), read from its Budget/Actual
    # cells by the file source; None when unknown.  Metric columns and the Summary use it.
    money_format: str | None = None
    # Months or dates across the columns, one row per item and period: row, item, period, col,
    # amount (None when the plan has no period columns; see xlplugin/engine/layouts.py).
    periods: pd.DataFrame | None = None

    @property
    def kind(self) -> str:
        return self.plan.kind


@dataclass
class Finding:
    rule: str                        # stable code, e.g. "XP101"
    severity: Severity
    sheet: str
    message: str                     # one line
    hint: str = ""
    cell: str | None = None          # "E7" when scope == "cell"
    row: int | None = None
    col: int | None = None
    column: str | None = None        # header text of the column
    value: CellValue = None          # the raw value as typed
    scope: Literal["cell", "row", "column", "sheet"] = "cell"
    file: str = ""

    def location(self) -> str:
        if self.cell:
            return f"{self.sheet}!{self.cell}"
        if self.row is not None:
            return f"{self.sheet}!{self.row}:{self.row}"
        if self.col is not None:
            letter = col_letter(self.col)
            return f"{self.sheet}!{letter}:{letter}"
        return self.sheet

    def to_dict(self) -> dict:
        v = self.value
        if isinstance(v, (dt.date, dt.datetime, dt.time)):
            v = v.isoformat()
        return {
            "file": self.file, "rule": self.rule, "severity": self.severity,
            "sheet": self.sheet, "cell": self.cell, "row": self.row,
            "column": self.column, "value": v, "message": self.message, "hint": self.hint,
            "scope": self.scope,
        }


@dataclass
class Label:
    row: int                 # Excel row number
    stage: Stage
    confidence: float        # 0..1
    reason: str              # short, checkable in a second
    source: Literal["taxonomy", "model", "user", "none"] = "taxonomy"
    user_stage: str | None = None   # what the user typed in the Stage column, if anything


# --- reading helpers shared by both sources and locate (pure) ---------------------------

_RANGE = re.compile(r"^\$?([A-Za-z]{1,3})?\$?(\d+)?(?::\$?([A-Za-z]{1,3})?\$?(\d+)?)?$")


def map_distinct(fn: Callable[[Any], str], values: list) -> list[str]:
    """fn of each value, computed once per distinct value (a column of findings repeats its
    dates, amounts and texts); an unhashable value is passed to fn all the same."""
    memo: dict[tuple[type, Any], str] = {}
    out = []
    for v in values:
        try:
            key = (type(v), v)
            text = memo.get(key)
            if text is None:
                text = memo[key] = fn(v)
        except TypeError:
            text = fn(v)
        out.append(text)
    return out


def as_text(v: CellValue) -> str:
    """A cell value as the text Excel shows for a plain cell (3.0 -> '3')."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, str):
        return v.strip()
    return str(v)


def split_sheet_ref(ref: str) -> tuple[str | None, str]:
    """"'My Sheet'!$A$1:$B$2" -> ("My Sheet", "$A$1:$B$2"); "A1" -> (None, "A1")."""
    ref = ref.strip()
    if "!" not in ref:
        return None, ref
    sheet, _, addr = ref.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'") and len(sheet) >= 2:
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, addr


def parse_range(addr: str) -> tuple[int, int, int, int] | None:
    """'$A$2:$B$9' / 'A2' / 'A:A' / '3:5' -> (r1, c1, r2, c2), open ends as 1 / a huge number."""
    m = _RANGE.match(addr.strip())
    if not m or not any(m.groups()):
        return None
    ca, ra, cb, rb = m.groups()
    if ":" not in addr:
        if not (ca and ra):
            return None
        cb, rb = ca, ra
    big = 1 << 20
    r1 = int(ra) if ra else 1
    r2 = int(rb) if rb else big
    c1 = col_index(ca) if ca else 1
    c2 = col_index(cb) if cb else 16384
    if r1 > r2:
        r1, r2 = r2, r1
    if c1 > c2:
        c1, c2 = c2, c1
    return r1, c1, r2, c2


def parse_sqref(sqref: str) -> list[tuple[int, int, int, int]]:
    """'B2:B50 D2:D50' -> boxes."""
    return [b for b in (parse_range(p) for p in sqref.split()) if b is not None]


class WorkbookSource(Protocol):
    """What locate (and parse) need from a workbook: a file here, a live Excel book in
    the xlwings source.  Everything is read-only."""

    sheet_names: list[str]              # worksheets only, in tab order

    @property
    def file(self) -> str: ...          # the name error messages start with

    @property
    def date1904(self) -> bool: ...     # serials count from 1904-01-01 (old Mac workbooks)

    @property
    def sheet_states(self) -> dict[str, str]: ...   # name -> visible | hidden | veryHidden

    @property
    def tables(self) -> list[TableDef]: ...

    @property
    def defined_names(self) -> dict[str, str]: ...

    def grid(self, name: str) -> Grid: ...

    def list_validations(self, sheet: str) -> list[tuple[str, list[str]]]: ...
