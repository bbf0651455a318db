"""The Summary sheet: live formulas checked by LibreOffice forced to recalculate.

The helpers at the top are shared with the metrics/roll-up tests: generated plans with
awkward cells, the real read -> locate -> parse path, stage labels, and an applier.

`write_result` applies a ChangeList to a plan made by `make_plan`.  It uses the project's
lossless writer (`xlplugin.file.write.apply_to_file`) when it is importable, and otherwise
rebuilds the workbook with XlsxWriter (formulas with cached values, Table calculated
columns, charts) so the formula checks never depend on the writer's progress.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path

from tests.plan_factory import make_plan, write_values
from xlplugin.changes import ChangeList, ExtendTable, ReplaceSheet, SetCell
from xlplugin.model import Label, ParsedPlan, col_letter

HEADERS = ["ID", "Activity", "Description", "Channel", "Owner", "Start Date", "End Date",
           "Status", "Budget", "Actual", "KPI", "Leads", "Conversions", "Revenue",
           "Impressions", "Clicks"]
CHANNELS = ["Search", "search", "Social", "Events", "Email", "Research", "Ev*nts ~1?", 'TV "spots"', None]
STAGE_CHOICES = ["Upstream", "Downstream", "Review", None]
# typed by a user in their own Stage column: SUMIFS matches case-insensitively, not "Up"
USER_STAGES = ["Upstream", "downstream", "Up", "Review", None, "Other", "upstream"]


def gen_rows(n: int, seed: int = 1, user_stage: bool = False) -> tuple[list[list[object]], list[object]]:
    """n plan rows with blanks, zero budgets, zero leads, undated rows, text in numbers.

    Returns (rows, stages): stages[i] is what the Stage column will hold (None: not
    labelled).  user_stage: the rows end with a Stage column the user typed.
    """
    rnd = random.Random(seed)
    rows, stages = [], []
    for i in range(n):
        start = dt.date(2026, 10, 1) + dt.timedelta(days=rnd.randrange(0, 540))
        budget: object = rnd.choice([0, 500, 1200, 2500.5, 8000, 12000, 30000, 47250.25])
        actual: object = round(budget * rnd.uniform(0.2, 1.3), 2) if isinstance(budget, (int, float)) else 0
        leads: object = rnd.choice([0, 0, 10, 25, 120, 600, None])
        conv: object = rnd.choice([0, 1, 5, 30, None])
        revenue: object = rnd.choice([0, 1000, 25000.75, 90000, None])
        impressions: object = rnd.choice([0, 1000, 250000, None])
        clicks: object = rnd.choice([0, 10, 3000, None])
        k = i % 11
        if k == 3:
            budget = None           # blank budget
        elif k == 5:
            budget = "n/a"          # text that is not a number
        elif k == 7:
            budget = "1,200"        # a number typed as text: Excel does not sum it
        if k == 4:
            start = None            # no start date
        if k == 6:
            actual = None
        row = [f"A-{i + 1:04d}", f"Activity {i + 1}", "desc", rnd.choice(CHANNELS), "Dana",
               start, None, "Planned", budget, actual, "Leads", leads, conv, revenue,
               impressions, clicks]
        if k == 9:
            row[5] = "2027-03-01"   # a date typed as text
        stage = rnd.choice(USER_STAGES if user_stage else STAGE_CHOICES)
        if user_stage:
            row.append(stage)
        rows.append(row)
        stages.append(stage)
    return rows, stages


def parse_file(path: Path) -> ParsedPlan:
    from xlplugin.engine.locate import locate_plan
    from xlplugin.engine.parse import parse_plan
    from xlplugin.file.read import open_workbook

    with open_workbook(path) as wb:
        plan = locate_plan(wb)
        return parse_plan(wb.grid(plan.sheet), plan, date1904=wb.date1904)


def labels_for(parsed: ParsedPlan, stages: list[object]) -> list[Label]:
    """Labels giving each data row the Stage the test chose (None: no label).  With a
    user's Stage column every row gets a label (the tool's suggestion beside it)."""
    out = []
    user = "stage" in parsed.plan.fields
    for r, st in zip(parsed.frame.index, stages, strict=False):
        if user:
            out.append(Label(int(r), "Review", 0.3, "test", source="user"))
        elif st is not None:
            out.append(Label(int(r), st.capitalize(), 0.9, "test"))
    return out


def stage_changes(parsed: ParsedPlan, labels: list[Label], stages: list[object]) -> ChangeList:
    """The Stage columns as the label step writes them (its own render when it is there)."""
    try:
        from xlplugin.render.labels import label_changes
        return label_changes(parsed, labels)
    except ImportError:
        pass
    from xlplugin.changes import TableColumn
    from xlplugin.render.metric_columns import STAGE_BASIS_HEADER, STAGE_HEADER, data_row_span, label_columns

    plan = parsed.plan
    cols = label_columns(plan)
    first, _ = data_row_span(plan)
    cl = ChangeList()
    if plan.table is not None:
        cl.add(ExtendTable(plan.table.name, plan.sheet, (TableColumn(STAGE_HEADER), TableColumn(STAGE_BASIS_HEADER))))
    cl.add(SetCell(plan.sheet, first - 1, cols[STAGE_HEADER], STAGE_HEADER),
           SetCell(plan.sheet, first - 1, cols[STAGE_BASIS_HEADER], STAGE_BASIS_HEADER))
    for lab in labels:
        cl.add(SetCell(plan.sheet, lab.row, cols[STAGE_HEADER], lab.stage))
    return cl


def have_writer() -> bool:
    try:
        from xlplugin.file.write import apply_to_file  # noqa: F401
    except ImportError:
        return False
    return True


def write_result(src: Path, dest: Path, changes: ChangeList, *, headers: list[str], rows: list[list[object]],
                 as_table: bool, top_left: str, force_xlsxwriter: bool = False) -> Path:
    if have_writer() and not force_xlsxwriter:
        from xlplugin.file.write import apply_to_file
        apply_to_file(src, dest, changes)
        return dest
    return _xlsxwriter_apply(dest, changes, headers, rows, as_table, top_left)


def _xlsxwriter_apply(dest: Path, changes: ChangeList, headers: list[str], rows: list[list[object]],
                      as_table: bool, top_left: str) -> Path:
    import xlsxwriter
    from xlsxwriter.utility import xl_cell_to_rowcol

    wb = xlsxwriter.Workbook(str(dest))
    fmts: dict[tuple, object] = {}

    def fmt(style):
        if style is None:
            return None
        key = (style.number_format, style.bold)
        if key not in fmts:
            opts = {}
            if style.number_format:
                opts["num_format"] = style.number_format
            if style.bold:
                opts["bold"] = True
            fmts[key] = wb.add_format(opts)
        return fmts[key]

    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("Plan")
    r0, c0 = xl_cell_to_rowcol(top_left)
    ext = [c for ch in changes for c in (ch.columns if isinstance(ch, ExtendTable) else ())]
    cells = list(ChangeList(list(changes)).cells())
    if as_table:
        cols = [{"header": h} for h in headers] + [
            {"header": c.name, **({"formula": "=" + c.formula} if c.formula else {})} for c in ext]
        ws.add_table(r0, c0, r0 + max(len(rows), 1), c0 + len(cols) - 1, {"name": "Plan", "columns": cols})
    for j, h in enumerate(headers):
        ws.write_string(r0, c0 + j, h)
    write_values(ws, r0 + 1, c0, rows, date_fmt)
    for c in cells:
        _write_cell(ws, c, fmt(c.style))
    for ch in changes:
        if isinstance(ch, ReplaceSheet):
            s = wb.add_worksheet(ch.name)
            for c in ch.cells:
                _write_cell(s, c, fmt(c.style))
            for col, width in ch.col_widths:
                s.set_column(col - 1, col - 1, width)
            for link in ch.hyperlinks:
                s.write_url(link.row - 1, link.col - 1, "internal:" + link.location)
            for spec in ch.charts:
                kind = {"doughnut": {"type": "doughnut"}, "column_stacked": {"type": "column", "subtype": "stacked"},
                        "bar_clustered": {"type": "bar"}}[spec.kind]
                chart = wb.add_chart(kind)
                for se in spec.series:
                    chart.add_series({"name": se.name, "values": "=" + se.values, "categories": "=" + se.categories})
                chart.set_title({"name": spec.title})
                s.insert_chart(spec.anchor_row - 1, spec.anchor_col - 1, chart)
    wb.close()
    return dest


def _write_cell(ws, c: SetCell, f) -> None:
    r, col = c.row - 1, c.col - 1
    if c.formula is not None:
        ws.write_formula(r, col, "=" + c.formula, f, "" if c.value is None else c.value)
    elif isinstance(c.value, str):
        ws.write_string(r, col, c.value, f)
    elif isinstance(c.value, (dt.date, dt.datetime)):
        ws.write_datetime(r, col, c.value, f)
    elif c.value is None:
        ws.write_blank(r, col, None, f)
    else:
        ws.write_number(r, col, c.value, f)


def same(a: object, b: object, scale: float = 1.0) -> bool:
    """Equal as a spreadsheet shows it: numbers within 1e-9 relative; "" equals blank."""
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, scale))
    return a == b


def formula_cells(changes: ChangeList) -> list[SetCell]:
    out = []
    out.extend(c for c in ChangeList(list(changes)).cells() if c.formula)
    for ch in changes:
        if isinstance(ch, ReplaceSheet):
            out.extend(c for c in ch.cells if c.formula)
    return out


def build(tmp: Path, n: int, as_table: bool, seed: int = 1, *, top_left: str | None = None,
          force_xlsxwriter: bool = False, config=None, user_stage: bool = False):
    """Generate, parse, label, summarise and write one plan.  Returns a dict of everything."""
    from xlplugin.config import Config
    from xlplugin.render.metric_columns import metric_changes
    from xlplugin.render.summary import summary_changes

    top_left = top_left or ("A1" if as_table else "C5")
    rows, stages = gen_rows(n, seed, user_stage)
    headers = [*HEADERS, "Stage"] if user_stage else HEADERS
    tag = f"{'t' if as_table else 'r'}{n}s{seed}{'u' if user_stage else ''}"
    src = make_plan(tmp / f"plan_{tag}.xlsx", rows, headers, as_table=as_table, top_left=top_left)
    parsed = parse_file(src)
    labels = labels_for(parsed, stages)
    config = config or Config(fiscal_year_start=4)
    changes = stage_changes(parsed, labels, stages)
    metrics = metric_changes(parsed)
    summary = summary_changes(parsed, labels, [], config, src.name,
                              produced_at=dt.datetime(2027, 1, 2, 9, 30))
    changes.extend(metrics).extend(summary)
    out = write_result(src, tmp / f"out_{tag}.xlsx", changes, headers=headers, rows=rows,
                       as_table=as_table, top_left=top_left, force_xlsxwriter=force_xlsxwriter)
    return {"src": src, "out": out, "parsed": parsed, "labels": labels, "rows": rows,
            "stages": stages, "metrics": metrics, "summary": summary, "changes": changes}


def letter(col: int) -> str:
    return col_letter(col)


# ---------------------------------------------------------------------------------------
# tests

import zipfile  # noqa: E402

import pytest  # noqa: E402

from tests import libreoffice as lo  # noqa: E402
from xlplugin.config import Config  # noqa: E402
from xlplugin.model import Finding, split_ref  # noqa: E402
from xlplugin.render.summary import NOT_LABELLED, quarter_of, summary_changes  # noqa: E402

needs_lo = pytest.mark.skipif(not lo.available(), reason="LibreOffice is not installed")
ARTIFACTS = Path(__file__).parent / "artifacts"


def _sheet(changes: ChangeList) -> ReplaceSheet:
    sheets = [c for c in changes if isinstance(c, ReplaceSheet)]
    assert len(sheets) == 1
    return sheets[0]


def _cells(sheet: ReplaceSheet) -> dict[tuple[int, int], SetCell]:
    return {(c.row, c.col): c for c in sheet.cells}


def _find_row(cells: dict[tuple[int, int], SetCell], text: str, after: int = 0) -> int:
    return min(r for (r, c), cell in cells.items() if c == 1 and r > after and cell.value == text)


def _head_row(cells: dict[tuple[int, int], SetCell], title: str) -> int:
    """The header row of the block titled `title` (under its title and its note)."""
    top = _find_row(cells, title)
    return min(r for (r, c), cell in cells.items() if c == 1 and r > top
               and cell.style is not None and cell.style.fill == "DDEBF7")


def _pandas_figures(rows: list[list[object]], stages: list[object], fy_start: int) -> dict:
    """The figures computed independently with a pandas groupby over the generated rows,
    treating cells as Excel does (text in a number cell is not a number)."""
    import pandas as pd

    def num(v):
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else float("nan")

    names = {"upstream": "Upstream", "downstream": "Downstream", "review": "Review"}
    df = pd.DataFrame({
        "stage": [names.get(s.casefold(), NOT_LABELLED) if isinstance(s, str) else NOT_LABELLED
                  for s in stages],
        "budget": [num(r[8]) for r in rows], "actual": [num(r[9]) for r in rows],
        "leads": [num(r[11]) for r in rows],
        "channel": [r[3].casefold() if isinstance(r[3], str) else None for r in rows],
        "quarter": [quarter_of(r[5], fy_start).label if isinstance(r[5], dt.date) else None for r in rows],
    })
    return {
        "stage_budget": df.groupby("stage")["budget"].sum().to_dict(),
        "stage_actual": df.groupby("stage")["actual"].sum().to_dict(),
        "stage_leads": df.groupby("stage")["leads"].sum().to_dict(),
        "quarter_stage": df.groupby(["quarter", "stage"])["budget"].sum().to_dict(),
        "channel_budget": df.groupby("channel")["budget"].sum().to_dict(),
        "total": df["budget"].sum(),
    }


def _check_against_pandas(res: dict, book: lo.Book) -> int:
    """LibreOffice's figures on the Summary equal pandas' groupby.  Returns cells compared."""
    fig = _pandas_figures(res["rows"], res["stages"], 4)
    sheet = _sheet(res["summary"])
    cells = _cells(sheet)
    got = book[sheet.name]
    scale = fig["total"]
    n = 0
    hdr = _head_row(cells, "Activities and budget by stage")
    heads = {cells[(hdr, c)].value: c for (r, c) in cells if r == hdr}
    for i, stage in enumerate(("Upstream", "Downstream", "Review", NOT_LABELLED)):
        r = hdr + 1 + i
        assert same(got.get((r, heads["Budget"])), fig["stage_budget"].get(stage, 0.0), scale), stage
        assert same(got.get((r, heads["Actual"])), fig["stage_actual"].get(stage, 0.0), scale), stage
        n += 2
    assert same(got[(hdr + 5, heads["Budget"])], fig["total"], scale)
    fr = _head_row(cells, "Funnel by stage")
    for i, stage in enumerate(("Upstream", "Downstream", "Review", NOT_LABELLED)):
        assert same(got.get((fr + 1 + i, 2)), fig["stage_leads"].get(stage, 0.0), scale)
        n += 1
    qr = _head_row(cells, "Budget by quarter and stage")
    r = qr + 1
    while cells[(r, 1)].value.startswith("FY"):
        for k, stage in enumerate(("Upstream", "Downstream", "Review", NOT_LABELLED)):
            want = fig["quarter_stage"].get((cells[(r, 1)].value, stage), 0.0)
            assert same(got.get((r, 2 + k)), want, scale), (cells[(r, 1)].value, stage)
            n += 1
        r += 1
    cr = _head_row(cells, "Budget by channel and stage")
    r = cr + 1
    while cells[(r, 1)].value not in ("Other / no channel", "Total"):
        want = fig["channel_budget"][cells[(r, 1)].value.casefold()]
        assert same(got.get((r, 6)), want, scale), cells[(r, 1)].value
        n += 1
        r += 1
    return n


@needs_lo
@pytest.mark.slow
def test_libreoffice_recalculates_every_summary_and_metric_cell_to_the_cached_value(tmp_path):
    """5, 40, 500 rows; Excel Table (structured refs) and a plain range at C5: LibreOffice,
    forced to recalculate, computes every formula equal to the cached value and to pandas."""
    results = [build(tmp_path, n, as_table) for n in (5, 40, 500) for as_table in (True, False)]
    results += [build(tmp_path, 40, as_table, seed=2, user_stage=True) for as_table in (True, False)]
    books = lo.recalculate_values([r["out"] for r in results], tmp_path)
    for res in results:
        book = books[res["out"]]
        name = res["out"].name
        assert book.errors() == [], name
        scale = 1e6
        cells = formula_cells(res["changes"])
        assert len(cells) > 100
        wrong = [(c.describe(), book[c.sheet].get((c.row, c.col))) for c in cells
                 if not same(book[c.sheet].get((c.row, c.col)), c.value, scale)]
        assert wrong == [], (name, wrong[:5])
        assert _check_against_pandas(res, book) > 20


def test_structured_references_for_a_table_absolute_ranges_otherwise(tmp_path):
    t = build(tmp_path, 12, True, force_xlsxwriter=True)
    r = build(tmp_path, 12, False, force_xlsxwriter=True)
    tf = [c.formula for c in _sheet(t["summary"]).cells if c.formula and "IFS(" in c.formula]
    rf = [c.formula for c in _sheet(r["summary"]).cells if c.formula and "IFS(" in c.formula]
    assert tf and all("Plan[" in f and "'Plan'!" not in f for f in tf)
    assert rf and all("'Plan'!$" in f and "Plan[" not in f for f in rf)
    assert any(f == "SUMIFS(Plan[Budget],Plan[Stage],\"Upstream\")" for f in tf)


def test_charts_point_at_the_summary_tables(tmp_path):
    res = build(tmp_path, 40, True)      # through the real writer when it is there
    sheet = _sheet(res["summary"])
    cells = _cells(sheet)
    kinds = {c.kind: c for c in sheet.charts}
    assert set(kinds) == {"doughnut", "column_stacked", "bar_clustered"}
    for chart in sheet.charts:
        for s in chart.series:
            sh, rng = s.values.split("!")
            assert sh == "'Summary'"
            a, b = rng.split(":")
            (r1, c1), (r2, c2) = split_ref(a), split_ref(b)
            assert c1 == c2 and r2 >= r1
            cats = s.categories.split("!")[1].split(":")
            assert split_ref(cats[0])[0] == r1 and split_ref(cats[1])[0] == r2
            # the categories are the row labels, the values formulas of that block
            assert all(isinstance(cells[(r, 1)].value, str) for r in range(r1, r2 + 1))
            assert all(cells[(r, c1)].formula for r in range(r1, r2 + 1))
    doughnut = kinds["doughnut"].series[0]
    r1 = split_ref(doughnut.categories.split("!")[1].split(":")[0])[0]
    assert [cells[(r1 + i, 1)].value for i in range(4)] == ["Upstream", "Downstream", "Review", NOT_LABELLED]
    assert [s.name for s in kinds["column_stacked"].series] == ["Upstream", "Downstream", "Review", NOT_LABELLED]
    assert [s.name for s in kinds["bar_clustered"].series] == ["Budget", "Actual"]
    # the written file: every chart's series formulas are the specs' ranges
    with zipfile.ZipFile(res["out"]) as z:
        refs = set()
        for name in z.namelist():
            if name.startswith("xl/charts/chart"):
                xml = z.read(name).decode()
                refs |= {x.split("</c:f>")[0] for x in xml.split("<c:f>")[1:]}
    want = {x for c in sheet.charts for s in c.series for x in (s.values, s.categories)}
    assert want <= {r.replace("&apos;", "'") for r in refs}


def test_header_block_counts_findings_and_links_to_validation(tmp_path):
    rows, stages = gen_rows(6)
    src = make_plan(tmp_path / "p.xlsx", rows, HEADERS)
    parsed = parse_file(src)
    findings = [Finding("XP101", "error", "Plan", "bad"), Finding("XP201", "warning", "Plan", "hmm"),
                Finding("XP202", "warning", "Plan", "hmm")]
    sheet = _sheet(summary_changes(parsed, labels_for(parsed, stages), findings, Config(), "p.xlsx"))
    cells = _cells(sheet)
    values = {cells[(r, 1)].value: cells[(r, 2)].value for (r, c) in cells if c == 1 and (r, 2) in cells}
    assert values["Errors"] == 1 and values["Warnings"] == 2
    assert "p.xlsx" in values["Plan"]
    assert [h.location for h in sheet.hyperlinks] == ["'Validation'!A1"]
    clean = _sheet(summary_changes(parsed, None, [], Config(), "p.xlsx"))
    assert clean.hyperlinks == ()


def test_plan_text_is_never_a_formula_and_criteria_match_exactly(tmp_path):
    rows, stages = gen_rows(8)
    rows[0][3] = "=cmd|' /C calc'!A0"
    rows[1][3] = "Ev*nts ~1?"
    src = make_plan(tmp_path / "p.xlsx", rows, HEADERS)
    parsed = parse_file(src)
    sheet = _sheet(summary_changes(parsed, labels_for(parsed, stages), [], Config(), "p.xlsx"))
    cells = _cells(sheet)
    label = next(c for c in cells.values() if c.value == "=cmd|' /C calc'!A0")
    assert label.formula is None
    crits = [c.formula for c in cells.values() if c.formula and '"=Ev~*nts ~~1~?"' in c.formula]
    assert crits


def test_balance_of_upstream_and_downstream_against_the_floor(tmp_path):
    rows = [[f"A{i}", f"Act {i}", "", "Search", "", dt.date(2027, 1, 5), None, "", b, b, "", 1, 1, 1, 1, 1]
            for i, b in enumerate([950, 50])]
    src = make_plan(tmp_path / "p.xlsx", rows, HEADERS)
    parsed = parse_file(src)
    labels = labels_for(parsed, ["Downstream", "Upstream"])
    sheet = _sheet(summary_changes(parsed, labels, [], Config(stage_floor=0.10), "p.xlsx"))
    cells = _cells(sheet)
    r = _head_row(cells, "Balance of upstream and downstream")
    status = {cells[(r + k, 1)].value: cells[(r + k, 4)].value for k in (1, 2)}
    assert status == {"Upstream": "Below floor", "Downstream": "OK"}
    assert cells[(r + 1, 2)].value == pytest.approx(0.05)


def test_fiscal_quarters():
    assert quarter_of(dt.date(2027, 1, 15)).label == "FY27 Q1"
    assert quarter_of(dt.date(2027, 12, 31)).label == "FY27 Q4"
    q = quarter_of(dt.date(2027, 5, 2), fy_start=4)          # FY runs Apr 2027 - Mar 2028
    assert (q.label, q.start, q.end) == ("FY28 Q1", dt.date(2027, 4, 1), dt.date(2027, 7, 1))
    q = quarter_of(dt.date(2027, 2, 10), fy_start=4)
    assert (q.label, q.start, q.end) == ("FY27 Q4", dt.date(2027, 1, 1), dt.date(2027, 4, 1))
    q = quarter_of(dt.date(2026, 12, 1), fy_start=11)
    assert (q.label, q.start) == ("FY27 Q1", dt.date(2026, 11, 1))


def test_no_budget_column_still_summarises(tmp_path):
    headers = ["ID", "Activity", "Channel"]
    src = make_plan(tmp_path / "p.xlsx", [["1", "Focus group", "Research"], ["2", "Ads", "Search"]], headers)
    parsed = parse_file(src)
    sheet = _sheet(summary_changes(parsed, None, [], Config(), "p.xlsx"))
    assert sheet.charts == ()
    assert any(c.value == "Activities" for c in sheet.cells)


@pytest.mark.skipif(not have_writer(), reason="the file writer is not there yet")
def test_rerun_replaces_the_summary(tmp_path):
    import openpyxl

    from xlplugin.file.write import apply_to_file

    res = build(tmp_path, 20, True)
    again = tmp_path / "again.xlsx"
    parsed = parse_file(res["out"])
    labels = labels_for(parsed, res["stages"])
    from xlplugin.render.metric_columns import metric_changes
    cl = stage_changes(parsed, labels, res["stages"]).extend(metric_changes(parsed)).extend(
        summary_changes(parsed, labels, [], Config(fiscal_year_start=4), "again"))
    apply_to_file(res["out"], again, cl)
    wb = openpyxl.load_workbook(again)
    assert [n for n in wb.sheetnames if n.startswith("Summary")] == ["Summary"]
    first = openpyxl.load_workbook(res["out"])
    assert first["Plan"].max_column == wb["Plan"].max_column      # no duplicated metric columns


@needs_lo
@pytest.mark.slow
def test_summary_renders_to_png(tmp_path):
    """LibreOffice renders the Summary (PDF, one page per sheet) and pdftoppm makes a PNG,
    kept in tests/artifacts/ for a human to look at."""
    res = build(tmp_path, 40, True)
    import openpyxl

    names = openpyxl.load_workbook(res["out"], read_only=True).sheetnames
    page = names.index("Summary") + 1
    pngs = lo.render_png(res["out"], tmp_path / "render", page=page, dpi=70)
    assert pngs and pngs[0].stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "summary.png"
    target.write_bytes(pngs[0].read_bytes())
    assert target.exists()


@needs_lo
@pytest.mark.slow
def test_pipeline_run_output_recalculates_to_its_cached_values(tmp_path):
    """The whole flow (pipeline.process_file: read, locate, parse, check, label, render,
    apply): every formula in the written workbook recalculates in LibreOffice to the value
    xlplugin cached, in both layouts, with no error cell."""

    from xlplugin.pipeline import Options, process_file

    outs = []
    (tmp_path / "out").mkdir()
    for as_table in (True, False):
        rows, _ = gen_rows(60, seed=5)
        src = make_plan(tmp_path / f"in_{as_table}.xlsx", rows, HEADERS, as_table=as_table,
                        top_left="A1" if as_table else "C5")
        res = process_file(src, Options(out_dir=tmp_path / "out"))
        assert res.error is None, res.error
        outs.append(res.output)
    books = lo.recalculate_values(outs, tmp_path)
    for out in outs:
        book = books[out]
        assert book.errors() == [], out.name
        assert _formulas_recalculate_to_cached(out, book) > 500


def _formulas_recalculate_to_cached(out: Path, book, skip=lambda sheet, row: False) -> int:
    """Every formula cell of `out` (but those `skip` names) recalculated in `book` (LibreOffice)
    to the value xlplugin cached; returns how many were compared."""
    import openpyxl

    cached = lo.read_values(out)
    n = 0
    for ws in openpyxl.load_workbook(out).worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("=") and not skip(ws.title, c.row):
                    want = cached[ws.title].get((c.row, c.column))
                    got = book[ws.title].get((c.row, c.column))
                    assert same(got, want, 1e6), (out.name, ws.title, c.coordinate, c.value, want, got)
                    n += 1
    return n


@needs_lo
@pytest.mark.slow
def test_subtotals_and_section_rows_inside_the_plan_are_not_summed(tmp_path):
    """A plan with a section heading and a subtotal row between its activities (rows the
    parser leaves out): every Summary and metric formula recalculates in LibreOffice to the
    cached value, which counts the activities only (4 activities, 16,000, none 'Not labelled')."""
    import xlsxwriter

    from xlplugin.pipeline import Options, process_file

    src = tmp_path / "subtotals.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("Plan")
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["Activity", "Start Date", "End Date", "Budget", "Actual Spend", "Channel"])
    ws.write(1, 0, "Research")                      # a section heading
    rows = [("Customer interviews", (1, 5), (1, 20), 1000, 900, "Research"),
            ("Pricing study", (2, 1), (2, 20), 2000, 2100, "Research"),
            None,                                    # the subtotal row
            ("Search ads", (3, 1), (3, 31), 5000, 4800, "Paid search"),
            ("Trade show", (4, 1), (4, 3), 8000, 8200, "Events")]
    for i, r in enumerate(rows, start=2):
        if r is None:
            ws.write(i, 0, "Research subtotal")
            ws.write_formula(i, 3, "=SUM(D3:D4)", None, 3000)
            ws.write_formula(i, 4, "=SUM(E3:E4)", None, 3000)
            continue
        name, (m1, d1), (m2, d2), budget, actual, channel = r
        ws.write(i, 0, name)
        ws.write_datetime(i, 1, dt.datetime(2027, m1, d1), date)
        ws.write_datetime(i, 2, dt.datetime(2027, m2, d2), date)
        ws.write_row(i, 3, [budget, actual, channel])
    wb.close()
    (tmp_path / "out").mkdir()
    res = process_file(src, Options(out_dir=tmp_path / "out"))
    assert res.error is None, res.error
    out = res.output
    book = lo.recalculate_values([out], tmp_path)[out]
    assert book.errors() == []
    # the heading (row 2) and the subtotal (row 5) keep their own formulas, and the metric
    # columns' fill-down carries no cached value there (rows parse left out)
    assert _formulas_recalculate_to_cached(out, book, skip=lambda sheet, row: sheet == "Plan" and row in (2, 5)) > 50
    summary = book["Summary"]

    def numbers_after(label: str) -> list[float]:
        """The numbers of the first row whose first cell is `label` (the stage block's)."""
        r = min(r for (r, c), v in summary.items() if c == 1 and v == label)
        return [v for (rr, _c), v in sorted(summary.items()) if rr == r and isinstance(v, (int, float))]

    assert numbers_after("Total")[:2] == [4, 16000]
    assert numbers_after("Not labelled")[:2] == [0, 0]
