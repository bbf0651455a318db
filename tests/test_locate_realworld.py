"""The gallery of real-world marketing workbooks (tests/realworld/gallery.py), through the CLI.

Three CLI processes cover the whole gallery (`check --explain --format json`, `check --format
json`, `run --out`); each case then asserts what its workbook states: the sheet and header row
found, the kind, what its columns mean, the data rows, the findings, and the written output.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.realworld.gallery import GALLERY, NO_PLAN, Case, build_all

XLPLUGIN = [sys.executable, "-m", "xlplugin.cli"]
IDS = [c.name for c in GALLERY]


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("XLPLUGIN_DEBUG", None)
    return subprocess.run([*XLPLUGIN, *args], capture_output=True, text=True, env=env, timeout=600)


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def gallery(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("gallery")
    paths = build_all(folder / "in")
    hashes = {n: _sha(p) for n, p in paths.items()}
    explain = cli("check", "--explain", "--format", "json", "-j", "2", str(folder / "in"))
    assert explain.returncode == 0, explain.stdout + explain.stderr
    check = cli("check", "--format", "json", "-j", "2", str(folder / "in"))
    assert check.returncode in (0, 1), check.stderr
    run = cli("run", "--out", str(folder / "out"), "-j", "2", str(folder / "in"))
    assert run.returncode in (0, 1), run.stdout + run.stderr
    by_file: dict[str, list[dict]] = {}
    for f in json.loads(check.stdout):
        by_file.setdefault(Path(f["file"]).stem, []).append(f)
    return {"paths": paths, "hashes": hashes, "out": folder / "out",
            "explain": {Path(e["file"]).stem: e for e in json.loads(explain.stdout)},
            "findings": by_file}


@pytest.mark.parametrize("case", GALLERY, ids=IDS)
def test_found_where_the_workbook_says(gallery, case: Case) -> None:
    e = gallery["explain"][case.name]
    assert e["found"], e
    assert (e["sheet"], e["header_row"], e["kind"], e["data_rows"]) == (case.sheet, case.header_row, case.kind,
                                                                        case.rows)
    got = {c["header"]: c["field"] for c in e["columns"]}
    assert {h: got.get(h) for h in case.fields} == case.fields
    assert len(e["periods"]) == case.periods
    if case.table:
        assert e["table"] == case.table
    if case.runner_up:
        assert e["runner_up"]["sheet"] == case.runner_up and e["runner_up"]["why_lost"]


@pytest.mark.parametrize("case", GALLERY, ids=IDS)
def test_findings_and_no_false_errors(gallery, case: Case) -> None:
    found = gallery["findings"].get(case.name, [])
    errors = {(f["rule"], f["cell"]) for f in found if f["severity"] == "error"}
    warnings = {(f["rule"], f["cell"]) for f in found if f["severity"] == "warning"}
    if case.exact_errors:
        assert errors == case.errors, [f["message"] for f in found if f["severity"] == "error"]
    else:
        assert errors >= case.errors
    assert warnings >= case.warnings
    # A column the kind does not need is never reported missing.
    assert all(f["rule"] != "XP201" or ("XP201", None) in case.errors for f in found)
    assert all(f["sheet"] == case.sheet for f in found)


@pytest.mark.parametrize("case", GALLERY, ids=IDS)
def test_run_writes_the_output_and_leaves_the_input(gallery, case: Case) -> None:
    src = gallery["paths"][case.name]
    assert _sha(src) == gallery["hashes"][case.name]
    out = gallery["out"] / src.name
    before = openpyxl.load_workbook(src).sheetnames
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:len(before)] == before and "Summary" in wb.sheetnames
    # Every cell the user wrote on the plan's sheet is still there (nothing written over a
    # table side by side); xlplugin only adds.
    ws, orig = wb[case.sheet], openpyxl.load_workbook(src)[case.sheet]
    for line in orig.iter_rows():
        for c in line:
            if c.value is not None:
                assert ws[c.coordinate].value == c.value, c.coordinate


def test_auto_detection_and_sheet_agree(gallery) -> None:
    """`--sheet S` picks the table auto-detection picks on S (one CLI call per sheet name)."""
    case = next(c for c in GALLERY if c.name == "plan_with_dashboard")
    r = cli("check", "--explain", "--format", "json", "--sheet", case.sheet, str(gallery["paths"][case.name]))
    e = json.loads(r.stdout)[0]
    auto = gallery["explain"][case.name]
    assert (e["sheet"], e["header_row"], e["range"], e["kind"]) == (auto["sheet"], auto["header_row"],
                                                                    auto["range"], auto["kind"])
    from xlplugin.explain import explain_file
    for c in GALLERY:   # the same, in process, for every workbook
        named = explain_file(gallery["paths"][c.name], sheet=c.sheet)
        assert (named["header_row"], named["range"]) == (gallery["explain"][c.name]["header_row"],
                                                         gallery["explain"][c.name]["range"]), c.name


def test_explain_text_names_sheet_row_synonyms_kind_and_runner_up(gallery) -> None:
    r = cli("check", "--explain", str(gallery["paths"]["plan_with_dashboard"]))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "sheet:      'Marketing Plan'" in out and "header row: 10" in out
    assert "'Anticipated⏎Start Date' -> start (synonym 'Start Date', words in the header)" in out
    assert "kind:       activity plan" in out
    assert "runner-up:  'Lookups' row 1 (Table Lookups)" in out and "lost: too little for" in out


@pytest.mark.parametrize(("name", "build", "words"), NO_PLAN, ids=[n for n, _b, _w in NO_PLAN])
def test_no_plan_is_one_honest_line(tmp_path: Path, name: str, build, words: list[str]) -> None:
    path = tmp_path / f"{name}.xlsx"
    build(path)
    r = cli("check", str(path))
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in r.stderr
    for w in words:
        assert w in lines[0]
    assert "rename" not in lines[0]
    e = cli("check", "--explain", str(path))
    assert e.returncode == 2 and f"no table: closest is {words[0]}" in e.stdout
