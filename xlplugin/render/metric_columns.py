"""Metric columns on the plan (live formulas with cached values), and what the Summary
sheet's blocks (xlplugin/render/summary/) read: where plan columns are, and the plan's rows as
Excel sees them.

ParsedPlan + Labels -> ChangeList.  Pure: no I/O.

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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xlplugin.changes import (
    ChangeList,
    DefinedName,
    ExtendTable,
    FormulaColumn,
    SetColumnWidth,
    Style,
    TableColumn,
)
from xlplugin.engine import metrics as M
from xlplugin.model import STAGES, TOOL_COLUMNS_NAME, cell_ref, col_letter, quote_sheet

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from xlplugin.model import Label, ParsedPlan, PlanTable

NOT_LABELLED = "Not labelled"
STAGE_HEADER = "Stage"
STAGE_BASIS_HEADER = "Stage basis"

BOLD = Style(bold=True)


# ---- where things are on the plan sheet ---------------------------------------------

def label_columns(plan: PlanTable) -> dict[str, int]:
    """Columns of Stage and Stage basis, as the label step places them.

    Reused when they exist (tool columns from an earlier run, or the user's own Stage
    column); otherwise the first free columns right of the plan and its tool columns.
    """
    try:  # the label helper's own placement wins when it is there
        from xlplugin.render import labels as render_labels
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


def tool_header(plan: PlanTable, name: str) -> str:
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
        header = tool_header(plan, m.name)   # the user's own "ROI" is never overwritten
        col = plan.tool_cols.get(header)
        if col is None:
            col, nxt = nxt, nxt + 1
        out.append((m, header, col))
    return out


def tool_columns_change(plan: PlanTable, added: dict[str, int]) -> DefinedName:
    """The hidden name that records every column the tool added (header row cells)."""
    try:
        from xlplugin.render import labels as render_labels
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
    lab_cols = label_columns(plan)
    refs = PlanRefs(plan, names={**{lab_cols[h]: tool_header(plan, h) for h in lab_cols},
                                 **{c: h for _, h, c in cols}})
    # with a subtotal or a heading between the data rows the total keeps to rows with a stage;
    # without, a plain SUM is exact
    stage_col = lab_cols.get(STAGE_HEADER) if plan.between else None
    fields = plan.fields
    numbers = {f: M.effective_numbers(parsed, f) for f in {f for m, _, _ in cols for f in m.inputs}}
    total_budget = M.excel_sum(numbers["budget"]) if "budget" in numbers else None
    first, last = data_row_span(plan)
    header_row = first - 1
    rows = range(first, last + 1)
    table_cols: list[TableColumn] = []
    columns: list[FormulaColumn] = []
    index = parsed.frame.index.tolist()
    every_row = index == list(rows)
    for m, header, col in cols:
        if plan.table is not None:   # a calculated column: the same formula on every row
            rref = {f: refs.this_row(fields[f].col, 0) for f in m.inputs}
            if M.TOTAL in M.placeholders(m):
                rref[M.TOTAL] = _data_total(refs, fields["budget"].col, stage_col)
            formula = M.row_formula(m, rref)
            table_cols.append(TableColumn(header, formula))
        else:   # the first row's A1 formula, filled down (relative refs move with the row)
            rref = {f: cell_ref(first, fields[f].col) for f in m.inputs}
            if M.TOTAL in M.placeholders(m):
                rref[M.TOTAL] = _data_total(refs, fields["budget"].col, stage_col, same_sheet=True)
            formula = M.row_formula(m, rref)
        values = M.row_values(m, numbers, total_budget)
        if not every_row:   # rows parse left out get no cached value
            by_row = dict(zip(index, values, strict=True))
            values = [by_row.get(r, "") for r in rows]
        columns.append(FormulaColumn(plan.sheet, col, first, formula, tuple(values),
                                     Style(number_format=m.format_for(parsed.money_format), halign="right"),
                                     header=header, header_style=BOLD,
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


def _data_total(refs: PlanRefs, col: int, stage_col: int | None, same_sheet: bool = False) -> str:
    """The plan's total of a column over its data rows: the label step writes a stage on every
    data row and none on a subtotal or a section heading between them, which SUM would count."""
    def ref(c: int) -> str:
        r = refs.column(c)
        return r.split("!", 1)[1] if same_sheet and not refs.is_table else r

    return f'SUMIFS({ref(col)},{ref(stage_col)},"<>")' if stage_col is not None else f"SUM({ref(col)})"


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
    keys: dict[object, str] = {}   # stage_key of each distinct value once
    stages = []
    for r in frame.index.tolist():
        v = cells.get(r)
        k = keys.get(v) if isinstance(v, str) else None
        if k is None:
            k = stage_key(v)
            if isinstance(v, str):
                keys[v] = k
        stages.append(k)
    d["stage"] = stages
    for f in ("budget", "actual", "leads", "conversions", "revenue"):
        if f in fields and f in frame.columns:
            d[f] = M.effective_numbers(parsed, f)
    if "start" in fields and "start" in frame.columns:
        d["start"] = M.effective_dates(parsed, "start")
    if "channel" in fields:
        src = parsed.raw if parsed.raw is not None and "channel" in parsed.raw.columns else frame
        d["channel"] = [v if isinstance(v, str) and v != "" else None
                        for v in src["channel"].reindex(frame.index).tolist()]
    occ = occupied_field(parsed.plan)
    if occ is not None:
        src = parsed.raw if parsed.raw is not None and occ in parsed.raw.columns else frame
        d["occupied"] = [not _is_blank(v) for v in src[occ].reindex(frame.index).tolist()]
    else:
        d["occupied"] = True
    return d


def occupied_field(plan: PlanTable) -> str | None:
    """A column that is filled on every real plan row (to tell rows from blank rows)."""
    fields = plan.fields
    for f in ("activity", "id", "description"):
        if f in fields:
            return f
    return next((c.field for c in plan.columns if c.field and c.field not in ("stage", "stage_basis")), None)
