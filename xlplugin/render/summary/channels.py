"""Budget by channel and stage, with actual spend and its variance (or, without a budget
column, spend by channel and stage): the channels with the most, the rest as one
"Other / no channel" row."""

from __future__ import annotations

from collections import Counter

from xlplugin.changes import ChartSpec, Series
from xlplugin.engine import metrics as M
from xlplugin.render.summary.context import SummaryContext, sumifs
from xlplugin.render.summary.layout import (
    ACTUAL_COLOR,
    BUDGET_COLOR,
    Cell,
    Column,
    Placed,
    Row,
    Table,
    total_of,
)
from xlplugin.render.summary.stages import crit, difference, keys, selected

MAX_CHANNELS = 15
OTHER_CHANNEL = "Other / no channel"


def crit_text(value: str) -> str:
    """An exact-match SUMIFS criterion as a formula string literal: * ? ~ escaped, so a
    channel is matched exactly (case-insensitively, as Excel does), never as a wildcard."""
    esc = value.replace("~", "~~").replace("*", "~*").replace("?", "~?")
    return '"=' + esc.replace('"', '""') + '"'


def _channels(ctx: SummaryContext, fld: str) -> tuple[list[object], dict[str, str], list[str]]:
    """Each row's channel key (casefolded, as SUMIFS matches), the commonest spelling of
    each key, and the keys shown (most `fld` first)."""
    seen: Counter[str] = Counter()
    row_keys: list[object] = []
    for v in ctx.data["channel"]:
        if isinstance(v, str) and len(v) < 250:   # SUMIFS criteria stop at 255 characters
            row_keys.append(v.casefold())
            seen[v] += 1
        else:
            row_keys.append(None)
    spelling: dict[str, str] = {}
    for v, _n in seen.most_common():
        spelling.setdefault(v.casefold(), v)
    rows_of: dict[str, list[int]] = {}
    for i, k in enumerate(row_keys):
        if k is not None:
            rows_of.setdefault(k, []).append(i)
    values = ctx.values(fld)
    totals = {k: M.excel_sum(values[rows]) for k, rows in rows_of.items()}
    ranked = sorted(spelling, key=lambda k: (-totals.get(k, 0.0), k))
    return row_keys, spelling, ranked[:MAX_CHANNELS]


def channel_table(ctx: SummaryContext) -> Table | None:
    if ctx.amount is None or not ctx.has("channel"):
        return None
    import numpy as np

    fld, word = ctx.amount
    total = f"Total {word}"
    row_keys, spelling, shown = _channels(ctx, fld)
    ch = np.array(row_keys, dtype=object)
    is_channel = {spelling[k]: ch == k for k in shown}   # shown label -> its rows, compared once
    rest = ~np.isin(ch, np.array(shown, dtype=object))
    channel_rng = ctx.column("channel")

    def summed(fld: str, header: str, stage: str | None):
        values = ctx.values(fld)
        rng = ctx.column(fld)

        def rule(row: Row) -> Cell:
            if row.is_total:
                return total_of(header)(row)
            c = crit(ctx, stage) if stage else ctx.rows_crit()
            in_stage = selected(ctx, stage) if stage else True
            if row.key == OTHER_CHANNEL:   # the plan's total less the channels shown
                whole = sumifs(rng, c)
                shown_rng = f"{row.ref(header, row.block.first)}:{row.ref(header, row.r - 1)}"
                return Cell(M.excel_sum(values[rest & in_stage]),
                            f"{whole}-SUM({shown_rng})" if shown else whole)
            if c is None:
                return Cell(0.0, "0")
            sel = is_channel[row.key] & in_stage
            parts = [channel_rng, crit_text(row.key), *c]
            return Cell(M.excel_sum(values[sel]), f"SUMIFS({rng},{','.join(parts)})")
        return rule

    cols: list[Column] = []
    if ctx.has_stages:
        cols += [Column(s, summed(fld, s, s), ctx.money) for s in keys(ctx)]
        cols.append(Column(total, _row_sum(list(keys(ctx))), ctx.money))
    else:
        cols.append(Column(total, summed(fld, total, None), ctx.money))
    with_actual = fld == "budget" and ctx.has("actual")
    if with_actual:
        cols += [Column("Actual", summed("actual", "Actual", None), ctx.money),
                 Column("Variance", difference("Actual", total), ctx.money)]
    return Table(f"{word.capitalize()} by channel" + (" and stage" if ctx.has_stages else ""), "Channel",
                 [*(spelling[k] for k in shown), OTHER_CHANNEL], cols,
                 note=f"The {MAX_CHANNELS} channels with the most {word}; the rest as one row.",
                 charts=lambda p: _chart(p, total, with_actual))


def _row_sum(heads: list[str]):
    def rule(row: Row) -> Cell:
        return Cell(M.excel_sum_values([row.value(h) for h in heads]),
                    f"SUM({row.ref(heads[0])}:{row.ref(heads[-1])})")
    return rule


def _chart(placed: Placed, total: str, with_actual: bool) -> list[ChartSpec]:
    cats = placed.range("Channel")
    word = total.split()[-1]
    series = [Series(word.capitalize(), placed.range(total), cats, BUDGET_COLOR)]
    if with_actual:
        series.append(Series("Actual", placed.range("Actual"), cats, ACTUAL_COLOR))
    n = placed.last - placed.first + 1
    money = placed.cells[(placed.first, placed.col(total))].style.number_format
    title = "Budget and actual by channel" if with_actual else f"{word.capitalize()} by channel"
    return [ChartSpec("bar_clustered", title, tuple(series), anchor_row=placed.top, anchor_col=0,
                      width_px=480, height_px=max(260, 60 + 34 * n), data_labels=True, number_format=money)]
