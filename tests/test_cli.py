"""The CLI as a user runs it: a real process on real workbooks, results read back."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.corpus import BAD
from tests.plan_factory import make_plan

ROOT = Path(__file__).resolve().parent.parent
XLPLUGIN = [sys.executable, "-m", "xlplugin.cli"]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("XLPLUGIN_DEBUG", None)
    return subprocess.run([*XLPLUGIN, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


def test_help_does_not_import_pandas():
    code = ("import sys, xlplugin.cli as c\n"
            "try:\n    c.app(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pandas', 'pandera', 'sklearn', 'numpy') if m in sys.modules]\n"
            "print('HEAVY:' + ','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_version():
    r = cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("xlplugin ")


BAD_FILES = sorted(p for p in BAD.glob("*") if p.suffix.lower() in (".xlsx", ".xlsm")) if BAD.is_dir() else []


@pytest.mark.skipif(not BAD_FILES, reason="shared corpus not present")
def test_every_bad_file_exits_2_with_one_clear_line(tmp_path):
    # One batch over copies of every broken file: each gets one line naming it, exit 2, no output.
    files = []
    for i, src in enumerate(BAD_FILES):
        # keep names (lock-file names included) but avoid collisions
        d = tmp_path / f"in{i:02d}"
        d.mkdir()
        dst = d / src.name
        dst.write_bytes(src.read_bytes())
        files.append(dst)
    out = tmp_path / "out"
    r = cli("run", *map(str, files), "--out", str(out), "--jobs", "2")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == len(files), r.stderr
    for f in files:
        assert any(str(f) in ln for ln in lines), f"no line names {f}:\n{r.stderr}"
    assert not out.exists() or not any(out.iterdir())
    for f in files:  # inputs untouched, nothing written beside them
        assert sorted(p.name for p in f.parent.iterdir()) == [f.name]


@pytest.mark.skipif(not BAD_FILES, reason="shared corpus not present")
def test_check_on_bad_file_is_one_line(tmp_path):
    src = next(p for p in BAD_FILES if "corrupted" in p.name)
    r = cli("check", str(src), "--format", "json")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert src.name in r.stderr and len(r.stderr.strip().splitlines()) == 1


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_run_writes_checked_copy_and_leaves_input(tmp_path):
    src = make_plan(tmp_path / "plan.xlsx", top_left="C5")
    before = src.read_bytes()
    r = cli("run", str(src))
    assert r.returncode in (0, 1), r.stdout + r.stderr
    out = tmp_path / "plan.checked.xlsx"
    assert out.exists()
    assert src.read_bytes() == before
    import openpyxl
    wb = openpyxl.load_workbook(out)
    assert "Summary" in wb.sheetnames
    ws = wb["Plan"]
    headers = [c.value for c in ws[5]]
    assert "Stage" in headers and "Stage basis" in headers


def test_run_twice_equals_once(tmp_path):
    """One run, and a run on that run's output: the same package, part for part (the
    Summary's "Produced" time aside)."""
    src = make_plan(tmp_path / "plan.xlsx", as_table=True)
    once, twice = tmp_path / "once", tmp_path / "twice"
    assert cli("run", str(src), "--out", str(once)).returncode in (0, 1)
    assert cli("run", str(once / "plan.xlsx"), "--out", str(twice)).returncode in (0, 1)
    a, b = _parts(once / "plan.xlsx"), _parts(twice / "plan.xlsx")
    assert sorted(a) == sorted(b)
    produced = re.compile(rb'(<c r="B[1-6]"[^>]*>)<v>4\d{4}\.\d+</v>')   # the Summary's "Produced" time
    differ = [n for n in a if a[n] != b[n]]
    assert len(differ) <= 1, differ
    for n in differ:
        assert produced.sub(rb"\1", a[n]) == produced.sub(rb"\1", b[n]), n


def test_dry_run_prints_changes_and_writes_nothing(tmp_path):
    src = make_plan(tmp_path / "plan.xlsx")
    r = cli("run", str(src), "--dry-run")
    assert r.returncode in (0, 1)
    assert "sheet Summary" in r.stdout and "set Plan!" in r.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx"]


def test_lock_file_refuses_in_place(tmp_path):
    src = make_plan(tmp_path / "plan.xlsx")
    (tmp_path / "~$plan.xlsx").write_bytes(b"\x00" * 165)
    before = src.read_bytes()
    r = cli("run", str(src), "--in-place")
    assert r.returncode == 2
    assert "open in Excel" in r.stderr and "Traceback" not in r.stderr
    assert src.read_bytes() == before


def test_new_creates_template_copy(tmp_path):
    target = tmp_path / "mine.xlsx"
    r = cli("new", str(target))
    assert r.returncode == 0 and target.exists()
    assert cli("new", str(target)).returncode == 2   # never overwrites by accident
    r = cli("check", str(target))
    assert r.returncode == 0, r.stdout + r.stderr


def test_check_json_and_exit_code(tmp_path):
    rows = [["A-1", "Paid search", "", "Search", "Ann", "2027-02-30", None, "Planned", "$1,2OO",
             None, "Leads", None, None, None]]
    src = make_plan(tmp_path / "bad.xlsx", rows=rows)
    r = cli("check", str(src), "--format", "json")
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    keys = {"file", "rule", "severity", "sheet", "cell", "column", "value", "message", "hint"}
    assert data and all(keys <= set(d) for d in data)
    budget = [d for d in data if d["cell"] == "I2"]
    assert budget and budget[0]["severity"] == "error" and budget[0]["value"] == "$1,2OO"


def test_run_clear_restores_plan_sheet(tmp_path):
    src = make_plan(tmp_path / "plan.xlsx", rows=[["A-1", "Paid search", "", "Search", "Ann", None,
                                                   None, "Planned", "$1,2OO", None, "Leads", None,
                                                   None, None]])
    out = tmp_path / "out"
    assert cli("run", str(src), "--out", str(out)).returncode in (0, 1)
    checked = out / "plan.xlsx"
    r = cli("clear", str(checked), "--in-place")
    assert r.returncode == 0, r.stdout + r.stderr
    a, b = _parts(src), _parts(checked)
    assert a["xl/worksheets/sheet1.xml"] == b["xl/worksheets/sheet1.xml"]
    import openpyxl
    assert openpyxl.load_workbook(checked).sheetnames == ["Plan"]


def test_batch_table_and_worst_exit_code(tmp_path):
    good = make_plan(tmp_path / "a.xlsx")
    (tmp_path / "b.xlsx").write_bytes(b"not a workbook")
    r = cli("run", str(tmp_path), "--out", str(tmp_path / "out"), "--jobs", "2")
    assert r.returncode == 2
    assert "b.xlsx" in r.stderr
    assert (tmp_path / "out" / good.name).exists()
    assert "a.xlsx" in r.stdout and "seconds" in r.stdout


def test_the_shared_corpus_is_there():
    # The corpus tests iterate over these folders: an empty or missing corpus must not pass quietly.
    from tests.corpus import BAD, GOOD
    assert len(list(GOOD.glob("*.xls*"))) > 200, GOOD
    assert len(list(BAD.glob("*.xls*"))) > 30, BAD
