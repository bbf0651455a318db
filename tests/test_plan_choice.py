"""The damage measured in issue 13: an Excel Table with generic columns (category, group,
name, value) on Sheet1 was taken for the plan over the sheet named "Marketing Plan", and
got Stage columns, a widened Table and a dropdown.  Pinned here through the CLI: the sheet
named like the plan wins, and Sheet1 with its Table comes through byte for byte."""

from __future__ import annotations

import zipfile

import xlsxwriter

from tests.hostile.runner import cli
from tests.plan_factory import HEADERS, ROWS, write_values


def _workbook(path):
    wb = xlsxwriter.Workbook(str(path))
    generic = wb.add_worksheet("Sheet1")
    data = [["Food", "A", "Apples", 3], ["Food", "B", "Pears", 5], ["Tools", "A", "Saw", 12]]
    generic.add_table(0, 0, len(data), 3, {"name": "Things", "data": data,
                                          "columns": [{"header": h} for h in ("category", "group", "name", "value")]})
    plan = wb.add_worksheet("Marketing Plan")
    for j, h in enumerate(HEADERS):
        plan.write_string(0, j, h)
    write_values(plan, 1, 0, ROWS, wb.add_format({"num_format": "yyyy-mm-dd"}))
    wb.close()
    return path


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_sheet_named_like_the_plan_wins_over_a_generic_table(tmp_path):
    src = _workbook(tmp_path / "plan.xlsx")
    r = cli("run", str(src), "--out", str(tmp_path / "out"))
    assert r.returncode in (0, 1), r.stderr
    before, after = _parts(src), _parts(tmp_path / "out" / "plan.xlsx")
    # Sheet1 (the generic Table's sheet) and its Table are untouched
    assert after["xl/worksheets/sheet1.xml"] == before["xl/worksheets/sheet1.xml"]
    assert after["xl/tables/table1.xml"] == before["xl/tables/table1.xml"]
    assert b"Stage" in after["xl/worksheets/sheet2.xml"]
