"""The change list: the seam between the pure engine and the two targets.

render produces a ChangeList; a target (apply_file: the lossless OOXML writer;
apply_xlwings: a live Excel Book) carries it out.  Everything here is plain,
immutable data with no I/O, so `--dry-run` can print it and tests can compare it.

Rows and columns are 1-based Excel numbers.  A `value` that is a str is always
written as text, never as a formula, whatever it starts with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from xlplugin.model import CellValue, cell_ref

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

    def describe(self) -> str:
        return (f"sheet {self.name}: {len(self.cells)} cells, {len(self.hyperlinks)} links, "
                f"{len(self.charts)} charts")


@dataclass(frozen=True)
class DefinedName:
    name: str
    value: str            # "'Summary'!$B$5"
    sheet: str | None = None  # local to this sheet, or workbook-wide

    def describe(self) -> str:
        return f"name {self.name} = {self.value}"


Change = (SetCell | MarkCell | SetNote | ClearMarks | SetColumnWidth | ExtendTable
          | ListValidation | ReplaceSheet | DefinedName)


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
        return [c.describe() for c in self.changes]
