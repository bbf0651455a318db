"""Type every plan cell before validation (see DESIGN.md: parse first, then pandera).

A cell typed by hand is often text where a number or date belongs: "$1,200",
"1.200,50", "12%", " 300 ", "03/01/2027", an Excel serial in a date column, "n/a",
"TBD", or an Excel error value.  Readable ones are converted *and* reported (the
cell still holds text, which breaks SUM and sorting); unreadable ones become blank
in the typed frame and are reported as errors.  Either way the finding sits at the
cell, so pandera never sees a half-typed column and never cascades one bad cell
into several errors.

Fast path: real numbers and dates (the normal case) are converted column-wise;
only the odd cells go through the slow readers, each distinct text once.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from operator import itemgetter

from xlplugin.model import (
    DATE_FIELDS,
    NUMBER_FIELDS,
    CellValue,
    Finding,
    Grid,
    ParsedPlan,
    PlanTable,
    cell_ref,
)

EXCEL_ERRORS = frozenset({
    "#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!",
    "#CALC!", "#FIELD!", "#GETTING_DATA", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
    "#N/A!", "#PYTHON!",
})
# Stand-ins for "no value yet" in a number or date column.
PLACEHOLDERS = frozenset({
    "n/a", "na", "n.a.", "n.a", "tbd", "tbc", "tba", "-", "--", "---", "\u2013", "\u2014", "?",
    "??", "none", "null", "nil", "pending", "unknown", "x", "xx", "xxx", "...", "\u2026",
})
_SPACES = re.compile(r"[\s\u00a0\u2007\u202f]+")
_CURRENCY = re.compile(r"^(?:[$\u20ac\u00a3\u00a5\u20b9]|usd|eur|gbp|chf|cad|aud|jpy|inr|us\$)\s*"
                       r"|\s*(?:[$\u20ac\u00a3\u00a5\u20b9]|usd|eur|gbp|chf|cad|aud|jpy|inr)$", re.I)
_BODY = re.compile(r"^(?:\d[\d.,' ]*|[.,]\d+)(?:[eE][+-]?\d+)?$")
_THOUSANDS_COMMA = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_THOUSANDS_DOT = re.compile(r"^\d{1,3}(?:\.\d{3})+$")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_EXCEL_EPOCH_1904 = dt.datetime(1904, 1, 1)
# A number in a date column is read as a serial only when it lands in this window.
_SERIAL_YEARS = (1990, 2100)
DATE_EXAMPLE = "2027-03-01"

_NUM_DMY = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_ISO = re.compile(r"^(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_NAMED_FORMATS = (
    "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d %b %y", "%d %B %y", "%b %d %y",
    "%B %d %y", "%a %d %b %Y", "%A %d %B %Y", "%a %b %d %Y", "%A %B %d %Y",
)


_LABELS = {"id": "ID", "kpi": "KPI", "roi": "ROI", "start": "start date", "end": "end date",
           "stage_basis": "stage basis"}


def field_label(field: str) -> str:
    """How messages name a field: "budget", "start date", "ID"."""
    return _LABELS.get(field, field)


# --- numbers --------------------------------------------------------------------------

def read_number(text: str) -> float | None:
    """Read a number a person typed as text; None when it is not one.

    "$1,200" -> 1200, " 300 " -> 300, "1.200,50" -> 1200.5, "12%" -> 0.12,
    "(300)" -> -300, "1'200" -> 1200, "1 200,5" -> 1200.5, "12k" -> 12000.  A single '.' is a decimal
    point ("1.200" -> 1.2); a single ',' is a decimal comma unless it groups thousands
    ("1,200" -> 1200, "12,5" -> 12.5).
    """
    s = _SPACES.sub(" ", text).strip()
    if not s:
        return None
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    signed = negative
    for _ in range(2):  # sign and currency in either order: "-$5", "$-5", "5 EUR"
        if not signed and s and s[0] in "-\u2212+":   # s may be empty: "£" alone
            negative, signed, s = s[0] != "+", True, s[1:].strip()
        if not signed and s.endswith("-"):
            negative, signed, s = True, True, s[:-1].strip()
        s = _CURRENCY.sub("", s).strip()
    percent = s.endswith("%")
    if percent:
        s = s[:-1].strip()
    thousands = not percent and s[-1:] in ("k", "K") and s[:-1].rstrip()[-1:].isdigit()
    if thousands:  # "12k", "1.5K": common shorthand in plans
        s = s[:-1].strip()
    if not s or not _BODY.match(s):
        return None
    mantissa, exp = s, ""
    m = re.search(r"[eE][+-]?\d+$", s)
    if m:
        mantissa, exp = s[:m.start()], m.group()
    mantissa = re.sub(r"(?<=\d)[ '](?=\d)", "", mantissa)
    if " " in mantissa or "'" in mantissa:
        return None
    dots, commas = mantissa.count("."), mantissa.count(",")
    if dots and commas:
        dec = "." if mantissa.rfind(".") > mantissa.rfind(",") else ","
        grp = "," if dec == "." else "."
        whole, _, frac = mantissa.rpartition(dec)
        if whole.count(dec) or not re.fullmatch(r"\d{1,3}(?:" + re.escape(grp) + r"\d{3})*", whole):
            return None
        mantissa = whole.replace(grp, "") + "." + frac
    elif commas:
        if _THOUSANDS_COMMA.match(mantissa):
            mantissa = mantissa.replace(",", "")
        elif commas == 1:
            mantissa = mantissa.replace(",", ".")
        else:
            return None
    elif dots > 1:
        if not _THOUSANDS_DOT.match(mantissa):
            return None
        mantissa = mantissa.replace(".", "")
    try:
        value = float(mantissa + exp)
    except ValueError:
        return None
    if not math.isfinite(value):   # "1e999": not a figure anyone typed, and no cell can hold it
        return None
    if negative:
        value = -value
    if thousands:
        return value * 1000
    return value / 100 if percent else value


_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "S": "5"})


def _number_hint(text: str) -> str:
    fixed = read_number(text.translate(_LOOKALIKE))
    if fixed is not None:
        return (f"did you mean {_fmt_num(fixed)}? (a letter where a digit belongs); "
                "type digits only and format the cell as a number or currency")
    return "type digits only (e.g. 1200), and use the cell's number format for currency or %"


def _fmt_num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


# --- dates ----------------------------------------------------------------------------

def read_date(text: str, dayfirst: bool | None = None) -> tuple[dt.datetime | None, str]:
    """Read a date typed as text; returns (date, how it was read) or (None, "").

    ISO "2027-03-01", US "03/01/2027", EU "01.03.2027" / "13/03/2027", "1 Mar 2027",
    "March 1, 2027".  An ambiguous d/m order follows `dayfirst` (the column's other
    text dates), else '.' means day first and '/' or '-' month first.
    """
    s = _SPACES.sub(" ", text).strip().replace(",", " ")
    s = _SPACES.sub(" ", s)
    m = _ISO.match(s)
    if m:
        return _mk(int(m.group(1)), int(m.group(3)), int(m.group(4))), "year-month-day"
    m = _NUM_DMY.match(s)
    if m:
        a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4)
        year = int(y) + (2000 if len(y) == 2 else 0)
        if a > 12 and b <= 12:
            first_is_day = True
        elif b > 12 and a <= 12:
            first_is_day = False
        elif dayfirst is not None:
            first_is_day = dayfirst
        else:
            first_is_day = sep == "."
        d = _mk(year, b, a) if first_is_day else _mk(year, a, b)
        return d, ("day first" if first_is_day else "month first") if d else ""
    s = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", s, flags=re.I).replace(".", "")
    for f in _NAMED_FORMATS:
        try:
            return dt.datetime.strptime(s, f), "month name"
        except ValueError:
            continue
    if s.isdigit():
        d = yyyymmdd(int(s))
        if d is not None:
            return d, "yyyymmdd"
    return None, ""


def yyyymmdd(v: float) -> dt.datetime | None:
    """20270301 as 2027-03-01: the date as eight digits, as ad platforms and databases export
    it (Amazon Ads, Baidu, SQL dumps); None unless it is a whole number naming a real day in
    the years a plan's date can fall in."""
    if not float(v).is_integer():
        return None
    n = int(v)
    y, md = divmod(n, 10_000)
    if not _SERIAL_YEARS[0] <= y <= _SERIAL_YEARS[1]:
        return None
    return _mk(y, md // 100, md % 100)


def _mk(y: int, m: int, d: int) -> dt.datetime | None:
    try:
        return dt.datetime(y, m, d)
    except ValueError:
        return None


def _column_dayfirst(texts: list[str]) -> bool | None:
    """A column's d/m order, from its unambiguous text dates (majority)."""
    votes = 0
    for t in texts:
        m = _NUM_DMY.match(t.strip())
        if m:
            a, b = int(m.group(1)), int(m.group(3))
            votes += (a > 12 >= b) - (b > 12 >= a)
    return None if votes == 0 else votes > 0


def serial_to_datetime(v: float, date1904: bool = False) -> dt.datetime | None:
    """An Excel serial as a datetime, or None outside the plausible plan window."""
    try:
        d = (_EXCEL_EPOCH_1904 if date1904 else _EXCEL_EPOCH) + dt.timedelta(days=float(v))
    except (OverflowError, ValueError):
        return None
    return d if _SERIAL_YEARS[0] <= d.year <= _SERIAL_YEARS[1] else None


# --- the parser -----------------------------------------------------------------------

class _Ctx:
    """Findings for one column, with the column's address facts."""

    def __init__(self, sheet: str, col: int, header: str, field: str):
        self.sheet, self.col, self.header, self.kind = sheet, col, header, field
        self.field = field_label(field)
        self.findings: list[Finding] = []

    def add(self, rule: str, severity: str, row: int, value: CellValue, message: str, hint: str) -> None:
        self.findings.append(Finding(
            rule=rule, severity=severity, sheet=self.sheet, message=message, hint=hint,
            cell=cell_ref(row, self.col), row=row, col=self.col, column=self.header,
            value=value))


def _show(v: CellValue) -> str:
    return f'"{v}"' if isinstance(v, str) else str(v)


def _common_odd(ctx: _Ctx, row: int, v: CellValue) -> bool:
    """Excel errors and placeholders (any typed column); True when handled."""
    if isinstance(v, str):
        s = v.strip()
        if s.upper() in EXCEL_ERRORS:
            ctx.add("XP107", "error", row, v, f"{ctx.field} holds the Excel error {s}",
                    "fix the formula or the value it refers to, or type the value")
            return True
        if s.casefold() in PLACEHOLDERS:
            kind = "a number" if ctx.kind in NUMBER_FIELDS else "a date"
            ctx.add("XP106", "warning", row, v,
                    f'{ctx.field} holds the placeholder "{s}" instead of {kind}',
                    "leave the cell blank until the value is known, or type it")
            return True
    return False


def _number_column(ctx: _Ctx, rows: list[int], vals: list[CellValue]):
    import numpy as np

    if set(map(type, vals)) <= {float, int, type(None)}:
        return np.array(vals, dtype="float64")  # the normal case: real numbers and blanks
    nan = float("nan")
    num = [v if (t := type(v)) is float or t is int else nan for v in vals]
    out = np.array(num, dtype="float64")
    cache: dict[str, float | None] = {}
    for i, v in enumerate(vals):
        t = type(v)
        if v is None or t is float or t is int:
            continue
        row = rows[i]
        if isinstance(v, str) and not v.strip():
            continue  # spaces only: blank
        if _common_odd(ctx, row, v):
            continue
        if isinstance(v, str):
            if v not in cache:
                cache[v] = read_number(v)
            x = cache[v]
            if x is not None:
                out[i] = x
                # an error until fixed: Excel's live totals (the plan's, the Summary's) leave it out
                ctx.add("XP102", "error", row, v,
                        f"{ctx.field} is text {_show(v)}: Excel's totals leave it out (it reads as {x:,.10g})",
                        f"type {x:g} in a number-formatted cell, or run with --fix")
            else:
                ctx.add("XP101", "error", row, v, f"{ctx.field} must be a number, found {_show(v)}",
                        _number_hint(v))
        elif isinstance(v, bool):
            ctx.add("XP101", "error", row, v, f"{ctx.field} must be a number, found {v}",
                    "type the amount as a number")
        else:  # a date in a number column
            ctx.add("XP101", "error", row, v,
                    f"{ctx.field} must be a number, found the date {_iso(v)}",
                    "type the amount, or check the column: a date was typed where a number belongs")
    return out


def _iso(v: CellValue) -> str:
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        return v.date().isoformat()
    return v.isoformat() if isinstance(v, (dt.date, dt.time)) else str(v)


_DATE_TYPES = frozenset({dt.date, dt.datetime, type(None)})


def _date_column(ctx: _Ctx, rows: list[int], vals: list[CellValue], date1904: bool):
    import pandas as pd

    # Fast path: real dates straight through; everything else NaT for now.
    types = set(map(type, vals))
    if types <= _DATE_TYPES:
        fast = vals
    else:
        fast = [v if (t := type(v)) is dt.date or t is dt.datetime else None for v in vals]
    out = pd.to_datetime(pd.Series(fast, dtype=object), errors="coerce").astype("datetime64[ns]").to_numpy(copy=True)
    if types <= _DATE_TYPES:
        return out
    odd = [i for i, v in enumerate(vals)
           if v is not None and fast[i] is None and not (isinstance(v, str) and not v.strip())]
    if not odd:
        return out
    texts = [vals[i] for i in odd if isinstance(vals[i], str)]
    dayfirst = _column_dayfirst(texts)
    hint = f"format the cell as a date, or type {DATE_EXAMPLE}"
    seen: dict[str, tuple[dt.datetime | None, str]] = {}   # a column of text dates repeats them
    for i in odd:
        v, row = vals[i], rows[i]
        if _common_odd(ctx, row, v):
            continue
        if isinstance(v, str):
            got = seen.get(v)
            if got is None:
                got = seen[v] = read_date(v, dayfirst)
            d, how = got
            if d is not None:
                out[i] = pd.Timestamp(d).to_datetime64()
                ctx.add("XP104", "warning", row, v,
                        f"{ctx.field} is text {_show(v)}, read as {_iso(d)} ({how})",
                        f"format the cell as a date, or type {_iso(d)}")
            else:
                ctx.add("XP103", "error", row, v, f"{ctx.field} must be a date, found {_show(v)}", hint)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            d = serial_to_datetime(v, date1904)
            if d is not None:
                out[i] = pd.Timestamp(d).to_datetime64()
                ctx.add("XP105", "warning", row, v,
                        f"{ctx.field} is the number {v:g}, read as the date {_iso(d)}",
                        "format the cell as a date (Home > Number Format > Short Date)")
            elif (d := yyyymmdd(v)) is not None:
                out[i] = pd.Timestamp(d).to_datetime64()
                ctx.add("XP105", "warning", row, v,
                        f"{ctx.field} is the number {v:.15g}, read as the date {_iso(d)} (yyyymmdd)",
                        f"type {_iso(d)} in a date-formatted cell: Excel sorts and filters the number, not the date")
            else:
                ctx.add("XP103", "error", row, v, f"{ctx.field} must be a date, found the number {v:.15g}",
                        hint)
        else:
            ctx.add("XP103", "error", row, v, f"{ctx.field} must be a date, found {_show(v)}", hint)
    return out


def _text(v: CellValue) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        s = v.strip()
        return s or None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.date, dt.time)):
        return _iso(v)
    return str(v)


def _text_column(ctx: _Ctx, rows: list[int], vals: list[CellValue]) -> list[str | None]:
    out = [v.strip() or None if type(v) is str else _text(v) for v in vals]
    if not EXCEL_ERRORS.intersection(out):  # hashing in C: the usual case costs ~nothing
        return out
    for i, v in enumerate(out):
        if v is not None and v in EXCEL_ERRORS:
            ctx.add("XP107", "error", rows[i], vals[i], f"{ctx.field} holds the Excel error {v}",
                    "fix the formula or the value it refers to, or type the value")
            out[i] = None
    return out


def parse_plan(grid: Grid, plan: PlanTable, date1904: bool = False) -> ParsedPlan:
    """Type the plan's cells: a frame indexed by Excel row, the raw values, and findings."""
    import pandas as pd

    rows = list(plan.data_rows)
    o_r, o_c = grid.origin_row, grid.origin_col
    n_lines = len(grid.cells)
    empty: list[CellValue] = []
    lines = [grid.cells[r - o_r] if 0 <= r - o_r < n_lines else empty for r in rows]
    index = pd.Index(rows, dtype="int64")
    typed: dict[str, object] = {}
    raw: dict[str, object] = {}
    findings: list[Finding] = []
    fields = plan.fields
    width = max((c.col - o_c + 1 for c in fields.values()), default=0)
    rectangular = not lines or min(map(len, lines)) >= width
    for field, column in fields.items():
        j = column.col - o_c
        if j < 0:
            vals = [None] * len(rows)
        elif rectangular:  # calamine's normal output: pick the column in C
            vals = list(map(itemgetter(j), lines))
        else:
            vals = [line[j] if j < len(line) else None for line in lines]
        ctx = _Ctx(plan.sheet, column.col, column.header, field)
        if field in NUMBER_FIELDS:
            typed[field] = pd.Series(_number_column(ctx, rows, vals), index=index, dtype="float64")
        elif field in DATE_FIELDS:
            typed[field] = pd.Series(_date_column(ctx, rows, vals, date1904), index=index,
                                     dtype="datetime64[ns]")
        else:
            typed[field] = pd.Series(_text_column(ctx, rows, vals), index=index, dtype=object)
        raw[field] = pd.Series(vals, index=index, dtype=object)
        findings.extend(ctx.findings)
    frame = pd.DataFrame(typed, index=index)
    raw_frame = pd.DataFrame(raw, index=index, dtype=object)
    periods = None
    if plan.periods:  # months or dates across the columns: one row per item and period
        from xlplugin.engine.layouts import grid_entries, period_values
        read = grid_entries if plan.layout == "weekday_grid" else period_values
        periods, period_findings = read(grid, plan)
        findings.extend(period_findings)
    findings.sort(key=lambda f: (f.row or 0, f.col or 0, f.rule))
    return ParsedPlan(plan=plan, frame=frame, raw=raw_frame, findings=findings, periods=periods)
