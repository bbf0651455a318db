"""Odd but legitimate content is handled, not refused: formula-looking activity names land
as text in every sheet xlplugin writes; control characters, right-to-left and CJK text and
32,767-character cells come back as they went in; a sheet reaching row 1,048,576 or column
XFD is processed within bounded time and memory."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from lxml import etree

from tests.hostile import build
from tests.hostile.runner import MEGABYTES, SECONDS, cli
from tests.plan_factory import HEADERS, ROWS, write_values

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
FORMULA_LIKE = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "@SUM(1,2)", "-2+3", "=HYPERLINK(\"http://x\",\"y\")"]
EXCEL_MAX_TEXT = 32_767


def _workbook(path: Path, rows, extra=None) -> Path:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    ws = wb.add_worksheet("Plan")
    for j, h in enumerate(HEADERS):
        ws.write_string(0, j, h)
    write_values(ws, 1, 0, rows, wb.add_format({"num_format": "yyyy-mm-dd"}))
    if extra:
        extra(ws)
    wb.close()
    return path


def _rows_with(activities: list[str], descriptions: list[str] | None = None,
               budget_too: bool = False) -> list[list]:
    rows = []
    for i, name in enumerate(activities):
        base = list(ROWS[i % len(ROWS)])
        base[0] = f"H-{i:03d}"
        base[1] = name
        if descriptions:
            base[2] = descriptions[i]
        if budget_too:
            base[8] = name        # text in a number column: a finding that quotes the value
        elif i % 2:
            base[8] = -5          # a negative budget: a finding, so the row reaches the Validation sheet
        rows.append(base)
    return rows


def _sheets(path: Path) -> dict[str, list[tuple[str, str, str | None, str | None]]]:
    """Every worksheet of a package: (ref, type, text value, formula) per cell, by sheet name.
    Parsed with lxml straight from the package, so nothing is interpreted on the way."""
    with zipfile.ZipFile(path) as z:
        sst = []
        if "xl/sharedStrings.xml" in z.namelist():
            root = etree.fromstring(z.read("xl/sharedStrings.xml"))
            sst = ["".join(si.itertext()) for si in root.iter(f"{NS}si")]
        wb = etree.fromstring(z.read("xl/workbook.xml"))
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = {r.get("Id"): r.get("Target") for r in rels}
        out = {}
        for s in wb.iter(f"{NS}sheet"):
            rid = s.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
            part = "xl/" + target[rid].lstrip("/").removeprefix("xl/")
            if "worksheets/" not in part:
                continue
            cells = []
            for c in etree.fromstring(z.read(part), etree.XMLParser(huge_tree=True)).iter(f"{NS}c"):
                t = c.get("t", "n")
                f = c.find(f"{NS}f")
                v = c.find(f"{NS}v")
                if t == "s" and v is not None:
                    text = sst[int(v.text)]
                elif t == "inlineStr":
                    text = "".join(c.find(f"{NS}is").itertext())
                else:
                    text = v.text if v is not None else None
                cells.append((c.get("r"), t, text, f.text if f is not None else None))
            out[s.get("name")] = cells
    return out


def _run(src: Path, out: Path):
    r = cli("run", str(src), "--out", str(out), "--jobs", "1")
    assert r.returncode in (0, 1), r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    assert r.seconds < SECONDS and r.peak_mb < MEGABYTES, (r.seconds, r.peak_mb)
    return out / src.name


def test_formula_like_activity_names_land_as_text_in_every_sheet(tmp_path):
    src = _workbook(tmp_path / "plan.xlsx", _rows_with(FORMULA_LIKE, budget_too=True))
    out = _run(src, tmp_path / "out")
    sheets = _sheets(out)
    assert {"Plan", "Validation", "Summary"} <= set(sheets), sorted(sheets)
    seen: dict[str, set[str]] = {p: set() for p in FORMULA_LIKE}
    for sheet, cells in sheets.items():
        for ref, t, text, formula in cells:
            for payload in FORMULA_LIKE:
                bare = payload.lstrip("=+@-")
                assert not (formula and bare in formula), f"{sheet}!{ref} made it a formula: {formula}"
                if text and payload in text:
                    assert t in ("s", "inlineStr"), f"{sheet}!{ref}: {payload!r} stored as {t!r}"
                    seen[payload].add(sheet)
    for payload, where in seen.items():
        assert "Plan" in where, payload
        assert "Validation" in where, f"{payload!r} not echoed in the Validation sheet: {where}"
    # the roll-up workbook over this plan too: every sheet, text stays text
    r = cli("rollup", str(src), "--out", str(tmp_path / "rollup.xlsx"))
    assert r.returncode == 0, r.stderr
    for sheet, cells in _sheets(tmp_path / "rollup.xlsx").items():
        for ref, t, text, formula in cells:
            for payload in FORMULA_LIKE:
                assert not (formula and payload.lstrip("=+@-") in formula), f"rollup {sheet}!{ref}: {formula}"
                if text and payload in text:
                    assert t in ("s", "inlineStr"), f"rollup {sheet}!{ref}: {payload!r} stored as {t!r}"


TEXTS = [
    "حملة البحث المدفوع",                     # Arabic, right to left
    "קמפיין דוא\"ל ללקוחות",                   # Hebrew, with a quote
    "付费搜索活动 (第二季度)",                  # Chinese
    "展示会ブース・デモ",                        # Japanese
    "Bell\x07and\x01tab\tvertical\x0bform\x0cend\x1f",   # control characters
    "x_x0041_y",                             # a literal that looks like OOXML's own escape
]


def test_control_characters_rtl_and_cjk_come_back_unchanged(tmp_path):
    src = _workbook(tmp_path / "plan.xlsx", _rows_with(TEXTS))
    out = _run(src, tmp_path / "out")
    before = {ref: text for ref, _, text, _ in _sheets(src)["Plan"]}
    after = {ref: text for ref, _, text, _ in _sheets(out)["Plan"]}
    for i in range(len(TEXTS)):
        assert before[f"B{i + 2}"] == after[f"B{i + 2}"], (before[f"B{i + 2}"], after[f"B{i + 2}"])
    import openpyxl
    wb = openpyxl.load_workbook(out)        # every part is well-formed XML a library reads
    assert wb["Plan"]["B2"].value == TEXTS[0]
    assert wb["Plan"]["B4"].value == TEXTS[2]


def test_32767_character_cells_are_kept_and_never_exceeded(tmp_path):
    long = ("Lorem ipsum dolor sit amet " * 1300)[:EXCEL_MAX_TEXT]
    names = ["A" * EXCEL_MAX_TEXT, "Paid search " + "x" * (EXCEL_MAX_TEXT - 12)]
    src = _workbook(tmp_path / "plan.xlsx", _rows_with(names, [long, long]))
    out = _run(src, tmp_path / "out")
    sheets = _sheets(out)
    plan = {ref: text for ref, _, text, _ in sheets["Plan"]}
    assert plan["B2"] == names[0] and plan["C3"] == long
    for sheet, cells in sheets.items():
        for ref, _, text, formula in cells:
            assert text is None or len(text) <= EXCEL_MAX_TEXT, f"{sheet}!{ref}: {len(text)} characters"
            assert formula is None or len(formula) <= 8192, f"{sheet}!{ref}: formula of {len(formula)}"


def test_value_in_column_xfd_beside_the_plan(tmp_path):
    """A stray value in the last column, XFD, on a plan row.  The tool's columns go right of
    anything beside the plan, and there is no column right of XFD: either the columns find
    room and XFD3 is kept, or the file is refused in one line and nothing is written."""
    src = _workbook(tmp_path / "plan.xlsx", ROWS, extra=lambda ws: ws.write_string(2, 16383, "far right"))
    r = cli("run", str(src), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert "Traceback" not in r.stderr and r.seconds < SECONDS and r.peak_mb < MEGABYTES
    if r.returncode == 2:
        assert r.error_lines == [ln for ln in r.error_lines if ln.startswith(f"error: {src}: ")]
        assert len(r.error_lines) == 1
        assert not (tmp_path / "out" / "plan.xlsx").exists()
        return
    assert r.returncode in (0, 1), r.stderr
    plan = {ref: text for ref, _, text, _ in _sheets(tmp_path / "out" / "plan.xlsx")["Plan"]}
    assert plan["XFD3"] == "far right"
    assert "Stage" in plan.values()


def test_plan_sheet_reaching_row_1048576(tmp_path):
    src = _workbook(tmp_path / "plan.xlsx", ROWS,
                    extra=lambda ws: ws.write_string(1_048_575, 0, "last row of the sheet"))
    out = _run(src, tmp_path / "out")
    plan = {ref: text for ref, _, text, _ in _sheets(out)["Plan"]}
    assert plan["A1048576"] == "last row of the sheet"
    assert "Stage" in plan.values()


@pytest.mark.slow
def test_workbook_with_a_full_1048576_row_sheet(tmp_path):
    base = build.plan(tmp_path / "base.xlsx")
    src = build.add_sheet(base, tmp_path / "plan.xlsx", "Log", build.million_rows)
    r = cli("run", str(src), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert r.returncode in (0, 1), r.stderr[-3000:]
    assert r.seconds < 120 and r.peak_mb < 1500, (r.seconds, r.peak_mb)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(tmp_path / "out" / "plan.xlsx") as b:
        assert a.read("xl/worksheets/sheet_extra.xml") == b.read("xl/worksheets/sheet_extra.xml")
    print(f"\n1,048,576-row sheet: {r.seconds:.1f} s, peak {r.peak_mb:.0f} MB")


def test_dates_and_numbers_unaffected_by_hostile_neighbours(tmp_path):
    rows = _rows_with(FORMULA_LIKE[:2])
    rows[0][5] = dt.date(2027, 1, 1)
    src = _workbook(tmp_path / "plan.xlsx", rows)
    out = _run(src, tmp_path / "out")
    plan = {ref: (t, text) for ref, t, text, _ in _sheets(out)["Plan"]}
    assert plan["F2"] == ("n", "46388")
