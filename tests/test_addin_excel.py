"""The ribbon's buttons, run as Excel would run them: each button's tag through
xlwings' remote engine (the ribbon's Python side), and the xlwings Lite scripts that
`xlplugin addin lite` writes, in a Python without python-calamine (as on Pyodide).
Both must give the CLI's change list."""

import os

os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"   # before xlwings is first imported

import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import xlwings as xw  # noqa: E402

from tests.plan_factory import HEADERS, ROWS, make_plan  # noqa: E402
from tests.test_excel import payload_from_file  # noqa: E402
from xlplugin import excel  # noqa: E402
from xlplugin import pipeline as P  # noqa: E402
from xlplugin.excel.addin import ribbon_xml  # noqa: E402

STAMP = re.compile(r"datetime\.datetime\([^)]*\)")
# the CLI command that makes the same change list as each button (validate: `check`
# writes nothing, so its list is the pipeline's render for the check step)
CLI_FOR_TAG = {"label": "label", "summary": "summarize", "run_all": "run", "clear": "clear"}
TAGS = [b["tag"] for b in ribbon_xml.buttons(ribbon_xml.path().read_bytes()) if b["tag"] != "new_plan"]


def _norm(lines: list[str]) -> list[str]:
    return [STAMP.sub("<time>", line) for line in lines]


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> Path:
    rows = [list(r) for r in ROWS]
    rows[1][HEADERS.index("Budget")] = "lots"
    rows[3][HEADERS.index("Actual")] = -300
    return make_plan(tmp_path_factory.mktemp("plan") / "plan.xlsx", rows, top_left="B2", as_table=True)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xlplugin.cli", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "300"})


@pytest.fixture(scope="module")
def processed(plan: Path) -> Path:
    """The plan after `xlplugin run`: what Clear marks has something to clear in."""
    done = _cli("run", "--out", str(plan.parent / "out"), str(plan))
    assert done.returncode in (0, 1), done.stderr
    return next((plan.parent / "out").glob("*.xlsx"))


def source_for(tag: str, plan: Path, processed: Path) -> Path:
    return processed if tag == "clear" else plan


@pytest.fixture(scope="module")
def cli_changes(plan: Path, processed: Path) -> dict[str, list[str]]:
    """Each button's change list as the CLI makes it (`--dry-run`)."""
    out = {}
    for tag, command in CLI_FOR_TAG.items():
        path = source_for(tag, plan, processed)
        done = _cli(command, "--dry-run", str(path))
        lines = done.stdout.splitlines()
        assert lines[0] == f"{path}: {int(lines[0].split(': ')[1].split()[0])} changes", done.stdout
        out[tag] = _norm([line[2:] for line in lines[1:] if line.startswith("  ")])
    opts = P.Options(steps=frozenset({P.CHECK}))
    out["validate"] = _norm(P.render(P.analyse(plan, opts), opts, plan.name).describe())
    assert set(out) == set(TAGS)
    return out


@pytest.mark.parametrize("tag", TAGS)
def test_each_button_gives_the_cli_change_list(plan: Path, processed: Path, cli_changes: dict[str, list[str]],
                                               tag: str) -> None:
    book = xw.Book(json=payload_from_file(source_for(tag, plan, processed)))
    result = excel.ribbon_on(book, tag)
    assert result is not None
    assert _norm(result.changes) == cli_changes[tag] and len(result.changes) > 0
    actions = book.json()["actions"]
    assert actions[-1]["func"] == "alert"


RUN_LITE = textwrap.dedent("""
    import copy, importlib.util, json, os, sys
    sys.modules["python_calamine"] = None      # as on Pyodide: no compiled reader
    os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
    import xlwings as xw
    main_py, payloads = sys.argv[1], json.load(open(sys.argv[2]))   # {script: payload}
    spec = importlib.util.spec_from_file_location("lite_main", main_py)
    main = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main)
    out = {}
    for name, payload in payloads.items():
        book = xw.Book(json=copy.deepcopy(payload))
        result = getattr(main, name)(book)
        out[name] = {"changes": result.changes, "alert": book.json()["actions"][-1]["args"][0]}
    out["calamine"] = any(m.startswith("python_calamine") and sys.modules[m] is not None for m in sys.modules)
    print(json.dumps(out))
""")


def test_xlwings_lite_scripts_give_the_cli_change_list(plan: Path, processed: Path,
                                                        cli_changes: dict[str, list[str]], tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "xlplugin.cli", "addin", "lite", "--out", str(tmp_path / "lite")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    main_py, req = tmp_path / "lite" / "main.py", tmp_path / "lite" / "requirements.txt"
    assert done.stdout.split() == [str(main_py), str(req)]
    scripts = re.findall(r"^@script\ndef (\w+)\(book: xw.Book\):", main_py.read_text(), re.M)
    assert scripts == TAGS
    assert f"xlwings=={xw.__version__}" in req.read_text().splitlines()
    assert not any(line.startswith("python-calamine") for line in req.read_text().splitlines())

    payloads = tmp_path / "payloads.json"
    payloads.write_text(json.dumps({tag: payload_from_file(source_for(tag, plan, processed)) for tag in scripts}))
    run = subprocess.run([sys.executable, "-c", RUN_LITE, str(main_py), str(payloads)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert got.pop("calamine") is False
    for tag in scripts:
        assert _norm(got[tag]["changes"]) == cli_changes[tag], tag
    assert got["validate"]["alert"].startswith("2 errors, ")


def test_ribbon_runs_are_logged(plan: Path, tmp_path: Path) -> None:
    import logging
    path = excel.log_to_file(tmp_path / "xlplugin.log")
    try:
        excel.ribbon_on(xw.Book(json=payload_from_file(plan)), "validate")
    finally:
        root = logging.getLogger("xlplugin")
        for h in [h for h in root.handlers if getattr(h, "baseFilename", "") == str(path)]:
            root.removeHandler(h)
            h.close()
    assert "validate on plan.xlsx: 2 errors" in path.read_text()
