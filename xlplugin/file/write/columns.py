"""Column writes as worksheet XML, built a window of rows at a time.

A plan column is written as text assembled from precomputed pieces: the cell's
``<c r="P7" s="5"`` start and its *body* (everything after the r and s attributes).
A formula column is one shared formula (ECMA-376 Part 1, 18.3.1.40: the master cell
holds the text and the ``ref`` it covers, every other cell ``<f t="shared" si=".."/>``),
so a 100k-row column costs a short string per row, not a formula per row.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence

from xlplugin.changes import KEEP
from xlplugin.errors import XlpluginError
from xlplugin.model import col_letter

ERROR_VALUES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!",
                          "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#EXTERNAL!"})
_XESC = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
# \r too: XML reads a raw "\r" back as "\n" (XlsxWriter and Excel write _x000D_)
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_PLAIN = re.compile(r"[&<>_\x00-\x08\x0b-\x1f\ufffe\uffff]")   # text that needs escaping


MAX_CELL_TEXT = 32_767      # Excel's limit for one cell's text (UTF-16 code units); longer is a damaged file


def clip_cell_text(s: str) -> str:
    """Text as long as a cell may hold: cut with an ellipsis past Excel's 32,767 characters
    (a reason quoting a 32,767-character activity name would otherwise exceed it)."""
    if len(s) <= MAX_CELL_TEXT // 2:
        return s
    units = len(s.encode("utf-16-le")) // 2
    if units <= MAX_CELL_TEXT:
        return s
    cut = s[:MAX_CELL_TEXT - 1]
    excess = len(cut.encode("utf-16-le")) // 2 - (MAX_CELL_TEXT - 1)
    return (cut[:len(cut) - excess] if excess > 0 else cut) + "\u2026"


def xml_text(s: str) -> str:
    """Escape for element text, with OOXML's _xHHHH_ escape for control characters."""
    if not _PLAIN.search(s):
        return s
    s = _XESC.sub(r"_x005F_\1", s)
    s = _CTRL.sub(lambda m: f"_x{ord(m.group()):04X}_", s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def num(x: float | int) -> str:
    """A number as <v> text: integers without '.0', floats round-trip exactly."""
    if isinstance(x, bool):
        return "1" if x else "0"
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        raise XlpluginError(f"cannot write the non-finite number {x!r} into a cell")
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def excel_serial(value: dt.date | dt.datetime | dt.time, date1904: bool = False) -> float:
    """A date/datetime/time as an Excel serial number (1900 or 1904 date system)."""
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if date1904:
        delta = value - dt.datetime(1904, 1, 1)
    else:
        delta = value - dt.datetime(1899, 12, 30)
        if value < dt.datetime(1900, 3, 1):  # Excel's phantom 1900-02-29
            delta += dt.timedelta(days=-1)
    return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6


def value_body(p: str, value: object, date1904: bool = False) -> str | None:
    """A plain value's <c> XML after the r and s attributes (None: no value)."""
    if value is None or value is KEEP:
        return None
    if isinstance(value, bool):
        return f' t="b"><{p}v>{int(value)}</{p}v></{p}c>'
    if isinstance(value, str):   # text, never a formula, whatever it starts with
        value = clip_cell_text(value)
        sp = ' xml:space="preserve"' if value != value.strip() or "\n" in value else ""
        return f' t="inlineStr"><{p}is><{p}t{sp}>{xml_text(value)}</{p}t></{p}is></{p}c>'
    if isinstance(value, dt.date | dt.datetime | dt.time):
        value = excel_serial(value, date1904)
    return f"><{p}v>{num(value)}</{p}v></{p}c>"   # type: ignore[arg-type]


def formula_body(p: str, f: str, value: object, date1904: bool = False) -> str:
    """A formula cell's XML after the r and s attributes: `f` is its whole <f> element."""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        value = excel_serial(value, date1904)
    if value is None:
        return f">{f}</{p}c>"
    if isinstance(value, bool):
        return f' t="b">{f}<{p}v>{int(value)}</{p}v></{p}c>'
    if isinstance(value, str):
        t = "e" if value in ERROR_VALUES else "str"
        return f' t="{t}">{f}<{p}v>{xml_text(clip_cell_text(value))}</{p}v></{p}c>'
    return f">{f}<{p}v>{num(value)}</{p}v></{p}c>"    # type: ignore[arg-type]


class ColumnXml:
    """One column write, ready to be cut into rows: bodies for any slice of its rows."""

    def __init__(self, col: int, first_row: int, values: Sequence[object], formula: str | None,
                 s: int, si: int | None, p: str, date1904: bool) -> None:
        self.col, self.first, self.values = col, first_row, values
        self.n = len(values)
        self.last = first_row + self.n - 1
        self.letter = col_letter(col)
        self.sattr = f' s="{s}"' if s else ""
        self.p, self.date1904 = p, date1904
        self.formula = formula
        self.style = None     # the Style delta (the careful path derives it over a cell's own)
        self._memo: dict[object, str | None] = {}
        self._all: bool | None = None
        if formula is not None:
            text = xml_escape(formula.removeprefix("="))
            if self.n > 1:
                ref = f"{self.letter}{self.first}:{self.letter}{self.last}"
                self.master_f = f'<{p}f t="shared" ref="{ref}" si="{si}">{text}</{p}f>'
                self.dep_f = f'<{p}f t="shared" si="{si}"/>'
            else:
                self.master_f = self.dep_f = f"<{p}f>{text}</{p}f>"

    def written(self, i: int) -> bool:
        v = self.values[i]
        return self.formula is not None or (v is not None and v is not KEEP)

    def all_written(self) -> bool:
        if self._all is None:      # asked per row by the patcher: looked at once
            self._all = self.formula is not None or all(v is not None and v is not KEEP for v in self.values)
        return self._all

    def body(self, i: int) -> str | None:
        """Row first_row + i's body (None: nothing to write there)."""
        v = self.values[i]
        if self.formula is None:
            return value_body(self.p, v, self.date1904)
        return formula_body(self.p, self.master_f if i == 0 else self.dep_f, v, self.date1904)

    def bodies(self, i0: int, i1: int) -> list[str | None]:
        vals = self.values[i0:i1]
        p = self.p
        if self.formula is not None:
            pre, post = f">{self.dep_f}<{p}v>", f"</{p}v></{p}c>"
            # num() inlined for the usual finite float (v - v == 0 is False for inf and NaN)
            out: list[str | None] = [
                pre + (str(int(v)) if v.is_integer() and -1e15 < v < 1e15 else repr(v)) + post
                if type(v) is float and v - v == 0 else None for v in vals]
            for j, v in enumerate(vals):
                if out[j] is None:
                    out[j] = formula_body(p, self.dep_f, v, self.date1904)
            if i0 == 0 and out:
                out[0] = self.body(0)
            return out
        memo = self._memo
        res: list[str | None] = []
        for v in vals:
            try:
                b = memo[v]
            except KeyError:
                b = value_body(p, v, self.date1904)
                if isinstance(v, str) and len(memo) < 4096:   # stages repeat; descriptions rarely do
                    memo[v] = b
            except TypeError:   # unhashable: never in a plan, but no reason to fail
                b = value_body(p, v, self.date1904)
            res.append(b)
        return res


def band(cols: Sequence[ColumnXml], r0: int, r1: int) -> list[str]:
    """Rows r0..r1-1: each row's cells of every column (in column order), as one string."""
    width = r1 - r0
    per_col: list[list[str]] = []
    for k in cols:
        lo, hi = max(r0, k.first), min(r1, k.last + 1)
        if hi <= lo:
            continue
        pre = f'<{k.p}c r="{k.letter}'
        mid = '"' + k.sattr
        cells = [pre + str(r) + mid + b if b is not None else ""
                 for r, b in zip(range(lo, hi), k.bodies(lo - k.first, hi - k.first), strict=True)]
        per_col.append([""] * (lo - r0) + cells + [""] * (r1 - hi))
    if not per_col:
        return [""] * width
    if len(per_col) == 1:
        return per_col[0]
    return ["".join(t) for t in zip(*per_col, strict=True)]
