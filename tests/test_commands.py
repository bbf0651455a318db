"""Issue 9 at the user's level: commands that compose, --fix, file-level messages, help,
`new --empty`.  Each test runs the CLI as a process on a real workbook and reads the
result back (openpyxl, the package XML, LibreOffice for formulas)."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pytest

from tests import libreoffice as lo
from tests.plan_factory import ROWS, make_plan
from tests.test_cli import cli

SAMPLE = Path(__file__).resolve().parent.parent / "templates" / "sample-plan.xlsx"


def _sheets(path: Path) -> list[str]:
    return openpyxl.load_workbook(path, read_only=True).sheetnames


def _summary_header(path: Path) -> dict[str, object]:
    ws = openpyxl.load_workbook(path)["Summary"]
    return {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, 9) if ws.cell(r, 1).value}


# ---- commands that compose --------------------------------------------------------------

def test_label_after_run_keeps_the_validation_and_summary_sheets_and_says_so(tmp_path):
    src = shutil.copy(SAMPLE, tmp_path / "myplan.xlsx")
    out = tmp_path / "myplan.checked.xlsx"
    assert cli("run", str(src)).returncode == 1          # the sample plan has errors
    r = cli("label", str(src))
    assert r.returncode == 1, r.stderr
    assert {"Validation", "Summary"} <= set(_sheets(out))
    assert "kept current: Validation sheet, Summary sheet" in r.stdout
    assert "labelled 40 rows: 12 Upstream, 25 Downstream, 3 Review" in r.stdout
    assert _summary_header(out)["Errors"] == 6          # the check ran again: figures are current


def test_summarize_alone_says_not_checked_and_never_claims_zero_errors(tmp_path):
    src = shutil.copy(SAMPLE, tmp_path / "myplan.xlsx")
    assert cli("summarize", str(src)).returncode in (0, 1)
    header = _summary_header(tmp_path / "myplan.checked.xlsx")
    assert "Errors" not in header and str(header["Check"]).startswith("not checked")
    assert header["Read as"].startswith("activity plan")


def test_clear_works_on_an_output_where_the_user_expects(tmp_path):
    src = make_plan(tmp_path / "myplan.xlsx")
    before = src.read_bytes()
    out_dir = tmp_path / "out"
    assert cli("run", str(src), "--out", str(out_dir)).returncode in (0, 1)
    r = cli("clear", str(out_dir / "myplan.xlsx"))                 # an output: cleared in place
    assert r.returncode == 0, r.stderr
    assert _sheets(out_dir / "myplan.xlsx") == ["Plan"]
    assert not (out_dir / "myplan.checked.xlsx").exists()
    assert cli("run", str(src)).returncode in (0, 1)
    r = cli("clear", str(tmp_path / "myplan.checked.xlsx"))        # NAME.checked.xlsx too
    assert r.returncode == 0, r.stderr
    assert _sheets(tmp_path / "myplan.checked.xlsx") == ["Plan"]
    r = cli("clear", str(src))                                     # the original: nothing to do
    assert r.returncode == 0 and "no xlplugin marks to clear" in r.stdout
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["myplan.checked.xlsx", "myplan.xlsx", "out"]


def test_running_on_an_output_is_refused_with_what_to_do(tmp_path):
    src = make_plan(tmp_path / "myplan.xlsx")
    cli("run", str(src))
    r = cli("run", str(tmp_path / "myplan.checked.xlsx"))
    assert r.returncode == 2
    assert "already an xlplugin output" in r.stderr and "--in-place" in r.stderr
    assert "already an output" in r.stdout                          # the table names the outcome


# ---- a text amount the live totals leave out; --fix ----------------------------------------

def _text_amount_plan(tmp_path: Path) -> Path:
    rows = [list(r) for r in ROWS]
    rows[0][8] = "$5,000"          # Budget typed as text
    rows[1][8] = "1.200"           # 1.2 or 1200? left alone by --fix
    rows[2][5] = "2027-04-01"      # a date typed as text, one reading only
    return make_plan(tmp_path / "plan.xlsx", rows)


def test_a_text_amount_fails_the_gate_until_fixed(tmp_path):
    src = _text_amount_plan(tmp_path)
    r = cli("check", str(src), "--format", "json")
    assert r.returncode == 1
    found = {d["cell"]: d for d in json.loads(r.stdout)}
    assert found["I2"]["rule"] == "XP102" and found["I2"]["severity"] == "error"
    assert "--fix" in found["I2"]["hint"]


@pytest.mark.skipif(not lo.available(), reason="LibreOffice is not installed")
def test_fix_writes_typed_values_the_totals_count_and_clear_undoes_it(tmp_path):
    src = _text_amount_plan(tmp_path)
    r = cli("run", str(src), "--fix")
    assert r.returncode == 1, r.stderr                # "1.200" is still an error
    assert "fixed 2 cells typed as text" in r.stdout and "Plan!I2: '$5,000' -> 5000" in r.stdout
    out = tmp_path / "plan.checked.xlsx"
    ws = openpyxl.load_workbook(out)["Plan"]
    assert ws["I2"].value == 5000 and ws["F4"].is_date and ws["I3"].value == "1.200"
    # LibreOffice recalculates the Summary: the fixed 5,000 is in the total budget
    book = lo.recalculate_values([out], tmp_path / "lo")[out]
    summary = openpyxl.load_workbook(out)["Summary"]
    total = next(r for r in range(1, 40) if summary.cell(r, 1).value == "Total")
    budget_col = next(c for c in range(1, 10) if summary.cell(total - 5, c).value == "Budget")
    want = sum(r[8] for r in ROWS[2:]) + 5000     # "1.200" is text still: left out
    assert book["Summary"][(total, budget_col)] == pytest.approx(want)
    assert cli("check", str(out)).returncode == 1     # only "1.200" left
    assert cli("clear", str(out)).returncode == 0
    ws = openpyxl.load_workbook(out)["Plan"]
    assert ws["I2"].value == "$5,000" and ws["F4"].value == "2027-04-01"


# ---- file-level messages ----------------------------------------------------------------------

def test_each_file_level_outcome_has_its_word_and_what_to_do(tmp_path):
    plan = make_plan(tmp_path / "ok.xlsx")
    csv = tmp_path / "plan.csv"
    csv.write_text("ID,Activity,Budget\n1,Survey,100\n")
    renamed = tmp_path / "renamed.xls"
    renamed.write_bytes(plan.read_bytes())
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    empty = tmp_path / "notes.xlsx"
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(empty))
    wb.add_worksheet("Notes").write(0, 0, "just a note")
    wb.close()
    r = cli("run", str(tmp_path / "missing.xlsx"), str(csv), str(renamed), str(old), str(empty))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 5 and all(ln.startswith("error: ") for ln in lines), r.stderr
    said = dict(zip(["missing", "csv", "renamed", "old", "empty"], lines, strict=True))
    assert "missing.xlsx: no such file (check the path)" in said["missing"]
    assert "CSV" in said["csv"] and "save it as .xlsx" in said["csv"]
    assert "rename it to .xlsx" in said["renamed"] and "Cfb" not in said["renamed"]
    assert ".xls" in said["old"] and "save it as .xlsx" in said["old"]
    assert "no sheet has a plan header" in said["empty"]
    for word in ("not found", "not a workbook", "no plan found"):
        assert word in r.stdout                       # the table: the outcome, not the message again
    assert "no such file" not in r.stdout


def test_a_workbook_open_in_excel_is_named_so(tmp_path):
    src = make_plan(tmp_path / "plan.xlsx")
    (tmp_path / "~$plan.checked.xlsx").write_bytes(b"\x00" * 165)
    r = cli("run", str(src))
    assert r.returncode == 2
    assert "open in Excel" in r.stderr and "close it in Excel" in r.stderr
    assert "open in Excel" in r.stdout


def test_check_reports_stay_whole_when_a_file_cannot_be_checked(tmp_path):
    good = make_plan(tmp_path / "a.xlsx")
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(tmp_path / "b.xlsx"))
    wb.add_worksheet("Notes").write(0, 0, "no plan here")
    wb.close()
    r = cli("check", str(good), str(tmp_path / "b.xlsx"), "--format", "json")
    assert r.returncode == 2
    data = json.loads(r.stdout)
    failed = [d for d in data if d["rule"] == "XP000"]
    assert len(failed) == 1 and failed[0]["message"].startswith("no plan found")
    r = cli("check", str(tmp_path / "b.xlsx"), "--format", "junit")
    root = ET.fromstring(r.stdout)
    assert root.get("failures") == "1" and "no plan found" in r.stdout


def test_multi_file_totals_count_every_file_checked(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][8] = "$1,2OO"
    for name in ("a", "b"):
        make_plan(tmp_path / f"{name}.xlsx")
    make_plan(tmp_path / "c.xlsx", rows)
    r = cli("check", str(tmp_path / "*.xlsx"))
    assert "in 3 files" in r.stdout, r.stdout


def test_output_that_is_not_a_terminal_is_never_wrapped(tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-for-plans-" * 3)
    deep.mkdir()
    src = make_plan(deep / "emea-marketing-plan-2027-final.xlsx")
    r = cli("run", str(src))
    assert str(src) in r.stdout                     # one piece, not folded at 80 columns


def test_label_json_names_each_row_by_id_and_activity(tmp_path):
    src = make_plan(tmp_path / "plan.xlsx")
    r = cli("label", str(src), "--format", "json")
    assert r.returncode == 0, r.stderr
    first = json.loads(r.stdout)[0]
    assert (first["row"], first["id"], first["activity"]) == (2, "A-001", "Customer needs survey")
    assert first["kind"] == "activity_plan"


def test_help_is_plain():
    for command in ("run", "check", "label", "summarize", "clear", "rollup", "new"):
        text = cli(command, "--help").stdout
        assert "{" not in text and "<list" not in text and "<path>" not in text, (command, text)
    assert "PATH..." in cli("run", "--help").stdout


def test_new_empty_gives_a_plan_without_example_rows(tmp_path):
    r = cli("new", str(tmp_path / "mine.xlsx"), "--empty")
    assert r.returncode == 0, r.stderr
    ws = openpyxl.load_workbook(tmp_path / "mine.xlsx")["Plan"]
    assert [c.value for c in ws[1]][:2] == ["ID", "Activity"]
    assert all(ws.cell(2, c).value in (None, "") for c in (1, 2, 11))
    full = cli("new", str(tmp_path / "full.xlsx"))
    assert full.returncode == 0
    assert openpyxl.load_workbook(tmp_path / "full.xlsx")["Plan"]["B2"].value


def test_a_blank_owner_is_reported(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[1][4] = None                                  # the template calls Owner required
    r = cli("check", str(make_plan(tmp_path / "plan.xlsx", rows)), "--format", "json")
    assert r.returncode == 1
    assert [(d["rule"], d["cell"]) for d in json.loads(r.stdout)] == [("XP202", "E3")]
