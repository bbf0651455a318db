"""The xlwings target: carry out a ChangeList on a live Excel Book.

The twin of `xlplugin.file.write` (the lossless file writer): the same change list,
applied through xlwings' object model instead of the OOXML package.  Works on the
desktop engines (Windows COM, macOS) and on xlwings' remote engine (xlwings Server /
Lite), where every call becomes an action sent back to Excel.

What the tool did is remembered in the workbook, in the veryHidden sheet
`xlplugin_state`, with the file target's layout (see apply_file/state.py: one record
a row, kind | sheet | JSON), so marks made in Excel can be cleared later and sheets
the tool made are replaced, never duplicated.  A "mark" record here keeps the
cell's original fill colour (`fill`, RGB hex or null) instead of the file target's
style index.

Text is always written as text: every string Excel could read as something else
(a formula, number, date, boolean, error) gets Excel's text prefix (an apostrophe),
so "=cmd|' /C calc'!A0" in an activity name never becomes a formula, and "00123" or
"1-2" stay as typed; plain words go as they are.

Engine limits (logged in `ApplyReport.skipped`, never fatal):
* the remote engine cannot read a fill colour synchronously: pass `original_fill`
  (e.g. colours prefetched with xlwings Lite's `await rng.get_colors()`), or
  clearing a mark leaves the cell with no fill (right for almost every plan cell,
  and for Table banding, which is not a cell fill);
* notes and dropdowns need the Office.js client on the remote engine;
* charts whose series are not one block of columns get their first series only
  where the engine cannot add series.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from xlplugin import changes as ch
from xlplugin.excel import runs as R
from xlplugin.excel.bulk import paint, put, put_column
from xlplugin.excel.read import is_remote
from xlplugin.file.read import parse_range
from xlplugin.file.write.state import CHUNK, KINDS, STATE_SHEET, State
from xlplugin.file.write.state import VERSION as STATE_VERSION
from xlplugin.model import CellValue, cell_ref, col_letter, quote_sheet, split_ref

log = logging.getLogger(__name__)

SUFFIX = " (xlplugin)"
MAX_SHEET_NAME = 31
TEXT_PREFIX = "'"
_XL_VERY_HIDDEN = 2

# Fill lookup: (sheet, row, col) -> "RRGGBB" or None (no fill).
FillLookup = Callable[[str, int, int], "str | None"]


@dataclass
class ApplyReport:
    cells: int = 0
    marks: int = 0
    notes: int = 0
    marks_cleared: int = 0
    notes_cleared: int = 0
    sheets_added: list[str] = field(default_factory=list)
    sheets_replaced: list[str] = field(default_factory=list)
    sheets_removed: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)     # what this engine could not do


# --- the state sheet: the file target's records and layout ------------------------------

def state_rows(state: State) -> list[list[str]]:
    """The state sheet's rows, as apply_file.state.to_sheet_xml lays them out."""
    out = [["kind", "sheet", "data"], ["version", "", json.dumps({"version": STATE_VERSION})]]
    recs = []
    for r in state.records:
        data = {k: v for k, v in r.items() if k not in ("kind", "sheet")}
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        order = KINDS.index(r["kind"]) if r["kind"] in KINDS else len(KINDS)
        recs.append((order, r["kind"], r["sheet"], text))
    for _, kind, sheet, text in sorted(recs):
        out.append([kind, sheet, *([text[i:i + CHUNK] for i in range(0, len(text), CHUNK)] or [""])])
    return out


def _find_sheet(book: Any, name: str) -> Any | None:
    for s in book.sheets:
        if s.name.lower() == name.lower():
            return s
    return None


def read_state(book: Any) -> State:
    """The records in the book's `xlplugin_state` sheet (none when there is no such sheet)."""
    sh = _find_sheet(book, STATE_SHEET)
    state = State()
    if sh is None:
        return state
    rows = sh.used_range.options(ndim=2).value or []
    for row in rows:
        vals = ["" if v is None else str(v) for v in row]
        vals = [v[1:] if v.startswith(TEXT_PREFIX) else v for v in vals]
        if not vals or vals[0] in ("", "kind", "version"):
            continue
        text = "".join(vals[2:])
        try:
            data = json.loads(text) if text else {}
        except json.JSONDecodeError:
            continue  # a row someone edited by hand: ignore it rather than fail
        if isinstance(data, dict):
            state.records.append({"kind": vals[0], "sheet": vals[1] if len(vals) > 1 else "", **data})
    return state


def _write_state(book: Any, state: State, report: ApplyReport) -> None:
    sh = _find_sheet(book, STATE_SHEET)
    if sh is None and not state.records:
        return
    if sh is None:
        sh = book.sheets.add(STATE_SHEET, after=book.sheets[len(book.sheets) - 1])
        _very_hidden(sh, report)
    else:
        sh.clear_contents()
    rows = state_rows(state)
    width = max(len(r) for r in rows)
    block = [[_text(v) if v else None for v in r] + [None] * (width - len(r)) for r in rows]
    put(sh.range((1, 1), (len(block), width)), block, is_remote(book))


def _very_hidden(sh: Any, report: ApplyReport) -> None:
    """Hide the state sheet from Excel's Unhide dialog too (xlSheetVeryHidden)."""
    if is_remote(sh.book):
        # xlwings' public API only knows visible/hidden; Office.js takes "VeryHidden".
        sh.impl.append_json_action(func="setSheetVisibility", args="VeryHidden")
        sh.impl.api["visibility"] = "VeryHidden"
        return
    try:
        sh.api.Visible = _XL_VERY_HIDDEN                          # Windows COM
    except Exception:
        sh.visible = False
        report.skipped.append(f"{STATE_SHEET} is hidden, not veryHidden, on this engine")


# --- values ----------------------------------------------------------------------------

@lru_cache(maxsize=1 << 16)      # a column repeats its texts (Stage, the basis): ask once each
def _text(v: str) -> str:
    """Text Excel must keep as typed: prefixed unless it could not be read as anything else."""
    return TEXT_PREFIX + v if _needs_prefix(v) else v


def _needs_prefix(v: str) -> bool:
    # Excel turns typed text into formulas (=, +, -, @), numbers, dates, times, percents,
    # currencies, booleans and errors; each of those starts with a sign, has a digit, is
    # TRUE/FALSE or starts with '#'.  Plain words ("Upstream") need no prefix; leaving it
    # off keeps the formula bar clean for them.
    s = v.strip()
    return (not s or s[0] in "=+-@'#" or v[0] in "'" or any(map(str.isdigit, s))
            or s.upper() in ("TRUE", "FALSE"))


def _xl_value(v: CellValue) -> Any:
    """A value as xlwings must write it so Excel stores exactly that (text stays text)."""
    if isinstance(v, str):
        return _text(v) if v else None
    return v


Box = tuple[int, int, int, int]          # r1, c1, r2, c2

# Excel on the web rejects a request over 5 MB, and the client sends each range write as
# one request: a column's values go in pieces under this (JSON text, with some margin).
REQUEST_BYTES = 4_000_000


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and out[-1][1] == r - 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def _request_chunks(values: list[Any], limit: int = REQUEST_BYTES) -> list[tuple[int, int]]:
    """[lo, hi) slices of `values` whose JSON as a column ([[v], [v], ...]) stays under
    `limit` bytes each: the column cut into even slices by its measured size, and a slice
    still over the limit (long texts bunched together) halved until it is not."""
    def size(lo: int, hi: int) -> int:
        return len(json.dumps(values[lo:hi], default=str)) + 2 * (hi - lo)

    n = len(values)
    pieces = -(-size(0, n) // limit) if n else 1
    bounds = [n * i // pieces for i in range(pieces + 1)]
    todo = list(zip(bounds[:0:-1], bounds[-2::-1], strict=True))      # (hi, lo), last slice first
    out: list[tuple[int, int]] = []
    while todo:
        hi, lo = todo.pop()
        if hi - lo > 1 and size(lo, hi) > limit:
            mid = (lo + hi) // 2
            todo += [(hi, mid), (mid, lo)]
        else:
            out.append((lo, hi))
    return out


def blocks(keys: dict[tuple[int, int], Any]) -> list[tuple[Box, Any]]:
    """Cover the cells with few rectangles, each of one key: vertical runs per column,
    then runs side by side over the same rows merged.  One xlwings call per rectangle:
    desktop Excel pays a round trip per call, the remote engine an action."""
    runs: list[list] = []                                  # [r1, c, r2, key]
    for (row, col) in sorted(keys, key=lambda rc: (rc[1], rc[0])):
        k = keys[(row, col)]
        if runs and runs[-1][1] == col and runs[-1][2] == row - 1 and runs[-1][3] == k:
            runs[-1][2] = row
        else:
            runs.append([row, col, row, k])
    return join_runs(runs)


def join_runs(runs: list[list]) -> list[tuple[Box, Any]]:
    """[r1, col, r2, key] column runs -> rectangles: runs side by side over the same rows
    and of the same key become one."""
    out: list[list] = []                                   # [r1, c1, r2, c2, key]
    open_at: dict[tuple, list] = {}                        # (r1, r2, key) -> box ending in the last column
    for r1, col, r2, k in sorted(runs, key=lambda x: (x[1], x[0])):
        box = open_at.get((r1, r2, k))
        if box is not None and box[3] == col - 1:
            box[3] = col
        else:
            box = [r1, col, r2, col, k]
            out.append(box)
            open_at[(r1, r2, k)] = box
    return [((b[0], b[1], b[2], b[3]), b[4]) for b in out]


_NO_STYLE = ch.Style()


def _write_cells(sheet: Any, cells: list[ch.SetCell], report: ApplyReport, remote: bool) -> None:
    by_pos = {(c.row, c.col): c for c in cells}            # the last write to a cell wins
    kinds = {pos: bool(c.formula) for pos, c in by_pos.items()}
    for (r1, c1, r2, c2), is_formula in blocks(kinds):
        rng = sheet.range((r1, c1), (r2, c2))
        rows = [[by_pos[(r, c)] for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        if is_formula:
            put(rng, [["=" + x.formula.lstrip("=") for x in row] for row in rows], remote, formula=True)
        else:
            put(rng, [[_xl_value(x.value) for x in row] for row in rows], remote)
        report.cells += (r2 - r1 + 1) * (c2 - c1 + 1)
    styles = {pos: c.style for pos, c in by_pos.items() if c.style is not None}
    # a fill alone (the Validation sheet's severity cells, one colour a row) is painted
    # like marks: a call per run of one colour, not one per cell between two others
    fills = {pos: st.fill for pos, st in styles.items() if st.fill is not None and replace(st, fill=None) == _NO_STYLE}
    paint(sheet, fills)
    for (r1, c1, r2, c2), style in blocks({pos: st for pos, st in styles.items() if pos not in fills}):
        _apply_style(sheet.range((r1, c1), (r2, c2)), style, report)


def _apply_style(rng: Any, st: ch.Style, report: ApplyReport) -> None:
    steps: list[tuple[str, Callable[[], None]]] = []
    if st.number_format is not None:
        steps.append(("number format", lambda: setattr(rng, "number_format", st.number_format)))
    if st.bold is not None:
        steps.append(("bold", lambda: setattr(rng.font, "bold", st.bold)))
    if st.italic is not None:
        steps.append(("italic", lambda: setattr(rng.font, "italic", st.italic)))
    if st.font_color is not None:
        steps.append(("font colour", lambda: setattr(rng.font, "color", "#" + st.font_color)))
    if st.font_size is not None:
        steps.append(("font size", lambda: setattr(rng.font, "size", st.font_size)))
    if st.fill is not None:
        steps.append(("fill", lambda: setattr(rng, "color", "#" + st.fill)))
    if st.wrap is not None:
        steps.append(("wrap", lambda: setattr(rng, "wrap_text", st.wrap)))
    if st.halign is not None:
        steps.append(("alignment", lambda: setattr(rng, "horizontal_alignment", st.halign)))
    if st.border_bottom:
        steps.append(("border", lambda: setattr(rng.borders["edge_bottom"], "line_style", "continuous")))
    for what, step in steps:
        try:
            step()
        except (NotImplementedError, AttributeError, ValueError) as e:
            _skip(report, f"{what} on {rng.sheet.name}: {e}")


def _skip(report: ApplyReport, msg: str) -> None:
    if msg not in report.skipped:
        report.skipped.append(msg)
        log.info("xlwings target: %s", msg)


def _hex(color: Any) -> str | None:
    """xlwings colour (RGB tuple, '#rrggbb', int or None) -> 'RRGGBB' or None."""
    if color is None:
        return None
    if isinstance(color, str):
        return color.lstrip("#").upper()
    if isinstance(color, int):
        return f"{color & 0xFF:02X}{(color >> 8) & 0xFF:02X}{(color >> 16) & 0xFF:02X}"
    r, g, b = color
    return f"{int(r):02X}{int(g):02X}{int(b):02X}"


# --- the target ------------------------------------------------------------------------

class _Target:
    def __init__(self, book: Any, original_fill: FillLookup | None, prior: Any | None) -> None:
        self.book = book
        self.remote = is_remote(book)
        self.original_fill = original_fill
        self.prior = prior                   # read_xlwings source: values before we wrote
        self.state = read_state(book)
        self.report = ApplyReport()
        self.renames: dict[str, str] = {}
        self.tables: dict[tuple[str, str], list] = {}   # (sheet, table) -> [box, headers]
        # Fills put back by this run's ClearMarks: a re-mark keeps them as the original
        # (the remote engine could not read them back).
        self.restored: dict[tuple[str, str], str | None] = {}
        self._created: dict[str, tuple[R.Runs, R.Runs]] = {}   # sheet -> (cells added, styled ones)
        self._fill_unreadable = False        # the engine said it cannot read fills: don't ask again
        self._widths: dict[str, int] = {}    # sheet -> columns of the grid it was read as

    # -- helpers ------------------------------------------------------------------------
    def sheet(self, name: str) -> Any:
        s = _find_sheet(self.book, self.renames.get(name, name))
        if s is None:
            from xlplugin.errors import XlpluginError
            raise XlpluginError(f"no sheet named {name!r}", file=self.book.name)
        return s

    def rewrite(self, text: str) -> str:
        for old, new in self.renames.items():
            text = text.replace(quote_sheet(old) + "!", quote_sheet(new) + "!")
        return text

    def _was_blank(self, sheet: str, row: int, col: int) -> bool:
        if self.prior is None or sheet not in self.prior.sheet_names:
            return False
        return self.prior.grid(sheet).value(row, col) is None

    def _blank_cells(self, sheet: str, col: int, runs: list[tuple[int, int]]) -> R.Runs:
        """The rows of `runs` in column `col` that were blank (_was_blank for a column,
        the grid looked up once), as runs."""
        if self.prior is None or sheet not in self.prior.sheet_names:
            return {}
        g = self.prior.grid(sheet)
        c, cells = col - g.origin_col, g.cells
        if sheet not in self._widths:
            self._widths[sheet] = max(map(len, cells), default=0)
        if c < 0 or c >= self._widths[sheet]:                  # beside the sheet's cells
            return {col: R.merged(runs)}
        blank: list[tuple[int, int]] = []
        for a, b in runs:
            for r in range(a, b + 1):
                i = r - g.origin_row
                line = cells[i] if 0 <= i < len(cells) else ()
                if c < 0 or c >= len(line) or line[c] is None:
                    if blank and blank[-1][1] == r - 1:
                        blank[-1] = (blank[-1][0], r)
                    else:
                        blank.append((r, r))
        return {col: blank} if blank else {}

    # -- ClearMarks -----------------------------------------------------------------------
    def clear(self, c: ch.ClearMarks) -> None:
        st = self.state
        sheets: dict[str, Any] = {}

        def find(name: str) -> Any | None:
            if name not in sheets:
                sheets[name] = _find_sheet(self.book, name)
            return sheets[name]

        fills: dict[str, dict[tuple[int, int], str | None]] = {}
        for rec in st.drop_where("mark", c.sheet):      # dropped at once: 25,000 marks, one pass
            sh = find(rec["sheet"])
            if sh is not None:
                fill = rec.get("fill")
                fills.setdefault(sh.name, {})[split_ref(rec["ref"])] = fill
                self.restored[(sh.name, rec["ref"])] = fill
                self.report.marks_cleared += 1
        for name, cells in fills.items():
            paint(find(name), cells)
        notes = st.drop_where("note", c.sheet)
        if self.remote:
            # xlwings finds a cell's note by walking the sheet's list of notes: taken in that
            # list's order, each is at its head (1,000 notes: 1,000 steps, not 500,000)
            where = {(name, ref): i for name in {r["sheet"] for r in notes} if find(name) is not None
                     for i, ref in enumerate(_note_cells(find(name)))}
            notes.sort(key=lambda r: where.get((r["sheet"], r["ref"].upper()), -1))
        for rec in notes:
            sh = find(rec["sheet"])
            if sh is not None:
                self._remove_note(sh, rec)
        if not c.everything:
            return
        added: dict[str, tuple[R.Runs, R.Runs]] = {}         # sheet -> (cells, styled ones)
        for rec in st.of("cells", c.sheet):
            if _find_sheet(self.book, rec["sheet"]) is not None:
                refs, styled = added.get(rec["sheet"], ({}, {}))
                added[rec["sheet"]] = (R.union(refs, R.parse(rec.get("refs", ""))),
                                       R.union(styled, R.parse(rec.get("styled", ""))))
            st.drop(rec)
        for name, (refs, styled) in added.items():
            sh = _find_sheet(self.book, name)
            pieces = [[a, col, b, inside] for col in sorted(refs)
                      for a, b, inside in R.split(refs[col], styled.get(col, []))]
            for (r1, c1, r2, c2), styled in join_runs(pieces):
                rng = sh.range((r1, c1), (r2, c2))
                # a cell the tool styled (a header) loses that style too; the others keep
                # whatever format the user had given the empty cell
                rng.clear() if styled else rng.clear_contents()
        for rec in st.of("validation", c.sheet):
            sh = _find_sheet(self.book, rec["sheet"])
            if sh is not None:
                try:
                    sh.range(rec["sqref"].split()[0]).data_validation.delete()
                except (NotImplementedError, AttributeError) as e:
                    _skip(self.report, f"removing a dropdown: {e}")
            st.drop(rec)
        for rec in st.of("table", c.sheet):
            self._shrink_table(rec)
            st.drop(rec)
        for rec in st.of("name"):
            if c.sheet is None or rec.get("local") == c.sheet:
                self._delete_name(rec["name"], rec.get("local"))
                st.drop(rec)
        for rec in st.of("sheet", c.sheet):
            sh = _find_sheet(self.book, rec["sheet"])
            if sh is not None:
                sh.delete()
                self.report.sheets_removed.append(rec["sheet"])
            st.drop(rec)

    def _remove_note(self, sh: Any, rec: dict) -> None:
        row, col = split_ref(rec["ref"])
        rng = sh.range((row, col))
        try:
            note = rng.note
            if rec.get("orig") is not None:
                if note is not None:
                    note.text = rec["orig"]
                else:
                    rng.add_note(rec["orig"])
            elif note is not None:
                note.delete()
            self.report.notes_cleared += 1
        except (NotImplementedError, AttributeError) as e:
            _skip(self.report, f"removing notes: {e}")

    def _shrink_table(self, rec: dict) -> None:
        sh = _find_sheet(self.book, rec["sheet"])
        if sh is None:
            return
        added = len(rec.get("columns", []))
        for t in sh.tables:
            if t.name.lower() != str(rec.get("table", "")).lower():
                continue
            ref = rec.get("ref")
            if not ref and added:  # a record the file target wrote: it keeps no old ref
                r1, c1, r2, c2 = parse_range(t.range.address)
                ref = f"{cell_ref(r1, c1)}:{cell_ref(r2, c2 - added)}"
            if not ref:
                return
            t.resize(sh.range(ref))
            r1, _, r2, c2 = parse_range(ref)
            if added:  # the header and data cells of the columns it had grown by
                sh.range((r1, c2 + 1), (r2, c2 + added)).clear_contents()

    def _delete_name(self, name: str, local: str | None) -> None:
        owner = self.book if local is None else _find_sheet(self.book, local)
        if owner is None:
            return
        for n in owner.names:
            if n.name.rpartition("!")[2] == name:
                n.delete()
                return

    # -- user sheets ----------------------------------------------------------------------
    def marks(self, marks: list[ch.MarkCell]) -> None:
        """Marks a sheet at a time: each cell's original fill recorded once (a cell marked
        before keeps the fill it had then), then the fills painted in few calls."""
        for name, group in _by_sheet(marks).items():
            sh = self.sheet(name)
            known = self.state.index("mark", sh.name, "ref")
            fills: dict[tuple[int, int], str | None] = {}
            for c in group:
                ref = cell_ref(c.row, c.col)
                if ref not in known:
                    if (sh.name, ref) in self.restored:
                        fill = self.restored[(sh.name, ref)]
                    else:
                        fill = self._fill_of(sh, c.row, c.col)
                    known[ref] = self.state.add("mark", sh.name, ref=ref, fill=fill)
                fills[(c.row, c.col)] = c.fill
            paint(sh, fills)
            self.report.marks += len(group)

    def _fill_of(self, sh: Any, row: int, col: int) -> str | None:
        if self.original_fill is not None:
            return self.original_fill(sh.name, row, col)
        if self._fill_unreadable:
            return None
        try:
            return _hex(sh.range((row, col)).color)
        except NotImplementedError:
            self._fill_unreadable = True
            _skip(self.report, "this engine cannot read fill colours; Clear marks will leave "
                               "marked cells with no fill")
            return None

    def notes(self, notes: list[ch.SetNote]) -> None:
        """On the remote engine the payload lists the cells with a note: a cell without
        one gets its note straight from the engine, not through xlwings' add_note, which
        searches all the sheet's notes first (1,000 notes: a million comparisons)."""
        for name, group in _by_sheet(notes).items():
            sh = self.sheet(name)
            has_note = set(_note_cells(sh)) if self.remote else None
            recs = self.state.index("note", sh.name, "ref")
            for c in group:
                ref = cell_ref(c.row, c.col)
                if has_note is None or ref in has_note:
                    self.note(sh, c)
                    continue
                try:
                    sh.range((c.row, c.col)).impl.add_note(c.text)
                except NotImplementedError as e:
                    _skip(self.report, f"notes: {e}")
                    break
                has_note.add(ref)
                if ref not in recs:
                    recs[ref] = self.state.add("note", sh.name, ref=ref)
                self.report.notes += 1

    def note(self, sh: Any, c: ch.SetNote) -> None:
        ref = cell_ref(c.row, c.col)
        rng = sh.range((c.row, c.col))
        try:
            existing = rng.note
            rec = self.state.find("note", sh.name, ref=ref)
            if existing is not None and rec is None:
                try:
                    orig = existing.text          # the user's own note: keep it to restore
                except NotImplementedError:
                    _skip(self.report, f"{sh.name}!{ref} has a note of its own, left as it is")
                    return
                self.state.add("note", sh.name, ref=ref, orig=orig)
                existing.text = c.text
            elif existing is not None:
                existing.text = c.text
            else:
                rng.add_note(c.text)
                if rec is None:
                    self.state.add("note", sh.name, ref=ref)
            self.report.notes += 1
        except NotImplementedError as e:
            _skip(self.report, f"notes: {e}")

    def cells(self, cells: list[ch.SetCell]) -> None:
        by_sheet: dict[str, list[ch.SetCell]] = {}
        for c in cells:
            by_sheet.setdefault(c.sheet, []).append(c)
        for name, group in by_sheet.items():
            sh = self.sheet(name)
            if not self.state.owns(sh.name):
                self._record_created(sh.name, name, group)
            _write_cells(sh, [replace(c, formula=self.rewrite(c.formula)) if c.formula else c for c in group],
                         self.report, self.remote)

    def _record_created(self, actual: str, name: str, cells: list[ch.SetCell]) -> None:
        """Cells written where there was nothing: Clear marks (everything) removes them.
        One "cells" record a sheet, packed like the file target's ("P1:P9 Q4"); the
        ones that got a style (headers) also under "styled"."""
        new = {(c.row, c.col) for c in cells if self._was_blank(name, c.row, c.col)}
        if not new:
            return
        styled = {(c.row, c.col) for c in cells if c.style is not None} & new
        self._add_created(actual, R.from_cells(new), R.from_cells(styled))

    def _add_created(self, actual: str, new: R.Runs, styled: R.Runs) -> None:
        """Gathered per sheet and packed into the state once, at the end (pack_created):
        a 100k-row column is not unpacked and packed again for every column after it."""
        got = self._created.setdefault(actual, ({}, {}))
        for mine, more in zip(got, (new, styled), strict=True):
            for col, rs in more.items():
                mine.setdefault(col, []).extend(rs)

    def pack_created(self) -> None:
        for actual, (new, styled) in self._created.items():
            rec = self.state.find("cells", actual) or self.state.add("cells", actual, refs="", rows="")
            rec["refs"] = R.pack(R.union(R.parse(rec.get("refs", "")), new))
            both = R.union(R.parse(rec.get("styled", "")), styled)
            if both:
                rec["styled"] = R.pack(both)
        self._created.clear()

    def column(self, c: ch.ValueColumn | ch.FormulaColumn) -> None:
        """One range write per column: a formula column is one formula given to the whole
        range (Excel fills it, moving relative references, as Ctrl+Enter does), a value
        column one setValues per run of written rows, cut into requests under REQUEST_BYTES."""
        head = c.head()
        if head is not None:
            self.cells([head])
        sh = self.sheet(c.sheet)
        col = c.col
        if isinstance(c, ch.FormulaColumn) or ch.KEEP not in c.values:
            runs = [(c.first_row, c.last_row)]
        else:
            runs = _runs([c.first_row + i for i, v in enumerate(c.values) if v is not ch.KEEP])
        if not self.state.owns(sh.name):
            new = self._blank_cells(c.sheet, col, runs)
            # Clear marks removes them, and takes away the format of the styled ones
            self._add_created(sh.name, new, new if c.style is not None else {})
        for a, b in runs:
            rng = sh.range((a, col), (b, col))
            if isinstance(c, ch.FormulaColumn):
                f = "=" + self.rewrite(c.formula)
                put(rng, f if b > a else [[f]], self.remote, formula=True)
            else:
                vals = [_xl_value(v) for v in c.values[a - c.first_row:b - c.first_row + 1]]
                for lo, hi in _request_chunks(vals):
                    put_column(sh.range((a + lo, col), (a + hi - 1, col)), vals[lo:hi], self.remote)
            if c.style is not None:
                _apply_style(rng, c.style, self.report)
        self.report.cells += len(c.values)

    def width(self, c: ch.SetColumnWidth) -> None:
        _set_width(self.sheet(c.sheet), c.col, c.width, self.remote)

    def validation(self, c: ch.ListValidation) -> None:
        sh = self.sheet(c.sheet)
        try:
            sh.range(c.ref).data_validation.set_list(list(c.values))
        except (NotImplementedError, AttributeError) as e:
            _skip(self.report, f"dropdown {c.sheet}!{c.ref}: {e}")
            return
        if self.state.find("validation", sh.name, sqref=c.ref) is None:
            self.state.add("validation", sh.name, sqref=c.ref)

    def extend_table(self, c: ch.ExtendTable) -> None:
        sh = self.sheet(c.sheet)
        table = next((t for t in sh.tables if t.name.lower() == c.table.lower()), None)
        if table is None:
            _skip(self.report, f"no Excel Table {c.table!r} on {c.sheet!r}")
            return
        key = (sh.name, table.name.lower())
        if key not in self.tables:
            # The engine's own copy of the table is not updated by a queued resize, so
            # this run keeps the table's extent and header names itself.
            box = parse_range(table.range.address)
            if box is None:
                return
            g = self.prior.grid(c.sheet) if self.prior is not None and c.sheet in self.prior.sheet_names else None
            headers = [str(g.value(box[0], col) or "").strip().lower() if g else "" for col in range(box[1], box[3] + 1)]
            self.tables[key] = [box, headers]
        box, headers = self.tables[key]
        added = [col.name for col in c.columns if col.name.strip().lower() not in headers]
        if not added:
            return
        r1, c1, r2, c2 = box
        old = f"{cell_ref(r1, c1)}:{cell_ref(r2, c2)}"
        table.resize(sh.range((r1, c1), (r2, c2 + len(added))))
        self.tables[key] = [(r1, c1, r2, c2 + len(added)), headers + [a.strip().lower() for a in added]]
        rec = self.state.find("table", sh.name, table=c.table)
        if rec is None:
            rec = self.state.add("table", sh.name, table=c.table, ref=old, columns=[])
        rec["columns"] = rec["columns"] + added

    def defined_name(self, c: ch.DefinedName) -> None:
        owner = self.book if c.sheet is None else self.sheet(c.sheet)
        value = "=" + self.rewrite(c.value).lstrip("=")
        for n in owner.names:
            if n.name.rpartition("!")[2] == c.name:
                n.refers_to = value
                break
        else:
            owner.names.add(c.name, value)
            if self.state.find("name", "", name=c.name) is None:
                self.state.add("name", "", name=c.name, local=c.sheet)
        try:  # a tool name is bookkeeping, not something for Name Manager
            if not self.remote and c.name.startswith("_"):
                owner.names[c.name if c.sheet is None else f"{quote_sheet(c.sheet)}!{c.name}"].api.Visible = False
        except Exception:
            pass

    # -- sheets the tool owns ---------------------------------------------------------------
    def _target_name(self, name: str) -> str:
        stem = name[:MAX_SHEET_NAME - len(SUFFIX)]
        candidates = [name, stem + SUFFIX] + [f"{stem[:-2]} (xlplugin {i})" for i in range(2, 100)]
        for cand in (x[:MAX_SHEET_NAME] for x in candidates):
            if _find_sheet(self.book, cand) is None or self.state.owns(cand):
                return cand
        from xlplugin.errors import XlpluginError
        raise XlpluginError(f"no free sheet name for {name!r}", file=self.book.name)

    def replace_sheet(self, spec: ch.ReplaceSheet) -> None:
        if spec.name.lower() == STATE_SHEET:
            from xlplugin.errors import XlpluginError
            raise XlpluginError(f"{STATE_SHEET} is a reserved sheet name", file=self.book.name)
        actual = self._target_name(spec.name)
        if actual != spec.name:
            self.renames[spec.name] = actual
            self.report.renamed[spec.name] = actual
        old = _find_sheet(self.book, actual)
        where = self._after(spec, old)
        if old is not None:
            actual = old.name
            old.delete()          # charts, notes, everything it held go with it
            self.report.sheets_replaced.append(actual)
            for kind in ("mark", "note", "cells"):
                for rec in self.state.of(kind, actual):
                    self.state.drop(rec)
        else:
            self.report.sheets_added.append(actual)
        sh = self.book.sheets.add(actual, **where)
        if not self.state.owns(actual):
            self.state.add("sheet", actual)
        cells = [replace(c, sheet=actual, formula=self.rewrite(c.formula) if c.formula else None)
                 for c in spec.cells]
        _write_cells(sh, cells, self.report, self.remote)
        for col in spec.columns:
            self.column(replace(col, sheet=actual))
        for col, w in spec.col_widths:
            _set_width(sh, col, w, self.remote)
        if spec.freeze and spec.freeze != (1, 1):
            try:
                sh.freeze_panes.freeze_at(_frozen(*spec.freeze))
            except (NotImplementedError, AttributeError) as e:
                _skip(self.report, f"freeze panes: {e}")
        values = {(c.row, c.col): c.value for c in spec.cells}
        linked = {h.col for h in spec.hyperlinks}
        for col in spec.columns:
            if col.col in linked:
                values.update({(c.row, c.col): c.value for c in col.cells()})
        for h in spec.hyperlinks:
            shown = values.get((h.row, h.col))
            sh.range((h.row, h.col)).add_hyperlink(
                "#" + self.rewrite(h.location), "" if shown is None else str(shown), h.tooltip or None)
        if spec.tab_color:
            self._tab_color(sh, spec.tab_color)
        for chart in spec.charts:
            self._chart(sh, chart)

    def _after(self, spec: ch.ReplaceSheet, old: Any | None) -> dict[str, Any]:
        """Where the (re)made sheet goes, as sheets.add() keywords: where it was, after
        `spec.after`, else last (but before the state sheet)."""
        sheets = list(self.book.sheets)
        if old is not None:
            i = [s.name for s in sheets].index(old.name)
            if i > 0:
                return {"after": sheets[i - 1]}
            return {"before": sheets[1]} if len(sheets) > 1 else {}
        if spec.after:
            s = _find_sheet(self.book, self.renames.get(spec.after, spec.after))
            if s is not None:
                return {"after": s}
        visible = [s for s in sheets if s.name.lower() != STATE_SHEET]
        return {"after": visible[-1]} if visible else {}

    def _tab_color(self, sh: Any, color: str) -> None:
        try:
            sh.api.Tab.Color = int(color[4:6] + color[2:4] + color[0:2], 16)   # Windows COM: BGR
        except Exception:
            _skip(self.report, "sheet tab colours on this engine")

    def _chart(self, sh: Any, spec: ch.ChartSpec) -> None:
        kind = {"doughnut": "doughnut", "column_stacked": "column_stacked",
                "bar_clustered": "bar_clustered"}[spec.kind]
        try:
            chart = sh.charts.add(anchor=sh.range((spec.anchor_row, spec.anchor_col)),
                                  width=spec.width_px * 0.75, height=spec.height_px * 0.75,
                                  chart_type=kind)
            block = _series_block(spec)
            if block is not None:
                chart.set_source_data(sh.range(block), plot_by="columns")
            else:
                first = spec.series[0]
                chart.set_source_data(sh.range(_local(first.values)), plot_by="columns")
                chart.set_x_axis_values(sh.range(_local(first.categories)))
                if len(spec.series) > 1:
                    _skip(self.report, f"chart {spec.title!r}: only its first series")
            with contextlib.suppress(NotImplementedError, AttributeError):
                chart.title = spec.title
        except (NotImplementedError, AttributeError, ValueError) as e:
            _skip(self.report, f"chart {spec.title!r}: {e}")


def _by_sheet(changes: list[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for c in changes:
        out.setdefault(c.sheet, []).append(c)
    return out


def _note_cells(sh: Any) -> list[str]:
    """The cells with a note ("E7"), in the remote engine's order (its payload's)."""
    return [str(n["address"]).replace("$", "").upper() for n in sh.impl.api.get("notes") or []]


def _frozen(row: int, col: int) -> str:
    """ReplaceSheet.freeze names the first cell that scrolls; xlwings' freeze_at wants
    the cells that stay put: (14, 1) -> '1:13', (1, 3) -> 'A:B', (2, 2) -> 'A1:A1'."""
    if col <= 1:
        return f"1:{row - 1}"
    if row <= 1:
        return f"A:{col_letter(col - 1)}"
    return f"A1:{cell_ref(row - 1, col - 1)}"


def _local(ref: str) -> str:
    return ref.rpartition("!")[2].replace("$", "")


def _series_block(spec: ch.ChartSpec) -> str | None:
    """'A8:D12' when categories + series are adjacent columns over the same rows
    (header row above them holding the series names), else None."""
    cats = parse_range(_local(spec.series[0].categories))
    if cats is None:
        return None
    r1, c, r2, _ = cats
    expect = c + 1
    for s in spec.series:
        box = parse_range(_local(s.values))
        if box is None or box[0] != r1 or box[2] != r2 or box[1] != expect or box[3] != expect:
            return None
        expect += 1
    return f"{cell_ref(max(r1 - 1, 1), c)}:{cell_ref(r2, expect - 1)}"


def _set_width(sh: Any, col: int, width: float, remote: bool) -> None:
    # The remote engine (Office.js) measures widths in points, desktop Excel in
    # characters of the default font: ~7 px a character + 5 px padding, 0.75 pt a px.
    sh.range((1, col)).column_width = (width * 7 + 5) * 0.75 if remote else width


def apply_to_book(book: Any, changes: ch.ChangeList | Iterable[ch.Change], *,
                  original_fill: FillLookup | None = None, prior: Any | None = None) -> ApplyReport:
    """Apply a change list to a live xlwings Book: ClearMarks first, then the rest in order.

    original_fill: where the remote engine should get a cell's fill before marking it.
    prior: the `read_xlwings` source read before any change (knows which cells were
    blank, so Clear marks can remove the cells the tool added); read afresh if None.
    """
    if prior is None:
        from xlplugin.excel.read import XlwingsWorkbook
        prior = XlwingsWorkbook(book)
    t = _Target(book, original_fill, prior)
    items = list(changes)
    for c in items:
        if isinstance(c, ch.ClearMarks):
            t.clear(c)
    pending: list[ch.SetCell] = []
    marks: list[ch.MarkCell] = []
    notes: list[ch.SetNote] = []

    def flush() -> None:
        if pending:
            t.cells(pending)
            pending.clear()
        if marks:
            t.marks(marks)
            marks.clear()
        if notes:
            t.notes(notes)
            notes.clear()

    for c in items:
        # batched: one call per run of cells; the marks and notes of a run of them together
        if isinstance(c, ch.SetCell):
            if marks or notes:
                flush()
            pending.append(c)
            continue
        if isinstance(c, ch.MarkCell | ch.SetNote):
            if pending:
                flush()
            (marks if isinstance(c, ch.MarkCell) else notes).append(c)
            continue
        if isinstance(c, ch.ValueColumn | ch.FormulaColumn):
            flush()
            t.column(c)
            continue
        flush()
        if isinstance(c, ch.ClearMarks):
            continue
        if isinstance(c, ch.SetColumnWidth):
            t.width(c)
        elif isinstance(c, ch.ListValidation):
            t.validation(c)
        elif isinstance(c, ch.ExtendTable):
            t.extend_table(c)
        elif isinstance(c, ch.ReplaceSheet):
            t.replace_sheet(c)
        elif isinstance(c, ch.DefinedName):
            t.defined_name(c)
        else:
            _skip(t.report, f"unknown change {type(c).__name__}")
    flush()
    t.pack_created()
    _write_state(book, t.state, t.report)
    return t.report
