"""One file through the flow: read -> locate -> parse -> check -> label -> summarize
-> render -> apply.  Used by every CLI command (and the batch runner), so they agree.

`process_file` never raises for a bad input: it returns a FileResult whose `error`
says what went wrong in one line (exit code 2), so one bad file never stops a batch.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from xlplugin.changes import ChangeList
from xlplugin.config import Config, load_config
from xlplugin.errors import XlpluginError

if TYPE_CHECKING:  # pragma: no cover
    from xlplugin.model import Finding, Label, ParsedPlan

CHECK, LABEL, SUMMARIZE, CLEAR = "check", "label", "summarize", "clear"
ALL_STEPS = frozenset({CHECK, LABEL, SUMMARIZE})

EXIT_CLEAN, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2


@dataclass
class Options:
    """What a command asked for; picklable so batch workers get a copy."""

    steps: frozenset[str] = ALL_STEPS
    write: bool = True                 # False: analyse only (check, label --format json)
    out_dir: Path | None = None
    in_place: bool = False
    dry_run: bool = False
    sheet: str | None = None
    config_path: Path | None = None
    schema_path: Path | None = None
    taxonomy_path: Path | None = None
    learn_from: tuple[Path, ...] = ()
    warnings_as_errors: bool = False


@dataclass
class FileResult:
    path: Path
    output: Path | None = None
    rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)   # described, for --dry-run
    error: str | None = None
    seconds: float = 0.0
    sheet: str = ""

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)

    def exit_code(self, warnings_as_errors: bool = False) -> int:
        if self.error:
            return EXIT_UNREADABLE
        if self.errors or (warnings_as_errors and self.warnings):
            return EXIT_ERRORS
        return EXIT_CLEAN


def output_path(src: Path, opts: Options) -> Path:
    """Where a writing command puts its result: --in-place, --out DIR, or NAME.checked.xlsx."""
    if opts.in_place:
        return src
    if opts.out_dir is not None:
        return opts.out_dir / src.name
    stem = src.stem
    if stem.endswith(".checked"):
        raise XlpluginError("this is already an xlplugin output; use --in-place to update it, "
                            "or --out DIR", file=str(src))
    return src.with_name(f"{stem}.checked{src.suffix}")


def _learned_model(opts: Options):
    if not opts.learn_from:
        return None
    from xlplugin.learn import learn_from
    return learn_from(list(opts.learn_from))


@dataclass
class Analysis:
    parsed: ParsedPlan
    findings: list[Finding]
    labels: list[Label]
    config: Config


def analyse(path: Path, opts: Options, config: Config | None = None, model=None) -> Analysis:
    """read -> locate -> parse -> label -> check over a workbook file.  Raises XlpluginError."""
    from xlplugin.read import open_workbook

    config = config or load_config(opts.config_path, near=path)
    with open_workbook(path) as wb:
        return analyse_source(wb, opts, config, model, str(path))


def analyse_source(wb, opts: Options, config: Config, model=None, file: str = "") -> Analysis:
    """The pure part of analyse, over any workbook source (a file's Workbook, or a live
    xlwings Book through read_xlwings): the CLI and the ribbon share it."""
    from xlplugin.check import check_plan
    from xlplugin.label import earlier_stages, label_plan, load_taxonomy, stage_findings
    from xlplugin.locate import locate_plan
    from xlplugin.parse import parse_plan

    plan = locate_plan(wb, sheet=opts.sheet, config=config)
    grid = wb.grid(plan.sheet)
    parsed = parse_plan(grid, plan, date1904=wb.date1904)
    # Labels feed the stage-share and KPI checks as well as the Stage column and Summary.
    taxonomy = load_taxonomy(opts.taxonomy_path or config.taxonomy_file)
    labels: list[Label] = label_plan(parsed, taxonomy=taxonomy, model=model,
                                     stage_cells=earlier_stages(grid, plan) or None)
    findings: list[Finding] = []
    if CHECK in opts.steps:
        findings = check_plan(parsed, config, labels=labels,
                              schema_path=opts.schema_path or config.schema_file)
    if LABEL in opts.steps:
        findings = sorted(findings + stage_findings(parsed, labels),
                          key=lambda f: (f.row or 0, f.col or 0, f.rule))
    for f in findings:
        f.file = file
    return Analysis(parsed, findings, labels, config)


def render(analysis: Analysis, opts: Options, source_name: str) -> ChangeList:
    """Findings, labels and the summary as one change list (the seam)."""
    changes = ChangeList()
    parsed = analysis.parsed
    if CHECK in opts.steps:
        from xlplugin.render_validation import validation_changes
        changes.extend(validation_changes(analysis.findings, parsed, source_name))
    if LABEL in opts.steps or SUMMARIZE in opts.steps:
        # The summary's formulas read the Stage column, so it must exist when they do.
        from xlplugin.render_labels import label_changes
        changes.extend(label_changes(parsed, analysis.labels))
    if SUMMARIZE in opts.steps:
        from xlplugin.summarize import metric_changes, summary_changes
        changes.extend(metric_changes(parsed))
        changes.extend(summary_changes(parsed, analysis.labels, analysis.findings,
                                       analysis.config, source_name))
    return changes


def apply(src: Path, dest: Path, changes: ChangeList) -> None:
    """The file target: writes dest atomically (and refuses one Excel holds open)."""
    from xlplugin.apply_file import apply_to_file
    dest.parent.mkdir(parents=True, exist_ok=True)
    apply_to_file(src, dest, changes)


def process_file(path: str | Path, opts: Options, model=None) -> FileResult:
    """Run the requested steps on one workbook.  Never raises for bad input."""
    path = Path(path)
    result = FileResult(path=path)
    t0 = time.perf_counter()
    try:
        if opts.steps == {CLEAR}:
            from xlplugin.render_validation import clear_changes
            changes = clear_changes()
        else:
            analysis = analyse(path, opts, model=model if model is not None else _learned_model(opts))
            result.rows = len(analysis.parsed.plan.data_rows)
            result.sheet = analysis.parsed.plan.sheet
            result.findings = analysis.findings
            result.labels = analysis.labels
            if not opts.write:
                return result
            changes = render(analysis, opts, path.name)
        dest = output_path(path, opts)
        if opts.dry_run:
            result.changes = changes.describe()   # only when asked: O(changes) text
        else:
            apply(path, dest, changes)
            result.output = dest
    except XlpluginError as e:
        if not e.file or e.file == path.name:
            e.file = str(path)   # name the file as the user gave it
        result.error = str(e)
    except (OSError, MemoryError) as e:
        result.error = f"{path}: {e.__class__.__name__}: {e}"
    except Exception as e:  # a bug, or input we did not foresee: one line, not a traceback
        if os.environ.get("XLPLUGIN_DEBUG"):
            raise
        result.error = (f"{path}: unexpected {e.__class__.__name__}: {e} "
                        "(set XLPLUGIN_DEBUG=1 for details, and please report it)")
    finally:
        result.seconds = time.perf_counter() - t0
    return result
