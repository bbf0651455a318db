"""Many cells in few xlwings calls: what keeps the ribbon fast on a 100k-row plan.

On xlwings' remote engine (xlwings Server / Lite) every call is an action in the
response, and a range written through xlwings' value converters copies the whole
sheet snapshot into tuples several times (`Range.api`, to check and resize the range
it is given): about 0.05 s a write on a 100k-row sheet.  So here:

* `put` writes a block of values or formulas of exactly the range's shape without the
  converters on that engine (xlwings' "raw" converter), the values prepared as
  xlwings would send them;
* `paint` gives scattered cells their fills with one call per colour run, or one
  `Range.set_colors` matrix per column window, instead of one call a cell.

Desktop engines (COM, AppleScript) keep xlwings' converters: a call there is a round
trip to Excel whatever it carries.
"""

from __future__ import annotations

import datetime as dt
import numbers
from bisect import bisect_right
from typing import Any

# Range.set_colors takes at most this many cells a call (xlwings checks it).
MAX_COLOR_CELLS = 10_000

Fills = dict[tuple[int, int], "str | None"]      # (row, col) -> "RRGGBB", or None: no fill


def _remote_cell(v: Any) -> Any:
    """A value as xlwings' remote engine sends it (its prepare_xl_data_element, for the
    types a change list holds): Office.js reads null as "leave the cell as it is", so
    blank is "", and dates go as ISO text, which Excel parses."""
    if isinstance(v, (str, bool, int)):
        return v
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, dt.datetime):
        if v.time() == dt.time(0, 0):
            return v.date().isoformat()
        return v.replace(tzinfo=None).isoformat(sep=" ").split(".")[0]
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, numbers.Real):       # numpy numbers, as xlwings does
        return float(v)
    return v


def put(rng: Any, values: list[list[Any]] | str, remote: bool, *, formula: bool = False) -> None:
    """rng.value = values (or rng.formula = values): a 2-D list of rng's shape, or one
    formula for the whole range (Excel fills it, moving relative references)."""
    if not remote:
        if formula:
            rng.formula = values
        else:
            rng.value = values
        return
    if not isinstance(values, str):
        values = [[_remote_cell(v) for v in row] for row in values]
    raw = rng.options("raw")
    if formula:
        raw.formula = values
    else:
        raw.value = values


def put_column(rng: Any, values: list[Any], remote: bool) -> None:
    """put() for a one-column range, its values given as a flat list."""
    if not remote:
        rng.value = [[v] for v in values]
        return
    rng.options("raw").value = [[_remote_cell(v)] for v in values]


def _hex(fill: str | None) -> str | None:
    return None if fill is None else "#" + fill


def paint(sheet: Any, fills: Fills) -> int:
    """Give each cell its fill; returns the number of calls.  Per column: a window of at
    most MAX_COLOR_CELLS rows from its first cell; a window that is one run of one colour
    is one range, any other one `set_colors` matrix over the rows it spans (`...`, keep,
    for the cells between)."""
    by_col: dict[int, dict[int, str | None]] = {}
    for (row, col), fill in fills.items():
        by_col.setdefault(col, {})[row] = fill
    calls = 0
    for col, cells in sorted(by_col.items()):
        rows = sorted(cells)
        i = 0
        while i < len(rows):
            j = bisect_right(rows, rows[i] + MAX_COLOR_CELLS - 1, lo=i)
            top, bottom = rows[i], rows[j - 1]
            rng = sheet.range((top, col), (bottom, col))
            colours = {cells[r] for r in rows[i:j]}
            if j - i == bottom - top + 1 and len(colours) == 1:
                rng.color = _hex(colours.pop())
            else:
                rng.set_colors([[_hex(cells[r]) if r in cells else ...] for r in range(top, bottom + 1)])
            calls += 1
            i = j
    return calls
