"""Budget (or, without a budget column, spend) by fiscal quarter of each activity's
start date, and stage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xlplugin.changes import ChartSpec, Series
from xlplugin.engine import metrics as M
from xlplugin.render.summary.context import SummaryContext, sumifs
from xlplugin.render.summary.layout import STAGE_COLORS, Cell, Column, Placed, Row, Table, total_of
from xlplugin.render.summary.stages import crit, keys, selected

NO_DATE = "No start date"


@dataclass(frozen=True, order=True)
class Quarter:
    start: dt.date
    end: dt.date          # exclusive
    label: str


def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


def quarter_of(day: dt.date, fy_start: int = 1) -> Quarter:
    """The fiscal quarter holding `day`; fiscal years are named by the year they end in."""
    q = ((day.month - fy_start) % 12) // 3
    start_month = (fy_start - 1 + 3 * q) % 12 + 1
    year = day.year if start_month <= day.month else day.year - 1
    start = dt.date(year, start_month, 1)
    fy_first = _add_months(start, -3 * q)
    fy = fy_first.year + (1 if fy_start != 1 else 0)
    return Quarter(start, _add_months(start, 3), f"FY{fy % 100:02d} Q{q + 1}")


def quarter_keys(ctx: SummaryContext):
    """Each plan row's quarter as a number (year * 12 + its first month - 1; -1 without a
    usable start date), vectorised, and the Quarter of each number present, in order."""
    import numpy as np
    import pandas as pd

    starts = pd.to_datetime(ctx.data["start"])
    months = starts.dt.month.to_numpy(dtype="float64")
    years = starts.dt.year.to_numpy(dtype="float64")
    dated = ~np.isnan(months)
    fy = ctx.config.fiscal_year_start
    keys_ = np.full(len(months), -1, dtype=np.int64)
    if dated.any():
        m = months[dated].astype(np.int64)
        y = years[dated].astype(np.int64)
        q_start = (fy - 1 + 3 * (((m - fy) % 12) // 3)) % 12 + 1
        keys_[dated] = np.where(q_start <= m, y, y - 1) * 12 + q_start - 1
    found = sorted(int(k) for k in np.unique(keys_[dated]))
    return keys_, {k: quarter_of(dt.date(k // 12, k % 12 + 1, 1), fy) for k in found}


def quarter_table(ctx: SummaryContext) -> Table | None:
    if ctx.amount is None or not ctx.has("start"):
        return None
    fld, word = ctx.amount
    of_row, found = quarter_keys(ctx)
    quarters = list(found.values())
    by_label = {q.label: q for q in quarters}
    budget = ctx.values(fld)
    in_q = {q.label: of_row == k for k, q in found.items()}
    in_q[NO_DATE] = of_row == -1
    budget_rng, start_rng = ctx.column(fld), ctx.column("start")

    def by_stage(stage: str, header: str):
        def rule(row: Row) -> Cell:
            if row.is_total:
                return total_of(header)(row)
            sel = in_q[row.key] & selected(ctx, stage)
            value = M.excel_sum(budget[sel])
            c = crit(ctx, stage)
            if row.key == NO_DATE:   # the stage's budget less its dated quarters
                dated = f"{row.ref(header, row.block.first)}:{row.ref(header, row.r - 1)}"
                whole = sumifs(budget_rng, c)
                return Cell(value, f"{whole}-SUM({dated})" if quarters else whole)
            if c is None:
                return Cell(0.0, "0")
            q = by_label[row.key]
            dates = [start_rng, f'">="&DATE({q.start.year},{q.start.month},1)',
                     start_rng, f'"<"&DATE({q.end.year},{q.end.month},1)']
            return Cell(value, f"SUMIFS({budget_rng},{','.join(dates + c)})")
        return rule

    stage_heads = list(keys(ctx)) if ctx.has_stages else [word.capitalize()]
    cols = [Column(h, by_stage(k, h), ctx.money) for k, h in zip(keys(ctx), stage_heads, strict=True)]
    if ctx.has_stages:
        cols.append(Column("Total", _row_total(stage_heads), ctx.money))
    title = f"{word.capitalize()} by quarter" + (" and stage" if ctx.has_stages else "")
    return Table(title, "Quarter",
                 [*(q.label for q in quarters), NO_DATE], cols,
                 note=f"Quarters of the fiscal year starting in month {ctx.config.fiscal_year_start}, "
                      "by each activity's start date.",
                 charts=lambda p: _chart(ctx, p, stage_heads, bool(quarters)))


def _row_total(heads: list[str]):
    def rule(row: Row) -> Cell:
        values = [row.value(h) for h in heads]
        return Cell(M.excel_sum_values(values), f"SUM({row.ref(heads[0])}:{row.ref(heads[-1])})")
    return rule


def _chart(ctx: SummaryContext, placed: Placed, heads: list[str], any_dated: bool) -> list[ChartSpec]:
    if not any_dated:
        return []
    body = Placed(placed.sheet, placed.top, placed.first, placed.last - 1, placed.headers)  # no "No start date"
    cats = body.range("Quarter")
    series = tuple(Series(h, body.range(h), cats, STAGE_COLORS.get(h, "1F3864")) for h in heads)
    return [ChartSpec("column_stacked", placed.cells[(placed.top, 1)].value, series,
                      anchor_row=placed.top, anchor_col=0, width_px=480, height_px=300,
                      number_format=ctx.money)]
