"""The ribbon on a plan with many findings: the same marks, notes, links and state as the
CLI's change list, in few actions (xlwings' real remote engine; Excel's side replayed)."""

import datetime as dt
from pathlib import Path

from tests.plan_factory import HEADERS, ROWS, make_plan
from tests.test_excel import Excel, payload_from_file
from xlplugin import changes as ch
from xlplugin import pipeline as P
from xlplugin.excel.apply import read_state
from xlplugin.file.write.state import unpack_cells
from xlplugin.model import cell_ref, quote_sheet

N = 400


def _plan(tmp_path: Path) -> Path:
    """N rows; every third one's budget is text, every seventh one ends before it starts."""
    rows = []
    for i in range(N):
        row = list(ROWS[i % len(ROWS)])
        row[0] = f"A-{i + 1:04d}"
        if i % 3 == 0:
            row[HEADERS.index("Budget")] = "lots"
        if i % 7 == 0:
            row[HEADERS.index("End Date")] = dt.date(2026, 12, 1)
        rows.append(row)
    return make_plan(tmp_path / "big.xlsx", rows)


def test_many_marks_land_as_the_cli_marks_them_in_few_actions(tmp_path: Path) -> None:
    src = _plan(tmp_path)
    opts = P.Options()
    cli = P.render(P.analyse(src, opts), opts, src.name)
    marked = {(c.row, c.col): "#" + c.fill for c in cli if isinstance(c, ch.MarkCell)}
    assert len(marked) > N // 3

    xl = Excel(payload_from_file(src))
    result = xl.run("run_all")
    assert result is not None and result.report.marks == sum(isinstance(c, ch.MarkCell) for c in cli)
    fills = {(r, c): v for (s, r, c), v in xl.fills.items() if s == "Plan" and v is not None}
    assert fills == marked
    # a call per marked column (at most 10,000 rows a call), not one a cell; the same on
    # the Validation sheet, whose first column is coloured by severity, a finding a row
    for sheet in ("Plan", "Validation"):
        at = xl.names().index(sheet)
        colours = [a for a in xl.last_actions if a["func"] in ("setRangeColor", "setRangeColors")
                   and a["sheet_position"] == at]
        assert 0 < len(colours) <= 4, sheet
    sheet = next(c for c in cli if isinstance(c, ch.ReplaceSheet) and c.name == "Validation")
    coloured = {(c.row, c.col): "#" + c.style.fill for c in sheet.all_cells()
                if isinstance(c, ch.SetCell) and c.style is not None and c.style.fill}
    assert {(r, c): v for (s, r, c), v in xl.fills.items() if s == "Validation"} == coloured
    links = [a for a in xl.last_actions if a["func"] == "addHyperlink"]
    assert {a["args"][0] for a in links} >= {f"#{quote_sheet('Plan')}!{cell_ref(r, c)}" for r, c in marked}

    state = read_state(xl.book())
    assert {r["ref"] for r in state.of("mark", "Plan")} == {cell_ref(r, c) for r, c in marked}
    added = unpack_cells(state.find("cells", "Plan")["refs"])
    last = len(HEADERS)
    assert {c for _, c in added} == set(range(last + 1, max(c for _, c in added) + 1))
    assert {r for r, c in added if c == last + 1} == set(range(1, N + 2))   # header and every row

    again = xl.run("run_all")                     # a second run keeps the original fills
    assert again is not None and len(read_state(xl.book()).of("mark", "Plan")) == len(marked)
    xl.run("clear")
    assert not any(v for (s, _, _), v in xl.fills.items() if s == "Plan")
    assert xl.sheet("Plan")["notes"] == []
    assert all(xl.value("Plan", r, last + 1) is None for r in range(1, N + 2))
    assert read_state(xl.book()).records == []
