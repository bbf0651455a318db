"""Labels -> changes: the Stage and Stage basis columns at the right of the plan.

Where the columns go:
  * no Stage column of the user's: the tool writes `Stage` (with the Upstream / Downstream /
    Review dropdown) and `Stage basis` (the reason, with the confidence);
  * the user has a Stage column: a stage a person set there is never touched; the tool
    fills only the cells nobody set (blank, or written by the tool on an earlier run) and
    adds `Stage basis` beside the plan;
  * a Stage basis the tool wrote starts with the stage and its confidence
    ("Upstream (0.91): research: 'focus group'"), which is how a re-run tells the tool's
    stages from the ones a person picked afterwards (label.earlier_stages);
  * columns the tool added on an earlier run (plan.tool_cols) are reused, so re-running
    rewrites them instead of adding more; new ones take the first free columns right of
    the plan (and of its tool columns); an Excel Table is extended over them.

Pure: returns a ChangeList: one ValueColumn per column (O(columns) changes for any number
of rows).  Every text is a plain value (never a formula).
"""

from __future__ import annotations

from xlplugin.changes import (
    KEEP,
    ChangeList,
    DefinedName,
    ExtendTable,
    ListValidation,
    SetCell,
    SetColumnWidth,
    Style,
    TableColumn,
    ValueColumn,
)
from xlplugin.model import STAGES, TOOL_COLUMNS_NAME, Label, ParsedPlan, PlanTable, col_letter, quote_sheet

STAGE = "Stage"
BASIS = "Stage basis"
WIDTHS = {STAGE: 13.0, BASIS: 60.0}
HEADER_STYLE = Style(bold=True)


def _header_name(plan: PlanTable, name: str) -> str:
    """`name`, unless a column of the user's already has that header (then '<name> (xlplugin)')."""
    if name in plan.tool_cols:
        return name
    users = {c.header.strip().casefold() for c in plan.columns if c.col not in plan.tool_cols.values()}
    return f"{name} (xlplugin)" if name.casefold() in users else name


def label_columns(plan: PlanTable) -> dict[str, int]:
    """Where the stage columns are (or will be): {'Stage': col, 'Stage basis': col};
    'Stage' is the user's own column when the plan has one.

    The Summary helper calls this so its formulas and metric columns agree with us."""
    out: dict[str, int] = {}
    user_stage = plan.fields.get("stage")
    wanted = [BASIS] if user_stage is not None else [STAGE, BASIS]
    nxt = max([plan.last_col, plan.right_edge, *plan.tool_cols.values(),
               *([plan.table.last_col] if plan.table is not None else [])]) + 1
    if user_stage is not None:
        out[STAGE] = user_stage.col
    for name in wanted:
        header = _header_name(plan, name)
        col = plan.tool_cols.get(header)
        if col is None:
            col, nxt = nxt, nxt + 1
        out[name] = col
    return out


def _ranges(cols: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for c in sorted(set(cols)):
        if out and c == out[-1][1] + 1:
            out[-1] = (out[-1][0], c)
        else:
            out.append((c, c))
    return out


def tool_columns_name(plan: PlanTable, added: dict[str, int]) -> DefinedName:
    """The hidden name listing the header cells of every column the tool added: the ones
    from earlier runs (plan.tool_cols) and `added` (header -> col).  Contiguous columns
    make one range; several ranges are comma-separated ("'Plan'!$P$4:$Q$4,'Plan'!$T$4")."""
    row = plan.table.first_row if plan.table is not None else plan.header_row
    sheet = quote_sheet(plan.sheet)
    parts = []
    for a, b in _ranges([*plan.tool_cols.values(), *added.values()]):
        ref = f"${col_letter(a)}${row}" + (f":${col_letter(b)}${row}" if b != a else "")
        parts.append(f"{sheet}!{ref}")
    return DefinedName(TOOL_COLUMNS_NAME, ",".join(parts))


def _data_span(plan: PlanTable) -> tuple[int, int]:
    t = plan.table
    if t is not None:
        first, last = t.first_row + t.header_rows, t.last_row - t.totals_rows
    else:
        first, last = plan.header_row + 1, plan.last_row
    return first, max(first, last)


MAX_CELL_TEXT = 32767   # Excel's limit on the characters of a cell


def basis_text(lab: Label) -> str:
    """The Stage basis cell: a tool label starts with its stage and confidence.
    A reason quoting huge words is cut to fit a cell (ending in '…')."""
    text = _basis_text(lab)
    return text if len(text) <= MAX_CELL_TEXT else text[:MAX_CELL_TEXT - 1] + "…"


def _basis_text(lab: Label) -> str:
    if lab.source == "user":
        return lab.reason
    if lab.confidence <= 0:
        return f"{lab.stage}: {lab.reason}"
    conf = f"({lab.confidence:.2f})"
    reason = lab.reason.removesuffix(conf).rstrip()   # a learned reason carries it already
    return f"{lab.stage} {conf}: {reason}"


def label_changes(parsed: ParsedPlan, labels: list[Label]) -> ChangeList:
    """Stage (when the user has none) and Stage basis columns, their header cells, the
    Table extension, the dropdown, widths and the tool-columns name; the stage of every
    row nobody set by hand."""
    plan = parsed.plan
    cols = label_columns(plan)
    user_stage = plan.fields.get("stage") is not None
    mine = [BASIS] if user_stage else [STAGE, BASIS]
    headers = {name: _header_name(plan, name) for name in mine}
    header_row = plan.table.first_row if plan.table is not None else plan.header_row
    first, last = _data_span(plan)
    changes = ChangeList()

    if plan.table is not None:
        have = {c.casefold() for c in plan.table.columns}
        new = tuple(TableColumn(headers[n]) for n in mine if headers[n].casefold() not in have)
        if new:
            changes.add(ExtendTable(plan.table.name, plan.sheet, new))
    head_style = None if plan.table is not None else HEADER_STYLE
    by_row = {lab.row: lab for lab in labels}
    reused = any(headers[n] in plan.tool_cols for n in mine)
    # One block per column over the data rows: a row the plan no longer has data in is
    # emptied when the column is reused (an earlier run wrote there), else left alone.
    lo, hi = (first, last) if reused else (min(by_row, default=first), max(by_row, default=first - 1))
    gone = None if reused else KEEP
    stage: list[object] = []
    basis: list[object] = []
    for r in range(lo, hi + 1):
        lab = by_row.get(r)
        if lab is None:
            stage.append(KEEP if user_stage else gone)   # never empty a person's column
            basis.append(gone)
            continue
        stage.append(KEEP if lab.source == "user" else lab.stage)   # a person's stage is never written over
        basis.append(basis_text(lab))
    values = {STAGE: stage, BASIS: basis}
    if user_stage and any(v is not KEEP for v in stage):   # blanks of the user's Stage column
        changes.add(ValueColumn(plan.sheet, cols[STAGE], lo, tuple(stage)))
    for name in mine:
        if hi >= lo:
            changes.add(ValueColumn(plan.sheet, cols[name], lo, tuple(values[name]), header=headers[name],
                                    header_style=head_style, header_row=header_row))
        else:
            changes.add(SetCell(plan.sheet, header_row, cols[name], headers[name], style=head_style))

    if not user_stage:
        letter = col_letter(cols[STAGE])
        changes.add(ListValidation(plan.sheet, f"{letter}{first}:{letter}{last}", tuple(STAGES)))
    for name in mine:
        changes.add(SetColumnWidth(plan.sheet, cols[name], WIDTHS[name]))
    changes.add(tool_columns_name(plan, {headers[n]: cols[n] for n in mine}))
    return changes
