"""The funnel by stage: leads, conversions, revenue and spend, and what they make
(ROI, cost per lead, cost per acquisition, conversion rate)."""

from __future__ import annotations

from xlplugin.engine import metrics as M
from xlplugin.render.summary.context import SummaryContext
from xlplugin.render.summary.layout import Column, Table
from xlplugin.render.summary.stages import amount, keys, ratio

COUNTS = {"leads": "Leads", "conversions": "Conversions"}
AMOUNTS = {"revenue": "Revenue", "actual": "Actual"}


def funnel_table(ctx: SummaryContext) -> Table | None:
    if not any(ctx.has(f) for f in ("leads", "conversions", "revenue")):
        return None
    cols = [Column(h, amount(ctx, f, h), M.COUNT) for f, h in COUNTS.items() if ctx.has(f)]
    cols += [Column(h, amount(ctx, f, h), ctx.money) for f, h in AMOUNTS.items() if ctx.has(f)]
    have = {c.header for c in cols}
    # (header, rule, format, needs): each only when its inputs are there
    derived = [
        ("ROI", ratio("Revenue", "Actual", minus="Actual", measured="Revenue"), M.PERCENT,
         {"Revenue", "Actual"}),
        ("Cost per lead", ratio("Actual", "Leads"), ctx.money, {"Actual", "Leads"}),
        ("Cost per acquisition", ratio("Actual", "Conversions"), ctx.money, {"Actual", "Conversions"}),
        ("Conversion rate", ratio("Conversions", "Leads"), M.PERCENT, {"Conversions", "Leads"}),
    ]
    cols += [Column(h, rule, fmt) for h, rule, fmt, needs in derived if needs <= have]
    title = "Funnel by stage" if ctx.has_stages else "Funnel"
    return Table(title, "Stage" if ctx.has_stages else "", keys(ctx), cols, total=ctx.has_stages,
                 note="ROI is n/a where no revenue has been recorded yet (research, positioning).")
