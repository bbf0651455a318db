"""Metric columns on the plan and the Summary sheet: live formulas with cached values.

ParsedPlan + Labels + Findings -> ChangeList.  Pure: no I/O.

Every figure is a live Excel formula over the plan (structured references such as
`Plan[Budget]` when the plan is an Excel Table, absolute ranges `'Plan'!$J$5:$J$44`
otherwise), written with the value Excel will compute, figured here with pandas over
the cells as Excel sees them (a number typed as text is not summed; see metrics.py).

Formula choices, checked against LibreOffice 7.4 forced to recalculate:
  * per-row structured references use the file form `Plan[[#This Row],[Budget]]`;
    LibreOffice does not read the `[@Budget]` shorthand from .xlsx (Err:507).
  * "not labelled" = SUMIFS with `"<>Upstream","<>Downstream","<>Review"` (blank or
    anything else), so the four stages always add up to the total.
  * quarters: SUMIFS with `">="&DATE(y,m,1)` / `"<"&DATE(...)` bounds, no helper column.
  * channel criteria are `"=name"` with * ? ~ escaped, so a channel is matched exactly
    (case-insensitively, as Excel does) and never as a wildcard or an operator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xlplugin import metrics as M
from xlplugin.changes import (
    ChangeList,
    ChartSpec,
    DefinedName,
    ExtendTable,
    FormulaColumn,
    Hyperlink,
    ReplaceSheet,
    Series,
    SetCell,
    SetColumnWidth,
    Style,
    TableColumn,
)
from xlplugin.model import STAGES, TOOL_COLUMNS_NAME, cell_ref, col_letter, quote_sheet

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from xlplugin.config import Config
    from xlplugin.model import Finding, Label, ParsedPlan, PlanTable

SUMMARY_SHEET = "Summary"
VALIDATION_SHEET = "Validation"
NOT_LABELLED = "Not labelled"
STAGE_ROWS: tuple[str, ...] = (*STAGES, NOT_LABELLED)
STAGE_HEADER = "Stage"
STAGE_BASIS_HEADER = "Stage basis"
STAGE_COLORS = {"Upstream": "4472C4", "Downstream": "ED7D31", "Review": "A5A5A5",
                NOT_LABELLED: "D9D9D9"}
MAX_CHANNELS = 15
NO_DATE = "No start date"
OTHER_CHANNEL = "Other / no channel"

HEAD = Style(bold=True, fill="DDEBF7", border_bottom=True)
BOLD = Style(bold=True)
TOTAL_STYLE = Style(bold=True, number_format=M.CURRENCY)


# ---- where things are on the plan sheet ---------------------------------------------

def label_columns(plan: PlanTable) -> dict[str, int]:
    """Columns of Stage and Stage basis, as the label step places them.

    Reused when they exist (tool columns from an earlier run, or the user's own Stage
    column); otherwise the first free columns right of the plan and its tool columns.
    """
    try:  # the label helper's own placement wins when it is there
        from xlplugin import render_labels
        fn = getattr(render_labels, "label_columns", None)
        if callable(fn):
            return dict(fn(plan))
    except ImportError:
        pass
    out: dict[str, int] = {}
    fields = plan.fields
    nxt = max([plan.last_col, plan.right_edge, *plan.tool_cols.values()]) + 1
    for header, fld in ((STAGE_HEADER, "stage"), (STAGE_BASIS_HEADER, "stage_basis")):
        if header in plan.tool_cols:
            out[header] = plan.tool_cols[header]
        elif fld in fields:
            out[header] = fields[fld].col
        else:
            out[header] = nxt
            nxt += 1
    return out


def _tool_header(plan: PlanTable, name: str) -> str:
    """The header the tool gives a column it adds: `name`, or '<name> (xlplugin)' when a
    user's column already has that header (as render_labels does)."""
    if name in plan.tool_cols:
        return name
    users = {c.header.strip().casefold() for c in plan.columns if c.col not in plan.tool_cols.values()}
    return f"{name} (xlplugin)" if name.casefold() in users else name


def _first_free(plan: PlanTable, reserved: Sequence[int]) -> int:
    return max([plan.last_col, plan.right_edge, *plan.tool_cols.values(), *reserved]) + 1


def data_row_span(plan: PlanTable) -> tuple[int, int]:
    """First and last Excel row of the plan's data area (Table: excluding a totals row)."""
    t = plan.table
    if t is not None:
        first = t.first_row + t.header_rows
        last = t.last_row - t.totals_rows
    else:
        first, last = plan.header_row + 1, plan.last_row
    return first, max(last, first)


def _escape_col(name: str) -> str:
    """A Table column name inside a structured reference: ' [ ] # are escaped with '."""
    return "".join("'" + ch if ch in "'[]#" else ch for ch in name)


@dataclass
class PlanRefs:
    """How formulas refer to plan columns: structured references or absolute ranges."""

    plan: PlanTable
    names: dict[int, str] = field(default_factory=dict)   # col -> Table column name (new cols)

    @property
    def is_table(self) -> bool:
        return self.plan.table is not None

    def col_name(self, col: int) -> str:
        t = self.plan.table
        assert t is not None
        i = col - t.first_col
        if 0 <= i < len(t.columns):
            return t.columns[i]
        if col in self.names:
            return self.names[col]
        for c in self.plan.columns:
            if c.col == col:
                return c.header
        return next((h for h, c in self.plan.tool_cols.items() if c == col), col_letter(col))

    def column(self, col: int) -> str:
        """The whole data column, from another sheet."""
        if self.plan.table is not None:
            return f"{self.plan.table.name}[{_escape_col(self.col_name(col))}]"
        first, last = data_row_span(self.plan)
        letter = col_letter(col)
        return f"{quote_sheet(self.plan.sheet)}!${letter}${first}:${letter}${last}"

    def this_row(self, col: int, row: int) -> str:
        """The cell of this column in `row`, from a formula in the same row of the plan."""
        if self.plan.table is not None:
            return f"{self.plan.table.name}[[#This Row],[{_escape_col(self.col_name(col))}]]"
        return cell_ref(row, col)


# ---- metric columns ------------------------------------------------------------------

def metric_columns(plan: PlanTable) -> list[tuple[M.Metric, str, int]]:
    """(metric, header, column) for every metric whose inputs exist; idempotent placement."""
    fields = plan.fields
    reserved = list(label_columns(plan).values())
    nxt = _first_free(plan, reserved)
    out = []
    for m in M.available(fields):
        header = _tool_header(plan, m.name)   # the user's own "ROI" is never overwritten
        col = plan.tool_cols.get(header)
        if col is None:
            col, nxt = nxt, nxt + 1
        out.append((m, header, col))
    return out


def tool_columns_change(plan: PlanTable, added: dict[str, int]) -> DefinedName:
    """The hidden name that records every column the tool added (header row cells)."""
    try:
        from xlplugin import render_labels
        fn = getattr(render_labels, "tool_columns_name", None)
        if callable(fn):
            return fn(plan, added)
    except ImportError:
        pass
    cols = sorted({*plan.tool_cols.values(), *added.values()})
    header_row = plan.table.first_row if plan.table is not None else plan.header_row
    a, b = col_letter(cols[0]), col_letter(cols[-1])
    return DefinedName(TOOL_COLUMNS_NAME,
                       f"{quote_sheet(plan.sheet)}!${a}${header_row}:${b}${header_row}")


def metric_changes(parsed: ParsedPlan) -> ChangeList:
    """Per-row metric columns at the right of the plan (after Stage / Stage basis).

    Table plans get calculated columns (ExtendTable) so new rows inherit them; plain
    ranges get A1 formulas filled down the plan's rows.  Each cell carries its cached value.
    """
    plan = parsed.plan
    cols = metric_columns(plan)
    changes = ChangeList()
    if not cols:
        return changes
    refs = PlanRefs(plan, names={c: h for _, h, c in cols})
    fields = plan.fields
    numbers = {f: M.effective_numbers(parsed, f) for f in {f for m, _, _ in cols for f in m.inputs}}
    total_budget = M.excel_sum(numbers["budget"]) if "budget" in numbers else None
    first, last = data_row_span(plan)
    header_row = first - 1
    rows = range(first, last + 1)
    table_cols: list[TableColumn] = []
    columns: list[FormulaColumn] = []
    for m, header, col in cols:
        if plan.table is not None:   # a calculated column: the same formula on every row
            rref = {f: refs.this_row(fields[f].col, 0) for f in m.inputs}
            if M.TOTAL in M.placeholders(m):
                rref[M.TOTAL] = f"SUM({refs.column(fields['budget'].col)})"
            formula = M.row_formula(m, rref)
            table_cols.append(TableColumn(header, formula))
        else:   # the first row's A1 formula, filled down (relative refs move with the row)
            rref = {f: cell_ref(first, fields[f].col) for f in m.inputs}
            if M.TOTAL in M.placeholders(m):
                rref[M.TOTAL] = f"SUM({refs.column(fields['budget'].col).split('!', 1)[1]})"
            formula = M.row_formula(m, rref)
        values = M.row_values(m, numbers, total_budget)
        if list(parsed.frame.index) != list(rows):   # rows parse left out get no cached value
            by_row = dict(zip(parsed.frame.index, values, strict=True))
            values = [by_row.get(r, "") for r in rows]
        columns.append(FormulaColumn(plan.sheet, col, first, formula, tuple(values),
                                     Style(number_format=m.number_format), header=header, header_style=BOLD,
                                     header_row=header_row))
    if plan.table is not None:
        changes.add(ExtendTable(plan.table.name, plan.sheet, tuple(table_cols)))
    changes.add(*columns)
    for m, _header, col in cols:
        changes.add(SetColumnWidth(plan.sheet, col, m.width))
    added = {h: c for _, h, c in cols}
    added.update({h: c for h, c in label_columns(plan).items()
                  if h in plan.tool_cols or c > plan.last_col})
    changes.add(tool_columns_change(plan, added))
    return changes


# ---- the per-row data behind the Summary's cached values ------------------------------

def stage_key(value: object) -> str:
    """What SUMIFS(…, Stage, "Upstream") sees: case-insensitive exact match, else not labelled."""
    if isinstance(value, str):
        v = value.casefold()
        for s in STAGES:
            if v == s.casefold():
                return s
    return NOT_LABELLED


def _is_blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and v == "")


def stage_cells(parsed: ParsedPlan, labels: list[Label] | None) -> dict[int, object]:
    """Row -> the value the Stage column (the one the Summary's formulas read) holds
    once the label step has run.

    A stage a person set stays as typed ("Up" stays "Up": SUMIFS will not count it as
    "Upstream", and neither do we); every other row holds the label's stage, which the
    label step writes.  Without labels, the user's Stage column as typed."""
    src = parsed.raw if parsed.raw is not None and "stage" in parsed.raw.columns else parsed.frame
    typed = ({int(r): v for r, v in src["stage"].items() if not _is_blank(v)}
             if "stage" in parsed.plan.fields and "stage" in src.columns else {})
    if labels is None:
        return typed
    out: dict[int, object] = {}
    for lab in labels:
        if lab.source == "user":
            value = getattr(lab, "typed", None)
            out[lab.row] = value if value is not None else typed.get(lab.row)
        else:
            out[lab.row] = lab.stage
    return out


def plan_data(parsed: ParsedPlan, labels: list[Label] | None) -> pd.DataFrame:
    """One row per plan row: stage, numeric fields and start date as Excel sees them."""
    import pandas as pd

    frame = parsed.frame
    fields = parsed.plan.fields
    d = pd.DataFrame(index=frame.index)
    cells = stage_cells(parsed, labels)
    d["stage"] = [stage_key(cells.get(int(r))) for r in frame.index]
    for f in ("budget", "actual", "leads", "conversions", "revenue"):
        if f in fields and f in frame.columns:
            d[f] = M.effective_numbers(parsed, f)
    if "start" in fields and "start" in frame.columns:
        d["start"] = M.effective_dates(parsed, "start")
    if "channel" in fields:
        src = parsed.raw if parsed.raw is not None and "channel" in parsed.raw.columns else frame
        d["channel"] = [v if isinstance(v, str) and v != "" else None for v in src["channel"].reindex(frame.index)]
    occ = _occupied_field(parsed.plan)
    if occ is not None:
        src = parsed.raw if parsed.raw is not None and occ in parsed.raw.columns else frame
        d["occupied"] = [not _is_blank(v) for v in src[occ].reindex(frame.index)]
    else:
        d["occupied"] = True
    return d


def _occupied_field(plan: PlanTable) -> str | None:
    """A column that is filled on every real plan row (to tell rows from blank rows)."""
    fields = plan.fields
    for f in ("activity", "id", "description"):
        if f in fields:
            return f
    return next((c.field for c in plan.columns if c.field and c.field not in ("stage", "stage_basis")), None)


# ---- quarters -----------------------------------------------------------------------

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


# ---- the Summary sheet ----------------------------------------------------------------

def _crit_text(value: str) -> str:
    """An exact-match SUMIFS criterion as a formula string literal."""
    esc = value.replace("~", "~~").replace("*", "~*").replace("?", "~?")
    return '"=' + esc.replace('"', '""') + '"'


class _Sheet:
    """Collects the Summary's cells."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cells: dict[tuple[int, int], SetCell] = {}

    def put(self, row: int, col: int, value: object = None, formula: str | None = None,
            style: Style | None = None) -> str:
        self.cells[(row, col)] = SetCell(self.name, row, col, value=value, formula=formula, style=style)
        return cell_ref(row, col)

    def abs_range(self, r1: int, c1: int, r2: int, c2: int) -> str:
        return (f"{quote_sheet(self.name)}!${col_letter(c1)}${r1}"
                + (f":${col_letter(c2)}${r2}" if (r1, c1) != (r2, c2) else ""))


@dataclass
class _Ctx:
    refs: PlanRefs
    stage_rng: str | None           # the Stage column, or None when the plan has none
    occupied_rng: str | None

    def stage_crit(self, stage: str) -> list[str] | None:
        """SUMIFS criteria pairs selecting one stage; None = no row can match."""
        if self.stage_rng is None:
            return [] if stage == NOT_LABELLED else None
        if stage == NOT_LABELLED:
            return [self.stage_rng, '"<>Upstream"', self.stage_rng, '"<>Downstream"',
                    self.stage_rng, '"<>Review"']
        return [self.stage_rng, f'"{stage}"']


def _sumifs(sum_rng: str, crit: list[str] | None) -> str:
    if crit is None:
        return "0"
    if not crit:
        return f"SUM({sum_rng})"
    return f"SUMIFS({sum_rng},{','.join(crit)})"


def _ratio(num: str, den: str, minus: str | None = None) -> str:
    top = f"({num}-{minus})" if minus else num
    return f'IF({den}<>0,{top}/{den},"")'


def _py_ratio(num: float, den: float, minus: float | None = None) -> float | str:
    if den == 0:
        return ""
    return ((num - minus) if minus is not None else num) / den


def summary_changes(parsed: ParsedPlan, labels: list[Label] | None, findings: list[Finding] | None,
                    config: Config, source_name: str, *, stage_col: int | None = None,
                    produced_at: dt.datetime | None = None,
                    sheet_name: str = SUMMARY_SHEET) -> ChangeList:
    """The Summary sheet (ReplaceSheet) with live formulas, cached values and chart specs.

    stage_col: where the Stage column is (default: where the label step puts it, when
    labels are given or the plan already has one).
    """
    plan = parsed.plan
    fields = plan.fields
    lab_cols = label_columns(plan)
    if stage_col is None and (labels is not None or STAGE_HEADER in plan.tool_cols or "stage" in fields):
        stage_col = lab_cols[STAGE_HEADER]
    refs = PlanRefs(plan, names={lab_cols[h]: _tool_header(plan, h) for h in lab_cols})
    if stage_col is not None and stage_col not in refs.names and plan.table is not None:
        refs.names[stage_col] = STAGE_HEADER
    occ = _occupied_field(plan)
    ctx = _Ctx(refs, refs.column(stage_col) if stage_col is not None else None,
               refs.column(fields[occ].col) if occ else None)
    d = plan_data(parsed, labels)
    sh = _Sheet(sheet_name)
    findings = findings or []
    links: list[Hyperlink] = []
    charts: list[ChartSpec] = []

    # header block
    n_err = sum(f.severity == "error" for f in findings)
    n_warn = sum(f.severity == "warning" for f in findings)
    sh.put(1, 1, "Marketing plan summary", style=Style(bold=True, font_size=14))
    sh.put(2, 1, "Plan", style=BOLD)
    sh.put(2, 2, f"{source_name} (sheet {plan.sheet})")
    sh.put(3, 1, "Produced", style=BOLD)
    when = (produced_at or dt.datetime.now()).replace(microsecond=0)
    sh.put(3, 2, when, style=Style(number_format="yyyy-mm-dd hh:mm", halign="left"))
    sh.put(4, 1, "Errors", style=BOLD)
    sh.put(4, 2, n_err)
    sh.put(5, 1, "Warnings", style=BOLD)
    sh.put(5, 2, n_warn)
    if findings:
        sh.put(4, 3, "See the Validation sheet", style=Style(font_color="0563C1"))
        links.append(Hyperlink(4, 3, f"{quote_sheet(VALIDATION_SHEET)}!A1", "Open the findings"))

    has = {f: f in d.columns for f in ("budget", "actual", "leads", "conversions", "revenue", "start",
                                       "channel")}
    row = 7
    budget_rng = refs.column(fields["budget"].col) if has["budget"] else None
    actual_rng = refs.column(fields["actual"].col) if has["actual"] else None

    # 1. totals and shares by stage ------------------------------------------------------
    sh.put(row, 1, "Budget by stage", style=Style(bold=True, font_size=12))
    row += 1
    heads = ["Stage", "Activities"]
    if has["budget"]:
        heads += ["Budget", "Share of budget"]
    if has["actual"]:
        heads += ["Actual"]
    if has["budget"] and has["actual"]:
        heads += ["Variance", "Variance %", "Spent %"]
    for j, h in enumerate(heads, start=1):
        sh.put(row, j, h, style=HEAD)
    first = row + 1
    total_row = first + len(STAGE_ROWS)
    col_of = {h: j for j, h in enumerate(heads, start=1)}
    stage_budget: dict[str, float] = {}
    stage_actual: dict[str, float] = {}
    total_budget = M.excel_sum(d["budget"]) if has["budget"] else 0.0
    total_actual = M.excel_sum(d["actual"]) if has["actual"] else 0.0
    for i, stage in enumerate(STAGE_ROWS):
        r = first + i
        sel = d["stage"] == stage
        sh.put(r, 1, stage)
        crit = ctx.stage_crit(stage)
        # Activities: a Stage cell says so; a "not labelled" row must also be occupied
        # (blank rows inside the plan area are neither).
        if crit is None:
            sh.put(r, 2, 0, formula="0")
        else:
            parts = list(crit)
            cnt = int(sel.sum())
            if stage == NOT_LABELLED and ctx.occupied_rng:
                # occupied criterion FIRST: LibreOffice 7.4's COUNTIFS skips leading blank
                # cells of its first criteria range when there are several criteria
                parts = [ctx.occupied_rng, '"<>"', *parts]
                cnt = int((sel & d["occupied"]).sum())
            sh.put(r, 2, cnt, formula=f"COUNTIFS({','.join(parts)})")
        if has["budget"]:
            b = M.excel_sum(d.loc[sel, "budget"])
            stage_budget[stage] = b
            c = col_of["Budget"]
            sh.put(r, c, b, formula=_sumifs(budget_rng, crit), style=Style(number_format=M.CURRENCY))
            bref, tref = cell_ref(r, c), cell_ref(total_row, c, absolute=True)
            sh.put(r, col_of["Share of budget"], _py_ratio(b, total_budget),
                   formula=_ratio(bref, tref), style=Style(number_format=M.PERCENT))
        if has["actual"]:
            a = M.excel_sum(d.loc[sel, "actual"])
            stage_actual[stage] = a
            sh.put(r, col_of["Actual"], a, formula=_sumifs(actual_rng, crit),
                   style=Style(number_format=M.CURRENCY))
        if has["budget"] and has["actual"]:
            _variance_cells(sh, r, col_of, stage_budget[stage], stage_actual[stage])
    # total row
    sh.put(total_row, 1, "Total", style=BOLD)
    cnt_total = sum(sh.cells[(first + i, 2)].value for i in range(len(STAGE_ROWS)))
    sh.put(total_row, 2, cnt_total, formula=f"SUM({cell_ref(first, 2)}:{cell_ref(total_row - 1, 2)})",
           style=BOLD)
    if has["budget"]:
        c = col_of["Budget"]
        sh.put(total_row, c, total_budget, formula=f"SUM({budget_rng})", style=TOTAL_STYLE)
        sh.put(total_row, col_of["Share of budget"], _py_ratio(total_budget, total_budget),
               formula=_ratio(cell_ref(total_row, c), cell_ref(total_row, c)),
               style=Style(bold=True, number_format=M.PERCENT))
    if has["actual"]:
        sh.put(total_row, col_of["Actual"], total_actual, formula=f"SUM({actual_rng})", style=TOTAL_STYLE)
    if has["budget"] and has["actual"]:
        _variance_cells(sh, total_row, col_of, total_budget, total_actual, bold=True)
    if has["budget"]:
        c = col_of["Budget"]
        charts.append(ChartSpec("doughnut", "Budget by stage", (
            Series("Budget", sh.abs_range(first, c, total_row - 1, c),
                   sh.abs_range(first, 1, total_row - 1, 1)),), anchor_row=2, anchor_col=12))
    share_col = col_of.get("Share of budget")
    stage_first = first
    row = total_row + 2

    # 2. integration check --------------------------------------------------------------
    if has["budget"]:
        sh.put(row, 1, "Integration check", style=Style(bold=True, font_size=12))
        row += 1
        for j, h in enumerate(["Stage", "Share of budget", "Floor", "Status"], start=1):
            sh.put(row, j, h, style=HEAD)
        for k, stage in enumerate(("Upstream", "Downstream")):
            r = row + 1 + k
            src = cell_ref(stage_first + k, share_col)
            share = _py_ratio(stage_budget[stage], total_budget)
            sh.put(r, 1, stage)
            sh.put(r, 2, share, formula=src, style=Style(number_format=M.PERCENT))
            sh.put(r, 3, float(config.stage_floor), style=Style(number_format=M.PERCENT))
            status = "No budget" if share == "" else ("OK" if share >= config.stage_floor else "Below floor")
            b, f_ = cell_ref(r, 2), cell_ref(r, 3)
            sh.put(r, 4, status, formula=f'IF({b}="","No budget",IF({b}>={f_},"OK","Below floor"))',
                   style=BOLD)
        row += 4

    # 3. funnel metrics per stage ---------------------------------------------------------
    funnel = [f for f in ("leads", "conversions", "revenue", "actual") if has[f]]
    if funnel and any(has[f] for f in ("leads", "conversions", "revenue")):
        sh.put(row, 1, "Funnel by stage", style=Style(bold=True, font_size=12))
        row += 1
        heads = ["Stage"] + [f.capitalize() for f in funnel]
        derived = []
        if has["revenue"] and has["actual"]:
            derived.append(("ROI", "revenue", "actual", True, M.PERCENT))
        if has["leads"] and has["actual"]:
            derived.append(("CPL", "actual", "leads", False, M.CURRENCY))
        if has["conversions"] and has["actual"]:
            derived.append(("CPA", "actual", "conversions", False, M.CURRENCY))
        if has["conversions"] and has["leads"]:
            derived.append(("Conversion rate", "conversions", "leads", False, M.PERCENT))
        heads += [x[0] for x in derived]
        for j, h in enumerate(heads, start=1):
            sh.put(row, j, h, style=HEAD)
        fcol = {f: 2 + i for i, f in enumerate(funnel)}
        first = row + 1
        tot_r = first + len(STAGE_ROWS)
        for i, stage in enumerate([*STAGE_ROWS, "Total"]):
            r = first + i
            is_total = stage == "Total"
            sel = d["stage"] == stage if not is_total else d["stage"].notna()
            sh.put(r, 1, stage, style=BOLD if is_total else None)
            sums: dict[str, float] = {}
            for f in funnel:
                sums[f] = M.excel_sum(d.loc[sel, f])
                rng = refs.column(fields[f].col)
                formula = (f"SUM({cell_ref(first, fcol[f])}:{cell_ref(tot_r - 1, fcol[f])})" if is_total
                           else _sumifs(rng, ctx.stage_crit(stage)))
                fmt = M.CURRENCY if f in ("revenue", "actual") else "#,##0"
                sh.put(r, fcol[f], sums[f], formula=formula,
                       style=Style(number_format=fmt, bold=True if is_total else None))
            for k, (_name, num, den, minus, fmt) in enumerate(derived):
                c = 2 + len(funnel) + k
                nref, dref = cell_ref(r, fcol[num]), cell_ref(r, fcol[den])
                if minus:   # ROI = (revenue - actual) / actual
                    val = _py_ratio(sums[num], sums[den], sums[den])
                    formula = _ratio(nref, dref, dref)
                else:
                    val = _py_ratio(sums[num], sums[den])
                    formula = _ratio(nref, dref)
                sh.put(r, c, val, formula=formula, style=Style(number_format=fmt,
                                                                bold=True if is_total else None))
        row = tot_r + 2

    # 4. by quarter and stage --------------------------------------------------------------
    if has["budget"] and has["start"]:
        row = _quarter_block(sh, row, d, ctx, budget_rng, refs.column(fields["start"].col), config,
                             stage_first, col_of["Budget"], charts)

    # 5. by channel and stage ---------------------------------------------------------------
    if has["budget"] and has["channel"]:
        row = _channel_block(sh, row, d, ctx, budget_rng, actual_rng,
                             refs.column(fields["channel"].col), charts)

    if not has["budget"]:
        sh.put(row, 1, "The plan has no Budget column: budget figures and charts are left out.")

    widths = ((1, 24.0), (2, 18.0)) + tuple((c, 16.0) for c in range(3, 11))
    sheet = ReplaceSheet(sheet_name, cells=tuple(sh.cells[k] for k in sorted(sh.cells)),
                         col_widths=widths, freeze=None, hyperlinks=tuple(links),
                         charts=tuple(charts), tab_color="1F4E79")
    return ChangeList().add(sheet)


def _variance_cells(sh: _Sheet, r: int, col_of: dict[str, int], budget: float, actual: float,
                    bold: bool = False) -> None:
    b, a = cell_ref(r, col_of["Budget"]), cell_ref(r, col_of["Actual"])
    b_ = True if bold else None
    sh.put(r, col_of["Variance"], actual - budget, formula=f"{a}-{b}",
           style=Style(number_format=M.CURRENCY, bold=b_))
    sh.put(r, col_of["Variance %"], _py_ratio(actual, budget, budget), formula=_ratio(a, b, b),
           style=Style(number_format=M.PERCENT, bold=b_))
    sh.put(r, col_of["Spent %"], _py_ratio(actual, budget), formula=_ratio(a, b),
           style=Style(number_format=M.PERCENT, bold=b_))


def _quarter_block(sh: _Sheet, row: int, d: pd.DataFrame, ctx: _Ctx, budget_rng: str, start_rng: str,
                   config: Config, stage_first: int, stage_budget_col: int,
                   charts: list[ChartSpec]) -> int:
    import numpy as np
    import pandas as pd

    starts = pd.to_datetime(d["start"])
    # quarter of each row, vectorised: key = year * 12 + (start month - 1) of its quarter
    months = starts.dt.month.to_numpy(dtype="float64")
    years = starts.dt.year.to_numpy(dtype="float64")
    dated = ~np.isnan(months)
    fy = config.fiscal_year_start
    keys = np.full(len(d), -1, dtype=np.int64)
    if dated.any():
        m = months[dated].astype(np.int64)
        y = years[dated].astype(np.int64)
        q_start = (fy - 1 + 3 * (((m - fy) % 12) // 3)) % 12 + 1
        y = np.where(q_start <= m, y, y - 1)
        keys[dated] = y * 12 + q_start - 1
    uniq = sorted(int(k) for k in np.unique(keys[dated]))
    order = [quarter_of(dt.date(k // 12, k % 12 + 1, 1), fy) for k in uniq]
    sh.put(row, 1, "Budget by quarter and stage", style=Style(bold=True, font_size=12))
    row += 1
    heads = ["Quarter", *STAGE_ROWS, "Total"]
    for j, h in enumerate(heads, start=1):
        sh.put(row, j, h, style=HEAD)
    first = row + 1
    nodate_r = first + len(order)
    tot_r = nodate_r + 1
    stage_of = d["stage"].to_numpy()
    budget = d["budget"].to_numpy(dtype="float64")
    for i, (k_, q) in enumerate(zip(uniq, order, strict=True)):
        r = first + i
        sh.put(r, 1, q.label)
        mask = keys == k_
        for k, stage in enumerate(STAGE_ROWS):
            c = 2 + k
            crit = ctx.stage_crit(stage)
            val = M.excel_sum(budget[mask & (stage_of == stage)])
            if crit is None:
                sh.put(r, c, 0.0, formula="0", style=Style(number_format=M.CURRENCY))
                continue
            date_crit = [start_rng, f'">="&DATE({q.start.year},{q.start.month},1)',
                         start_rng, f'"<"&DATE({q.end.year},{q.end.month},1)']
            sh.put(r, c, val, formula=f"SUMIFS({budget_rng},{','.join(date_crit + crit)})",
                   style=Style(number_format=M.CURRENCY))
    # rows without a usable start date: the stage's total minus its dated quarters
    sh.put(nodate_r, 1, NO_DATE)
    undated = ~dated
    for k, stage in enumerate(STAGE_ROWS):
        c = 2 + k
        val = M.excel_sum(budget[undated & (stage_of == stage)])
        stage_total = cell_ref(stage_first + k, stage_budget_col)
        formula = (f"{stage_total}-SUM({cell_ref(first, c)}:{cell_ref(nodate_r - 1, c)})"
                   if order else stage_total)
        sh.put(nodate_r, c, val, formula=formula, style=Style(number_format=M.CURRENCY))
    _totals(sh, first, tot_r, 2, 1 + len(STAGE_ROWS))
    if order:
        charts.append(ChartSpec("column_stacked", "Budget by quarter and stage", tuple(
            Series(stage, sh.abs_range(first, 2 + k, nodate_r - 1, 2 + k),
                   sh.abs_range(first, 1, nodate_r - 1, 1), STAGE_COLORS[stage])
            for k, stage in enumerate(STAGE_ROWS)), anchor_row=18, anchor_col=12,
            width_px=560, height_px=300))
    return tot_r + 2


def _totals(sh: _Sheet, first: int, tot_r: int, c1: int, c2: int, extra_cols: Sequence[int] = ()) -> None:
    """Row totals in column c2+1 and a Total row below, for the block first..tot_r-1."""
    tc = c2 + 1
    for r in range(first, tot_r):
        vals = [sh.cells[(r, c)].value for c in range(c1, c2 + 1)]
        sh.put(r, tc, M.excel_sum_values(vals), formula=f"SUM({cell_ref(r, c1)}:{cell_ref(r, c2)})",
               style=Style(number_format=M.CURRENCY, bold=True))
    sh.put(tot_r, 1, "Total", style=BOLD)
    for c in [*range(c1, tc + 1), *extra_cols]:
        vals = [sh.cells[(r, c)].value for r in range(first, tot_r)]
        sh.put(tot_r, c, M.excel_sum_values(vals), formula=f"SUM({cell_ref(first, c)}:{cell_ref(tot_r - 1, c)})",
               style=TOTAL_STYLE)


def _channel_block(sh: _Sheet, row: int, d: pd.DataFrame, ctx: _Ctx, budget_rng: str,
                   actual_rng: str | None, channel_rng: str, charts: list[ChartSpec]) -> int:
    # Excel matches criteria case-insensitively: group the same way, show the commonest spelling.
    from collections import Counter

    seen: Counter[str] = Counter()
    keys = []
    for v in d["channel"]:
        if isinstance(v, str) and len(v) < 250:   # SUMIFS criteria stop at 255 characters
            keys.append(v.casefold())
            seen[v] += 1
        else:
            keys.append(None)
    spelling: dict[str, str] = {}
    for v, _n in seen.most_common():
        spelling.setdefault(v.casefold(), v)
    import numpy as np

    ch = np.array(keys, dtype=object)
    stage_of = d["stage"].to_numpy()
    budget = d["budget"].to_numpy(dtype="float64")
    actual = d["actual"].to_numpy(dtype="float64") if actual_rng else None
    totals = d.assign(_ch=keys).groupby("_ch", dropna=True)["budget"].apply(M.excel_sum)
    ranked = sorted(spelling, key=lambda k: (-totals.get(k, 0.0), k))
    shown = ranked[:MAX_CHANNELS]
    sh.put(row, 1, "Budget by channel and stage", style=Style(bold=True, font_size=12))
    row += 1
    heads = ["Channel", *STAGE_ROWS, "Total budget"]
    if actual_rng:
        heads += ["Actual", "Variance"]
    for j, h in enumerate(heads, start=1):
        sh.put(row, j, h, style=HEAD)
    first = row + 1
    other_r = first + len(shown)
    tot_r = other_r + 1
    tb_col = 2 + len(STAGE_ROWS)
    act_col, var_col = tb_col + 1, tb_col + 2
    for i, k in enumerate(shown):
        r = first + i
        sh.put(r, 1, spelling[k])
        sel = ch == k
        ch_crit = [channel_rng, _crit_text(spelling[k])]
        for j, stage in enumerate(STAGE_ROWS):
            crit = ctx.stage_crit(stage)
            val = M.excel_sum(budget[sel & (stage_of == stage)])
            formula = "0" if crit is None else f"SUMIFS({budget_rng},{','.join(ch_crit + crit)})"
            sh.put(r, 2 + j, val, formula=formula, style=Style(number_format=M.CURRENCY))
        if actual_rng:
            sh.put(r, act_col, M.excel_sum(actual[sel]),
                   formula=f"SUMIFS({actual_rng},{','.join(ch_crit)})", style=Style(number_format=M.CURRENCY))
    # everything else: the plan's totals (per stage, and actual) minus the channels shown
    sh.put(other_r, 1, OTHER_CHANNEL)
    rest = ~np.isin(ch, np.array(shown, dtype=object))
    for j, stage in enumerate(STAGE_ROWS):
        c = 2 + j
        crit = ctx.stage_crit(stage)
        val = M.excel_sum(budget[rest & (stage_of == stage)])
        whole = _sumifs(budget_rng, crit)
        formula = f"{whole}-SUM({cell_ref(first, c)}:{cell_ref(other_r - 1, c)})" if shown else whole
        sh.put(other_r, c, val, formula=formula, style=Style(number_format=M.CURRENCY))
    if actual_rng:
        val = M.excel_sum(actual[rest])
        whole = f"SUM({actual_rng})"
        formula = (f"{whole}-SUM({cell_ref(first, act_col)}:{cell_ref(other_r - 1, act_col)})"
                   if shown else whole)
        sh.put(other_r, act_col, val, formula=formula, style=Style(number_format=M.CURRENCY))
    _totals(sh, first, tot_r, 2, 1 + len(STAGE_ROWS), extra_cols=(act_col,) if actual_rng else ())
    if actual_rng:
        for r in range(first, tot_r + 1):
            a, b = sh.cells[(r, act_col)].value, sh.cells[(r, tb_col)].value
            sh.put(r, var_col, a - b, formula=f"{cell_ref(r, act_col)}-{cell_ref(r, tb_col)}",
                   style=Style(number_format=M.CURRENCY, bold=True if r == tot_r else None))
    series = [Series("Budget", sh.abs_range(first, tb_col, other_r, tb_col),
                     sh.abs_range(first, 1, other_r, 1), "4472C4")]
    if actual_rng:
        series.append(Series("Actual", sh.abs_range(first, act_col, other_r, act_col),
                             sh.abs_range(first, 1, other_r, 1), "ED7D31"))
    charts.append(ChartSpec("bar_clustered", "Budget vs actual by channel", tuple(series),
                            anchor_row=35, anchor_col=12, width_px=560,
                            height_px=max(288, 40 + 28 * (len(shown) + 1))))
    return tot_r + 2
