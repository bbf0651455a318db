"""The change list: the seam between the pure engine and the two targets.

render produces a ChangeList; a target (apply_file: the lossless OOXML writer;
apply_xlwings: a live Excel Book) carries it out.  Everything here is plain,
immutable data with no I/O, so `--dry-run` can print it and tests can compare it.

Rows and columns are 1-based Excel numbers.  A `value` that is a str is always
written as text, never as a formula, whatever it starts with.

Most changes name one cell; the plan-sized ones name a column: FormulaColumn (one
formula filled down, with a cached value per row) and ValueColumn (a value per row),
so a render emits O(columns) changes for any number of rows and a target writes each
column in one block (the file target as a shared formula, xlwings as one range write).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from xlplugin.model import CellValue, cell_ref, col_index, col_letter

MARK_ERROR = "FFC7CE"     # Excel's "Light red fill"
MARK_WARNING = "FFEB9C"   # Excel's "Neutral" amber
TOOL_AUTHOR = "xlplugin"


@dataclass(frozen=True)
class Style:
    """A style *delta*: set fields override the cell's current style, None keeps it."""

    number_format: str | None = None     # e.g. '0.0%', '#,##0.00', 'yyyy-mm-dd'
    bold: bool | None = None
    italic: bool | None = None
    font_color: str | None = None        # RGB hex, "1F4E79"
    font_size: float | None = None
    fill: str | None = None              # solid fill RGB hex, "FFC7CE"
    wrap: bool | None = None
    halign: Literal["left", "center", "right"] | None = None
    border_bottom: bool | None = None


@dataclass(frozen=True)
class SetCell:
    """Write a value (or a formula with its cached value) into a cell.

    formula: without the leading '=' (e.g. 'SUM(Plan[Budget])'); `value` is then
    the cached result computed in Python.  style: applied over the cell's style.
    """

    sheet: str
    row: int
    col: int
    value: CellValue = None
    formula: str | None = None
    style: Style | None = None

    def describe(self) -> str:
        what = f"={self.formula}  (cached {self.value!r})" if self.formula else repr(self.value)
        return f"set {self.sheet}!{cell_ref(self.row, self.col)} {what}"


@dataclass(frozen=True)
class MarkCell:
    """Highlight an existing cell (validation).  The target records the cell's
    original style so ClearMarks can restore it exactly."""

    sheet: str
    row: int
    col: int
    fill: str = MARK_ERROR

    def describe(self) -> str:
        return f"mark {self.sheet}!{cell_ref(self.row, self.col)} fill #{self.fill}"


@dataclass(frozen=True)
class SetNote:
    """A note (legacy comment) on a cell; recorded so ClearMarks removes it."""

    sheet: str
    row: int
    col: int
    text: str
    author: str = TOOL_AUTHOR

    def describe(self) -> str:
        first = self.text.splitlines()[0] if self.text else ""
        return f"note {self.sheet}!{cell_ref(self.row, self.col)}: {first}"


@dataclass(frozen=True)
class ClearMarks:
    """Undo every MarkCell and SetNote the tool made earlier (all sheets, or one).

    Emitted first by any render that marks, so re-running replaces marks, and by
    `xlplugin clear`.  `everything=True` (clear) also removes the tool's sheets, the
    cells and Table columns it added to existing sheets, restoring them exactly."""

    sheet: str | None = None
    everything: bool = False

    def describe(self) -> str:
        scope = self.sheet or "all sheets"
        return f"clear tool marks on {scope}" + (" and every sheet/column the tool added" if self.everything else "")


@dataclass(frozen=True)
class SetColumnWidth:
    sheet: str
    col: int
    width: float          # Excel character units

    def describe(self) -> str:
        return f"width {self.sheet} column {self.col} = {self.width}"


@dataclass(frozen=True)
class TableColumn:
    name: str
    formula: str | None = None   # calculatedColumnFormula (structured refs, no '='), or None


@dataclass(frozen=True)
class ExtendTable:
    """Add columns at the right of an Excel Table (its ref grows to the right).
    Columns already present (same name) are left where they are.
    The header and data cells themselves come as SetCell changes."""

    table: str
    sheet: str
    columns: tuple[TableColumn, ...]

    def describe(self) -> str:
        return f"extend table {self.table} with " + ", ".join(c.name for c in self.columns)


@dataclass(frozen=True)
class ListValidation:
    """A dropdown (data validation of type list) over a range of an existing sheet."""

    sheet: str
    ref: str                      # "K3:K40"
    values: tuple[str, ...]
    allow_blank: bool = True

    def describe(self) -> str:
        return f"dropdown {self.sheet}!{self.ref}: {', '.join(self.values)}"


@dataclass(frozen=True)
class Hyperlink:
    """An internal link: location like "'Plan'!E7"."""

    row: int
    col: int
    location: str
    tooltip: str = ""


@dataclass(frozen=True)
class Series:
    name: str
    values: str            # absolute ref with sheet, "'Summary'!$B$5:$B$8"
    categories: str        # "'Summary'!$A$5:$A$8"
    color: str | None = None   # RGB hex
    point_colors: tuple[str, ...] = ()   # one per category (a doughnut's slices)


@dataclass(frozen=True)
class ChartSpec:
    kind: Literal["doughnut", "column_stacked", "bar_clustered"]
    title: str
    series: tuple[Series, ...]
    anchor_row: int        # top-left cell of the chart, 1-based
    anchor_col: int
    width_px: int = 480
    height_px: int = 288
    data_labels: bool = False      # each bar/slice shows its value (a doughnut: its percentage)
    number_format: str | None = None   # of the value axis and data labels


@dataclass(frozen=True)
class PageSetup:
    """How a sheet the tool makes prints: landscape, one page wide (as many pages tall as
    it needs), manual page breaks before these rows (so a block and its chart stay on one
    page).  Header rows to repeat are a DefinedName `_xlnm.Print_Titles` local to the sheet."""

    landscape: bool = True
    fit_to_width: bool = True
    row_breaks: tuple[int, ...] = ()     # a page starts at each of these rows


@dataclass(frozen=True)
class ReplaceSheet:
    """Create a sheet the tool owns, or replace the one it made before.

    A same-named sheet the tool did not make is never touched: the target uses
    "<name> (xlplugin)" instead.  Cells here carry sheet == name."""

    name: str
    cells: tuple[SetCell, ...] = ()
    col_widths: tuple[tuple[int, float], ...] = ()      # (col, width)
    freeze: tuple[int, int] | None = None                # first unfrozen (row, col), e.g. (2, 1)
    hyperlinks: tuple[Hyperlink, ...] = ()
    charts: tuple[ChartSpec, ...] = ()
    after: str | None = None                             # place after this sheet; default last
    tab_color: str | None = None
    page: PageSetup | None = None                        # print settings; None: the defaults
    # Long lists (the Validation sheet's findings) as blocks of values, one per column
    # (ValueColumn, with sheet == name): written like cells, O(columns) objects.
    columns: tuple[ValueColumn, ...] = ()

    def all_cells(self) -> Iterator[SetCell]:
        """Every cell of the sheet, the columns expanded row by row (tests, small targets)."""
        yield from self.cells
        for c in self.columns:
            yield from c.cells()

    def describe(self) -> str:
        n = len(self.cells) + sum(len(c.values) for c in self.columns)
        return f"sheet {self.name}: {n} cells, {len(self.hyperlinks)} links, {len(self.charts)} charts"


@dataclass(frozen=True)
class DefinedName:
    name: str
    value: str            # "'Summary'!$B$5"
    sheet: str | None = None  # local to this sheet, or workbook-wide

    def describe(self) -> str:
        return f"name {self.name} = {self.value}"


# ---- column-level changes --------------------------------------------------------

class _Keep:
    """The KEEP marker in a ValueColumn: leave this row's cell as it is."""

    _it: _Keep | None = None

    def __new__(cls) -> _Keep:
        if cls._it is None:
            cls._it = super().__new__(cls)
        return cls._it

    def __repr__(self) -> str:
        return "KEEP"

    def __reduce__(self) -> str:   # pickles (process pools) as the same singleton
        return "KEEP"


KEEP = _Keep()


def _preview(values: tuple, n: int = 3) -> str:
    shown = ", ".join(repr(v) for v in values[:n])
    return shown + (f", ... ({len(values):,} rows)" if len(values) > n else "")


class _ColumnRun:
    """What ValueColumn and FormulaColumn share: rows first_row..last_row of one column,
    and an optional header cell (at header_row, default the row above)."""

    sheet: str
    col: int
    first_row: int
    values: tuple
    header: CellValue
    header_style: Style | None
    header_row: int | None

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.values) - 1

    def head(self) -> SetCell | None:
        if self.header is None:
            return None
        row = self.header_row if self.header_row is not None else self.first_row - 1
        return SetCell(self.sheet, row, self.col, self.header, style=self.header_style)


@dataclass(frozen=True)
class ValueColumn(_ColumnRun):
    """A block of values down one column: values[i] goes to row first_row + i.

    A str is text (never a formula); None empties the cell; KEEP leaves it as it is
    (a stage a person typed).  `style` applies to every written row; `header`, when
    not None, is written at header_row (default first_row - 1) with header_style."""

    sheet: str
    col: int
    first_row: int
    values: tuple[CellValue | _Keep, ...]
    style: Style | None = None
    header: CellValue = None
    header_style: Style | None = None
    header_row: int | None = None

    def cells(self) -> Iterator[SetCell]:
        """The same writes one cell at a time (for small targets and tests)."""
        h = self.head()
        if h is not None:
            yield h
        for i, v in enumerate(self.values):
            if v is not KEEP:
                yield SetCell(self.sheet, self.first_row + i, self.col, v, style=self.style)  # type: ignore[arg-type]

    def describe(self) -> str:
        letter = col_letter(self.col)
        head = f" header {self.header!r}," if self.header is not None else ""
        kept = sum(v is KEEP for v in self.values)
        keep = f" ({kept:,} kept as they are)" if kept else ""
        return (f"set {self.sheet}!{letter}{self.first_row}:{letter}{self.last_row}{head} "
                f"values {_preview(self.values)}{keep}")


@dataclass(frozen=True)
class FormulaColumn(_ColumnRun):
    """One formula filled down a column, as Excel's fill-down does: `formula` (no '=')
    is the first row's, and its relative A1 references move with the row (structured
    references and $-absolute ones do not).  values[i] is row first_row + i's cached
    result (a float, or "" where the formula's guard yields text).  The file target
    writes it as a shared formula; `style` (a number format) applies to every row."""

    sheet: str
    col: int
    first_row: int
    formula: str
    values: tuple[CellValue, ...]
    style: Style | None = None
    header: CellValue = None
    header_style: Style | None = None
    header_row: int | None = None

    def formula_at(self, row: int) -> str:
        """The formula as Excel sees it in `row` (the fill-down of the first row's)."""
        return shift_formula(self.formula, row - self.first_row, 0)

    def cells(self) -> Iterator[SetCell]:
        """The same writes one cell at a time (for small targets and tests)."""
        h = self.head()
        if h is not None:
            yield h
        for i, v in enumerate(self.values):
            r = self.first_row + i
            yield SetCell(self.sheet, r, self.col, v, self.formula_at(r), self.style)

    def describe(self) -> str:
        letter = col_letter(self.col)
        head = f" header {self.header!r}," if self.header is not None else ""
        return (f"fill {self.sheet}!{letter}{self.first_row}:{letter}{self.last_row}{head} "
                f"={self.formula}  (cached {_preview(self.values)})")


Column = ValueColumn | FormulaColumn

# A1 references in a formula, skipping string literals, quoted sheet names and
# structured-reference brackets.  Groups: cell (1-4), column range (5-8), row range (9-12).
# A name followed by '[' is a Table (T1[Budget]), not a cell.
_FORMULA_TOKEN = re.compile(
    r"\"(?:[^\"]|\"\")*\"|'(?:[^']|'')*'|\[[^\]]*\]"
    r"|(?<![\w.$])(\$?)([A-Za-z]{1,3})(\$?)(\d{1,7})(?![\w(!\[])"
    r"|(?<![\w.$:])(\$?)([A-Za-z]{1,3}):(\$?)([A-Za-z]{1,3})(?![\w(!])"
    r"|(?<![\w.$:])(\$?)(\d{1,7}):(\$?)(\d{1,7})(?![\w(!.:])")


def shift_formula(formula: str, drow: int, dcol: int) -> str:
    """Move a formula's relative references by (drow, dcol), as Excel does when it fills a
    shared formula into a dependent cell; a reference pushed off the sheet becomes #REF!."""
    if not drow and not dcol:
        return formula

    def c(letters: str, absolute: str) -> str | None:
        n = col_index(letters) + (0 if absolute else dcol)
        return f"{absolute}{col_letter(n)}" if 1 <= n <= 16384 else None

    def r(digits: str, absolute: str) -> str | None:
        n = int(digits) + (0 if absolute else drow)
        return f"{absolute}{n}" if 1 <= n <= 1048576 else None

    def sub(m: re.Match) -> str:
        g = m.groups()
        if g[1] is not None:
            col_part, row_part = c(g[1], g[0]), r(g[3], g[2])
            return col_part + row_part if col_part and row_part else "#REF!"
        if g[5] is not None:
            a, b = c(g[5], g[4]), c(g[7], g[6])
            return f"{a}:{b}" if a and b else "#REF!"
        if g[9] is not None:
            a, b = r(g[9], g[8]), r(g[11], g[10])
            return f"{a}:{b}" if a and b else "#REF!"
        return m.group(0)   # a string, a quoted sheet name or a bracket: as is

    return _FORMULA_TOKEN.sub(sub, formula)


Change = (SetCell | MarkCell | SetNote | ClearMarks | SetColumnWidth | ExtendTable
          | ListValidation | ReplaceSheet | DefinedName | ValueColumn | FormulaColumn)


@dataclass
class ChangeList:
    """An ordered list of changes.  Targets apply ClearMarks first, then the rest in order."""

    changes: list[Change] = field(default_factory=list)

    def add(self, *changes: Change) -> ChangeList:
        self.changes.extend(changes)
        return self

    def extend(self, other: ChangeList) -> ChangeList:
        self.changes.extend(other.changes)
        return self

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self):
        return iter(self.changes)

    def describe(self) -> list[str]:
        """One line per change (a column is one line): for --dry-run only."""
        return [c.describe() for c in self.changes]

    def cells(self) -> Iterator[SetCell]:
        """Every cell write, columns expanded row by row (tests, small targets)."""
        for c in self.changes:
            if isinstance(c, SetCell):
                yield c
            elif isinstance(c, ValueColumn | FormulaColumn):
                yield from c.cells()
