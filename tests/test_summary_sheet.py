"""The Summary as a marketer sees it: `xlplugin run` on a realistic 40-row plan (the
bundled sample), then the workbook read back: formats, colours, words, charts, print
settings; plans that lack columns; rendered PNGs kept in tests/artifacts/ to look at."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests import libreoffice as lo
from tests.plan_factory import make_plan
from tests.test_cli import cli
from xlplugin.render.summary.layout import STAGE_COLORS, STAGE_ROWS

SAMPLE = Path(__file__).resolve().parent.parent / "templates" / "sample-plan.xlsx"
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("summary")
    src = shutil.copy(SAMPLE, tmp / "sample-plan.xlsx")
    r = cli("run", str(src))
    assert r.returncode == 1, r.stderr          # the sample has planted errors
    return tmp / "sample-plan.checked.xlsx"


def _rows(ws) -> dict[str, int]:
    """Column-A text -> its first row."""
    out: dict[str, int] = {}
    for r in range(1, ws.max_row + 1):
        v = ws.cell(r, 1).value
        if isinstance(v, str):
            out.setdefault(v, r)
    return out


def _part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode()


def _summary_part(path: Path) -> str:
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    return _part(path, f"xl/worksheets/sheet{names.index('Summary') + 1}.xml")


def _charts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [z.read(n).decode() for n in sorted(z.namelist()) if n.startswith("xl/charts/chart")]


def test_amounts_in_the_plans_own_currency_format(sample_out):
    ws = openpyxl.load_workbook(sample_out)["Summary"]
    rows = _rows(ws)
    head = rows["Stage"]
    budget_col = next(c for c in range(1, 10) if ws.cell(head, c).value == "Budget")
    assert ws.cell(head + 1, budget_col).number_format == "$#,##0"          # the plan's own
    plan = openpyxl.load_workbook(sample_out)["2027 Plan"]
    variance = next(c for c in range(1, plan.max_column + 1) if plan.cell(3, c).value == "Variance")
    assert plan.cell(4, variance).number_format == "$#,##0"


def test_one_stage_palette_in_cells_and_every_chart(sample_out):
    ws = openpyxl.load_workbook(sample_out)["Summary"]
    head = _rows(ws)["Stage"]
    for i, stage in enumerate(STAGE_ROWS):
        assert ws.cell(head + 1 + i, 1).value == stage
        assert ws.cell(head + 1 + i, 1).fill.fgColor.rgb[-6:] == STAGE_COLORS[stage]
    doughnut, columns, bars = _charts(sample_out)
    slices = re.findall(r"<c:dPt>.*?<a:srgbClr val=\"(\w+)\"", doughnut)
    assert slices == [STAGE_COLORS[s] for s in STAGE_ROWS]
    series = re.findall(r"<c:ser>.*?<c:v>([^<]+)</c:v>.*?<a:srgbClr val=\"(\w+)\"", columns)
    assert dict(series) == {s: STAGE_COLORS[s] for s in STAGE_ROWS}
    assert not set(re.findall(r'srgbClr val="(\w+)"', bars)) & set(STAGE_COLORS.values())


def test_charts_have_data_and_category_labels(sample_out):
    doughnut, columns, bars = _charts(sample_out)
    assert '<c:showPercent val="1"/>' in doughnut
    assert '<c:showVal val="1"/>' in bars
    cats = re.search(r"<c:cat>.*?</c:cat>", bars, re.S).group(0)
    assert "Events" in cats and "Other / no channel" in cats           # cached category labels
    assert '<c:tickLblPos val="low"/>' in bars


def test_n_a_where_nothing_is_measured_yet_and_plain_words(sample_out):
    ws = openpyxl.load_workbook(sample_out)["Summary"]
    rows = _rows(ws)
    words = {ws.cell(r, c).value for r in range(1, ws.max_row + 1) for c in range(1, 10)}
    assert "Balance of upstream and downstream" in words and "Integration check" not in words
    funnel = rows["Funnel by stage"]
    head = next(r for r in range(funnel, funnel + 3) if ws.cell(r, 1).value == "Stage")
    roi = next(c for c in range(1, 12) if ws.cell(head, c).value == "ROI")
    assert ws.cell(head + 1, 1).value == "Upstream" and ws.cell(head + 1, roi).value.endswith('"n/a")')
    cached = openpyxl.load_workbook(sample_out, data_only=True)["Summary"]
    assert cached.cell(head + 1, roi).value == "n/a"                    # not -100%
    assert not any(v == -1 for row in cached.iter_rows(values_only=True) for v in row)


def test_the_header_says_what_the_plan_was_read_as(sample_out):
    ws = openpyxl.load_workbook(sample_out)["Summary"]
    header = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, 8)}
    assert header["Read as"].startswith("activity plan")
    assert header["Errors"] == 6


def test_print_settings_landscape_one_page_wide_charts_whole(sample_out):
    xml = _summary_part(sample_out)
    assert '<pageSetUpPr fitToPage="1"/>' in xml
    assert '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/>' in xml
    breaks = [int(b) + 1 for b in re.findall(r'<brk id="(\d+)"', xml)]
    assert breaks
    drawing = next(n for n in zipfile.ZipFile(sample_out).namelist() if n.startswith("xl/drawings/drawing"))
    anchors = re.findall(r"<xdr:from>.*?<xdr:row>(\d+)</xdr:row>.*?<xdr:to>.*?<xdr:row>(\d+)</xdr:row>",
                         _part(sample_out, drawing))
    assert len(anchors) == 3
    for top, bottom in anchors:                       # no page break inside a chart
        assert not any(int(top) + 1 < b <= int(bottom) + 1 for b in breaks), (top, bottom, breaks)
    names = openpyxl.load_workbook(sample_out, read_only=True).sheetnames
    validation = _part(sample_out, f"xl/worksheets/sheet{names.index('Validation') + 1}.xml")
    assert 'orientation="landscape"' in validation
    assert "_xlnm.Print_Titles" in _part(sample_out, "xl/workbook.xml")


def test_new_columns_take_the_plans_header_style(sample_out):
    ws = openpyxl.load_workbook(sample_out)["2027 Plan"]
    own = ws.cell(3, 2)                                 # "ID": the plan's header cell
    added = [ws.cell(3, c) for c in range(19, ws.max_column + 1)]
    assert {c.value for c in added} >= {"Stage", "Variance", "ROI"}
    for c in added:
        assert (c.font.b, c.fill.fgColor.rgb, c.font.color.rgb) == (
            own.font.b, own.fill.fgColor.rgb, own.font.color.rgb), c.value


def test_a_plan_without_budget_gets_no_budget_blocks(tmp_path):
    src = make_plan(tmp_path / "p.xlsx", [["1", "Customer survey", "Research", "Dana"],
                                          ["2", "Search ads", "Search", "Priya"]],
                    ["ID", "Activity", "Channel", "Owner"])
    assert cli("run", str(src)).returncode in (0, 1)
    out = tmp_path / "p.checked.xlsx"
    ws = openpyxl.load_workbook(out)["Summary"]
    words = {ws.cell(r, c).value for r in range(1, ws.max_row + 1) for c in range(1, 10)}
    assert "Activities by stage" in words
    assert not words & {"Budget", "Budget by quarter and stage", "Budget by channel and stage",
                        "Balance of upstream and downstream"}
    assert _charts(out) == []


@pytest.mark.skipif(not lo.available(), reason="LibreOffice is not installed")
def test_a_performance_log_is_summarised_by_its_spend(tmp_path):
    import datetime as dt

    rows = [[dt.date(2027, 1 + i % 6, 1 + i), f"Search brand campaign {i}", "Search" if i % 2 else "Social",
             1000 * i, 50 * i, 120.0 * i, 3 * i, 400.0 * i] for i in range(1, 16)]
    src = make_plan(tmp_path / "perf.xlsx", rows, ["Date", "Campaign", "Channel", "Impressions", "Clicks",
                                                   "Spend", "Conversions", "Revenue"])
    r = cli("run", str(src))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "performance log" in r.stdout
    out = tmp_path / "perf.checked.xlsx"
    ws = openpyxl.load_workbook(out)["Summary"]
    words = {ws.cell(r, c).value for r in range(1, ws.max_row + 1) for c in range(1, 10)}
    assert 'performance log ("Spend" counted as actual spend)' in words
    assert {"Activities and spend by stage", "Spend by quarter and stage", "Spend by channel and stage",
            "Total spend"} <= words
    assert "Budget" not in words
    book = lo.recalculate_values([out], tmp_path / "lo")[out]
    cached = openpyxl.load_workbook(out, data_only=True)["Summary"]
    formulas = [(r, c) for r in range(1, ws.max_row + 1) for c in range(1, 10)
                if isinstance(ws.cell(r, c).value, str) and ws.cell(r, c).value.startswith("=")]
    assert len(formulas) > 50
    for r, c in formulas:
        want, got = cached.cell(r, c).value, book["Summary"].get((r, c))
        assert got == pytest.approx(want) if isinstance(want, float) else got == want, (r, c)
    total = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Total")
    assert book["Summary"][(total, 3)] == pytest.approx(sum(row[5] for row in rows))


def test_a_plan_without_stage_text_gets_no_stage_blocks(tmp_path):
    rows = [[f"X-{i}", f"Item {i}", "General", 1000 * i, 900 * i] for i in range(1, 6)]
    src = make_plan(tmp_path / "p.xlsx", rows, ["ID", "Activity", "Channel", "Budget", "Actual"])
    assert cli("summarize", str(src)).returncode in (0, 1)
    ws = openpyxl.load_workbook(tmp_path / "p.checked.xlsx")["Summary"]
    words = {ws.cell(r, c).value for r in range(1, ws.max_row + 1) for c in range(1, 10)}
    assert "Activities and budget" in words and "Budget by channel" in words
    assert not words & {"Upstream", "Downstream", "Activities and budget by stage",
                        "Balance of upstream and downstream"}


@pytest.mark.skipif(not lo.available(), reason="LibreOffice is not installed")
@pytest.mark.slow
def test_summary_and_a_printed_page_render_to_png(sample_out, tmp_path):
    """The Summary as one page (the look) and as printed (the first page): PNGs kept in
    tests/artifacts/ for a person to look at, and the printed Summary fits on 4 pages."""
    names = openpyxl.load_workbook(sample_out, read_only=True).sheetnames
    pngs = lo.render_png(sample_out, tmp_path / "single", page=names.index("Summary") + 1, dpi=70)
    assert pngs and pngs[0].stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "summary.png").write_bytes(pngs[0].read_bytes())
    # printed: LibreOffice's ordinary PDF export (the page setup); the Summary is the last
    # visible sheet, so its pages run from the one that starts with its title to the end
    pdf = lo.convert([sample_out], tmp_path / "print", "pdf")[sample_out]
    pages = lo.render_pdf_pages(pdf, tmp_path / "print", dpi=60)
    first = next(i for i in range(len(pages)) if "Marketing plan summary" in _pdf_text(pdf, i + 1))
    summary_pages = pages[first:]
    assert 1 <= len(summary_pages) <= 4, len(summary_pages)
    (ARTIFACTS / "summary-printed-page1.png").write_bytes(summary_pages[0].read_bytes())


def _pdf_text(pdf: Path, page: int) -> str:
    import subprocess
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
