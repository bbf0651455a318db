"""Findings outside the workbook: a rich terminal report, JSON, JUnit XML, GitHub annotations.

Finding.file is set by the pipeline; findings are grouped by file in the order given.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from xml.etree import ElementTree as ET

from xlplugin.model import Finding

FORMATS = ("text", "json", "junit", "github")


def _by_file(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.file, []).append(f)
    return out


def _totals(findings: list[Finding]) -> str:
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    files = len({f.file for f in findings})
    return (f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
            f" in {files} file{'s' * (files != 1)}")


# --- JSON ------------------------------------------------------------------------------

def to_json(findings: list[Finding]) -> str:
    return json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False, default=str)


# --- JUnit -----------------------------------------------------------------------------

def to_junit(findings: list[Finding]) -> str:
    """One testsuite per file, one testcase per finding; errors are failures,
    warnings pass with their text in system-out."""
    root = ET.Element("testsuites", name="xlplugin check")
    total = fails = 0
    for file, group in _by_file(findings).items():
        nfail = sum(f.severity == "error" for f in group)
        suite = ET.SubElement(root, "testsuite", name=file or "workbook", tests=str(len(group)),
                              failures=str(nfail), errors="0", skipped="0")
        for f in group:
            case = ET.SubElement(suite, "testcase", classname=f"{file}.{f.sheet}" if file else f.sheet,
                                 name=f"{f.rule} {f.location()}")
            body = f"{f.location()}: {f.message}" + (f"\nhint: {f.hint}" if f.hint else "")
            if f.severity == "error":
                fail = ET.SubElement(case, "failure", message=f"{f.rule}: {f.message}", type=f.rule)
                fail.text = body
            else:
                ET.SubElement(case, "system-out").text = f"warning {body}"
        total += len(group)
        fails += nfail
    root.set("tests", str(total))
    root.set("failures", str(fails))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --- GitHub workflow commands ----------------------------------------------------------

def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def to_github(findings: list[Finding]) -> str:
    """`::error file=plan.xlsx,title=XP101::Plan!E7: budget must be ...` per finding."""
    lines = []
    for f in findings:
        props = []
        if f.file:
            props.append(f"file={escape_property(f.file)}")
        props.append(f"title={escape_property(f.rule)}")
        msg = f"{f.location()}: {f.message}" + (f"\nhint: {f.hint}" if f.hint else "")
        lines.append(f"::{'error' if f.severity == 'error' else 'warning'} {','.join(props)}::"
                     f"{escape_data(msg)}")
    return "\n".join(lines) + ("\n" if lines else "")


# --- plain text (for --output with the text format) ------------------------------------

def to_text(findings: list[Finding]) -> str:
    out: list[str] = []
    for file, group in _by_file(findings).items():
        out.append(file or "(workbook)")
        for sheet in dict.fromkeys(f.sheet for f in group):
            out.append(f"  {sheet}")
            for f in (g for g in group if g.sheet == sheet):
                where = f.location().split("!", 1)[-1]
                out.append(f"    {where:<8} {f.severity:<8} {f.rule}  {f.message}")
                if f.hint:
                    out.append(f"    {'':<8} {'':<8} {'':<5}  hint: {f.hint}")
    out.append(_totals(findings) if findings else "no problems found")
    return "\n".join(out) + "\n"


def format_findings(findings: list[Finding], fmt: str) -> str:
    """Findings as json, junit, github or text."""
    fmt = fmt.lower()
    if fmt == "json":
        return to_json(findings)
    if fmt == "junit":
        return to_junit(findings)
    if fmt == "github":
        return to_github(findings)
    if fmt == "text":
        return to_text(findings)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def print_findings(findings: list[Finding], console: Any) -> None:
    """The readable report: by file, then sheet; severity coloured; hints dim; totals.
    A borderless table per sheet, so long messages wrap in their own column."""
    from rich.table import Table
    from rich.text import Text

    colour = {"error": "bold red", "warning": "yellow"}
    for file, group in _by_file(findings).items():
        console.print(Text(file or "(workbook)", style="bold underline"))
        for sheet in dict.fromkeys(f.sheet for f in group):
            console.print(Text(f"  {sheet}", style="bold"))
            table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
            table.add_column(no_wrap=True, style="cyan", min_width=7)
            table.add_column(no_wrap=True, min_width=7)
            table.add_column(no_wrap=True, style="magenta", min_width=5)
            table.add_column(ratio=1, overflow="fold")
            for f in (g for g in group if g.sheet == sheet):
                what = Text(f.message)
                if f.hint:
                    what.append("\n" + f.hint, style="dim")
                table.add_row("   " + f.location().split("!", 1)[-1], Text(f.severity, style=colour.get(f.severity, "")),
                              f.rule, what)
            console.print(table)
    if findings:
        counts = Counter(f.severity for f in findings)
        style = "bold red" if counts["error"] else "yellow"
        console.print(Text(_totals(findings), style=style))
