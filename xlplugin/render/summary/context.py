"""What every Summary block reads: the plan's rows as Excel sees them, where its columns
are (as formula references), and what the run knows (findings, settings, formats)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xlplugin.engine import metrics as M
from xlplugin.render.metric_columns import (
    STAGE_HEADER,
    PlanRefs,
    label_columns,
    occupied_field,
    plan_data,
    tool_header,
)
from xlplugin.render.summary.layout import NOT_LABELLED

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from xlplugin.config import Config
    from xlplugin.model import Finding, Label, ParsedPlan

AMOUNTS = ("budget", "actual", "revenue")
FIGURES = ("budget", "actual", "leads", "conversions", "revenue", "start", "channel")


@dataclass
class SummaryContext:
    parsed: ParsedPlan
    data: pd.DataFrame               # one row per plan row: stage, figures (summarize.plan_data)
    refs: PlanRefs
    stage_rng: str | None            # the Stage column as a range, None when there is none
    occupied_rng: str | None         # a column filled on every real row (to count activities)
    config: Config
    findings: list[Finding] | None   # None: no check ran
    source_name: str
    produced_at: dt.datetime
    has_stages: bool                 # some row has a stage (labelled or typed)
    # the plan's range holds rows that are no data (a subtotal, a section's heading) and the label
    # step wrote a stage on every data row: the sums keep to rows with a stage
    skip_between: bool = False
    masks: dict = field(default_factory=dict)   # stage -> boolean array, filled on first use
    arrays: dict = field(default_factory=dict)  # field -> float64 array, filled on first use

    def stage_mask(self, stage: str | None):
        """The rows of one stage (None: every row), as a numpy boolean array."""
        if stage not in self.masks:
            col = self.data["stage"]
            self.masks[stage] = (col.notna() if stage is None else col == stage).to_numpy(dtype=bool)
        return self.masks[stage]

    def values(self, fld: str):
        """A numeric field of every plan row as a float64 numpy array (NaN: not a number):
        the blocks sum slices of it, which a DataFrame lookup per cell made slow."""
        if fld not in self.arrays:
            self.arrays[fld] = self.data[fld].to_numpy(dtype="float64")
        return self.arrays[fld]

    @property
    def amount(self) -> tuple[str, str] | None:
        """What the quarter and channel blocks add up: ("budget", "budget"), or the spend
        when the sheet has no budget (a performance log), or None."""
        if self.has("budget"):
            return "budget", "budget"
        if self.has("actual"):
            return "actual", "spend"
        return None

    @property
    def money(self) -> str:
        return self.parsed.money_format or M.CURRENCY

    def has(self, fld: str) -> bool:
        return fld in self.data.columns

    def column(self, fld: str) -> str:
        return self.refs.column(self.parsed.plan.fields[fld].col)

    def stage_crit(self, stage: str) -> list[str] | None:
        """SUMIFS criteria pairs selecting one stage; None = no row can match.
        "Not labelled" is anything but the three stages, so the four always add up."""
        if self.stage_rng is None:
            return [] if stage == NOT_LABELLED else None
        if stage == NOT_LABELLED:
            return [self.stage_rng, '"<>Upstream"', self.stage_rng, '"<>Downstream"',
                    self.stage_rng, '"<>Review"', *self.rows_crit()]
        return [self.stage_rng, f'"{stage}"']

    def rows_crit(self) -> list[str]:
        """SUMIFS criteria selecting the plan's data rows: a subtotal or a section heading
        between them has no stage (the label step writes one on every data row only)."""
        return [self.stage_rng, '"<>"'] if self.skip_between and self.stage_rng else []


def sumifs(sum_rng: str, crit: list[str] | None) -> str:
    if crit is None:
        return "0"
    if not crit:
        return f"SUM({sum_rng})"
    return f"SUMIFS({sum_rng},{','.join(crit)})"


def build_context(parsed: ParsedPlan, labels: list[Label] | None, findings: list[Finding] | None,
                  config: Config, source_name: str, *, stage_col: int | None = None,
                  produced_at: dt.datetime | None = None) -> SummaryContext:
    plan = parsed.plan
    lab_cols = label_columns(plan)
    if stage_col is None and (labels is not None or STAGE_HEADER in plan.tool_cols
                              or "stage" in plan.fields):
        stage_col = lab_cols[STAGE_HEADER]
    refs = PlanRefs(plan, names={lab_cols[h]: tool_header(plan, h) for h in lab_cols})
    if stage_col is not None and stage_col not in refs.names and plan.table is not None:
        refs.names[stage_col] = STAGE_HEADER
    occ = occupied_field(plan)
    data = plan_data(parsed, labels)
    return SummaryContext(
        parsed, data, refs,
        refs.column(stage_col) if stage_col is not None else None,
        refs.column(plan.fields[occ].col) if occ else None,
        config, findings, source_name,
        (produced_at or dt.datetime.now()).replace(microsecond=0),
        has_stages=stage_col is not None and _stage_text(data, labels),
        skip_between=labels is not None and stage_col is not None and bool(plan.between),
    )


def _stage_text(data: pd.DataFrame, labels: list[Label] | None) -> bool:
    """Whether stages say anything: a stage someone typed, or a row the labeller could
    place from its text (a plan without activity text gets no stage blocks, not blocks
    of "Review")."""
    if labels is None:
        return bool((data["stage"] != NOT_LABELLED).any())
    return any(lab.source != "none" for lab in labels)
