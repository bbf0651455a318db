"""Reports outside the workbook: JSON, JUnit XML, GitHub annotations, rich text; rule docs."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from tests.bad_plans import PLANTS, check_file, planted_workbook
from xlplugin.engine.rules import RULES, rules_markdown
from xlplugin.model import Finding
from xlplugin.report import escape_property, format_findings, print_findings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def findings(tmp_path_factory):
    """Real findings from two planted workbooks (one error, one warning) plus a plan-level one."""
    tmp = tmp_path_factory.mktemp("reports")
    out = []
    for kind in ("unreadable-number", "us-date-text", "end-before-start"):
        plant = next(p for p in PLANTS if p.kind == kind)
        path, _ = planted_workbook(tmp, plant, "C5")
        for f in check_file(path, plant.config):
            f.file = str(path)
            out.append(f)
    out.append(Finding("XP301", "error", "Plan", "total budget 93,000 is above the cap of 90,000",
                       hint="cut 3,000, or raise budget_cap", col=11, column="Budget", scope="column",
                       file=out[0].file, value=93000.0))
    out.append(Finding("XP208", "warning", "Plan, Q1: 100%", 'channel "a,b:c" is odd\nsecond line',
                       cell="D7", row=7, col=4, file="dir,with:odd%name.xlsx"))
    return out


def test_json_parses_and_has_the_keys(findings):
    data = json.loads(format_findings(findings, "json"))
    assert len(data) == len(findings)
    keys = {"file", "rule", "severity", "sheet", "cell", "column", "value", "message", "hint"}
    assert all(keys <= set(d) for d in data)
    assert data[0]["rule"] == "XP101" and data[0]["cell"] == "K8" and data[0]["value"] == "$1,2OO"
    assert data[0]["message"] == 'budget must be a number, found "$1,2OO"'
    assert data[2]["value"] == "2027-01-01"        # dates as ISO text


def test_junit_is_valid_and_counts_match(findings):
    root = ET.fromstring(format_findings(findings, "junit").encode())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    files = list(dict.fromkeys(f.file for f in findings))
    assert [s.get("name") for s in suites] == files
    for suite, file in zip(suites, files, strict=True):
        mine = [f for f in findings if f.file == file]
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases) == len(mine)
        failures = [c for c in cases if c.find("failure") is not None]
        assert int(suite.get("failures")) == len(failures) == sum(f.severity == "error" for f in mine)
        for c in failures:
            assert c.find("failure").get("type", "").startswith("XP")
            assert c.find("failure").get("message")
    assert int(root.get("tests")) == len(findings)
    assert int(root.get("failures")) == sum(f.severity == "error" for f in findings)


WORKFLOW = re.compile(r"^::(error|warning|notice)(?: ([a-z]+=[^,:\r\n]*(?:,[a-z]+=[^,:\r\n]*)*))?::([^\r\n]*)$")


def test_github_lines_are_workflow_commands(findings):
    lines = format_findings(findings, "github").splitlines()
    assert len(lines) == len(findings)
    for line, f in zip(lines, findings, strict=True):
        m = WORKFLOW.match(line)
        assert m, line
        assert m.group(1) == f.severity
        assert f"title={f.rule}" in m.group(2)
    assert lines[0].startswith("::error file=")
    assert lines[0].endswith("::Plan!K8: budget must be a number, found \"$1,2OO\"%0Ahint: "
                             + findings[0].hint.replace("%", "%25"))
    odd = lines[-1]
    assert "file=dir%2Cwith%3Aodd%25name.xlsx" in odd
    assert odd.startswith("::warning file=dir%2Cwith%3Aodd%25name.xlsx,title=XP208::")
    assert odd.endswith('::Plan, Q1: 100%25!D7: channel "a,b:c" is odd%0Asecond line')
    assert escape_property("a\r\nb") == "a%0D%0Ab"


def test_rich_report_groups_by_file_and_sheet(findings):
    buf = io.StringIO()
    print_findings(findings, Console(file=buf, width=200, color_system=None))
    text = buf.getvalue()
    first = findings[0].file
    assert text.index(first) < text.index("K8") < text.index(findings[0].hint)
    assert text.count(first) == 1                      # grouped, not repeated per finding
    assert text.rstrip().splitlines()[-1] == "3 errors, 2 warnings in 4 files"


def test_rich_report_prints_brackets_literally():
    buf = io.StringIO()
    f = Finding("XP208", "error", "Plan", 'channel "[bold]Search[/bold]" is not an allowed value',
                cell="D2", row=2, col=4, file="p.xlsx")
    print_findings([f], Console(file=buf, width=200, color_system=None))
    assert '"[bold]Search[/bold]"' in buf.getvalue()


def test_rich_report_wraps_long_messages_in_their_column():
    buf = io.StringIO()
    long = "budget must be a number, found " + "a very long piece of text " * 4 + "Supercalifragilistic" * 3
    fs = [Finding("XP101", "error", "Plan", long, hint="type the amount as a number", cell=f"K{r}", row=r,
                  col=11, file="p.xlsx") for r in (8, 1200)]
    print_findings(fs, Console(file=buf, width=60, color_system=None))
    lines = buf.getvalue().splitlines()
    body = [ln for ln in lines if ln.startswith("   K")]
    assert [ln.split()[:3] for ln in body] == [["K8", "error", "XP101"], ["K1200", "error", "XP101"]]
    start = body[0].index("budget")
    assert body[1].index("budget") == start            # one column for the messages of a sheet
    rest = [ln for ln in lines if ln.startswith(" " * start) and ln.strip()]
    assert rest and all(len(ln) <= 60 for ln in lines)
    assert sum("type the amount as a number" in ln for ln in rest) == 2
    # every word of the message is printed, folded or wrapped, none cut
    printed = "".join(ln[start:] for ln in lines if len(ln) > start).replace(" ", "")
    assert long.replace(" ", "") in printed.replace("typetheamountasanumber", "|")


def test_a_column_of_one_problem_reads_as_one_problem_in_the_terminal(tmp_path):
    """`xlplugin check` on an export whose 40 dates are yyyymmdd numbers: the terminal shows five
    and counts the rest in one line; --output and JSON keep all 40."""
    import os
    import subprocess
    import sys

    import xlsxwriter

    path = tmp_path / "export.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, ["Date", "Campaign Name", "Impressions", "Clicks", "Spend"])
    for i in range(40):
        ws.write_row(i + 1, 0, [20270301 + i % 28, f"Campaign {i % 3}", 1000 + i, 10, 5.5])
    ws.write(41, 1, "Campaign 9")
    ws.write(41, 2, "lots")        # one other problem, in another column: shown as it is
    wb.close()

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "xlplugin.cli", "check", str(path), *args],
                              capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})

    shown = cli()
    assert shown.returncode == 1, shown.stderr
    lines = shown.stdout.splitlines()
    assert sum("XP105" in ln for ln in lines) == 6 and sum("read as the date" in ln for ln in lines) == 5
    assert any(ln.split()[:3] == ["A7:A41", "warning", "XP105"] and "and 35 more like these in column A" in ln
               for ln in lines)
    assert any("C42" in ln and "XP101" in ln for ln in lines)
    assert lines[-1] == "1 error, 40 warnings in 1 file"
    report = tmp_path / "report.txt"
    cli("--output", str(report))
    assert report.read_text(encoding="utf-8").count("XP105") == 40
    assert sum(f["rule"] == "XP105" for f in json.loads(cli("--format", "json").stdout)) == 40


def test_text_format_and_unknown_format(findings):
    text = format_findings(findings, "text")
    assert "K8" in text and "hint:" in text and text.endswith("3 errors, 2 warnings in 4 files\n")
    assert format_findings([], "text") == "no problems found\n"
    with pytest.raises(ValueError):
        format_findings(findings, "xml")


def test_docs_list_every_rule_ruff_style():
    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for r in RULES:
        assert f"## {r.code} {r.name}" in docs
        section = docs.split(f"## {r.code} {r.name}", 1)[1].split("\n## ", 1)[0]
        for part in (r.summary, r.why, r.bad, r.fixed, "**Bad:**", "**Fixed:**"):
            assert part in section
    documented = set(re.findall(r"^## (XP\d{3})", docs, re.M))
    assert documented == {r.code for r in RULES}
    assert docs == rules_markdown(), "regenerate: python -m xlplugin.engine.rules > docs/rules.md"


def test_schema_example_in_the_docs_loads(tmp_path):
    from xlplugin.engine.check import load_schema

    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    example = docs.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "team.yaml").write_text(example, encoding="utf-8")
    schema = load_schema(tmp_path / "team.yaml")
    assert [c.name for c in schema.columns["owner"].checks] == ["xp_one_of"]
    assert schema.columns["budget"].checks[0].statistics == {"min_value": 500}


def test_pre_commit_hook():
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "xlplugin-check" and hook["entry"] == "xlplugin check"
    assert hook["language"] == "python"
    assert re.search(hook["files"], "plans/q1.xlsx") and re.search(hook["files"], "a.xlsm")
    assert not re.search(hook["files"], "notes.csv")
