"""The Summary sheet, as blocks: each block (stages.py, funnel.py, quarters.py,
channels.py) states its rows, their live formulas and cached values, and its chart;
this module stacks them down the sheet, each chart under its table (a landscape page one
table wide stays legible), and sets page breaks so that a printed block never splits
from its chart.

ParsedPlan + Labels + Findings -> ChangeList (one ReplaceSheet).  Pure: no I/O.
The arithmetic (guards, "n/a", Excel's view of the cells) is metrics.py's.

Formula choices, checked against LibreOffice 7.4 forced to recalculate:
  * "not labelled" = SUMIFS with "<>Upstream","<>Downstream","<>Review" (blank or
    anything else), so the four stages always add up to the total;
  * quarters: SUMIFS with ">="&DATE(y,m,1) / "<"&DATE(...) bounds, no helper column;
  * channel criteria are "=name" with * ? ~ escaped (an exact match, never a wildcard).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from xlplugin.changes import ChangeList, ChartSpec, PageSetup, ReplaceSheet, SetCell
from xlplugin.render.summary.channels import channel_table
from xlplugin.render.summary.context import SummaryContext, build_context
from xlplugin.render.summary.funnel import funnel_table
from xlplugin.render.summary.header import header_cells
from xlplugin.render.summary.layout import NOT_LABELLED, NOTE, STAGE_COLORS, STAGE_ROWS, Placed, Table, place
from xlplugin.render.summary.quarters import quarter_of, quarter_table
from xlplugin.render.summary.stages import balance_table, stage_table

if TYPE_CHECKING:  # pragma: no cover
    from xlplugin.config import Config
    from xlplugin.model import Finding, Label, ParsedPlan

__all__ = ["NOT_LABELLED", "STAGE_COLORS", "STAGE_ROWS", "SUMMARY_SHEET", "quarter_of", "summary_changes"]

SUMMARY_SHEET = "Summary"
TABLE_COLS = 9                     # tables use columns A..I, charts sit under them
MIN_WIDTH, DATE_WIDTH = 11.0, 17.0
ROW_PX = 20
# Rows on a landscape Letter/A4 page at the scale "one page wide" gives this layout.
PAGE_ROWS = 46

Block = Callable[[SummaryContext, dict[str, Placed]], Table | None]
BLOCKS: tuple[tuple[str, Block], ...] = (
    ("stages", lambda ctx, done: stage_table(ctx)),
    ("balance", lambda ctx, done: balance_table(ctx, done["stages"])),
    ("funnel", lambda ctx, done: funnel_table(ctx)),
    ("quarters", lambda ctx, done: quarter_table(ctx)),
    ("channels", lambda ctx, done: channel_table(ctx)),
)


def summary_changes(parsed: ParsedPlan, labels: list[Label] | None, findings: list[Finding] | None,
                    config: Config, source_name: str, *, stage_col: int | None = None,
                    produced_at: dt.datetime | None = None,
                    sheet_name: str = SUMMARY_SHEET) -> ChangeList:
    """The Summary sheet (ReplaceSheet) with live formulas, cached values and charts.

    findings None: no check ran (the header says "not checked"); [] : checked, clean.
    stage_col: where the Stage column is (default: where the label step puts it).
    """
    ctx = build_context(parsed, labels, findings, config, source_name, stage_col=stage_col,
                        produced_at=produced_at)
    cells, links, row = header_cells(ctx, sheet_name)
    charts: list[ChartSpec] = []
    breaks: list[int] = []
    page_top = 1
    done: dict[str, Placed] = {}
    for name, block in BLOCKS:
        table = block(ctx, done)
        if table is None:
            continue
        placed, block_charts = place(sheet_name, table, row)
        done[name] = placed
        block_charts = [replace(c, anchor_row=placed.bottom + 2, anchor_col=1) for c in block_charts]
        bottom = max([placed.bottom, *(c.anchor_row + c.height_px // ROW_PX + 1 for c in block_charts)])
        if bottom - page_top + 1 > PAGE_ROWS and row > page_top:   # start the block on a new page
            breaks.append(row)
            page_top = row
        cells += placed.cells.values()
        charts += block_charts
        row = bottom + 2
    if not ctx.has("budget"):
        said = "the figures are its spend" if ctx.has("actual") else "budget figures are left out"
        cells.append(SetCell(sheet_name, row, 1, f"The sheet has no budget column: {said}.", style=NOTE))
    sheet = ReplaceSheet(sheet_name, cells=tuple(sorted(cells, key=lambda c: (c.row, c.col))),
                         col_widths=_widths(done.values()), freeze=None, hyperlinks=tuple(links), charts=tuple(charts),
                         tab_color="1F4E79", page=PageSetup(row_breaks=tuple(breaks)))
    return ChangeList().add(sheet)


def _widths(tables) -> tuple[tuple[int, float], ...]:
    """Each table column as wide as its longest header or row label (titles and notes
    spill over the empty cells beside them); column B also holds the header's date."""
    width = {c: MIN_WIDTH for c in range(1, TABLE_COLS + 1)}
    width[2] = DATE_WIDTH
    for placed in tables:
        for j, h in enumerate(placed.headers, start=1):
            width[j] = max(width[j], len(h) + 2.0)
        for r in range(placed.first, placed.last + 1):
            width[1] = max(width[1], min(len(str(placed.cells[(r, 1)].value)) + 2.0, 40.0))
    return tuple(sorted(width.items()))
