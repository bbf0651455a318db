"""`--fix`: numbers and dates typed as text, written back as real values (like a linter's
--fix).  Only where the reading is unambiguous: "$5,000" and "2027-03-01" are; "1.200"
(1.2, or 1200 in Europe?) and "03/04/2027" (March or April?) are left as findings.

The fixed cell keeps its style; amounts take the plan's own number format, dates a date
format (a serial number in a General cell would read as 46447).  The file target records
every user cell it overwrites, so `clear` restores the text as it was typed.
Pure: ParsedPlan -> Fixes -> changes; no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xlplugin.changes import ChangeList, SetCell, Style
from xlplugin.model import cell_ref

if TYPE_CHECKING:  # pragma: no cover
    from xlplugin.model import Finding, ParsedPlan

FIXABLE = {"XP102": "number", "XP104": "date"}
DATE_FORMAT = "yyyy-mm-dd"
# US-style amounts: optional sign/currency, 1,234,567.89 or plain digits, optional %.
_NUMBER = re.compile(r"^[-+]?\(?\s*[$€£¥]?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d+)?\s*\)?%?$")
_EU_THOUSANDS = re.compile(r"^[^,]*\d\.\d{3}$")          # "1.200": 1.2 or 1200?
_DAY_MONTH = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})\s*$")


@dataclass(frozen=True)
class Fix:
    sheet: str
    row: int
    col: int
    typed: str               # the text as it was in the cell
    value: float | dt.datetime
    number_format: str | None

    def describe(self) -> str:
        shown = self.value.date().isoformat() if isinstance(self.value, dt.datetime) else f"{self.value:g}"
        return f"{self.sheet}!{cell_ref(self.row, self.col)}: {self.typed!r} -> {shown}"


def unambiguous_number(text: str) -> bool:
    t = text.strip().replace(" ", "")
    return bool(_NUMBER.match(t)) and not _EU_THOUSANDS.match(t)


def unambiguous_date(text: str) -> bool:
    m = _DAY_MONTH.match(text)
    if m is None:
        return True          # year-month-day or a month name: one reading only
    a, b = int(m.group(1)), int(m.group(2))
    return a > 12 or b > 12 or a == b


def find_fixes(parsed: ParsedPlan, findings: list[Finding]) -> list[Fix]:
    """The cells `--fix` can set right: XP102/XP104 findings whose text reads one way only."""
    import pandas as pd

    by_col = {c.col: c.field for c in parsed.plan.columns if c.field}
    fixes = []
    for f in findings:
        kind = FIXABLE.get(f.rule)
        if kind is None or f.row is None or f.col is None or not isinstance(f.value, str):
            continue
        fld = by_col.get(f.col)
        if fld is None or fld not in parsed.frame.columns:
            continue
        value = parsed.frame.at[f.row, fld]
        if pd.isna(value):
            continue
        if kind == "number" and unambiguous_number(f.value):
            fixes.append(Fix(f.sheet, f.row, f.col, f.value, float(value), parsed.money_format
                             if "%" not in f.value else "0%"))
        elif kind == "date" and unambiguous_date(f.value):
            fixes.append(Fix(f.sheet, f.row, f.col, f.value, pd.Timestamp(value).to_pydatetime(),
                             DATE_FORMAT))
    return fixes


def apply_to_plan(parsed: ParsedPlan, fixes: list[Fix], findings: list[Finding]) -> list[Finding]:
    """The plan as it will be once fixed: the raw cells hold the values (so the Summary's
    cached totals count them) and the findings on fixed cells are gone."""
    by_col = {c.col: c.field for c in parsed.plan.columns if c.field}
    for fx in fixes:
        if parsed.raw is not None and by_col[fx.col] in parsed.raw.columns:
            parsed.raw.at[fx.row, by_col[fx.col]] = fx.value
    done = {(fx.row, fx.col) for fx in fixes}
    return [f for f in findings if not (f.rule in FIXABLE and (f.row, f.col) in done)]


def fix_changes(fixes: list[Fix]) -> ChangeList:
    return ChangeList().add(*(
        SetCell(fx.sheet, fx.row, fx.col, fx.value,
                style=Style(number_format=fx.number_format) if fx.number_format else None)
        for fx in fixes))
