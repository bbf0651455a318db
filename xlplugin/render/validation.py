"""Findings -> a ChangeList: marked cells with notes, and a Validation sheet.

Pure: no I/O.  Every render starts with ClearMarks() so a re-run replaces the
previous marks, and the Validation sheet is a ReplaceSheet so it is replaced too.
Values copied from the plan are written as text (SetCell.value str), never formulas.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from xlplugin.changes import (
    MARK_ERROR,
    MARK_WARNING,
    ChangeList,
    ClearMarks,
    DefinedName,
    Hyperlink,
    MarkCell,
    PageSetup,
    ReplaceSheet,
    SetCell,
    SetNote,
    Style,
    ValueColumn,
)
from xlplugin.engine.rules import BY_CODE
from xlplugin.model import CellValue, Finding, ParsedPlan, cell_ref, map_distinct, quote_sheet

SHEET = "Validation"
PRINT_TITLES = "_xlnm.Print_Titles"      # Excel's name for the rows repeated on printed pages
COLUMNS = ("Severity", "Rule", "Sheet", "Cell", "Column", "Value", "Message", "Hint")
WIDTHS = (10, 8, 14, 8, 16, 22, 80, 70)
_FILL = {"error": MARK_ERROR, "warning": MARK_WARNING}
_RANK = {"error": 2, "warning": 1}
HEADER = Style(bold=True, fill="D9E1F2", border_bottom=True)
TITLE = Style(bold=True, font_size=14)
LINK = Style(font_color="0563C1")
# A note is a shape in the sheet's VML drawing, which holds about a thousand (the writer
# refuses more); past that, cells are marked without a note and the Validation sheet
# still lists every finding.  Excel keeps at most 65,530 hyperlinks on a sheet.
MAX_NOTES_PER_SHEET = 1000
MAX_LINKS = 65_000


def as_text(v: CellValue) -> str:
    """A plan value as text for the Validation sheet (never a formula: SetCell writes str as text)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        return v.date().isoformat()
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return str(v)


MAX_CELL_TEXT = 32767   # Excel's limit on the characters of a cell


def _fit(text: str) -> str:
    """A message quoting a huge cell, cut to fit a cell (ending in '…')."""
    return text if len(text) <= MAX_CELL_TEXT else text[:MAX_CELL_TEXT - 1] + "…"


def note_text(findings: list[Finding]) -> str:
    """One note per cell: every message, each with its hint."""
    parts = []
    for f in findings:
        parts.append(f"{f.rule} {f.severity}: {f.message}" + (f"\nFix: {f.hint}" if f.hint else ""))
    return "\n".join(parts)


def _link_target(f: Finding, parsed: ParsedPlan | None) -> str:
    """Where the finding's row on the Validation sheet links to."""
    if f.cell:
        ref = f.cell
    elif parsed is not None and f.sheet == parsed.plan.sheet:
        plan = parsed.plan
        ref = cell_ref(f.row if f.row else plan.header_row, f.col if f.col else plan.first_col)
    else:
        ref = cell_ref(f.row or 1, f.col or 1)
    return f"{quote_sheet(f.sheet)}!{ref}"


def _where(f: Finding) -> str:
    if f.cell:
        return f.cell
    loc = f.location()
    return loc.split("!", 1)[1] if "!" in loc else "(sheet)"


def validation_changes(findings: list[Finding], parsed: ParsedPlan | None,
                       source_name: str) -> ChangeList:
    """Marks and notes at each finding's cell, then the Validation sheet."""
    changes = ChangeList([ClearMarks()])
    by_cell: dict[tuple[str, int, int], list[Finding]] = {}
    for f in findings:
        if f.cell and f.row and f.col:
            key = (f.sheet, f.row, f.col)
            group = by_cell.get(key)
            if group is None:
                by_cell[key] = [f]
            else:
                group.append(f)
    notes: Counter[str] = Counter()
    marks = []
    for key in sorted(by_cell):
        group = by_cell[key]
        worst = group[0].severity if len(group) == 1 else \
            max(group, key=lambda f: _RANK.get(f.severity, 0)).severity
        sheet, row, col = key
        marks.append(MarkCell(sheet, row, col, fill=_FILL.get(worst, MARK_ERROR)))
        if notes[sheet] < MAX_NOTES_PER_SHEET:
            notes[sheet] += 1
            marks.append(SetNote(sheet, row, col, note_text(group)))
    changes.add(*marks)
    capped = any(n >= MAX_NOTES_PER_SHEET for n in notes.values()) and len(by_cell) > sum(notes.values())
    sheet = validation_sheet(findings, parsed, source_name, notes_capped=capped)
    changes.add(sheet)
    if sheet.freeze:   # printed: the findings' header row repeats on every page
        r = sheet.freeze[0] - 1
        changes.add(DefinedName(PRINT_TITLES, f"{quote_sheet(SHEET)}!${r}:${r}", sheet=SHEET))
    return changes


def validation_sheet(findings: list[Finding], parsed: ParsedPlan | None, source_name: str,
                     notes_capped: bool = False) -> ReplaceSheet:
    """The Validation sheet: totals, counts per rule, then one row per finding with a link."""
    cells: list[SetCell] = []
    links: list[Hyperlink] = []

    def put(row: int, col: int, value: CellValue, style: Style | None = None) -> None:
        cells.append(SetCell(SHEET, row, col, value=value, style=style))

    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    put(1, 1, f"Validation of {source_name}", TITLE)
    if findings:
        put(2, 1, f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
                  " (click a cell address to go to it; notes on the marked cells say the same)")
    else:
        put(2, 1, "No problems found.")
    if notes_capped:
        put(3, 1, f"Notes were added to the first {MAX_NOTES_PER_SHEET:,} marked cells of each sheet; "
                  "every marked cell and every finding is listed below.")
    row = 4
    counts = Counter(f.rule for f in findings)
    if counts:
        for c, name in enumerate(("Rule", "Severity", "Count", "Summary"), start=1):
            put(row, c, name, HEADER)
        for rule in sorted(counts):
            row += 1
            info = BY_CODE.get(rule)
            sev = next(f.severity for f in findings if f.rule == rule)
            put(row, 1, rule)
            put(row, 2, sev, Style(fill=_FILL.get(sev)))
            put(row, 3, counts[rule])
            put(row, 4, info.summary if info else "")
        row += 2
    header_row = row
    for c, name in enumerate(COLUMNS, start=1):
        put(header_row, c, name, HEADER)
    # One row per finding, written as blocks of values (one per column); the severity
    # cell's fill follows the severity, so those stay single cells (one Style per severity).
    first = header_row + 1
    fills = {sev: Style(fill=_FILL.get(sev)) for sev in {f.severity for f in findings}}
    cells += [SetCell(SHEET, first + i, 1, f.severity, None, fills[f.severity])
              for i, f in enumerate(findings)]
    columns = []
    if findings:
        texts = (
            [f.rule for f in findings], [f.sheet for f in findings], [_where(f) for f in findings],
            [f.column or "" for f in findings], map_distinct(as_text, [f.value for f in findings]),
            [f.message for f in findings], [f.hint for f in findings],
        )
        for c, vals in enumerate(texts, start=2):
            columns.append(ValueColumn(SHEET, c, first, tuple(v if len(v) <= MAX_CELL_TEXT else _fit(v)
                                                              for v in vals),
                                       style=LINK if c == 4 else None))
    quoted = {name: quote_sheet(name) for name in {f.sheet for f in findings}}
    links = [Hyperlink(first + i, 4, f"{quoted[f.sheet]}!{f.cell}", tooltip=f"Go to {f.sheet}!{f.cell}")
             if f.cell else Hyperlink(first + i, 4, _link_target(f, parsed), tooltip=f"Go to {f.location()}")
             for i, f in enumerate(findings[:MAX_LINKS])]
    tab = "C00000" if errors else ("FFC000" if warnings else "00B050")
    return ReplaceSheet(
        name=SHEET, cells=tuple(cells), columns=tuple(columns),
        col_widths=tuple((c, float(w)) for c, w in enumerate(WIDTHS, start=1)),
        freeze=(header_row + 1, 1), hyperlinks=tuple(links), tab_color=tab,
        page=PageSetup(),   # landscape, one page wide
    )


def clear_changes() -> ChangeList:
    """`xlplugin clear`: remove every mark, note, sheet and column the tool made."""
    return ChangeList([ClearMarks(everything=True)])
