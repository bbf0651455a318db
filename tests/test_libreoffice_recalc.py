"""The LibreOffice harness itself: it must catch a wrong cached value (DESIGN.md's trap)."""

from __future__ import annotations

from pathlib import Path

import pytest
import xlsxwriter

from tests import libreoffice as lo

pytestmark = [pytest.mark.skipif(not lo.available(), reason="LibreOffice is not installed"),
              pytest.mark.slow]


def _lying_workbook(path: Path) -> Path:
    """Formulas whose cached values are wrong, over an Excel Table, plus one error."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Plan")
    ws.add_table(0, 0, 3, 1, {"name": "Plan", "columns": [{"header": "Stage"}, {"header": "Budget"}]})
    for i, (stage, budget) in enumerate([("Upstream", 100), (None, 50), ("Downstream", 7)]):
        if stage:
            ws.write_string(i + 1, 0, stage)
        ws.write_number(i + 1, 1, budget)
    s = wb.add_worksheet("Summary")
    s.write_formula("A1", "=1+1", None, 999)
    s.write_formula("A2", '=SUMIFS(Plan[Budget],Plan[Stage],"Upstream")', None, 999)
    s.write_formula("A3", '=SUMIFS(Plan[Budget],Plan[Stage],"<>Upstream",Plan[Stage],"<>Downstream",'
                    'Plan[Stage],"<>Review")', None, 999)
    s.write_formula("A4", '=IF(1=1,"","x")', None, 999)
    s.write_formula("A5", "=1/0", None, 0)
    wb.close()
    return path


def test_forced_recalculation_replaces_wrong_cached_values(tmp_path):
    src = _lying_workbook(tmp_path / "lying.xlsx")
    book = lo.recalculate_values([src], tmp_path)[src]
    s = book["Summary"]
    assert s[(1, 1)] == 2
    assert s[(2, 1)] == 100
    assert s[(3, 1)] == 50          # the blank Stage counts as "not labelled"
    assert s.get((4, 1)) in (None, "")
    assert book.errors() == [("Summary", 5, 1, "#DIV/0!")]


def test_without_the_profile_setting_libreoffice_trusts_the_cache(tmp_path):
    """Why the harness exists: a default profile keeps the lying cached value."""
    src = _lying_workbook(tmp_path / "lying.xlsx")
    plain = tmp_path / "plain-profile"
    (plain / "user").mkdir(parents=True)
    out = lo.convert([src], tmp_path / "plain", "xlsx", profile=plain)[src]
    assert lo.read_values(out)["Summary"][(1, 1)] == 999


def test_many_files_in_one_call_and_csv_of_every_sheet(tmp_path):
    a = _lying_workbook(tmp_path / "a.xlsx")
    b = _lying_workbook(tmp_path / "b.xlsx")
    books = lo.recalculate_values([a, b], tmp_path)
    assert set(books) == {a, b}
    csv = lo.convert_csv([a, b], tmp_path / "csv")
    assert set(csv[a]) == {"Plan", "Summary"}          # every sheet, not just the first
    assert csv[b]["Summary"][0][0] == "2"
    assert csv[a]["Plan"][0] == ["Stage", "Budget"]
