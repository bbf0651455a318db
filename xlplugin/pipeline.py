"""One file through the flow: read -> locate -> parse -> check -> label -> summarize
-> render -> apply.  Used by every CLI command (and the batch runner), so they agree.

`process_file` never raises for a bad input: it returns a FileResult whose `error`
says what went wrong in one line and whose `outcome` names it in errors.py's words
(exit code 2), so one bad file never stops a batch.

Commands compose: a writing command that finds an earlier output where it writes
re-derives that output's other parts too (label after run keeps the Validation and
Summary sheets, current), and says so in `kept`.  `clear` on an output clears it in place.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from xlplugin.changes import ChangeList
from xlplugin.config import Config, load_config
from xlplugin.errors import AlreadyOutput, XlpluginError

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
    fix: bool = False                  # write numbers/dates typed as text back as values


@dataclass
class FileResult:
    path: Path
    output: Path | None = None
    rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)   # described, for --dry-run
    error: str | None = None
    outcome: str = ""                 # errors.py's word for a file-level failure
    advice: str = ""                  # what to do about it
    seconds: float = 0.0
    sheet: str = ""
    kind: str = ""                    # the sheet kind locate recognised (model.SHEET_KINDS)
    kept: list[str] = field(default_factory=list)    # parts of an earlier output re-derived
    fixed: list[str] = field(default_factory=list)   # cells --fix set right, described
    note: str = ""                    # a word on what happened ("nothing to clear")
    row_names: dict[int, tuple[object, object]] = field(default_factory=dict)  # row -> (ID, activity)

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
    """Where a writing command puts its result: --in-place, --out DIR, or NAME.checked.xlsx.
    `clear` on an xlplugin output clears that output itself."""
    if opts.in_place:
        return src
    if opts.out_dir is not None:
        return opts.out_dir / src.name
    if opts.steps == {CLEAR}:
        return src
    stem = src.stem
    if stem.endswith(".checked"):
        raise AlreadyOutput("this is already an xlplugin output", file=str(src))
    return src.with_name(f"{stem}.checked{src.suffix}")


PART_NAMES = {CHECK: "Validation sheet", LABEL: "Stage columns", SUMMARIZE: "Summary sheet"}


def compose(opts: Options, dest: Path) -> tuple[Options, list[str]]:
    """The steps to run so that an earlier output at `dest` stays whole: its parts that
    this command would not write are re-derived from the original as well."""
    from dataclasses import replace

    from xlplugin.file.intake import output_parts

    extra = output_parts(dest) - opts.steps - {CLEAR}
    if not extra or not opts.write or opts.steps == {CLEAR}:
        return opts, []
    return replace(opts, steps=frozenset(opts.steps | extra)), [PART_NAMES[s] for s in sorted(extra)]


def learn_from(paths: list[Path]):
    """Fit a model on the human-set Stage column of past plans (or load a saved .json model).
    The files are read here (through the same read -> locate -> parse as any plan), so the
    learning code in engine/stages/learn.py stays pure."""
    from xlplugin.engine.locate import locate_plan
    from xlplugin.engine.parse import parse_plan
    from xlplugin.engine.stages.label import earlier_stages
    from xlplugin.engine.stages.learn import LearnedModel, fit, labelled_rows
    from xlplugin.file.read import open_workbook

    paths = [Path(p) for p in paths]
    models = [p for p in paths if p.suffix.lower() == ".json"]
    if models:
        if len(paths) > 1:
            raise XlpluginError("--learn-from takes either one saved model (.json) or workbooks, not both",
                                file=str(models[0]))
        return LearnedModel.load(models[0])
    texts: list[dict[str, str]] = []
    stages: list[str] = []
    for p in paths:
        if not p.is_file():
            raise XlpluginError("no such file (--learn-from)", file=str(p))
        with open_workbook(p) as wb:
            plan = locate_plan(wb, config=Config())
            grid = wb.grid(plan.sheet)
            parsed = parse_plan(grid, plan, date1904=wb.date1904)
            people = earlier_stages(grid, plan)
        t, s = labelled_rows(parsed, people or None)
        texts += t
        stages += s
    return fit(texts, stages, [p.name for p in paths])


def _learned_model(opts: Options):
    if not opts.learn_from:
        return None
    return learn_from(list(opts.learn_from))


@dataclass
class Analysis:
    parsed: ParsedPlan
    findings: list[Finding]
    labels: list[Label]
    config: Config
    fixes: list = field(default_factory=list)      # fix.Fix: cells --fix writes
    grid: object = None                            # the plan sheet's cell values (model.Grid)
    header_style: object = None                    # changes.Style of the plan's header row


def analyse(path: Path, opts: Options, config: Config | None = None, model=None) -> Analysis:
    """read -> locate -> parse -> label -> check over a workbook file.  Raises XlpluginError."""
    from xlplugin.file.read import open_workbook

    config = config or load_config(opts.config_path, near=path)
    with open_workbook(path) as wb:
        return analyse_source(wb, opts, config, model, str(path))


def analyse_source(wb, opts: Options, config: Config, model=None, file: str = "") -> Analysis:
    """The pure part of analyse, over any workbook source (a file's Workbook, or a live
    xlwings Book through read_xlwings): the CLI and the ribbon share it."""
    from xlplugin.engine.check import check_plan
    from xlplugin.engine.locate import locate_plan
    from xlplugin.engine.parse import parse_plan
    from xlplugin.engine.stages.label import earlier_stages, label_plan, load_taxonomy, stage_findings

    plan = locate_plan(wb, sheet=opts.sheet, config=config)
    grid = wb.grid(plan.sheet)
    parsed = parse_plan(grid, plan, date1904=wb.date1904)
    style = None
    if opts.write or opts.fix:   # the plan's look only shapes what is written (check skips it)
        from xlplugin.file.read_formats import header_style, money_format
        parsed.money_format = money_format(wb, plan)   # show amounts as the plan does
        style = header_style(wb, plan)
    fixes = []
    if opts.fix:   # from here on the plan is as it will be once fixed
        from xlplugin.render.fix import apply_to_plan, find_fixes
        fixes = find_fixes(parsed, parsed.findings)
        parsed.findings = apply_to_plan(parsed, fixes, parsed.findings)
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
    return Analysis(parsed, findings, labels, config, fixes, grid, style)


def render(analysis: Analysis, opts: Options, source_name: str) -> ChangeList:
    """Findings, labels and the summary as one change list (the seam)."""
    changes = ChangeList()
    parsed = analysis.parsed
    if analysis.fixes:
        from xlplugin.render.fix import fix_changes
        changes.extend(fix_changes(analysis.fixes))
    if CHECK in opts.steps:
        from xlplugin.render.validation import validation_changes
        changes.extend(validation_changes(analysis.findings, parsed, source_name))
    if LABEL in opts.steps or SUMMARIZE in opts.steps:
        # The summary's formulas read the Stage column, so it must exist when they do.
        from xlplugin.render.labels import label_changes
        changes.extend(label_changes(parsed, analysis.labels))
    if SUMMARIZE in opts.steps:
        from xlplugin.render.metric_columns import metric_changes
        from xlplugin.render.summary import summary_changes
        changes.extend(metric_changes(parsed))
        checked = analysis.findings if CHECK in opts.steps else None   # None: "not checked"
        changes.extend(summary_changes(parsed, analysis.labels, checked, analysis.config, source_name))
    return _with_plan_header_style(changes, analysis)


def _with_plan_header_style(changes: ChangeList, analysis: Analysis) -> ChangeList:
    """Headers of the columns xlplugin adds look like the plan's own header cells."""
    style, plan = analysis.header_style, analysis.parsed.plan
    if style is None:
        return changes
    from dataclasses import replace

    from xlplugin.changes import FormulaColumn, SetCell, ValueColumn
    header_row = plan.table.first_row if plan.table is not None else plan.header_row
    added = set(plan.tool_cols.values())

    def ours(c) -> bool:
        return c.sheet == plan.sheet and (c.col > plan.last_col or c.col in added)

    def restyle(c):
        if isinstance(c, SetCell) and c.row == header_row and ours(c):
            return replace(c, style=style)
        if isinstance(c, (FormulaColumn, ValueColumn)) and c.header is not None and ours(c):
            return replace(c, header_style=style)
        return c
    return ChangeList([restyle(c) for c in changes])


def apply(src: Path, dest: Path, changes: ChangeList) -> None:
    """The file target: writes dest atomically (and refuses one Excel holds open)."""
    from xlplugin.file.write import apply_to_file
    dest.parent.mkdir(parents=True, exist_ok=True)
    apply_to_file(src, dest, changes)


def _row_names(parsed: ParsedPlan) -> dict[int, tuple[object, object]]:
    """Each plan row's ID and activity as typed, so a report can name the row."""
    frame = parsed.raw if parsed.raw is not None else parsed.frame
    cols = [frame[f].tolist() if f in frame.columns else None for f in ("id", "activity")]  # not .get per row
    def typed(v: object) -> object:
        return None if v is None or (isinstance(v, float) and v != v) else v
    return {int(r): tuple(None if c is None else typed(c[i]) for c in cols)
            for i, r in enumerate(frame.index.tolist())}


def process_file(path: str | Path, opts: Options, model=None) -> FileResult:
    """Run the requested steps on one workbook.  Never raises for bad input."""
    from xlplugin.file.intake import check_input, output_parts

    path = Path(path)
    result = FileResult(path=path)
    t0 = time.perf_counter()
    try:
        check_input(path)
        dest = output_path(path, opts) if opts.write else path
        opts, result.kept = compose(opts, dest)
        if opts.steps == {CLEAR}:
            from xlplugin.render.validation import clear_changes
            changes = clear_changes()
            if not output_parts(path):   # a user's own workbook: nothing to write
                result.note = "no xlplugin marks to clear"
                result.changes = changes.describe() if opts.dry_run else []
                return result
        else:
            analysis = analyse(path, opts, model=model if model is not None else _learned_model(opts))
            result.rows = len(analysis.parsed.plan.data_rows)
            result.sheet = analysis.parsed.plan.sheet
            result.kind = analysis.parsed.plan.kind
            result.findings = analysis.findings
            result.labels = analysis.labels
            result.fixed = [fx.describe() for fx in analysis.fixes]
            if not opts.write:
                if LABEL in opts.steps:   # label --format json names each row; check does not
                    result.row_names = _row_names(analysis.parsed)
                return result
            changes = render(analysis, opts, path.name)
            del analysis   # the cell grid and frames are not needed by the writer: free them before its peak
        if opts.dry_run:
            result.changes = changes.describe()   # only when asked: O(changes) text
        else:
            apply(path, dest, changes)   # refuses a workbook open in Excel (OpenInExcel)
            result.output = dest
    except XlpluginError as e:
        if not e.file or e.file == path.name:
            e.file = str(path)   # name the file as the user gave it
        result.error, result.outcome, result.advice = str(e), e.outcome, e.advice
    except (OSError, MemoryError) as e:
        result.error = f"{path}: {e.__class__.__name__}: {e}"
        result.outcome = "cannot read or write"
    except Exception as e:  # a bug, or input we did not foresee: one line, not a traceback
        if os.environ.get("XLPLUGIN_DEBUG"):
            raise
        result.error = f"{path}: unexpected {e.__class__.__name__}: {e}"
        result.outcome = "failed"
        result.advice = "set XLPLUGIN_DEBUG=1 for details, and please report it"
    finally:
        result.seconds = time.perf_counter() - t0
    return result
