"""How a Summary block is stated and placed: a titled table of rows and columns, each
column saying, for one row, the formula and the value Excel will compute for it.

A block states *what* (its rows, its columns, its charts); `place` decides *where*
(the rows it occupies, styles, the stage colour of each stage row).  Columns are
computed left to right, each top to bottom (Total last), so a rule may read any cell of
the columns before it and the rows above it in its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from xlplugin.changes import ChartSpec, SetCell, Style
from xlplugin.model import STAGES, cell_ref, col_letter, quote_sheet
from xlplugin.render.metric_columns import NOT_LABELLED

STAGE_ROWS: tuple[str, ...] = (*STAGES, NOT_LABELLED)
TOTAL = "Total"

# One stage palette for the cells and every chart (fill, and a legible font on it).
STAGE_COLORS = {"Upstream": "4472C4", "Downstream": "ED7D31", "Review": "A5A5A5",
                NOT_LABELLED: "D9D9D9"}
STAGE_FONTS = {"Upstream": "FFFFFF", "Downstream": "FFFFFF", "Review": "000000",
               NOT_LABELLED: "000000"}
# Budget against actual: not stages, so none of the stage colours.
BUDGET_COLOR, ACTUAL_COLOR = "1F3864", "8FAADC"

TITLE = Style(bold=True, font_size=12, font_color="1F3864")
HEAD = Style(bold=True, fill="DDEBF7", border_bottom=True)
BOLD = Style(bold=True)
NOTE = Style(italic=True, font_color="595959")


@dataclass(frozen=True)
class Cell:
    """One cell of a block: the cached value, and the live formula (None: a plain value)."""

    value: object
    formula: str | None = None


@dataclass
class Row:
    """What a column's rule sees for one row: its label, its sheet row, and the cells
    already placed to its left (by header)."""

    key: str
    r: int
    block: Placed

    @property
    def is_total(self) -> bool:
        return self.key == TOTAL

    def ref(self, header: str, r: int | None = None) -> str:
        return cell_ref(self.r if r is None else r, self.block.col(header))

    def value(self, header: str) -> object:
        return self.block.cells[(self.r, self.block.col(header))].value

    def column_range(self, header: str) -> str:
        """The block's body rows (not the total) of one column, e.g. 'C9:C12'."""
        c = self.block.col(header)
        return f"{cell_ref(self.block.first, c)}:{cell_ref(self.block.last, c)}"


@dataclass(frozen=True)
class Column:
    header: str
    rule: Callable[[Row], Cell]
    fmt: str | None = None          # number format of the values


@dataclass(frozen=True)
class Table:
    """A titled table: a label column (the keys), then `columns`, then a Total row when
    `total` is set (each column's rule is asked for it too, with key TOTAL)."""

    title: str
    label: str                       # header of the key column
    keys: Sequence[str]
    columns: Sequence[Column]
    total: bool = True
    note: str = ""                   # one line under the title, in plain words
    charts: Callable[[Placed], list[ChartSpec]] = lambda placed: []


@dataclass
class Placed:
    """A table where `place` put it: cell addresses for formulas and charts."""

    sheet: str
    top: int
    first: int                       # first body row
    last: int                        # last body row (before the total)
    headers: list[str]
    cells: dict[tuple[int, int], SetCell] = field(default_factory=dict)

    @property
    def bottom(self) -> int:
        return max(r for r, _ in self.cells)

    def col(self, header: str) -> int:
        return self.headers.index(header) + 1

    def range(self, header: str, *, with_total: bool = False) -> str:
        """Absolute range of one column's body, with the sheet: for chart series."""
        c = col_letter(self.col(header))
        last = self.last + 1 if with_total else self.last
        return f"{quote_sheet(self.sheet)}!${c}${self.first}:${c}${last}"


def stage_style(key: str, bold: bool = False) -> Style | None:
    if key in STAGE_COLORS:
        return Style(fill=STAGE_COLORS[key], font_color=STAGE_FONTS[key], bold=bold or None)
    return BOLD if bold else None


def place(sheet: str, table: Table, top: int) -> tuple[Placed, list[ChartSpec]]:
    """Lay a table out from row `top`: title, optional note, header row, body, total."""
    headers = [table.label, *(c.header for c in table.columns)]
    r = top + 1 + bool(table.note)
    first = r + 1
    placed = Placed(sheet, top, first, first + len(table.keys) - 1, headers)
    put = placed.cells.__setitem__
    put((top, 1), SetCell(sheet, top, 1, table.title, style=TITLE))
    if table.note:
        put((top + 1, 1), SetCell(sheet, top + 1, 1, table.note, style=NOTE))
    for j, h in enumerate(headers, start=1):
        put((r, j), SetCell(sheet, r, j, h, style=HEAD))
    rows = [Row(key, first + i, placed)
            for i, key in enumerate([*table.keys, *([TOTAL] if table.total else [])])]
    for row in rows:
        put((row.r, 1), SetCell(sheet, row.r, 1, row.key, style=stage_style(row.key, row.is_total)))
    for j, column in enumerate(table.columns, start=2):   # column by column: a rule may read
        for row in rows:                                  # any cell of the columns before it
            cell = column.rule(row)
            style = Style(number_format=column.fmt, bold=row.is_total or None,
                          halign="right" if column.fmt else None)
            put((row.r, j), SetCell(sheet, row.r, j, cell.value, cell.formula, style))
    return placed, table.charts(placed)


def total_of(column: str) -> Callable[[Row], Cell]:
    """A rule's Total row: the SUM of the body above it (cached: the sum of the values)."""
    from xlplugin.engine.metrics import excel_sum_values

    def total(row: Row) -> Cell:
        c = row.block.col(column)
        values = [row.block.cells[(r, c)].value for r in range(row.block.first, row.block.last + 1)]
        return Cell(excel_sum_values(values), f"SUM({row.column_range(column)})")
    return total
