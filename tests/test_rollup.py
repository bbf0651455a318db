"""Portfolio roll-up: a row per plan, totals by stage, links, charts; LibreOffice agrees."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests import libreoffice as lo
from tests.plan_factory import ROWS, make_plan
from tests.test_cli import cli
from tests.test_summary import HEADERS, gen_rows, same
from xlplugin.config import Config
from xlplugin.rollup import rollup


def _portfolio(tmp_path: Path) -> list[Path]:
    (tmp_path / "EMEA").mkdir()
    (tmp_path / "APAC").mkdir()
    a = make_plan(tmp_path / "EMEA" / "plan_dana.xlsx")                       # plan_factory's 5 rows
    b = make_plan(tmp_path / "APAC" / "luis-marketing-plan-2027.xlsx", gen_rows(30, seed=3)[0], HEADERS,
                  as_table=True)
    bad = tmp_path / "APAC" / "broken.xlsx"
    bad.write_bytes(b"not a workbook")
    return [a, b, bad]


def test_region_and_owner_come_from_the_plan_or_the_settings_never_from_names(tmp_path):
    """`xlplugin rollup`: an Owner/Region column of the plan, else [rollup.plans] in
    xlplugin.toml, else blank; never "Apac" from a folder or "Emea" from a file name."""
    import openpyxl

    (tmp_path / "APAC").mkdir()
    (tmp_path / "EMEA").mkdir()
    make_plan(tmp_path / "APAC" / "luis-plan.xlsx", [["1", "Search ads", "Search", "Luis", "Japan", 100]],
              ["ID", "Activity", "Channel", "Owner", "Region", "Budget"])
    make_plan(tmp_path / "EMEA" / "emea_plan.xlsx", [["1", "Trade show", "Events", 200]],
              ["ID", "Activity", "Channel", "Budget"])
    make_plan(tmp_path / "EMEA" / "other.xlsx", [["1", "Survey", "Research", 300]],
              ["ID", "Activity", "Channel", "Budget"])
    (tmp_path / "xlplugin.toml").write_text('[rollup.plans]\n"emea_plan.xlsx" = { owner = "Dana", region = "EMEA" }\n')
    out = tmp_path / "rollup.xlsx"
    r = cli("rollup", "APAC", "EMEA", "--out", str(out), "--config", "xlplugin.toml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ws = openpyxl.load_workbook(out)["Plans"]
    head = [c.value for c in ws[1]]
    got = {row[0]: (row[head.index("Region")], row[head.index("Owner")])
           for row in ws.iter_rows(min_row=2, max_row=4, values_only=True)}
    assert got == {"luis-plan.xlsx": ("Japan", "Luis"), "emea_plan.xlsx": ("EMEA", "Dana"),
                   "other.xlsx": (None, None)}


def test_rollup_has_a_row_per_plan_with_stage_figures_and_links(tmp_path):
    import openpyxl

    paths = _portfolio(tmp_path)
    out = rollup(paths, tmp_path / "out" / "rollup.xlsx", Config())
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Portfolio", "Plans", "Quarters"]
    ws = wb["Plans"]
    head = [c.value for c in ws[1]]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2, max_row=4)]
    by_name = {r[0]: dict(zip(head, r, strict=True)) for r in rows}
    dana = by_name["plan_dana.xlsx"]
    assert (dana["Region"], dana["Owner"], dana["Rows"]) == (None, "Dana, Luis, Priya (+1)", 5)
    stage_total = sum(dana[f"{s} budget"] for s in ("Upstream", "Downstream", "Review", "Not labelled"))
    assert stage_total == sum(r[8] for r in ROWS)
    assert by_name["broken.xlsx"]["Problem"]                    # unreadable: said, not fatal
    assert ws.cell(5, 1).value == "Total"
    link = ws.cell(2, head.index("File") + 1).hyperlink
    assert link is not None and link.target.replace("\\", "/") == "../EMEA/plan_dana.xlsx"
    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 4


@pytest.mark.skipif(not lo.available(), reason="LibreOffice is not installed")
@pytest.mark.slow
def test_rollup_formulas_recalculate_to_their_cached_values(tmp_path):
    import openpyxl

    out = rollup(_portfolio(tmp_path), tmp_path / "rollup.xlsx", Config())
    book = lo.recalculate_values([out], tmp_path)[out]
    assert book.errors() == []
    wb = openpyxl.load_workbook(out)            # formulas; cached values via data_only
    cached = openpyxl.load_workbook(out, data_only=True)
    n = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    want = cached[ws.title].cell(c.row, c.column).value
                    assert same(book[ws.title].get((c.row, c.column)), want, 1e6), (ws.title, c.coordinate)
                    n += 1
    assert n > 30
