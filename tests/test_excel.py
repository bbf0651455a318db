"""The ribbon commands and the xlwings target, through xlwings' real remote engine.

A workbook file is turned into the JSON payload an xlwings client sends
(`xw.Book(json=...)`), the ribbon command runs on it, and `book.json()` (the actions
xlwings would send back to Excel) is replayed into the payload, so a second command
sees what the first one did, as it would in Excel.
"""

import os

os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"   # before xlwings is first imported

import datetime as dt  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import openpyxl  # noqa: E402
import pytest  # noqa: E402
import xlwings as xw  # noqa: E402

from tests.plan_factory import HEADERS, ROWS, make_plan  # noqa: E402
from xlplugin import changes as ch  # noqa: E402
from xlplugin import excel  # noqa: E402
from xlplugin import pipeline as P  # noqa: E402
from xlplugin.engine.locate import locate_plan  # noqa: E402
from xlplugin.excel.apply import STATE_SHEET, apply_to_book, read_state  # noqa: E402
from xlplugin.excel.read import XlwingsWorkbook  # noqa: E402
from xlplugin.file.read import open_workbook  # noqa: E402
from xlplugin.model import cell_ref, quote_sheet  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "templates" / "sample-plan.xlsx"
EPOCH = dt.datetime(1899, 12, 30)
DATE_TEXT = re.compile(r"^\d{4}-\d\d-\d\d( \d\d:\d\d:\d\d)?$")
STAMP = re.compile(r"datetime\.datetime\([^)]*\)")


# --- the client side: a payload from a file, and Excel's side of the actions -------------

def _iso(v):
    """xlwings' Office.js client sends date cells as ISO strings ("...Z")."""
    if isinstance(v, (dt.date, dt.datetime)):
        if not isinstance(v, dt.datetime):
            v = dt.datetime(v.year, v.month, v.day)
        return v.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return v


def _serial(v):
    if isinstance(v, dt.datetime):
        return (v - EPOCH).total_seconds() / 86400
    if isinstance(v, dt.date):
        return float((dt.datetime(v.year, v.month, v.day) - EPOCH).days)
    return v


def payload_from_file(path: Path) -> dict:
    """The JSON an Office.js xlwings client sends for this workbook."""
    sheets = []
    with open_workbook(path) as wb:
        for name in wb.sheet_names:
            g = wb.grid(name)
            rows, cols = max(g.max_row, 1), max(g.max_col, 1)
            values = [["" if (v := g.value(r, c)) is None else _iso(v) for c in range(1, cols + 1)]
                      for r in range(1, rows + 1)]
            tables = []
            for t in wb.tables:
                if t.sheet != name:
                    continue
                body_top = t.first_row + t.header_rows
                body_end = t.last_row - t.totals_rows
                a = lambda r1, c1, r2, c2: f"${cell_ref(r1, c1, True)[1:]}:{cell_ref(r2, c2, True)}"  # noqa: E731
                tables.append({
                    "name": t.name, "range_address": a(t.first_row, t.first_col, t.last_row, t.last_col),
                    "header_row_range_address": a(t.first_row, t.first_col, t.first_row, t.last_col),
                    "data_body_range_address": a(body_top, t.first_col, body_end, t.last_col),
                    "total_row_range_address": None, "show_headers": t.header_rows > 0,
                    "show_totals": t.totals_rows > 0, "table_style": "TableStyleMedium2",
                    "show_autofilter": True, "columns": t.columns,
                    "row_count": t.last_row - t.first_row + 1, "column_count": t.last_col - t.first_col + 1,
                })
            sheets.append({"name": name, "values": values, "pictures": [], "shapes": [], "charts": [],
                           "notes": [], "tables": tables, "print_area": None,
                           "visibility": {"veryHidden": "VeryHidden", "hidden": "Hidden"}.get(
                               wb.sheet_states[name], "Visible"),
                           "used_range_address": f"A1:{cell_ref(rows, cols)}"})
        names = []
        for full, ref in wb.defined_names.items():
            local, _, nm = full.rpartition("!")
            names.append(_name_entry(nm, "=" + ref, [s["name"] for s in sheets], local or None))
    return {"client": "Office.js", "version": xw.__version__,
            "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
            "names": names, "sheets": sheets}


def _name_entry(name: str, refers_to: str, sheet_names: list[str], local: str | None = None) -> dict:
    sheet_index = address = None
    target, _, addr = refers_to.lstrip("=").rpartition("!")
    target = target[1:-1].replace("''", "'") if target.startswith("'") else target
    if target in sheet_names:
        sheet_index, address = sheet_names.index(target), addr.replace("$", "")
    return {"name": name, "refers_to": refers_to, "sheet_index": sheet_index, "address": address,
            "book_scope": local is None, "scope_sheet_name": local,
            "scope_sheet_index": sheet_names.index(local) if local else None}


class Excel:
    """Excel's side of the remote engine: replays `book.json()` actions on a payload,
    keeping what the tests look at (values, formulas, fills, notes, links, sheets)."""

    def __init__(self, payload: dict) -> None:
        self.payload = payload
        self.fills: dict[tuple[str, int, int], str | None] = {}
        self.formats: dict[tuple[str, int, int], str] = {}
        self.links: dict[tuple[str, int, int], str] = {}
        self.alerts: list[str] = []

    def sheet(self, name: str) -> dict:
        return next(s for s in self.payload["sheets"] if s["name"] == name)

    def names(self) -> list[str]:
        return [s["name"] for s in self.payload["sheets"]]

    def value(self, sheet: str, row: int, col: int):
        vals = self.sheet(sheet)["values"]
        if row > len(vals) or col > len(vals[row - 1]):
            return None
        v = vals[row - 1][col - 1]
        return None if v == "" else v

    def _put(self, sh: dict, row: int, col: int, v) -> None:
        vals = sh["values"]
        while len(vals) < row:
            vals.append([])
        width = max(max(len(r) for r in vals), col)
        for r in vals:
            r.extend([""] * (width - len(r)))
        if isinstance(v, str) and v.startswith("'"):
            v = v[1:]                      # Excel's text prefix: stored as text, not shown
        elif isinstance(v, str) and DATE_TEXT.match(v):
            v = dt.datetime.fromisoformat(v)   # xlwings sends dates as ISO text; Excel parses it
        vals[row - 1][col - 1] = "" if v is None else v
        sh["used_range_address"] = f"A1:{cell_ref(len(vals), width)}"

    def replay(self, actions: list[dict]) -> None:
        sheets = self.payload["sheets"]
        for a in actions:
            f, args = a["func"], a["args"]
            sh = sheets[a["sheet_position"]] if a["sheet_position"] is not None else None
            r0, c0 = (a["start_row"] or 0) + 1, (a["start_column"] or 0) + 1
            cells = [(r0 + i, c0 + j) for i in range(a["row_count"] or 0) for j in range(a["column_count"] or 0)]
            if f == "setFormula" and isinstance(a["values"], str):
                # one formula for a whole range: Excel fills it, moving relative references
                for r, c in cells:
                    self._put(sh, r, c, "=" + ch.shift_formula(a["values"][1:], r - r0, c - c0))
            elif f in ("setValues", "setFormula"):
                for i, row in enumerate(a["values"]):
                    for j, v in enumerate(row):
                        self._put(sh, r0 + i, c0 + j, v)
            elif f == "setRangeColor":               # Excel keeps a colour as "#RRGGBB"
                for r, c in cells:
                    self.fills[(sh["name"], r, c)] = args[0] and args[0].upper()
            elif f == "setRangeColors":             # a colour a cell; "keep" leaves one as it is
                for i, row in enumerate(args[0]):
                    for j, color in enumerate(row):
                        if color != "keep":
                            self.fills[(sh["name"], r0 + i, c0 + j)] = color and color.upper()
            elif f == "setNumberFormat":
                for r, c in cells:
                    self.formats[(sh["name"], r, c)] = args[0]
            elif f == "addNote":
                sh["notes"].append({"address": args[0]})
            elif f == "deleteNote":
                sh["notes"] = [n for n in sh["notes"] if n["address"].replace("$", "") != args[0].replace("$", "")]
            elif f == "addSheet":
                sheets.insert(args[0], {"name": args[1], "values": [[]], "pictures": [], "shapes": [],
                                        "charts": [], "notes": [], "tables": [], "print_area": None,
                                        "visibility": "Visible"})
            elif f == "sheetDelete":
                sheets.remove(sh)
            elif f == "setSheetVisibility":
                sh["visibility"] = args[0]
            elif f in ("sheetClearContents", "sheetClear"):
                sh["values"] = [[]]
            elif f in ("rangeClearContents", "rangeClear"):
                for r, c in cells:
                    if self.value(sh["name"], r, c) is not None:
                        self._put(sh, r, c, None)
            elif f == "namesAdd":
                self.payload["names"].append(_name_entry(args[0], args[1], self.names()))
            elif f == "nameDelete":
                self.payload["names"] = [n for n in self.payload["names"] if n["name"] != args[2]]
            elif f == "setNameRefersTo":
                for n in self.payload["names"]:
                    if n["name"] == args[0]:
                        n.update(_name_entry(args[0], args[3], self.names()))
            elif f == "addHyperlink":
                self.links[(sh["name"], r0, c0)] = args[0]
            elif f == "resizeTable":
                sh["tables"][args[0]]["range_address"] = args[1]
            elif f == "alert":
                self.alerts.append(args[0])

    def book(self) -> xw.Book:
        """A fresh Book on the current payload (as the next button click sends it)."""
        import copy
        return xw.Book(json=copy.deepcopy(self.payload))

    def run(self, tag: str, **kw) -> excel.CommandResult | None:
        book = self.book()
        result = excel.ribbon_on(book, tag, **kw)
        self.last_actions = book.json()["actions"]
        self.replay(self.last_actions)
        return result


def file_cells(path: Path) -> dict[tuple[str, int, int], object]:
    """Every cell of a file as openpyxl sees it (formulas as '=...')."""
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.row, c.column): c.value for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.value is not None}


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) < 1e-9
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        return abs(_serial(a) - _serial(b)) < 10 / 86400  # "generated at" stamps tick (seconds apart under load)
    return a == b


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return Path(shutil.copyfile(SAMPLE, tmp_path / "sample-plan.xlsx"))


# --- the read side ----------------------------------------------------------------------

def test_book_source_locates_the_plan_like_the_file_source(tmp_path: Path) -> None:
    path = make_plan(tmp_path / "p.xlsx", top_left="C5", as_table=True, extra_sheets=["Notes"])
    book = xw.Book(json=payload_from_file(path))
    src = XlwingsWorkbook(book)
    with open_workbook(path) as wb:
        from_file = locate_plan(wb)
    from_book = locate_plan(src)
    assert from_book.sheet == from_file.sheet == "Plan"
    assert (from_book.header_row, from_book.first_col) == (from_file.header_row, from_file.first_col) == (5, 3)
    assert from_book.data_rows == from_file.data_rows
    assert [c.field for c in from_book.columns] == [c.field for c in from_file.columns]
    assert from_book.table is not None and from_book.table.name == "Plan"
    assert from_book.table.ref == "C5:P10"
    g = src.grid("Plan")
    assert (g.origin_row, g.origin_col) == (1, 1) and g.value(6, 4) == "Customer needs survey"
    assert src.sheet_names == ["Notes", "Plan"] and src.date1904 is False


# --- one change list, two targets ----------------------------------------------------------

def _messy_plan(tmp_path: Path) -> Path:
    rows = [list(r) for r in ROWS]
    rows[1][HEADERS.index("Budget")] = "$1,2OO"                 # a letter O among digits
    rows[2][HEADERS.index("End Date")] = dt.date(2027, 3, 1)    # ends before it starts
    rows[4][HEADERS.index("Actual")] = -300
    return make_plan(tmp_path / "plan.xlsx", rows, top_left="B3", as_table=True)


def test_run_all_gives_the_cli_result(tmp_path: Path) -> None:
    """The same plan through the CLI's file target and through the ribbon: the same
    change list, and the same cell values and formulas in the workbook."""
    src = _messy_plan(tmp_path)
    opts = P.Options()
    analysis = P.analyse(src, opts)
    cli_changes = P.render(analysis, opts, src.name)
    out = tmp_path / "out.xlsx"
    P.apply(src, out, cli_changes)

    xl = Excel(payload_from_file(src))
    book = xl.book()
    ribbon_changes, _ = excel.book_changes(book, "run_all")
    def described(cl: ch.ChangeList) -> list[str]:   # the summary's "generated at" may tick
        return [STAMP.sub("<time>", d) for d in cl.describe()]

    assert described(ribbon_changes) == described(cli_changes)

    result = xl.run("run_all")
    assert result is not None
    assert result.errors == sum(f.severity == "error" for f in analysis.findings) > 0
    written = file_cells(out)
    expected: dict[tuple[str, int, int], object] = {}
    for c in cli_changes:
        for cell in (c.all_cells() if isinstance(c, ch.ReplaceSheet) else [c]):
            if isinstance(cell, ch.SetCell):
                sheet = c.name if isinstance(c, ch.ReplaceSheet) else cell.sheet
                expected[(sheet, cell.row, cell.col)] = "=" + cell.formula if cell.formula else cell.value
    assert len(expected) > 100
    for (sheet, r, col), want in expected.items():
        in_file = written.get((sheet, r, col))
        in_excel = xl.value(sheet, r, col)
        assert _same(in_file, want) or (want in ("", None) and in_file is None), (sheet, r, col)
        assert _same(in_excel, want) or (want in ("", None) and in_excel is None), (sheet, r, col)
    # marks and notes landed on the same cells as in the file target
    marked = {(c.sheet, c.row, c.col) for c in cli_changes if isinstance(c, ch.MarkCell)}
    plan = analysis.parsed.plan.sheet
    assert {k for k, v in xl.fills.items() if v in ("#FFC7CE", "#FFEB9C") and k[0] == plan} == marked
    assert {n["address"].replace("$", "") for n in xl.sheet(plan)["notes"]} == \
        {cell_ref(r, c) for (_, r, c) in marked}
    assert xl.names()[:1] == [plan] and {"Validation", "Summary", STATE_SHEET} <= set(xl.names())
    assert xl.sheet(STATE_SHEET)["visibility"] == "VeryHidden"
    assert any(link.startswith("#" + quote_sheet(plan) + "!") for link in xl.links.values())
    assert any(a["func"] == "addChart" or a["func"].lower().startswith("addchart") or "Chart" in a["func"]
               for a in xl.last_actions)


def test_sample_plan_on_the_remote_engine(sample: Path) -> None:
    """The bundled sample: every finding of the CLI but the one that needs the Channel
    dropdown's list, which the remote engine's payload does not carry."""
    opts = P.Options()
    from_file = {(f.rule, f.cell) for f in P.analyse(sample, opts).findings}
    xl = Excel(payload_from_file(sample))
    from_book = {(f.rule, f.cell) for f in excel.analyse_book(xl.book(), opts).findings}
    assert from_book <= from_file
    assert from_file - from_book == {("XP208", "F19")}
    result = xl.run("run_all")
    assert result is not None and result.errors > 0
    assert {"Validation", "Summary"} <= set(xl.names())


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    evil = "=cmd|' /C calc'!A0"
    rows = [list(r) for r in ROWS]
    rows[0][HEADERS.index("Budget")] = evil       # not a number: reported with its value
    xl = Excel(payload_from_file(make_plan(tmp_path / "p.xlsx", rows)))
    xl.run("validate")
    writes = [(a["func"], v) for a in xl.last_actions if a["func"] in ("setValues", "setFormula")
              for row in a["values"] for v in row if isinstance(v, str) and "cmd|" in v]
    assert ("setValues", "'" + evil) in writes, "the finding's value is shown on the Validation sheet"
    assert all(func == "setValues" and v.startswith("'") for func, v in writes)
    shown = [xl.value("Validation", r, 6) for r in range(1, 30)]
    assert evil in shown
    # and straight through the target: every string goes with Excel's text prefix
    book = xw.Book(json=payload_from_file(tmp_path / "p.xlsx"))
    apply_to_book(book, ch.ChangeList([ch.SetCell("Plan", 20, 1, evil), ch.SetCell("Plan", 21, 1, "00123"),
                                       ch.SetCell("Plan", 22, 1, 5.0, formula="SUM(I2:I3)"),
                                       ch.SetCell("Plan", 23, 1, "Upstream")]))
    acts = {(a["start_row"], a["func"]): a["values"] for a in book.json()["actions"] if a["values"]}
    assert acts[(19, "setValues")] == [["'" + evil], ["'00123"]]
    assert acts[(21, "setFormula")] == [["=SUM(I2:I3)"]]
    assert acts[(22, "setValues")] == [["Upstream"]]     # a plain word needs no prefix


def test_clear_marks_restores_the_original_colours(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][HEADERS.index("Budget")] = "lots"            # error at I3
    rows[3][HEADERS.index("Actual")] = -5                # error at J5
    xl = Excel(payload_from_file(make_plan(tmp_path / "p.xlsx", rows)))
    user_fills = {("Plan", 3, 9): "FFFF00"}              # the user had coloured I3 yellow
    xl.run("validate", original_fill=lambda s, r, c: user_fills.get((s, r, c)))
    assert xl.fills[("Plan", 3, 9)] == "#FFC7CE" and xl.fills[("Plan", 5, 10)] == "#FFC7CE"
    state = read_state(xl.book())
    marks = {(r["sheet"], r["ref"]): r["fill"] for r in state.of("mark")}
    assert marks == {("Plan", "I3"): "FFFF00", ("Plan", "J5"): None}

    # running again (no colour lookup now) keeps the original colours, replaces the sheet
    xl.run("validate")
    assert {(r["sheet"], r["ref"]): r["fill"] for r in read_state(xl.book()).of("mark")} == marks
    assert xl.names().count("Validation") == 1 and "Validation (xlplugin)" not in xl.names()

    result = xl.run("clear")
    assert result is not None and result.report.marks_cleared == 2
    assert xl.fills[("Plan", 3, 9)] == "#FFFF00"         # the user's yellow is back
    assert xl.fills[("Plan", 5, 10)] is None              # no fill, as before
    assert xl.sheet("Plan")["notes"] == []
    assert "Validation" not in xl.names()
    assert read_state(xl.book()).records == []
    assert xl.alerts[-1].startswith("Cleared 2 highlighted cells")


def test_clear_removes_the_stage_column_it_added(tmp_path: Path) -> None:
    xl = Excel(payload_from_file(make_plan(tmp_path / "p.xlsx")))
    before = [row[:] for row in xl.sheet("Plan")["values"]]
    xl.run("label")
    added = [c for c in range(len(HEADERS) + 1, len(HEADERS) + 4) if xl.value("Plan", 1, c)]
    assert added, "label adds its suggestion columns beside the plan"
    xl.run("clear")
    width = len(before[0])
    assert [row[:width] for row in xl.sheet("Plan")["values"][:len(before)]] == before
    assert all(xl.value("Plan", r, c) is None for r in range(1, 8) for c in added)


def test_table_grows_once_and_shrinks_back(tmp_path: Path) -> None:
    xl = Excel(payload_from_file(make_plan(tmp_path / "p.xlsx", top_left="B3", as_table=True)))
    xl.run("run_all")
    grown = xl.sheet("Plan")["tables"][0]["range_address"]
    last_header = max(c for c in range(1, 40) if xl.value("Plan", 3, c) is not None)
    assert grown == f"$B$3:{cell_ref(8, last_header, True)}" and last_header > 16
    xl.run("run_all")                                   # idempotent: no second growth
    assert not [a for a in xl.last_actions if a["func"] == "resizeTable"]
    assert max(c for c in range(1, 40) if xl.value("Plan", 3, c) is not None) == last_header
    xl.run("clear")
    assert xl.sheet("Plan")["tables"][0]["range_address"] == "$B$3:$O$8"
    assert all(xl.value("Plan", r, c) is None for r in range(3, 9) for c in range(16, last_header + 1))
    assert not any(n["name"] == "_xlplugin_columns" for n in xl.payload["names"])


def test_the_state_sheet_is_the_file_targets_format(tmp_path: Path) -> None:
    """Records the ribbon keeps read back through the file target's state reader."""
    from xlplugin.file.write.state import State, from_sheet_xml, to_sheet_xml
    rows = [list(r) for r in ROWS]
    rows[1][HEADERS.index("Budget")] = "lots"
    xl = Excel(payload_from_file(make_plan(tmp_path / "p.xlsx", rows, as_table=True)))
    xl.run("run_all")
    ours = read_state(xl.book()).records
    assert {r["kind"] for r in ours} >= {"sheet", "mark", "note", "cells", "table", "name"}
    stored = [[v for v in row if v not in ("", None)] for row in xl.sheet(STATE_SHEET)["values"]]
    assert stored[0] == ["kind", "sheet", "data"] and stored[1][0] == "version"
    again = from_sheet_xml(to_sheet_xml(State([dict(r) for r in ours])))
    assert sorted(map(repr, again.records)) == sorted(map(repr, ours))
    # the same canonical row order as the file target writes
    assert [row[0] for row in stored[2:]] == [r["kind"] for r in again.records]


def test_a_users_own_summary_sheet_is_never_touched(tmp_path: Path) -> None:
    path = make_plan(tmp_path / "p.xlsx", extra_sheets=["Summary"])
    xl = Excel(payload_from_file(path))
    xl.run("summary")
    assert xl.value("Summary", 1, 1) == "Summary notes"
    assert "Summary (xlplugin)" in xl.names()
    user_pos = xl.names().index("Summary")
    assert not any(a["sheet_position"] == user_pos and a["func"] in ("setValues", "setFormula", "sheetDelete")
                   for a in xl.last_actions)
    xl.run("summary")
    assert xl.names().count("Summary (xlplugin)") == 1 and xl.value("Summary", 1, 1) == "Summary notes"


def test_a_book_without_a_plan_gets_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "hello"
    wb.save(path)
    xl = Excel(payload_from_file(path))
    assert xl.run("run_all") is None
    assert len(xl.alerts) == 1 and "\n" not in xl.alerts[0] and "empty.xlsx" in xl.alerts[0]
    assert [a["func"] for a in xl.last_actions] == ["alert"]


def test_new_plan(tmp_path: Path) -> None:
    (tmp_path / "Marketing plan.xlsx").write_bytes(b"")
    assert excel.new_plan_path(tmp_path).name == "Marketing plan (2).xlsx"
    book = xw.Book(json=payload_from_file(make_plan(tmp_path / "p.xlsx")))
    result = excel.ribbon_on(book, "new_plan")
    assert result is None
    assert "xlplugin new" in book.json()["actions"][-1]["args"][0]


def test_ribbon_sources_dispatch_every_button() -> None:
    root = Path(__file__).resolve().parents[1] / "templates" / "ribbon"
    from lxml import etree
    ui = etree.parse(str(root / "customUI14.xml"))
    ns = {"m": "http://schemas.microsoft.com/office/2009/07/customui"}
    buttons = ui.findall(".//m:button", ns)
    assert {b.get("tag") for b in buttons} == set(excel.COMMANDS)
    assert {b.get("onAction") for b in buttons} == {"OnXlpluginButton"}
    assert ui.find(".//m:tab", ns).get("label") == "Marketing Plan"
    bas = (root / "xlplugin.bas").read_text()
    assert "Public Sub OnXlpluginButton(control As IRibbonControl)" in bas
    assert "x.ribbon('\" & tag & \"')" in bas


def test_validate_alert_sums_up_and_screen_updating_is_off_around_writes(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][HEADERS.index("Budget")] = "lots"
    rows[3][HEADERS.index("Actual")] = -5
    xl = Excel(payload_from_file(make_plan(tmp_path / "p.xlsx", rows)))
    result = xl.run("validate")
    assert result is not None and result.errors == 2
    assert xl.alerts[-1].startswith("2 errors, 0 warnings in ") and "Most often: " in xl.alerts[-1]
    funcs = [a["func"] for a in xl.last_actions]
    assert funcs[0] == "setScreenUpdating" and xl.last_actions[0]["args"] == [False]
    last_write = max(i for i, f in enumerate(funcs) if f not in ("alert", "setScreenUpdating"))
    assert funcs.index("setScreenUpdating", 1) > last_write and funcs[-1] == "alert"
