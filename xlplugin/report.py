"""Results outside the workbook: findings as a rich terminal report, JSON, JUnit XML or
GitHub annotations; the result table of the writing commands.

Finding.file is set by the pipeline; findings are grouped by file in the order given.
A file that could not be checked at all (not found, not a workbook, no plan found, ...)
is reported as a finding of rule FILE_RULE at the file level, so every format carries it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from xlplugin.model import STAGES, Finding, col_letter

FORMATS = ("text", "json", "junit", "github")
FILE_RULE = "XP000"      # the file could not be checked: its outcome and what to do


def file_finding(path: str, outcome: str, error: str, advice: str) -> Finding:
    """A file-level failure as a finding: `no plan found: ...`, hint = what to do."""
    message = error[len(path) + 2:] if error.startswith(f"{path}: ") else error
    return Finding(FILE_RULE, "error", "(workbook)", f"{outcome}: {message}" if outcome else message,
                   hint=advice, scope="sheet", file=path)


def stage_counts(labels: list) -> str:
    """'12 Upstream, 25 Downstream, 3 Review' (in that order, stages present only)."""
    counts = Counter(lab.stage for lab in labels)
    return ", ".join(f"{counts[s]} {s}" for s in STAGES if counts[s])


def _by_file(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.file, []).append(f)
    return out


def _totals(findings: list[Finding], files: int | None = None) -> str:
    """'2 errors, 1 warning in 3 files': files = how many were checked (default: with findings)."""
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    files = len({f.file for f in findings}) if files is None else files
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

def to_text(findings: list[Finding], files: int | None = None) -> str:
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
    out.append(_totals(findings, files) if findings else "no problems found")
    return "\n".join(out) + "\n"


def format_findings(findings: list[Finding], fmt: str, files: int | None = None) -> str:
    """Findings as json, junit, github or text (files: how many were checked)."""
    fmt = fmt.lower()
    if fmt == "json":
        return to_json(findings)
    if fmt == "junit":
        return to_junit(findings)
    if fmt == "github":
        return to_github(findings)
    if fmt == "text":
        return to_text(findings, files)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


SHOWN_ALIKE = 5      # findings of one rule in one column shown in the terminal; the rest as one line


@dataclass(frozen=True)
class _Line:
    """One line of the terminal report: a finding, or the count of those like it not shown."""
    cell: str
    severity: str
    rule: str
    message: str
    hint: str | None


def _lines(findings: list[Finding]) -> list[_Line]:
    """A sheet's findings as lines, the first SHOWN_ALIKE of each rule in each column, then one
    line for the rest: a column of 2,000 dates typed one way reads as one problem, not 4,000
    lines.  The other formats (and --output) keep every finding."""
    alike = Counter((f.rule, f.col) for f in findings if f.col is not None)
    seen: Counter = Counter()
    out: list[_Line] = []
    for f in findings:
        key = (f.rule, f.col)
        if f.col is not None and alike[key] > SHOWN_ALIKE:
            seen[key] += 1
            if seen[key] > SHOWN_ALIKE:
                if seen[key] == SHOWN_ALIKE + 1:
                    rest = [g for g in findings if (g.rule, g.col) == key][SHOWN_ALIKE:]
                    first, last = (g.location().split("!", 1)[-1] for g in (rest[0], rest[-1]))
                    n = len(rest)
                    out.append(_Line(f"{first}:{last}", f.severity, f.rule,
                                     f"... and {n:,} more like {'this' if n == 1 else 'these'} in column "
                                     f"{col_letter(f.col)}",
                                     "every one: --format json, or --output FILE; in the workbook, the "
                                     "Validation sheet of `xlplugin run`"))
                continue
        out.append(_Line(f.location().split("!", 1)[-1], f.severity, f.rule, f.message, f.hint))
    return out


def print_findings(findings: list[Finding], console: Any, files: int | None = None) -> None:
    """The readable report: by file, then sheet; severity coloured; hints dim; totals.
    Aligned columns per sheet; a long message wraps in its own column; more than SHOWN_ALIKE
    findings of one rule in one column end in one line that counts the rest."""
    from rich.text import Text

    for file, group in _by_file(findings).items():
        console.print(Text(file or "(workbook)", style="bold underline"))
        for sheet in dict.fromkeys(f.sheet for f in group):
            console.print(Text(f"  {sheet}", style="bold"))
            # One Text for the whole sheet, wrapped here: a rich Table measures every row
            # (0.5 ms a finding; 85 s for a plan where every row breaks a rule).
            console.print(_sheet_lines(_lines([g for g in group if g.sheet == sheet]), console.width),
                          soft_wrap=True)
    if findings:
        counts = Counter(f.severity for f in findings)
        style = "bold red" if counts["error"] else "yellow"
        console.print(Text(_totals(findings, files), style=style))


_COLOUR = {"error": "bold red", "warning": "yellow"}


def _sheet_lines(findings: list[_Line], width: int) -> Any:
    """Cell, severity, rule and message in columns (a space apart); the message and its
    dim hint wrap within the last column, long words folded."""
    import textwrap

    from rich.text import Text

    cells = ["   " + f.cell for f in findings]
    w_cell = max(7, *map(len, cells))
    w_sev = max(7, *(len(f.severity) for f in findings))
    w_rule = max(5, *(len(f.rule) for f in findings))
    indent = w_cell + w_sev + w_rule + 3
    room = max(width - indent, 20)
    pad = " " * indent
    out = Text()
    for cell, f in zip(cells, findings, strict=True):
        out.append(cell.ljust(w_cell) + " ", style="cyan")
        out.append(f.severity.ljust(w_sev), style=_COLOUR.get(f.severity, ""))
        out.append(" ")
        out.append(f.rule.ljust(w_rule) + " ", style="magenta")
        for i, line in enumerate(_wrap(textwrap, f.message, room)):
            out.append(("\n" + pad if i else "") + line)
        for line in _wrap(textwrap, f.hint, room) if f.hint else ():
            out.append("\n" + pad)
            out.append(line, style="dim")
        out.append("\n")
    out.rstrip()
    return out


def _wrap(textwrap: Any, text: str, room: int) -> list[str]:
    """Word-wrapped to `room` columns, explicit line breaks kept, over-long words folded."""
    return [piece for para in text.split("\n")
            for piece in (textwrap.wrap(para, room, break_long_words=True, break_on_hyphens=False) or [""])]


# --- the writing commands' result table --------------------------------------------------

def print_results(results: list, console: Any, title: str) -> None:
    """One row per file (a failure shows its outcome: the error line says the rest), then
    what each file's output holds beyond what was asked: stage counts, parts kept current."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col in ("file", "read as", "rows", "errors", "warnings", "result", "seconds"):
        table.add_column(col, justify="right" if col in ("rows", "errors", "warnings", "seconds") else "left",
                         overflow="fold")
    for r in results:
        kind = r.kind.replace("_", " ")
        if r.error:
            table.add_row(str(r.path), kind, "-", "-", "-", f"[red]{r.outcome or 'failed'}[/red]",
                          f"{r.seconds:.2f}")
            continue
        err = f"[red]{r.errors}[/red]" if r.errors else "0"
        warn = f"[yellow]{r.warnings}[/yellow]" if r.warnings else "0"
        out = str(r.output) if r.output else (r.note or "-")
        table.add_row(str(r.path), kind, str(r.rows), err, warn, out, f"{r.seconds:.2f}")
    console.print(table)
    for r in results:
        if r.error:
            continue
        said = []
        if r.labels:
            said.append(f"labelled {len(r.labels)} rows: {stage_counts(r.labels)}")
        if r.kept:
            said.append("also kept current: " + ", ".join(r.kept))
        if r.fixed:
            said.append(f"fixed {len(r.fixed)} cells typed as text: " + ", ".join(r.fixed))
        if said:
            console.print(f"{r.output or r.path}: " + "; ".join(said), markup=False)
