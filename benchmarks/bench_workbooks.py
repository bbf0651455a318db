"""Real marketing workbooks nobody here wrote, through the real command.

    python -m benchmarks.bench_workbooks [FOLDER ...] [--xlplugin CMD] [--md FILE]

For each .xlsx/.xlsm of the folders (default: $XLPLUGIN_REALWORLD, else
../shared/realworld beside the checkout) it runs, as subprocesses,
`CMD check --format json FILE`, `CMD check --explain --format json FILE` (when the
command has --explain) and `CMD run FILE --out TMP`, and prints one table: what a
person would point at (kind, sheet, header row from MANIFEST.csv), what xlplugin
found, exit codes, the error line or the number of findings, seconds; then totals.

What xlplugin found is taken, in this order, from --explain, from the sheet and
"header row N" its findings name, and from the output itself: the one worksheet
part the run changed (package diff against the input) and the first row it touched.
That last source needs no cooperation from the command, so two versions of
xlplugin are measured the same way (`--xlplugin "/work/main/.venv/bin/xlplugin"`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "tests" / "data" / "realworld" / "MANIFEST.csv"
KINDS = ("activity_plan", "budget", "performance_log", "content_calendar", "media_plan", "none")
INTERNAL = "please report it"   # pipeline.py's advice on an unexpected exception it caught
TIMEOUT = 600  # seconds per command: a 28k-row export must not hang the table

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
# Parts any run may rewrite, whichever sheet it edits (the writer's own list, as in
# tests/test_corpus_roundtrip.py), plus the workbook part and its rels, docProps/*.
SHARED_PARTS = {"[Content_Types].xml", "xl/styles.xml", "xl/sharedStrings.xml", "xl/calcChain.xml"}


def default_folders() -> list[Path]:
    env = os.environ.get("XLPLUGIN_REALWORLD")
    return [Path(env)] if env else [ROOT.parent / "shared" / "realworld"]


def workbooks(folders: list[Path]) -> list[Path]:
    out: list[Path] = []
    for folder in folders:
        if folder.is_file():
            out.append(folder)
        elif folder.is_dir():
            out += sorted(p for p in folder.iterdir() if p.suffix.lower() in (".xlsx", ".xlsm"))
    return out


def load_manifest(folders: list[Path]) -> dict[str, dict]:
    """file name -> manifest row; a folder's own MANIFEST.csv wins over the project's."""
    rows: dict[str, dict] = {}
    for path in [MANIFEST] + [f / "MANIFEST.csv" for f in folders if f.is_dir()]:
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as fh:
                rows.update({r["file"]: r for r in csv.DictReader(fh)})
    return rows


# --- the package diff: which worksheet a run edited, and what else it touched ---------

def _rels_name(part: str) -> str:
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / (p.name + ".rels"))


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for seg in (str(PurePosixPath(base).parent) + "/" + target).split("/"):
        if seg == "..":
            if parts:
                parts.pop()
        elif seg not in ("", "."):
            parts.append(seg)
    return "/".join(parts)


def _targets(z: zipfile.ZipFile, part: str) -> dict[str, str]:
    """rId -> resolved part name, from PART's relationships (external ones left out)."""
    try:
        root = etree.fromstring(z.read(_rels_name(part)))
    except KeyError:
        return {}
    return {r.get("Id"): _resolve(part, r.get("Target"))
            for r in root.iter(f"{{{NS_PKG}}}Relationship") if r.get("TargetMode") != "External"}


def sheet_parts(z: zipfile.ZipFile) -> tuple[str, dict[str, str]]:
    """(workbook part, {worksheet part: sheet name})."""
    rels = etree.fromstring(z.read("_rels/.rels"))
    wb = next(_resolve("", r.get("Target")) for r in rels.iter(f"{{{NS_PKG}}}Relationship")
              if r.get("Type", "").endswith("/officeDocument"))
    ids = _targets(z, wb)
    sheets = etree.fromstring(z.read(wb)).iter(f"{{{NS_MAIN}}}sheet")
    return wb, {ids[s.get(f"{{{NS_REL}}}id")]: s.get("name") for s in sheets if s.get(f"{{{NS_REL}}}id") in ids}


@dataclass
class PackageDiff:
    edited_sheets: list[str] = field(default_factory=list)   # sheet names whose part changed
    first_row: int | None = None                              # first row touched on the edited sheet
    unexpected: list[str] = field(default_factory=list)       # changed or lost parts no edit explains


def _rows(xml: bytes) -> dict[int, bytes]:
    """row number -> the row element's bytes (cells compared as written)."""
    out: dict[int, bytes] = {}
    for _, el in etree.iterparse(io.BytesIO(xml), tag=f"{{{NS_MAIN}}}row"):
        out[int(el.get("r", "0"))] = etree.tostring(el)
        el.clear()
    return out


def package_diff(src: Path, out: Path) -> PackageDiff:
    """Compare input and output packages part by part.

    The edited worksheet, its rels and every part those rels point to (notes, VML,
    Tables) may change; so may the workbook part, its rels, docProps/* and the shared
    parts.  Anything else that differs or is gone is `unexpected`: a user's part the
    run should have copied byte for byte."""
    diff = PackageDiff()
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        wb, sheets = sheet_parts(a)
        a_names, b_names = set(a.namelist()), set(b.namelist())
        changed = {n for n in a_names & b_names if a.read(n) != b.read(n)}
        edited = [p for p in sheets if p in changed]
        diff.edited_sheets = [sheets[p] for p in edited]
        allowed = SHARED_PARTS | {wb, _rels_name(wb)}
        for p in edited:
            allowed |= {p, _rels_name(p)} | set(_targets(a, p).values())
        bad = (changed | (a_names - b_names)) - allowed
        diff.unexpected = sorted(n for n in bad if not n.startswith("docProps/"))
        if len(edited) == 1:
            ra, rb = _rows(a.read(edited[0])), _rows(b.read(edited[0]))
            touched = [r for r in set(ra) | set(rb) if ra.get(r) != rb.get(r)]
            diff.first_row = min(touched) if touched else None
    return diff


# --- running the command -----------------------------------------------------------------

@dataclass
class Call:
    rc: int | None
    out: str
    err: str
    seconds: float

    @property
    def traceback(self) -> bool:
        """A Python traceback, or the CLI's own report of an exception it did not expect."""
        text = self.out + self.err
        return "Traceback (most recent call last)" in text or INTERNAL in text

    @property
    def error_line(self) -> str:
        lines = [ln for ln in self.err.splitlines() if ln.strip()]
        return " / ".join(lines) if lines else ""


def call(cmd: list[str], timeout: int = TIMEOUT) -> Call:
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
        return Call(p.returncode, p.stdout, p.stderr, time.perf_counter() - t0)
    except subprocess.TimeoutExpired as e:
        return Call(None, str(e.stdout or ""), f"timed out after {timeout} s", time.perf_counter() - t0)


def has_explain(xlplugin: list[str]) -> bool:
    return "--explain" in call(xlplugin + ["check", "--help"]).out


@dataclass
class Result:
    path: Path
    expected: dict
    check: Call
    explain: Call | None
    run: Call
    output: bool = False
    diff: PackageDiff | None = None
    sheet: str | None = None
    header_row: int | None = None
    kind: str | None = None
    found_from: str = ""
    errors: int | None = None
    warnings: int | None = None

    @property
    def crashed(self) -> bool:
        calls = [c for c in (self.check, self.explain, self.run) if c is not None]
        return any(c.traceback or c.rc not in (0, 1, 2) for c in calls)

    @property
    def outcome(self) -> str:
        exp_kind = self.expected.get("kind") or "?"
        if self.crashed:
            return "crashed"
        if exp_kind == "none":
            return "refused (right)" if not self.output and self.run.rc == 2 else "plan claimed"
        if self.output and _same_sheet(self.sheet, self.expected.get("expected_sheet")):
            return "handled"
        if self.sheet is not None and not _same_sheet(self.sheet, self.expected.get("expected_sheet")):
            return "wrong table"
        if not self.output:
            return "no plan found"
        return "wrong table"


def _same_sheet(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


_HEADER_ROW = re.compile(r"header row (\d+)")


def _from_findings(text: str) -> tuple[list[dict], str | None, int | None]:
    try:
        data = json.loads(text)
    except ValueError:
        return [], None, None
    findings = data if isinstance(data, list) else data.get("findings", []) if isinstance(data, dict) else []
    findings = [f for f in findings if isinstance(f, dict)]
    # A file-level error (no plan, unreadable) comes as a finding on the pseudo-sheet "(workbook)".
    sheets = [f.get("sheet") for f in findings if f.get("sheet") and not str(f.get("sheet")).startswith("(")]
    rows = [int(m.group(1)) for f in findings for m in [_HEADER_ROW.search(str(f.get("message", "")))] if m]
    return findings, (sheets[0] if sheets else None), (rows[0] if rows else None)


def measure(path: Path, expected: dict, xlplugin: list[str], explain: bool, tmp: Path) -> Result:
    check = call(xlplugin + ["check", "--format", "json", str(path)])
    exp_call = call(xlplugin + ["check", "--explain", "--format", "json", str(path)]) if explain else None
    outdir = tmp / path.stem
    outdir.mkdir(parents=True, exist_ok=True)
    run = call(xlplugin + ["run", str(path), "--out", str(outdir)])
    outputs = [p for p in outdir.iterdir() if p.suffix.lower() in (".xlsx", ".xlsm")]
    r = Result(path, expected, check, exp_call, run, output=bool(outputs))
    findings, f_sheet, f_row = _from_findings(check.out) if check.rc in (0, 1) else ([], None, None)
    if check.rc in (0, 1):
        r.errors = sum(f.get("severity") == "error" for f in findings)
        r.warnings = sum(f.get("severity") == "warning" for f in findings)
    if outputs:
        try:
            r.diff = package_diff(path, outputs[0])
        except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, StopIteration) as e:
            r.diff = PackageDiff(unexpected=[f"output unreadable: {e}"])
    if exp_call is not None:
        try:
            info = json.loads(exp_call.out)[0]
        except (ValueError, IndexError, KeyError, TypeError):
            info = {}
        if info.get("found"):
            r.sheet, r.header_row, r.kind, r.found_from = info.get("sheet"), info.get("header_row"), info.get("kind"), "explain"
    if r.sheet is None and f_sheet is not None:
        r.sheet, r.header_row, r.found_from = f_sheet, f_row, "findings"
    if r.sheet is None and r.diff is not None and len(r.diff.edited_sheets) == 1:
        r.sheet, r.found_from = r.diff.edited_sheets[0], "output"
    if r.header_row is None and r.diff is not None and r.diff.edited_sheets == [r.sheet]:
        r.header_row = r.diff.first_row   # the first row the run touched: where it wrote its column headers
    return r


# --- the table -----------------------------------------------------------------------------

def _cell(s: object, width: int = 0) -> str:
    text = "" if s is None else str(s)
    text = text.replace("\n", "⏎").replace("|", "/")
    return text[: width - 1] + "…" if width and len(text) > width else text


def result_text(r: Result) -> str:
    if r.crashed:
        names = ("run", "check", "check --explain")
        bad = [(n, c) for n, c in zip(names, (r.run, r.check, r.explain), strict=True)
               if c is not None and (c.traceback or c.rc not in (0, 1, 2))]
        name, c = bad[0]
        tail = [ln for ln in (c.err or c.out).splitlines() if ln.strip() and not ln.startswith(("│", "┃", "┏", "┡", "└"))]
        return f"{name} exit {c.rc}: {tail[-1] if tail else ''}".replace(str(r.path.parent) + "/", "")
    if r.run.rc == 2 or r.check.rc == 2:
        return (r.run.error_line or r.check.error_line).replace(str(r.path.parent) + "/", "")
    return f"{r.errors} errors, {r.warnings} warnings"


def table(results: list[Result]) -> str:
    head = ("| file | kind | sheet | hdr | found sheet | hdr | kind found | from | check | run "
            "| result | s | outcome |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        e = r.expected
        lines.append("| " + " | ".join([
            _cell(r.path.name), _cell(e.get("kind", "?")), _cell(repr(e["expected_sheet"]) if e.get("expected_sheet") else ""),
            _cell(e.get("expected_header_row", "")), _cell(repr(r.sheet) if r.sheet else "-"),
            _cell(r.header_row if r.header_row is not None else "-"), _cell(r.kind or "-"), r.found_from or "-",
            _cell(r.check.rc), _cell(r.run.rc), _cell(result_text(r), 220), f"{r.run.seconds:.1f}", r.outcome,
        ]) + " |")
    return "\n".join(lines)


def totals(results: list[Result]) -> str:
    plans = [r for r in results if r.expected.get("kind") not in ("none", None, "")]
    nones = [r for r in results if r.expected.get("kind") == "none"]
    count = {k: sum(r.outcome == k for r in plans) for k in ("handled", "wrong table", "no plan found", "crashed")}
    right_row = sum(r.outcome == "handled" and str(r.header_row) == str(r.expected.get("expected_header_row"))
                    for r in plans)
    kinds = [r for r in plans if r.kind]
    right_kind = sum(r.kind == r.expected.get("kind") for r in kinds)
    leaks = [r.path.name for r in results if r.diff and r.diff.unexpected]
    lines = [
        f"**{len(plans)} workbooks with a plan-like table:** handled {count['handled']} "
        f"(of which right header row {right_row}), wrong table {count['wrong table']}, "
        f"no plan found {count['no plan found']}, crashed {count['crashed']}.",
        f"**{len(nones)} workbooks with no such table:** refused {sum(r.outcome == 'refused (right)' for r in nones)}, "
        f"plan claimed {sum(r.outcome == 'plan claimed' for r in nones)}, "
        f"crashed {sum(r.outcome == 'crashed' for r in nones)}.",
        f"Kind reported for {len(kinds)} of {len(plans)}; right for {right_kind}." if kinds else
        "Kind: not reported by this command.",
        "Handled by kind: " + ", ".join(
            f"{k} {sum(r.outcome == 'handled' for r in plans if r.expected.get('kind') == k)}"
            f"/{sum(r.expected.get('kind') == k for r in plans)}" for k in KINDS[:-1]) + ".",
        f"Outputs with a user's part changed outside the edited sheet: {len(leaks)}"
        + (f" ({', '.join(leaks)})" if leaks else "") + ".",
        f"Seconds (run, summed): {sum(r.run.seconds for r in results):.1f}; slowest "
        + ", ".join(f"{r.path.name} {r.run.seconds:.1f}" for r in sorted(results, key=lambda r: -r.run.seconds)[:3]) + ".",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_workbooks", description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="*", type=Path, help="folders or files (default: $XLPLUGIN_REALWORLD or ../shared/realworld)")
    ap.add_argument("--xlplugin", default=None, help='the command to measure, e.g. "/work/main/.venv/bin/xlplugin" '
                    "(default: this interpreter's xlplugin)")
    ap.add_argument("--md", type=Path, default=None, help="also write the table and totals to this Markdown file")
    args = ap.parse_args(argv)
    folders = args.folders or default_folders()
    files = workbooks(folders)
    if not files:
        print(f"no workbooks in {', '.join(map(str, folders))} (set XLPLUGIN_REALWORLD; see benchmarks/realworld_sources.md)")
        return 0
    xlplugin = shlex.split(args.xlplugin) if args.xlplugin else [sys.executable, "-m", "xlplugin.cli"]
    manifest = load_manifest(folders)
    explain = has_explain(xlplugin)
    results = []
    with tempfile.TemporaryDirectory(prefix="xlp-realworld-") as tmp:
        for path in files:
            r = measure(path, manifest.get(path.name, {}), xlplugin, explain, Path(tmp))
            print(f"  {r.outcome:15} {r.run.seconds:6.1f} s  {path.name}", file=sys.stderr, flush=True)
            results.append(r)
    text = (f"Command: `{' '.join(xlplugin)}` ({'with' if explain else 'without'} --explain), "
            f"{len(files)} workbooks from {', '.join(map(str, folders))}.\n\n{table(results)}\n\n{totals(results)}\n")
    print(text)
    if args.md:
        args.md.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
