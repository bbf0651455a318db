"""Budget by channel and stage, with actual spend and its variance: the channels with
the most budget, the rest as one "Other / no channel" row."""

from __future__ import annotations

from collections import Counter

from xlplugin import metrics as M
from xlplugin.changes import ChartSpec, Series
from xlplugin.summary.context import SummaryContext, sumifs
from xlplugin.summary.layout import ACTUAL_COLOR, BUDGET_COLOR, Cell, Column, Placed, Row, Table, total_of
from xlplugin.summary.stages import crit, difference, keys, selected

MAX_CHANNELS = 15
OTHER_CHANNEL = "Other / no channel"


def crit_text(value: str) -> str:
    """An exact-match SUMIFS criterion as a formula string literal: * ? ~ escaped, so a
    channel is matched exactly (case-insensitively, as Excel does), never as a wildcard."""
    esc = value.replace("~", "~~").replace("*", "~*").replace("?", "~?")
    return '"=' + esc.replace('"', '""') + '"'


def _channels(ctx: SummaryContext) -> tuple[list[object], dict[str, str], list[str]]:
    """Each row's channel key (casefolded, as SUMIFS matches), the commonest spelling of
    each key, and the keys shown (most budget first)."""
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
    totals = ctx.data.assign(_ch=row_keys).groupby("_ch", dropna=True)["budget"].apply(M.excel_sum)
    ranked = sorted(spelling, key=lambda k: (-totals.get(k, 0.0), k))
    return row_keys, spelling, ranked[:MAX_CHANNELS]


def channel_table(ctx: SummaryContext) -> Table | None:
    if not (ctx.has("budget") and ctx.has("channel")):
        return None
    import numpy as np

    row_keys, spelling, shown = _channels(ctx)
    ch = np.array(row_keys, dtype=object)
    label_of = {spelling[k]: k for k in shown}
    rest = ~np.isin(ch, np.array(shown, dtype=object))
    channel_rng = ctx.column("channel")

    def summed(fld: str, header: str, stage: str | None):
        values = ctx.data[fld].to_numpy(dtype="float64")
        rng = ctx.column(fld)

        def rule(row: Row) -> Cell:
            if row.is_total:
                return total_of(header)(row)
            c = crit(ctx, stage) if stage else []
            in_stage = selected(ctx, stage).to_numpy() if stage else True
            if row.key == OTHER_CHANNEL:   # the plan's total less the channels shown
                whole = sumifs(rng, c)
                shown_rng = f"{row.ref(header, row.block.first)}:{row.ref(header, row.r - 1)}"
                return Cell(M.excel_sum(values[rest & in_stage]),
                            f"{whole}-SUM({shown_rng})" if shown else whole)
            if c is None:
                return Cell(0.0, "0")
            sel = (ch == label_of[row.key]) & in_stage
            parts = [channel_rng, crit_text(row.key), *c]
            return Cell(M.excel_sum(values[sel]), f"SUMIFS({rng},{','.join(parts)})")
        return rule

    cols: list[Column] = []
    if ctx.has_stages:
        cols += [Column(s, summed("budget", s, s), ctx.money) for s in keys(ctx)]
        cols.append(Column("Total budget", _row_sum(list(keys(ctx))), ctx.money))
    else:
        cols.append(Column("Total budget", summed("budget", "Total budget", None), ctx.money))
    if ctx.has("actual"):
        cols += [Column("Actual", summed("actual", "Actual", None), ctx.money),
                 Column("Variance", difference("Actual", "Total budget"), ctx.money)]
    return Table("Budget by channel and stage" if ctx.has_stages else "Budget by channel", "Channel",
                 [*(spelling[k] for k in shown), OTHER_CHANNEL], cols,
                 note=f"The {MAX_CHANNELS} channels with the most budget; the rest as one row.",
                 charts=lambda p: _chart(ctx, p))


def _row_sum(heads: list[str]):
    def rule(row: Row) -> Cell:
        return Cell(M.excel_sum_values([row.value(h) for h in heads]),
                    f"SUM({row.ref(heads[0])}:{row.ref(heads[-1])})")
    return rule


def _chart(ctx: SummaryContext, placed: Placed) -> list[ChartSpec]:
    cats = placed.range("Channel")
    series = [Series("Budget", placed.range("Total budget"), cats, BUDGET_COLOR)]
    if ctx.has("actual"):
        series.append(Series("Actual", placed.range("Actual"), cats, ACTUAL_COLOR))
    n = placed.last - placed.first + 1
    return [ChartSpec("bar_clustered", "Budget and actual by channel", tuple(series),
                      anchor_row=placed.top, anchor_col=0, width_px=480,
                      height_px=max(260, 60 + 34 * n), data_labels=True, number_format=ctx.money)]
