"""Read a live Excel workbook through xlwings: the `WorkbookSource` the ribbon uses.

Same contract as `xlplugin.file.read.Workbook` (the file source), so `locate_plan` and
`parse_plan` cannot tell them apart: grids of values with their true Excel
addresses, Excel Tables (ListObjects), defined names, date1904.

What each xlwings engine can give synchronously differs:

* desktop Excel (Windows COM, macOS): everything below; list validations are read
  through the COM object model on Windows only.
* the remote engine (xlwings Server / Lite, `xw.Book(json=...)`): values, tables,
  names and sheet visibility come with the request payload.  Fill colours, merged
  cells, hidden rows/columns, data validation and date1904 are not part of it, so
  they read as empty (date1904 as False).  The clients send date cells as ISO text,
  which xlwings turns into datetimes.

Nothing here writes to the book.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from xlplugin import model
from xlplugin.file.read import as_text, parse_range, split_sheet_ref

_XL_VALIDATE_LIST = 3
_XL_CELL_TYPE_ALL_VALIDATION = -4174


def is_remote(book: Any) -> bool:
    """True for xlwings' remote engine (xlwings Server, xlwings Lite, `Book(json=...)`)."""
    try:
        return book.app.engine.name == "remote"
    except Exception:  # an engine without a name: treat it as desktop
        return False


def _clean(v: Any) -> model.CellValue:
    """xlwings cell value -> our CellValue ('' and NaN are blank; ints stay numbers)."""
    if v is None or v == "":
        return None
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, (str, bool, float, int, dt.datetime, dt.date, dt.time)):
        return v
    return str(v)


# How the remote engine's clients send a date cell: ISO 8601, "2027-03-01T00:00:00.000Z"
# (the pattern xlwings' remote engine matches before it makes a datetime of the text).
_ISO_DATETIME = re.compile(
    r"^(-?(?:[1-9][0-9]*)?[0-9]{4})-(1[0-2]|0[1-9])-(3[01]|0[1-9]|[12][0-9])T(2[0-3]|[01][0-9]):"
    r"([0-5][0-9]):([0-5][0-9])(\.[0-9]+)?(Z|[+-](?:2[0-3]|[01][0-9]):[0-5][0-9])?$")


def _clean_remote(v: Any) -> model.CellValue:
    """A payload value -> our CellValue in one step: what xlwings' converters and then
    _clean would make of it (ISO date text -> datetime, errors kept as text), without
    trying the date pattern on text that cannot be a date."""
    if isinstance(v, str):
        if not v:
            return None
        if (v[0].isdigit() or v[0] == "-") and _ISO_DATETIME.match(v):
            return dt.datetime.fromisoformat(v[:-1] if v.endswith("Z") else v)
        return v
    return _clean(v)


class XlwingsWorkbook:
    """A live xlwings Book as a read-only `WorkbookSource`."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self.remote = is_remote(book)
        self._sheets = {s.name: s for s in book.sheets}
        self.sheet_names: list[str] = list(self._sheets)
        self._grids: dict[str, model.Grid] = {}
        self._tables: list[model.TableDef] | None = None
        self._names: dict[str, str] | None = None

    # --- basics -----------------------------------------------------------------------
    @property
    def file(self) -> str:
        return self.book.name

    @property
    def date1904(self) -> bool:
        if self.remote:
            return False  # not in the payload; Office.js dates are 1900-system serials
        try:
            return bool(self.book.api.Date1904)                       # Windows COM
        except Exception:
            try:
                return bool(self.book.api.date_1904.get())            # macOS appscript
            except Exception:
                return False

    @property
    def sheet_states(self) -> dict[str, str]:
        out = {}
        for name, sh in self._sheets.items():
            out[name] = self._state(sh)
        return out

    def _state(self, sh: Any) -> str:
        if self.remote:
            vis = str(sh.impl.api.get("visibility", "Visible"))
            return {"Visible": "visible", "Hidden": "hidden", "VeryHidden": "veryHidden"}.get(vis, "visible")
        try:
            v = int(sh.api.Visible)                                      # -1 / 0 / 2
            return {-1: "visible", 0: "hidden", 2: "veryHidden"}.get(v, "visible")
        except Exception:
            return "visible" if sh.visible else "hidden"

    # --- values -----------------------------------------------------------------------
    def grid(self, name: str) -> model.Grid:
        if name in self._grids:
            return self._grids[name]
        if name not in self._sheets:
            raise KeyError(name)
        sh = self._sheets[name]
        used = sh.used_range
        if self.remote:
            # the payload's values as they came ("raw"): xlwings' converters would walk the
            # sheet once more, and on a 100k-row plan that is most of the read
            cells = [[_clean_remote(v) for v in row] for row in used.options("raw").value]
        else:
            raw = used.options(ndim=2, err_to_str=True).value   # '#DIV/0!' as text, like calamine
            cells = [[_clean(v) for v in row] for row in raw]
        while cells and all(v is None for v in cells[-1]):
            cells.pop()
        grid = model.Grid(name=name, index=self.sheet_names.index(name), part="", cells=cells,
                          origin_row=used.row, origin_col=used.column, state=self._state(sh))
        self._grids[name] = grid
        return grid

    # --- tables and names ---------------------------------------------------------------
    @property
    def tables(self) -> list[model.TableDef]:
        if self._tables is None:
            out = []
            for name, sh in self._sheets.items():
                for t in sh.tables:
                    td = self._table(name, t)
                    if td is not None:
                        out.append(td)
            self._tables = out
        return self._tables

    def _table(self, sheet: str, t: Any) -> model.TableDef | None:
        rng = t.range
        if rng is None:
            return None
        box = parse_range(rng.address)
        if box is None:
            return None
        r1, c1, r2, c2 = box
        headers = 1 if t.show_headers else 0
        totals = 1 if t.show_totals else 0
        columns: list[str] = []
        if headers:
            line = self.grid(sheet)
            columns = [as_text(line.value(r1, c)) if line.value(r1, c) is not None else ""
                       for c in range(c1, c2 + 1)]
        else:
            try:
                columns = [c.name for c in t.columns]
            except Exception:
                columns = [f"Column{i}" for i in range(1, c2 - c1 + 2)]
        return model.TableDef(name=t.name, sheet=sheet, ref=rng.address.replace("$", ""),
                              first_row=r1, first_col=c1, last_row=r2, last_col=c2, columns=columns,
                              header_rows=headers, totals_rows=totals)

    @property
    def defined_names(self) -> dict[str, str]:
        """Like the file source: workbook names by name, sheet names as "Sheet!name",
        values without the leading '='."""
        if self._names is None:
            names: dict[str, str] = {}
            for n in self.book.names:
                try:
                    full, ref = n.name, n.refers_to or ""
                except Exception:  # a name the engine cannot describe
                    continue
                sheet, _, local = full.rpartition("!")
                if sheet:
                    sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
                    full = f"{sheet}!{local}"
                names[full] = ref[1:] if ref.startswith("=") else ref
            self._names = names
        return self._names

    # --- list validations ---------------------------------------------------------------
    def list_validations(self, sheet: str) -> list[tuple[str, list[str]]]:
        """(sqref, values) of list dropdowns: desktop Excel on Windows only (COM).

        Inline lists and plain ranges are resolved; anything else is skipped.
        """
        if sheet not in self._sheets:
            raise KeyError(sheet)
        if self.remote:
            return []
        try:
            cells = self._sheets[sheet].api.Cells.SpecialCells(_XL_CELL_TYPE_ALL_VALIDATION)
            areas = [cells.Areas(i) for i in range(1, cells.Areas.Count + 1)]
        except Exception:  # no validation at all (COM raises), or not Windows
            return []
        out = []
        for area in areas:
            try:
                v = area.Validation
                if int(v.Type) != _XL_VALIDATE_LIST:
                    continue
                formula = str(v.Formula1 or "")
                sqref = str(area.Address).replace("$", "")
            except Exception:  # mixed validation inside one area
                continue
            values = self._list_values(sheet, formula)
            if values is not None:
                out.append((sqref, values))
        return out

    def _list_values(self, sheet: str, formula: str) -> list[str] | None:
        f = formula.strip().lstrip("=")
        if not f:
            return None
        if "!" in f or "$" in f or ":" in f:
            target_sheet, addr = split_sheet_ref(f)
            box = parse_range(addr)
            target_sheet = target_sheet or sheet
            if box is None or target_sheet not in self._sheets:
                return None
            g = self.grid(target_sheet)
            r1, c1, r2, c2 = box
            vals = [g.value(r, c) for r in range(r1, min(r2, g.max_row) + 1)
                    for c in range(c1, min(c2, g.max_col) + 1)]
            return [as_text(v) for v in vals if v is not None and as_text(v)]
        items = [x.strip() for x in f.strip('"').split(",")]   # COM gives inline lists unquoted
        return [x for x in items if x]


def open_book(book: Any) -> XlwingsWorkbook:
    """The read side of the xlwings target."""
    return XlwingsWorkbook(book)
