"""Blocks by stage: activities, budget and spend per stage; the balance of upstream and
downstream against the floor in the settings."""

from __future__ import annotations

from xlplugin.changes import ChartSpec, Series
from xlplugin.engine import metrics as M
from xlplugin.model import cell_ref
from xlplugin.render.summary.context import SummaryContext, sumifs
from xlplugin.render.summary.layout import (
    NOT_LABELLED,
    STAGE_COLORS,
    STAGE_ROWS,
    Cell,
    Column,
    Placed,
    Row,
    Table,
    total_of,
)

ALL = "All activities"      # the one row when the plan has no stages to split by


def keys(ctx: SummaryContext) -> tuple[str, ...]:
    return STAGE_ROWS if ctx.has_stages else (ALL,)


def crit(ctx: SummaryContext, key: str) -> list[str] | None:
    return ctx.stage_crit(key) if ctx.has_stages else ctx.rows_crit()


def selected(ctx: SummaryContext, key: str):
    """The plan rows of a key, as a boolean array over ctx.data (computed once per key)."""
    return ctx.stage_mask(key if ctx.has_stages else None)


def amount(ctx: SummaryContext, fld: str, header: str):
    """Sum of a plan column per stage (SUMIFS), the Total row summing the stages."""
    rng = ctx.column(fld)

    def rule(row: Row) -> Cell:
        if row.is_total:
            return total_of(header)(row)
        return Cell(M.excel_sum(ctx.values(fld)[selected(ctx, row.key)]), sumifs(rng, crit(ctx, row.key)))
    return rule


def activities(ctx: SummaryContext):
    def rule(row: Row) -> Cell:
        if row.is_total:
            return total_of("Activities")(row)
        parts = crit(ctx, row.key)
        if parts is None:
            return Cell(0, "0")
        sel = selected(ctx, row.key)
        if row.key in (NOT_LABELLED, ALL) and ctx.occupied_rng:
            # only rows with something in them, and the occupied criterion FIRST:
            # LibreOffice 7.4's COUNTIFS skips leading blank cells of its first range
            parts = [ctx.occupied_rng, '"<>"', *parts]
            sel = sel & ctx.data["occupied"].to_numpy(dtype=bool)
        if not parts:
            parts = [ctx.stage_rng or ctx.column(next(iter(ctx.parsed.plan.fields))), '"<>"']
        return Cell(int(sel.sum()), f"COUNTIFS({','.join(parts)})")
    return rule


def ratio(num: str, den: str, minus: str | None = None, measured: str | None = None):
    """A guarded ratio of two cells in the same row ("n/a" where there is nothing to measure)."""
    def rule(row: Row) -> Cell:
        m = row.value(measured) if measured else None
        value = M.ratio_value(row.value(num), row.value(den), row.value(minus) if minus else None, m)
        formula = M.ratio_formula(row.ref(num), row.ref(den), row.ref(minus) if minus else None,
                                  row.ref(measured) if measured else None)
        return Cell(value, formula)
    return rule


def difference(a: str, b: str):
    def rule(row: Row) -> Cell:
        return Cell(row.value(a) - row.value(b), f"{row.ref(a)}-{row.ref(b)}")
    return rule


def share_of(header: str):
    """This row's amount over the Total row's (an absolute reference: it is filled down)."""
    def rule(row: Row) -> Cell:
        total_r = row.block.last + 1
        value = M.ratio_value(row.value(header), row.block.cells[(total_r, row.block.col(header))].value)
        return Cell(value, M.ratio_formula(row.ref(header),
                                           cell_ref(total_r, row.block.col(header), absolute=True)))
    return rule


def stage_table(ctx: SummaryContext) -> Table:
    money = ctx.money
    cols = [Column("Activities", activities(ctx), M.COUNT)]
    if ctx.has("budget"):
        cols.append(Column("Budget", amount(ctx, "budget", "Budget"), money))
        if ctx.has_stages:
            cols.append(Column("Share of budget", share_of("Budget"), M.PERCENT))
    if ctx.has("actual"):
        cols.append(Column("Actual", amount(ctx, "actual", "Actual"), money))
    if ctx.has("budget") and ctx.has("actual"):
        cols += [Column("Variance", difference("Actual", "Budget"), money),
                 Column("Variance %", ratio("Variance", "Budget", measured="Actual"), M.PERCENT),
                 Column("Spent %", ratio("Actual", "Budget"), M.PERCENT)]
    word = ctx.amount[1] if ctx.amount else ""
    title = "Activities" + (f" and {word}" if word else "") + (" by stage" if ctx.has_stages else "")
    note = ("Variance % is n/a where nothing has been spent yet." if ctx.has("actual") and ctx.has("budget")
            else "")
    return Table(title, "Stage" if ctx.has_stages else "", keys(ctx), cols, total=ctx.has_stages,
                 note=note, charts=lambda p: _doughnut(ctx, p))


def _doughnut(ctx: SummaryContext, placed: Placed) -> list[ChartSpec]:
    if not (ctx.has_stages and ctx.has("budget")):
        return []
    cats = placed.range(placed.headers[0])
    return [ChartSpec("doughnut", "Share of budget by stage", (
        Series("Budget", placed.range("Budget"), cats,
               point_colors=tuple(STAGE_COLORS[k] for k in STAGE_ROWS)),),
        anchor_row=placed.top, anchor_col=0, data_labels=True, width_px=420, height_px=260)]


def balance_table(ctx: SummaryContext, stages: Placed) -> Table | None:
    """Each side's share of budget against the floor (plan.stage_floor)."""
    if not (ctx.has_stages and ctx.has("budget")):
        return None
    floor = float(ctx.config.stage_floor)

    def share(row: Row) -> Cell:
        r = stages.first + STAGE_ROWS.index(row.key)
        c = stages.col("Share of budget")
        return Cell(stages.cells[(r, c)].value, cell_ref(r, c))

    def status(row: Row) -> Cell:
        s = row.value("Share of budget")
        value = "No budget" if not isinstance(s, float) else ("OK" if s >= floor else "Below floor")
        b, f = row.ref("Share of budget"), row.ref("Floor")
        return Cell(value, f'IF(ISNUMBER({b}),IF({b}>={f},"OK","Below floor"),"No budget")')

    return Table("Balance of upstream and downstream", "Stage", ("Upstream", "Downstream"), [
        Column("Share of budget", share, M.PERCENT),
        Column("Floor", lambda row: Cell(floor), M.PERCENT),
        Column("Status", status)], total=False,
        note="Both sides depend on each other: each should have at least the floor's share of budget.")
