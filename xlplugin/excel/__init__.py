"""The ribbon commands: what the "Marketing Plan" tab's buttons run inside Excel.

The add-in's one VBA callback calls `ribbon(tag)` through xlwings' RunPython with the
button's tag.  Each command runs the same flow as the CLI (pipeline.py) over the
open workbook: read it through xlwings (read_xlwings), locate, parse, label, check,
then `pipeline.render` for the change list, and apply that list to the live Book
(apply_xlwings).  The ChangeList is the CLI's, so Excel and the CLI cannot drift apart.

Tags: validate, label, summary, run_all, clear, new_plan.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlplugin.errors import XlpluginError

log = logging.getLogger(__name__)

TITLE = "xlplugin"
NEW_PLAN_NAME = "Marketing plan"


@dataclass
class CommandResult:
    tag: str
    message: str                       # what the user is told (one short paragraph)
    errors: int = 0
    warnings: int = 0
    changes: list[str] = field(default_factory=list)  # the change list, described
    report: Any = None                 # apply_xlwings.ApplyReport
    path: Path | None = None           # new_plan: the workbook created


def _steps(tag: str) -> frozenset[str]:
    from xlplugin import pipeline as P
    return {"validate": frozenset({P.CHECK}), "label": frozenset({P.LABEL}),
            "summary": frozenset({P.SUMMARIZE}), "run_all": P.ALL_STEPS}[tag]


COMMANDS = ("validate", "label", "summary", "run_all", "clear", "new_plan")


def analyse_book(book: Any, opts: Any, source: Any | None = None) -> Any:
    """pipeline.analyse over a live Book: the same analyse_source the CLI runs."""
    from xlplugin import pipeline as P
    from xlplugin.config import load_config
    from xlplugin.excel.read import XlwingsWorkbook

    config = load_config(opts.config_path, near=_book_path(book))
    return P.analyse_source(source or XlwingsWorkbook(book), opts, config, None, book.name)


def book_changes(book: Any, tag: str, source: Any | None = None) -> tuple[Any, Any | None]:
    """The change list a command makes for this Book (and the Analysis, None for clear)."""
    from xlplugin import pipeline as P
    if tag == "clear":
        from xlplugin.render.validation import clear_changes
        return clear_changes(), None
    opts = P.Options(steps=_steps(tag))
    analysis = analyse_book(book, opts, source)
    return P.render(analysis, opts, book.name), analysis


def run_command(book: Any, tag: str, *, original_fill: Any = None) -> CommandResult:
    """Run one ribbon command on `book`.  Raises XlpluginError for a plan it cannot use."""
    from xlplugin.excel.apply import apply_to_book
    from xlplugin.excel.read import XlwingsWorkbook

    if tag == "new_plan":
        return new_plan(book)
    if tag not in COMMANDS:
        raise XlpluginError(f"unknown ribbon command {tag!r}; the commands are {', '.join(COMMANDS)}",
                            file=book.name)
    with collector_paused():
        source = XlwingsWorkbook(book)
        changes, analysis = book_changes(book, tag, source)
        with screen_updating_off(book):
            report = apply_to_book(book, changes, original_fill=original_fill, prior=source)
    result = CommandResult(tag, "", changes=changes.describe(), report=report)
    if analysis is not None:
        result.errors = sum(f.severity == "error" for f in analysis.findings)
        result.warnings = sum(f.severity == "warning" for f in analysis.findings)
    result.message = _message(tag, result, analysis)
    return result


def _message(tag: str, r: CommandResult, analysis: Any | None) -> str:
    rep = r.report
    if tag == "clear":
        return (f"Cleared {rep.marks_cleared} highlighted cells and {rep.notes_cleared} notes; "
                f"removed {len(rep.sheets_removed)} xlplugin sheets.")
    parts = []
    rows = len(analysis.parsed.plan.data_rows)
    if tag in ("validate", "run_all"):
        parts.append(f"{r.errors} errors, {r.warnings} warnings in {rows} rows"
                     + (" (see the Validation sheet; notes on the highlighted cells)."
                        if r.errors or r.warnings else "."))
        if r.errors or r.warnings:
            parts.append(_most_frequent(analysis.findings))
    if tag in ("label", "run_all"):
        review = sum(lab.stage == "Review" for lab in analysis.labels)
        parts.append(f"Stages suggested for {len(analysis.labels)} rows" +
                     (f", {review} to review." if review else "."))
    if tag in ("summary", "run_all"):
        parts.append("Summary sheet built.")
    if rep.renamed:
        parts.append("Your own sheet kept its name; results went to " +
                     ", ".join(rep.renamed.values()) + ".")
    if rep.skipped:
        parts.append("Not available on this Excel: " + "; ".join(rep.skipped[:3]) + ".")
    return " ".join(parts)


def _most_frequent(findings: list[Any], top: int = 3) -> str:
    """"Most often: budget-not-a-number (3), ..." for the alert after Validate."""
    from collections import Counter

    from xlplugin.engine.rules import BY_CODE
    counts = Counter(f.rule for f in findings)
    named = [f"{BY_CODE[code].name if code in BY_CODE else code} ({n})" for code, n in counts.most_common(top)]
    more = len(counts) - len(named)
    return "Most often: " + ", ".join(named) + (f", and {more} other kinds." if more > 0 else ".")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a command runs, on again after.  A remote call
    brings the whole sheet (100k rows: millions of objects) and the command builds as many
    again, all alive to its end: every full collection walked them all, a third of a
    100k-row command's time, and found next to nothing (peak memory is the same without).
    Garbage without cycles is freed as always; cycles wait for the next collection."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


@contextmanager
def screen_updating_off(book: Any) -> Iterator[None]:
    """Excel repaints once, after the writes (on the remote engine: until its next sync)."""
    app = book.app
    with suppress(Exception):  # an engine without the setting
        app.screen_updating = False
    try:
        yield
    finally:
        with suppress(Exception):
            app.screen_updating = True


@contextmanager
def status_bar(book: Any, text: str) -> Iterator[None]:
    """A status-bar message while a command runs (desktop Excel; engines without one skip it)."""
    app = book.app
    try:
        app.status_bar = text
        shown = True
    except Exception:
        shown = False
    try:
        yield
    finally:
        if shown:
            with suppress(Exception):
                app.status_bar = False   # Excel's own text again


STATUS = {"validate": "validating the plan", "label": "suggesting stages", "summary": "building the summary",
          "run_all": "validating, labelling and summarizing", "clear": "clearing marks",
          "new_plan": "creating a new plan"}


def _book_path(book: Any) -> Path | None:
    """The book's file, when it has one (a new unsaved book or a remote call has none)."""
    try:
        p = Path(book.fullname)
    except Exception:
        return None
    return p if p.is_absolute() and p.parent.is_dir() else None


def _template() -> Path:
    from importlib.resources import files
    return Path(str(files("xlplugin.templates") / "plan-template.xlsx"))


def new_plan_path(folder: Path) -> Path:
    """'Marketing plan.xlsx' in `folder`, or 'Marketing plan (2).xlsx'... when taken."""
    dest = folder / f"{NEW_PLAN_NAME}.xlsx"
    n = 2
    while dest.exists() or (folder / ("~$" + dest.name)).exists():
        dest = folder / f"{NEW_PLAN_NAME} ({n}).xlsx"
        n += 1
    return dest


def new_plan(book: Any, open_it: bool = True) -> CommandResult:
    """Copy the plan template next to the active book (or into the home folder) and open it."""
    from xlplugin.excel.read import is_remote
    if is_remote(book):
        raise XlpluginError("New plan needs desktop Excel (it creates a file); "
                            "run `xlplugin new PATH` instead", file=book.name)
    here = _book_path(book)
    folder = here.parent if here is not None else Path.home()
    dest = new_plan_path(folder)
    shutil.copyfile(_template(), dest)
    if open_it:
        import xlwings as xw
        xw.Book(str(dest))
    return CommandResult("new_plan", f"Created {dest.name} in {folder} from the plan template.", path=dest)


def _alert(book: Any, text: str) -> None:
    try:
        book.app.alert(text, title=TITLE)
    except Exception:  # no UI (tests, a server without a client): the log has it
        log.info("%s", text)


LOG_FILE = Path.home() / ".xlplugin" / "xlplugin.log"


def log_to_file(path: Path = LOG_FILE) -> Path:
    """Ribbon runs log here (xlwings keeps Python's stderr only when Python fails)."""
    from logging.handlers import RotatingFileHandler
    root = logging.getLogger("xlplugin")
    if not any(isinstance(h, RotatingFileHandler) for h in root.handlers):
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=2, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    return path


def ribbon(tag: str) -> CommandResult | None:
    """Entry point of the add-in's VBA callback: `RunPython "import xlplugin.excel as x:
    x.ribbon('validate')"`.  Tells the user the outcome in a message box; a plan it
    cannot use gives one clear line, never a traceback."""
    import xlwings as xw

    log_to_file()
    book = xw.Book.caller()
    if str(book.fullname).lower().endswith((".xlam", ".xla")):
        # RunPython's caller is the workbook holding the VBA: from the add-in, that is
        # the add-in itself, so the plan is the active workbook.
        book = xw.books.active
    with status_bar(book, f"xlplugin: {STATUS.get(tag, tag)}..."):
        return ribbon_on(book, tag)


def ribbon_on(book: Any, tag: str, **kw: Any) -> CommandResult | None:
    """`ribbon` for a given Book (xlwings Server routes, tests)."""
    try:
        result = run_command(book, tag, **kw)
    except XlpluginError as e:
        _alert(book, str(e))
        return None
    except Exception as e:
        if os.environ.get("XLPLUGIN_DEBUG"):
            raise
        log.exception("ribbon command %s failed", tag)
        _alert(book, f"xlplugin stopped unexpectedly ({e.__class__.__name__}: {e}). "
                     f"Nothing else was changed after this point; details in {LOG_FILE}.")
        return None
    log.info("%s on %s: %s", tag, book.name, result.message)
    _alert(book, result.message)
    return result
