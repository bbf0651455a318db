"""The `xlplugin` command.  Imports only typer and rich at start-up: pandas, pandera
and the engine load inside the commands, so `xlplugin --help` stays fast."""

from __future__ import annotations

import gc
import glob
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperCommand

from xlplugin import __version__
from xlplugin.excel.addin.commands import app as addin_app  # typer only: --help stays light

app = typer.Typer(
    name="xlplugin",
    help="Validate, label (upstream/downstream) and summarise marketing plan workbooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(addin_app, name="addin")

EXTENSIONS = (".xlsx", ".xlsm")


class _PlainHelp(TyperCommand):
    """Help in the usual Unix shape: typer 0.29 prints `{PATH}...` and type labels such
    as `<list[str]>`; print `PATH...` and let the metavars (DIR, FILE, N) say it."""

    def get_help(self, ctx) -> str:
        text = re.sub(r"\{([A-Z]+)\}", r"\1", super().get_help(ctx))
        return re.sub(r" <[\w\[\]|,. ]+>", "", text)

# Options shared by several commands.
Paths = Annotated[list[str], typer.Argument(metavar="PATH", show_default=False,
                                             help="Workbooks, folders or glob patterns.")]
OutDir = Annotated[Path | None, typer.Option("--out", metavar="DIR", help="Write results into this folder (same file names).")]
InPlace = Annotated[bool, typer.Option("--in-place", help="Update the input workbooks themselves.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the change list instead of writing.")]
Sheet = Annotated[str | None, typer.Option("--sheet", metavar="NAME", help="The plan's sheet (default: found automatically).")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", metavar="FILE", help="Settings file (default: xlplugin.toml beside the workbook or here).")]
SchemaOpt = Annotated[Path | None, typer.Option("--schema", metavar="FILE", help="A pandera YAML schema to use for the plan.")]
TaxonomyOpt = Annotated[Path | None, typer.Option("--taxonomy", metavar="FILE", help="A stage taxonomy file to use instead of the shipped one.")]
LearnOpt = Annotated[list[Path] | None, typer.Option("--learn-from", metavar="PATH", help="Past plans (files or folders) whose Stage column people set; repeatable.")]
FixOpt = Annotated[bool, typer.Option("--fix", help="Write numbers and dates typed as text back as real values where the reading is unambiguous (clear undoes it).")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", metavar="N", show_default=False, help="Files processed in parallel (default: all cores).")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS",
    help="Run on a Dask distributed cluster (tcp://HOST:PORT); the files must be on storage its workers share.")]


def _console(stderr: bool = False):
    """A rich console; when output is not a terminal (CI logs, a pipe) lines are never
    wrapped or cut at 80 columns."""
    from rich.console import Console
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 10_000
    return Console(stderr=stderr, highlight=False, width=width, soft_wrap=width is not None)


def _fail(message: str, code: int = 2) -> None:
    _console(stderr=True).print(f"[red]error:[/red] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def expand_paths(items: list[str]) -> list[Path]:
    """Files, folders (searched recursively) and globs -> workbook paths, in a stable order.
    A named path that does not exist is kept, so it is reported as unreadable."""
    found: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found += sorted(q for q in p.rglob("*")
                            if q.suffix.lower() in EXTENSIONS and not q.name.startswith("~$"))
        elif any(ch in item for ch in "*?[") and not p.exists():   # "[Q1] plan.xlsx" is a name
            found += sorted(Path(m) for m in glob.glob(item, recursive=True)
                            if Path(m).suffix.lower() in EXTENSIONS and not Path(m).name.startswith("~$"))
        else:
            found.append(p)
    seen: set[Path] = set()
    return [p for p in found if not (p in seen or seen.add(p))]


def _options(**kw):
    from xlplugin.pipeline import Options
    learn = expand_paths([str(p) for p in kw.pop("learn_from", None) or ()])  # folders too
    out_dir = kw.get("out_dir")
    if out_dir is not None and kw.get("in_place"):
        _fail("--out and --in-place cannot be used together")
    return Options(learn_from=tuple(learn), **kw)


def _run_files(paths: list[Path], opts, jobs: int, progress: bool, scheduler: str | None = None):
    """Process files here, in a local process pool, or on a Dask cluster, with a progress bar."""
    from xlplugin.batch import run_batch
    from xlplugin.errors import XlpluginError

    model = None
    try:
        if opts.learn_from:
            from xlplugin.pipeline import learn_from
            model = learn_from(list(opts.learn_from))
        if scheduler is None or not jobs:
            from xlplugin.config import load_config
            run_cfg = load_config(opts.config_path)
            scheduler = scheduler if scheduler is not None else run_cfg.scheduler
            jobs = jobs or run_cfg.jobs
        if opts.out_dir is not None:
            opts.out_dir.mkdir(parents=True, exist_ok=True)
        with _progress(progress, len(paths)) as (bar, task):
            return run_batch(paths, opts, jobs=jobs, scheduler=scheduler or None, model=model,
                             on_done=lambda _r: bar.advance(task))
    except XlpluginError as e:
        _fail(str(e))


class _NoBar:
    def advance(self, task) -> None:
        pass


class _progress:
    def __init__(self, show: bool, total: int) -> None:
        self.show, self.total = show and total > 1, total

    def __enter__(self):
        if not self.show:
            return _NoBar(), None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
        self.bar = Progress("[progress.description]{task.description}", BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), console=_console(stderr=True),
                            transient=True)
        self.bar.__enter__()
        return self.bar, self.bar.add_task("workbooks", total=self.total)

    def __exit__(self, *exc) -> None:
        if self.show:
            self.bar.__exit__(*exc)


def _report_errors(results) -> None:
    """Each failed file once, on stderr: what went wrong, and what to do about it."""
    err = _console(stderr=True)
    for r in results:
        if r.error:
            advice = f" ({r.advice})" if r.advice else ""
            err.print(f"error: {r.error}{advice}", markup=False, soft_wrap=True)


def _exit(results, warnings_as_errors: bool = False) -> None:
    code = max((r.exit_code(warnings_as_errors) for r in results), default=0)
    raise typer.Exit(code)


def _print_dry_run(results) -> None:
    out = _console()
    for r in results:
        if r.error:
            continue
        out.print(f"{r.path}: {len(r.changes)} changes", markup=False)
        for line in r.changes:
            out.print(f"  {line}", markup=False, soft_wrap=True)


def _write_command(paths, steps, out_dir, in_place, dry_run, sheet, config, schema=None, taxonomy=None,
                   learn_from=None, jobs=0, title="xlplugin", fix=False, scheduler=None):
    files = expand_paths(paths)
    if not files:
        _fail("no workbooks (.xlsx, .xlsm) found in " + ", ".join(paths))
    opts = _options(steps=frozenset(steps), out_dir=out_dir, in_place=in_place, dry_run=dry_run,
                    sheet=sheet, config_path=config, schema_path=schema, taxonomy_path=taxonomy,
                    learn_from=learn_from, fix=fix)
    results = _run_files(files, opts, jobs, progress=True, scheduler=scheduler)
    if dry_run:
        _print_dry_run(results)
    _report_errors(results)
    from xlplugin import report
    report.print_results(results, _console(), title)
    _exit(results)


def _version(value: bool) -> None:
    if value:
        print(f"xlplugin {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Validate, label (upstream/downstream) and summarise marketing plan workbooks.

    Exit codes: 0 clean, 1 a plan has errors, 2 a file could not be read or written.
    """


@app.command(cls=_PlainHelp)
def run(paths: Paths, out: OutDir = None, in_place: InPlace = False, dry_run: DryRun = False,
        sheet: Sheet = None, config: ConfigOpt = None, schema: SchemaOpt = None,
        taxonomy: TaxonomyOpt = None, learn_from: LearnOpt = None, fix: FixOpt = False,
        jobs: JobsOpt = 0, scheduler: SchedulerOpt = None) -> None:
    """Validate, label and summarise workbooks (files, folders, globs); write the results."""
    _write_command(paths, ("check", "label", "summarize"), out, in_place, dry_run, sheet, config,
                   schema, taxonomy, learn_from, jobs, title="xlplugin run", fix=fix, scheduler=scheduler)


@app.command(cls=_PlainHelp)
def check(paths: Paths,
          fmt: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", help="text, json, junit or github.")] = "text",
          output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file.")] = None,
          warnings_as_errors: Annotated[bool, typer.Option("--warnings-as-errors", help="Exit 1 on warnings too.")] = False,
          sheet: Sheet = None, config: ConfigOpt = None, schema: SchemaOpt = None,
          taxonomy: TaxonomyOpt = None, jobs: JobsOpt = 0, scheduler: SchedulerOpt = None,
          explain: Annotated[bool, typer.Option("--explain", help="Show which table was taken and why: sheet, header row, each column's field and synonym, the kind, the runner-up (with --format json: as JSON).")] = False) -> None:
    """Validate workbooks without changing them; print a report (exit 1 on errors)."""
    if fmt not in ("text", "json", "junit", "github"):
        _fail(f"unknown --format {fmt!r}: use text, json, junit or github")
    files = expand_paths(paths)
    if not files:
        _fail("no workbooks (.xlsx, .xlsm) found in " + ", ".join(paths))
    if explain:
        _explain(files, fmt, sheet, config)
    opts = _options(steps=frozenset({"check"}), write=False, sheet=sheet, config_path=config,
                    schema_path=schema, taxonomy_path=taxonomy, warnings_as_errors=warnings_as_errors)
    results = _run_files(files, opts, jobs, progress=fmt == "text" and output is None,
                         scheduler=scheduler)
    _report_errors(results)
    from xlplugin import report
    if fmt == "text" and output is None:   # failed files: the error lines above say it
        report.print_findings([f for r in results for f in r.findings], _console(), files=len(results))
        for r in results:
            if not r.error and not r.findings:
                kind = r.kind.replace("_", " ")
                _console().print(f"{r.path}: {r.rows} rows ({kind}), no problems found", markup=False)
    else:   # a report is always whole and well-formed, failed files included
        findings = [f for r in results for f in (
            [report.file_finding(str(r.path), r.outcome, r.error, r.advice)] if r.error else r.findings)]
        text = report.format_findings(findings, fmt, files=len(results))
        if output is not None:
            output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
    _exit(results, warnings_as_errors)


def _explain(files: list[Path], fmt: str, sheet: str | None, config: Path | None) -> None:
    """`check --explain`: the choice locate makes on each file; exit 2 when one has no table."""
    from xlplugin.errors import XlpluginError
    from xlplugin.explain import explain_file, format_text
    out, code = [], 0
    for f in files:
        try:
            e = explain_file(f, sheet, config)
        except XlpluginError as err:
            if not err.file:
                err.file = str(f)
            e = {"file": str(f), "found": False, "error": str(err)}
        code = max(code, 0 if e["found"] else 2)
        out.append(e)
    if fmt == "json":
        sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        con = _console()
        for e in out:
            con.print(e["error"] if "error" in e else format_text(e), markup=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command(cls=_PlainHelp)
def label(paths: Paths, out: OutDir = None, in_place: InPlace = False, dry_run: DryRun = False,
          fmt: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", show_default=False,
                                           help="'json' prints the labels (with IDs and activities) instead of writing.")] = "xlsx",
          sheet: Sheet = None, config: ConfigOpt = None, taxonomy: TaxonomyOpt = None,
          learn_from: LearnOpt = None, jobs: JobsOpt = 0, scheduler: SchedulerOpt = None) -> None:
    """Label every plan row Upstream, Downstream or Review, with a reason; write Stage columns."""
    if fmt not in ("xlsx", "json"):
        _fail(f"unknown --format {fmt!r}: use json (or leave it out to write the workbook)")
    if fmt == "json":
        files = expand_paths(paths)
        opts = _options(steps=frozenset({"label"}), write=False, sheet=sheet, config_path=config,
                        taxonomy_path=taxonomy, learn_from=learn_from)
        results = _run_files(files, opts, jobs, progress=False, scheduler=scheduler)
        _report_errors(results)
        payload = [{"file": str(r.path), "sheet": r.sheet, "kind": r.kind, "row": lab.row,
                    "id": r.row_names.get(lab.row, (None, None))[0],
                    "activity": r.row_names.get(lab.row, (None, None))[1], "stage": lab.stage,
                    "confidence": round(lab.confidence, 3), "reason": lab.reason, "source": lab.source}
                   for r in results for lab in r.labels]
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
        raise typer.Exit(max((2 if r.error else 0) for r in results))
    _write_command(paths, ("label",), out, in_place, dry_run, sheet, config, None, taxonomy,
                   learn_from, jobs, title="xlplugin label", scheduler=scheduler)


@app.command(cls=_PlainHelp)
def summarize(paths: Paths, out: OutDir = None, in_place: InPlace = False, dry_run: DryRun = False,
              sheet: Sheet = None, config: ConfigOpt = None, taxonomy: TaxonomyOpt = None,
              fix: FixOpt = False, jobs: JobsOpt = 0, scheduler: SchedulerOpt = None) -> None:
    """Add metric columns and a Summary sheet of live formulas and charts."""
    _write_command(paths, ("summarize",), out, in_place, dry_run, sheet, config, None, taxonomy,
                   None, jobs, title="xlplugin summarize", fix=fix, scheduler=scheduler)


@app.command(cls=_PlainHelp)
def clear(paths: Paths, out: OutDir = None, in_place: InPlace = False, dry_run: DryRun = False,
          jobs: JobsOpt = 0, scheduler: SchedulerOpt = None) -> None:
    """Remove every highlight, note, column and sheet xlplugin added; restore original styles."""
    _write_command(paths, ("clear",), out, in_place, dry_run, None, None, jobs=jobs, title="xlplugin clear",
                   scheduler=scheduler)


@app.command(cls=_PlainHelp)
def rollup(paths: Paths,
           out: Annotated[Path, typer.Option("--out", metavar="FILE", help="The roll-up workbook to write.")] = Path("rollup.xlsx"),
           config: ConfigOpt = None) -> None:
    """One workbook summarising many plans: budget and actual by stage, findings, links."""
    from xlplugin.config import load_config
    from xlplugin.errors import XlpluginError
    from xlplugin.rollup import rollup as build_rollup
    files = expand_paths(paths)
    if not files:
        _fail("no workbooks (.xlsx, .xlsm) found in " + ", ".join(paths))
    try:
        written = build_rollup(files, out, load_config(config))
    except XlpluginError as e:
        _fail(str(e))
    _console().print(f"wrote {written} ({len(files)} plans)", markup=False)


def _template_path(name: str) -> Path:
    from importlib.resources import files
    return Path(str(files("xlplugin.templates") / name))


@app.command(cls=_PlainHelp)
def new(path: Annotated[Path, typer.Argument(metavar="PATH", help="The workbook to create (.xlsx).")],
        empty: Annotated[bool, typer.Option("--empty", help="No example rows: one blank row to start from.")] = False,
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False) -> None:
    """Create a fresh plan workbook from the template (with example rows, or --empty)."""
    if path.suffix.lower() != ".xlsx":
        _fail(f"{path}: a new plan must be an .xlsx file")
    if path.exists() and not force:
        _fail(f"{path}: already exists (use --force to overwrite)")
    src = _template_path("plan-template-empty.xlsx" if empty else "plan-template.xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, path)
    what = "an empty plan" if empty else "a plan with example rows (replace them with yours)"
    _console().print(f"created {path}: {what}", markup=False)


@app.command(cls=_PlainHelp)
def demo(out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Folder for the demo output.")] = Path("demo-output")) -> None:
    """Run the whole pipeline on the bundled sample plan and say where the result is."""
    from xlplugin.pipeline import Options, process_file
    out.mkdir(parents=True, exist_ok=True)
    src = out / "sample-plan.xlsx"
    shutil.copyfile(_template_path("sample-plan.xlsx"), src)
    result = process_file(src, Options())
    con = _console()
    if result.error:
        _fail(result.error)
    from xlplugin import report
    report.print_findings(result.findings, con)
    con.print()
    con.print(f"Sample plan: {src} ({result.rows} rows on sheet {result.sheet!r})", markup=False)
    con.print(f"Result:      {result.output}", markup=False)
    def n(count: int, word: str) -> str:
        return f"{count} {word}{'s' * (count != 1)}"

    con.print(f"  findings:  {n(result.errors, 'error')}, {n(result.warnings, 'warning')} "
              "(highlighted cells with notes, and a Validation sheet with links)",
              markup=False, soft_wrap=True)
    con.print("  stages:    " + report.stage_counts(result.labels)
              + " (Stage and Stage basis columns)", markup=False, soft_wrap=True)
    con.print("  summary:   Summary sheet with live formulas and charts; metric columns on the plan",
              markup=False, soft_wrap=True)
    con.print(f"Open it in Excel or LibreOffice: {result.output.resolve() if result.output else '-'}",
              markup=False, soft_wrap=True)


def main() -> None:
    # One command's run allocates many objects that live to its end (pandas, pandera, the
    # stage model): the default threshold (700) ran 360 collections, 0.15 s of a `check`.
    gc.set_threshold(10_000, 10, 10)
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    finally:
        # The process ends here: freezing the heap spares the interpreter's exit a last
        # traversal of everything the engine loaded (0.2 s of CPU after a `check`).
        gc.freeze()


if __name__ == "__main__":
    main()
