"""Streaming patch of an existing worksheet part (``xl/worksheets/sheetN.xml``).

A worksheet can be 100 MB: it never becomes a DOM here.  The part is cut at
``<sheetData>``; the rows are scanned as bytes with a regular expression, rows
nobody touches are copied verbatim (as whole spans between touched rows), and a
touched row is re-assembled from its own bytes: only the cells we edit change,
and a mark only rewrites the ``s="..."`` attribute in place, so restoring the
original index gives back the original bytes.  The small elements around
sheetData (dimension, cols, dataValidations, legacyDrawing) are split into
top-level children and edited as text, inserted in CT_Worksheet order
(ECMA-376 Part 1, 18.3.1.99).

Decisions a caller should know:
- Text is always an inline string (``t="inlineStr"``); sharedStrings.xml is never touched.
- Overwriting the master cell of a shared formula: its dependants (``<f t="shared"
  si=".."/>``) are converted to plain formulas, the master's text shifted to each
  cell (shift_formula), cached values kept.  Writing into a non-master cell of an
  array formula range is refused (UnsupportedWorkbook): Excel cannot split an array.
- ``spans`` on rows are optimisation hints (18.3.1.73) and are left unchanged.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

from xlplugin.changes import KEEP, FormulaColumn, MarkCell, SetCell, Style, ValueColumn, shift_formula
from xlplugin.errors import UnsupportedWorkbook, XlpluginError
from xlplugin.model import CellValue, cell_ref, col_letter, split_ref

from .columns import ERROR_VALUES, ColumnXml, band, excel_serial, formula_body, value_body, xml_text
from .columns import num as _num
from .columns import xml_escape as _xml_escape
from .packager import PartStream
from .styles import StyleBook

NS_REL_T = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_REL_S = b"http://purl.oclc.org/ooxml/officeDocument/relationships"

# CT_Worksheet children in schema order (ECMA-376 Part 1, 18.3.1.99).
WORKSHEET_ORDER: tuple[str, ...] = (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
    "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
    "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
    "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
    "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
    "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects",
    "controls", "webPublishItems", "tableParts", "extLst",
)
_RANK = {n: i for i, n in enumerate(WORKSHEET_ORDER)}
MAX_LIST_FORMULA = 255  # Excel's limit on a literal list in formula1


# --------------------------------------------------------------------------- edits
@dataclass(frozen=True)
class CellWrite:
    """Write a value, or a formula (no '=') with its cached value; style delta over the current style."""

    row: int
    col: int
    value: CellValue = None
    formula: str | None = None
    style: Style | None = None
    body: str | None = None      # internal: a column cell's XML after its r and s attributes


@dataclass(frozen=True)
class ColumnWrite:
    """Write values[i] into row first_row + i of `col` (KEEP: leave the cell).  With a
    formula (the first row's, no '='), the column is one shared formula (t="shared")
    over the rows and `values` are its cached results.  `style` over the column's style."""

    col: int
    first_row: int
    values: Sequence[object]
    formula: str | None = None
    style: Style | None = None

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.values) - 1


@dataclass(frozen=True)
class CellMark:
    """Fill an existing (or empty) cell; PatchResult.marked keeps its original s index."""

    row: int
    col: int
    fill: str


@dataclass(frozen=True)
class CellRestore:
    """Put back an exact s index (None: drop the attribute, as it was absent)."""

    row: int
    col: int
    s: int | None


@dataclass(frozen=True)
class CellRemoval:
    """Delete a cell the tool added; also delete its row if the tool created the row
    (PatchResult.created_rows) and it is now empty."""

    row: int
    col: int
    row_created: bool = False


@dataclass(frozen=True)
class ListRule:
    """A list data validation: literal `values`, or `source` (a range like "$A$1:$A$5" or
    "Lists!$A$1:$A$5", no '=')."""

    ref: str
    values: tuple[str, ...] = ()
    source: str | None = None
    allow_blank: bool = True


@dataclass
class SheetEdits:
    """Everything to change in one worksheet part.  Applied per cell in the order
    restores, removals, writes, marks."""

    writes: list[CellWrite] = field(default_factory=list)
    columns: list[ColumnWrite] = field(default_factory=list)   # applied before `writes`
    marks: list[CellMark] = field(default_factory=list)
    restores: list[CellRestore] = field(default_factory=list)
    removals: list[CellRemoval] = field(default_factory=list)
    col_widths: dict[int, float] = field(default_factory=dict)
    validations: list[ListRule] = field(default_factory=list)
    drop_validations: list[str] = field(default_factory=list)   # sqrefs of the tool's dropdowns to remove
    legacy_drawing: str | None = None      # ensure <legacyDrawing r:id=...> (kept if one exists)
    drop_legacy_drawing: bool = False      # remove it (the tool's notes part went away)
    dimension: str | None = None           # set <dimension ref> exactly (restore on clear)

    def set_cell(self, c: SetCell) -> SheetEdits:
        self.writes.append(CellWrite(c.row, c.col, c.value, c.formula, c.style))
        return self

    def set_column(self, c: ValueColumn | FormulaColumn) -> SheetEdits:
        head = c.head()
        if head is not None:
            self.set_cell(head)
        formula = c.formula if isinstance(c, FormulaColumn) else None
        self.columns.append(ColumnWrite(c.col, c.first_row, c.values, formula, c.style))
        return self

    def mark(self, m: MarkCell) -> SheetEdits:
        self.marks.append(CellMark(m.row, m.col, m.fill))
        return self

    def is_empty(self) -> bool:
        return not (self.writes or self.columns or self.marks or self.restores or self.removals or self.col_widths
                    or self.validations or self.drop_validations or self.legacy_drawing or self.drop_legacy_drawing
                    or self.dimension)


@dataclass
class PatchResult:
    source: bytes                               # the part as it was
    changed: bool = False
    stream: PartStream | None = None            # the new part, made as it is written (None: source)
    marked: dict[tuple[int, int], int | None] = field(default_factory=dict)  # original s per marked cell
    created_cells: set[tuple[int, int]] = field(default_factory=set)
    created_rows: set[int] = field(default_factory=set)
    legacy_drawing_rid: str | None = None       # the sheet's legacyDrawing r:id after the patch
    old_dimension: str | None = None            # <dimension ref> before the patch
    formulas_removed: list[tuple[int, int]] = field(default_factory=list)  # calcChain may list them
    # Column writes, kept per column (a plan has 100k rows): cells appended where there were
    # none, as row runs {col: [(r1, r2)]}, and the cells written over existing ones.
    created_runs: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    column_cells: set[tuple[int, int]] = field(default_factory=set)

    @property
    def xml(self) -> bytes:
        """The new part, whole (the writer streams `stream` into the zip instead)."""
        return self.source if self.stream is None else self.stream.to_bytes()

    def part(self) -> bytes | PartStream:
        return self.source if self.stream is None else self.stream


# --------------------------------------------------------------------------- regexes
_ATTRS = rb"(?:[^>\"']|\"[^\"]*\"|'[^']*')*?"
_TAG_RE = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<(/?)([\w.:-]+)(" + _ATTRS + rb")(/?)>",
                     re.S)
_ROOT_RE = re.compile(rb"<(?:([\w.-]+):)?worksheet[\s>/]")
_R_ATTR = re.compile(rb"\sr\s*=\s*[\"']([^\"']*)[\"']")
_S_ATTR = re.compile(rb"\ss\s*=\s*[\"'](\d*)[\"']")


def _attr(tag: bytes, name: bytes) -> bytes | None:
    m = re.search(rb"(?<=[\s])" + re.escape(name) + rb"\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", tag)
    if not m:
        return None
    return m.group(1) if m.group(1) is not None else m.group(2)


def _set_attr(tag: bytes, name: bytes, value: bytes, after: bytes = b"r") -> bytes:
    """Replace an attribute's value in place, or insert it after `after` (or the element name)."""
    m = re.search(rb"(?<=[\s])" + re.escape(name) + rb"(\s*=\s*)(?:\"[^\"]*\"|'[^']*')", tag)
    if m:
        return tag[:m.start()] + name + m.group(1) + b'"' + value + b'"' + tag[m.end():]
    m = re.search(rb"(?<=[\s])" + re.escape(after) + rb"\s*=\s*(?:\"[^\"]*\"|'[^']*')", tag)
    if m is None:
        m = re.match(rb"<[\w.:-]+", tag)      # right after the element name (or at the start of bare attrs)
    pos = m.end() if m else 0
    return tag[:pos] + b" " + name + b'="' + value + b'"' + tag[pos:]


def _del_attr(tag: bytes, name: bytes) -> bytes:
    return re.sub(rb"\s+" + re.escape(name) + rb"\s*=\s*(?:\"[^\"]*\"|'[^']*')", b"", tag, count=1)


# --------------------------------------------------------------------------- values
def _xml_unescape(s: str) -> str:
    s = re.sub(r"&#x([0-9A-Fa-f]+);", lambda m: chr(int(m.group(1), 16)), s)
    s = re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))), s)
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def xml_attr(s: str) -> str:
    return xml_text(s).replace('"', "&quot;")


def cell_xml(prefix: str, row: int, col: int, s: int | None, value: CellValue,
             formula: str | None = None, date1904: bool = False) -> bytes:
    """The <c> element for a value or a formula with its cached value."""
    p = prefix
    attrs = f'<{p}c r="{cell_ref(row, col)}"' + (f' s="{s}"' if s else "")
    if formula is not None:
        f = f"<{p}f>{_xml_escape(formula.removeprefix('='))}</{p}f>"
        return (attrs + formula_body(p, f, value, date1904)).encode()
    body = value_body(p, value, date1904)
    return (attrs + (body if body is not None else "/>")).encode()


# --------------------------------------------------------------------------- top-level split
@dataclass
class _Node:
    name: str | None      # local name of a top-level element, None for text/comments
    raw: bytes


def _children(buf: bytes) -> list[_Node]:
    """Split a run of top-level content into elements and in-between text."""
    out: list[_Node] = []
    depth, start, last = 0, 0, 0
    name = ""
    for m in _TAG_RE.finditer(buf):
        if m.group(2) is None:   # comment, CDATA, PI
            continue
        closing, selfclose = m.group(1) == b"/", m.group(4) == b"/"
        if depth == 0 and not closing:
            if m.start() > last:
                out.append(_Node(None, buf[last:m.start()]))
            start, name = m.start(), m.group(2).split(b":")[-1].decode()
            if name == "AlternateContent":  # rank it by what it wraps
                inner = re.search(rb"<(?:\w+:)?Choice[^>]*>\s*<(?:[\w.-]+:)?([\w.-]+)", buf[m.end():])
                name = "AlternateContent:" + (inner.group(1).decode() if inner else "")
            if selfclose:
                out.append(_Node(name, buf[start:m.end()]))
                last = m.end()
            else:
                depth = 1
            continue
        if closing:
            depth -= 1
            if depth == 0:
                out.append(_Node(name, buf[start:m.end()]))
                last = m.end()
        elif not selfclose:
            depth += 1
    if last < len(buf):
        out.append(_Node(None, buf[last:]))
    return out


def _rank(name: str | None) -> int | None:
    if name is None:
        return None
    if name.startswith("AlternateContent:"):
        name = name.split(":", 1)[1]
    return _RANK.get(name)


def _insert(nodes: list[_Node], new: _Node) -> None:
    """Insert before the first known element the schema orders after `new`."""
    r = _RANK[new.name]  # type: ignore[index]
    for i, n in enumerate(nodes):
        nr = _rank(n.name)
        if nr is not None and nr > r:
            nodes.insert(i, new)
            return
    # after the last element (keep trailing whitespace last)
    i = len(nodes)
    while i and nodes[i - 1].name is None:
        i -= 1
    nodes.insert(i, new)


# --------------------------------------------------------------------------- refs
def _ref_box(ref: str) -> tuple[int, int, int, int] | None:
    try:
        parts = ref.replace("$", "").split(":")
        r1, c1 = split_ref(parts[0])
        r2, c2 = split_ref(parts[-1])
        return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)
    except (ValueError, IndexError):
        return None


def _box_ref(b: tuple[int, int, int, int]) -> str:
    a, z = cell_ref(b[0], b[1]), cell_ref(b[2], b[3])
    return a if a == z else f"{a}:{z}"


# --------------------------------------------------------------------------- the patch
_COLS: dict[bytes, int] = {}


def _ref_col(ref: bytes) -> int | None:
    """The column of a cell reference like b"AB12" (letters looked up once)."""
    letters = ref.rstrip(b"0123456789").lstrip(b"$").rstrip(b"$")
    col = _COLS.get(letters)
    if col is None:
        try:
            col = split_ref(letters.decode() + "1")[1]
        except ValueError:
            return None
        if len(_COLS) < 20000:
            _COLS[letters] = col
    return col


class _BandRows:
    """Row n's column cells as text, computed a window of rows at a time (memory stays
    bounded by the window, not the sheet)."""

    def __init__(self, cols: list[ColumnXml], window: int = 4096) -> None:
        self.cols, self.window = cols, window
        self.lo = self.hi = 0
        self.cells: list[str] = []

    def get(self, n: int) -> str:
        if not self.lo <= n < self.hi:
            self.lo, self.hi = n, n + self.window
            self.cells = band(self.cols, self.lo, self.hi)
        return self.cells[n - self.lo]



class _RowAt:
    """Where one <row> element sits in the part: the re.Match interface the patcher uses
    (group 1 the attributes, group 2 the content, None for <row/>)."""

    __slots__ = ("d", "spans")

    def __init__(self, d: bytes, spans: tuple[int, int, int, int, int, int]) -> None:
        self.d, self.spans = d, spans      # start, attrs start/end, content start/end (-1: none), end

    def start(self, g: int = 0) -> int:
        return self.spans[(0, 1, 3)[g]]

    def end(self, g: int = 0) -> int:
        return self.spans[(5, 2, 4)[g]]

    def span(self, g: int = 0) -> tuple[int, int]:
        return self.start(g), self.end(g)

    def group(self, g: int = 0) -> bytes | None:
        a, b = self.span(g)
        return None if a < 0 else self.d[a:b]


def _rows(d: bytes, start: int, end: int, p: bytes) -> Iterator[_RowAt]:
    """The <row> elements between start and end: each start tag by regex, its end by a
    plain search for the closing tag (a lazy regex over every row's content is slower)."""
    tag = re.compile(rb"<" + re.escape(p) + rb"row\b(" + _ATTRS + rb")(/?)>")
    close = b"</" + p + b"row>"
    pos = start
    while True:
        m = tag.search(d, pos, end)
        if m is None:
            return
        if m.group(2):
            pos = m.end()
            yield _RowAt(d, (m.start(), m.start(1), m.end(1), -1, -1, pos))
            continue
        c = d.find(close, m.end(), end)
        if c < 0:
            return
        pos = c + len(close)
        yield _RowAt(d, (m.start(), m.start(1), m.end(1), m.end(), c, pos))


_OPEN = b"<row/>"   # event marker: a self-closed row opened to take its column cells


class _FastRows:
    """Rows whose column cells are appended, as three arrays of numbers (a 1M-row plan
    costs 24 MB here, not a Python object per row)."""

    def __init__(self) -> None:
        self.rows, self.pos, self.stop = array("q"), array("q"), array("q")

    def add(self, n: int, m: _RowAt, close_len: int) -> None:
        self.rows.append(n)
        if m.start(2) < 0:                      # <row/>: replaced whole
            self.pos.append(m.start())
            self.stop.append(m.end())
        else:
            self.pos.append(m.end() - close_len)
            self.stop.append(-1)


class _Body:
    """sheetData's new content: the source's bytes between edited rows, the rebuilt rows,
    and the column cells appended to rows, made a window of rows at a time when the part
    is written (so it is never all in memory)."""

    def __init__(self, patcher: _Patcher, d: bytes, start: int, end: int, events: list,
                 appends: _FastRows, hybrid: set[int], lazy: bool, added: int) -> None:
        self.patcher, self.d, self.start, self.end = patcher, d, start, end
        self.events, self.appends, self.hybrid, self.lazy, self.added = events, appends, hybrid, lazy, added

    def chunks(self) -> Iterator[bytes | memoryview]:
        d, pt = self.d, self.patcher
        view = memoryview(d)
        bands = _BandRows(pt.cols)
        close = b"</" + pt.p + b"row>"
        hybrid = self.hybrid
        last = self.start
        rows, places = self.appends.rows, self.appends.pos
        i, n_app = 0, len(rows)
        for pos, _, n, stop, raw in [*self.events, (self.end, 2, 0, self.end, None)]:
            # the appended cells before this event (always inside rows no event touches)
            while i < n_app and places[i] < pos:
                yield view[last:places[i]]
                yield bands.get(rows[i]).encode()
                last = places[i]
                i += 1
            if pos > last:
                yield view[last:pos]
            if raw is None:     # the end
                last = stop
                break
            if raw is _OPEN:
                yield d[pos:stop - 2] + b">" + bands.get(n).encode() + close
            elif n in hybrid:
                yield pt._append(raw, bands.get(n).encode())
            else:
                yield raw
            last = stop
        if self.end > last:
            yield view[last:self.end]


@dataclass(frozen=True)
class _Unshare:
    """Internal: turn the dependants of shared formula `si` into plain formulas."""

    row: int
    col: int          # the master cell
    si: bytes
    formula: str      # the master's formula text (unescaped)


@dataclass
class _Cell:
    col: int
    raw: bytes


class _Patcher:
    def __init__(self, data: bytes, edits: SheetEdits, styles: StyleBook, date1904: bool) -> None:
        self.data, self.edits, self.styles, self.date1904 = data, edits, styles, date1904
        m = _ROOT_RE.search(data)
        if not m:
            raise UnsupportedWorkbook("not a worksheet part (no <worksheet> element)")
        self.p = (m.group(1) + b":") if m.group(1) else b""
        self.ps = self.p.decode()
        root_end = _TAG_RE.search(data, m.start())
        assert root_end is not None
        self.root_tag = root_end.group(0)
        self.root_end = root_end.end()
        self.result = PatchResult(source=data)
        self.col_styles: list[tuple[int, int, int]] = []   # (min, max, style)
        self.array_boxes: list[tuple[int, int, int, int]] = []
        self._grow: list[tuple[int, int]] = []      # written cells: the dimension covers them
        self._touched = False
        self._unshared: set[tuple[int, int]] = set()   # shared-formula masters whose dependants were written out
        self.cols: list[ColumnXml] = []             # column writes, in column order
        self._col_style: dict[tuple[int, int], ColumnXml] = {}
        self._cols_slow = False                     # an array formula near them: every row the careful way
        self._restyled: dict[tuple, tuple[bytes, int | None]] = {}   # _restyle_row's memo

    # -- entry -----------------------------------------------------------------
    def run(self) -> PatchResult:
        d, p = self.data, self.p
        sd = re.compile(rb"<" + re.escape(p) + rb"sheetData\b" + _ATTRS + rb"(/?)>", re.S).search(d, self.root_end)
        if not sd:
            raise UnsupportedWorkbook("worksheet has no <sheetData>")
        close_tag = b"</" + p + b"sheetData>"
        if sd.group(1):
            body_start = body_end = sd.end()
            tail_start = sd.end()
            sd_open, sd_close = sd.group(0)[:-2] + b">", close_tag   # "<sheetData />" -> "<sheetData >"
            selfclosed = True
        else:
            body_start = sd.end()
            body_end = d.find(close_tag, body_start)
            if body_end < 0:
                raise UnsupportedWorkbook("worksheet <sheetData> is not closed")
            tail_start = body_end + len(close_tag)
            sd_open, sd_close = sd.group(0), close_tag
            selfclosed = False
        root_close = d.rfind(b"</" + p + b"worksheet")
        if root_close < tail_start:
            raise UnsupportedWorkbook("worksheet is not closed")
        head = _children(d[self.root_end:sd.start()])
        tail = _children(d[tail_start:root_close])
        self._read_cols(head)
        self._read_legacy(tail)

        by_row = self._group_cells()
        self._prep_columns()
        body = self._patch_rows(d, body_start, body_end, by_row) if by_row or self.cols else None

        head_changed = self._edit_head(head)
        tail_changed = self._edit_tail(tail)
        if body is None and not head_changed and not tail_changed:
            return self.result
        before = [d[:self.root_end], *(n.raw for n in head)]
        after = [n.raw for n in tail] + [d[root_close:]]
        new_body: bytes | _Body | None = body
        if isinstance(body, _Body) and not body.lazy:
            new_body = b"".join(body.chunks())
        if new_body is None or (selfclosed and not new_body):
            mid: list[bytes | _Body] = [d[sd.start():tail_start]]
        elif not new_body:      # emptied again (clear): back to the self-closed form
            mid = [sd_open[:-1] + b"/>"]
        else:
            mid = [sd_open, new_body, sd_close]
        if isinstance(new_body, _Body):
            # The patched rows are made while the part is written; the rest is here.
            self.result.changed = True
            pieces = [*before, *mid, *after]
            size = len(d) + new_body.added

            def chunks() -> Iterator[bytes | memoryview]:
                for piece in pieces:
                    if isinstance(piece, _Body):
                        yield from piece.chunks()
                    else:
                        yield piece
            self.result.stream = PartStream(chunks, size)
            return self.result
        out = b"".join([*before, *mid, *after])   # type: ignore[list-item]
        if out != d:
            self.result.changed = True
            self.result.stream = PartStream(lambda: (out,), len(out))
        return self.result

    # -- cells ---------------------------------------------------------------------
    def _group_cells(self) -> dict[int, list[tuple[str, object]]]:
        by_row: dict[int, list[tuple[str, object]]] = {}
        e = self.edits
        for kind, items in (("restore", e.restores), ("remove", e.removals), ("write", e.writes),
                            ("mark", e.marks)):
            for it in items:
                if it.row < 1 or it.col < 1 or it.row > 1048576 or it.col > 16384:
                    raise XlpluginError(f"cell ({it.row}, {it.col}) is outside the sheet")
                by_row.setdefault(it.row, []).append((kind, it))
        if (e.writes or e.columns) and (b't="array"' in self.data or b"t='array'" in self.data):
            for fm in re.finditer(rb"<" + re.escape(self.p) + rb"f\b(" + _ATTRS + rb")>", self.data):
                if _attr(fm.group(1), b"t") == b"array":
                    box = _ref_box((_attr(fm.group(1), b"ref") or b"").decode())
                    if box:
                        self.array_boxes.append(box)
        return by_row

    # -- columns ---------------------------------------------------------------------
    def _prep_columns(self) -> None:
        """Column writes -> ColumnXml (style index, shared-formula id), in column order."""
        e = self.edits
        if not e.columns:
            return
        by_col = {cw.col: cw for cw in e.columns}     # the last write to a column wins
        ids = self._free_si(by_col)
        for col in sorted(by_col):
            cw = by_col[col]
            if not cw.values:
                continue
            if cw.first_row < 1 or cw.last_row > 1048576 or not 1 <= col <= 16384:
                raise XlpluginError(f"column {col} rows {cw.first_row}-{cw.last_row} are outside the sheet")
            base = self._default_style(col, None)
            s = self.styles.derive(base, cw.style) if cw.style is not None else base
            k = ColumnXml(col, cw.first_row, cw.values, cw.formula, s, next(ids) if cw.formula else None,
                          self.ps, self.date1904)
            k.style = cw.style
            self.cols.append(k)
            if any(k.written(i) for i in (0, k.n - 1)) or k.all_written():
                self._grow += [(k.first, col), (k.last, col)]
            if any(b[1] <= col <= b[3] and b[0] <= k.last and k.first <= b[2] for b in self.array_boxes):
                self._cols_slow = True

    def _free_si(self, by_col: dict[int, ColumnWrite]):
        """Shared-formula ids for the new columns: the smallest ones no formula that stays
        uses.  A shared formula whose whole range a column rewrites is gone after the
        patch, so a re-run reuses its id and writes the same bytes as the first run."""
        used: set[int] = set()
        if b"shared" in self.data:
            ftag = re.compile(rb"<" + re.escape(self.p) + rb"f\b(" + _ATTRS + rb")/?>")
            for fm in ftag.finditer(self.data):
                a = fm.group(1)
                si, ref = _attr(a, b"si"), _attr(a, b"ref")
                if _attr(a, b"t") != b"shared" or si is None or not si.isdigit():
                    continue
                box = _ref_box(ref.decode()) if ref is not None else None
                if box is None:       # a dependant: its master decides
                    continue
                cw = by_col.get(box[1])
                rewritten = (cw is not None and box[1] == box[3] and cw.first_row <= box[0]
                             and box[2] <= cw.last_row
                             and (cw.formula is not None or all(v is not None and v is not KEEP for v in cw.values)))
                if not rewritten:
                    used.add(int(si))
        n = 0
        while True:
            if n not in used:
                yield n
            n += 1

    def _appendable(self, m: _RowAt, min_col: int) -> bool:
        """Can the column cells go straight after this row's last cell (all of them are
        left of every written column, and the row has no style of its own)?"""
        d = self.data
        if d.find(b"customFormat", m.start(1), m.end(1)) >= 0:
            return False
        lo, hi = m.span(2)
        if lo >= hi:          # <row/> or an empty row
            return True
        tag = b"<" + self.p + b"c"
        i = d.rfind(tag + b" ", lo, hi)          # positions in the part: the row is not copied
        if i < 0:
            return d.find(tag, lo, hi) < 0
        j = i + len(tag) + 4
        if d[i + len(tag):j] == b' r="':            # as Excel writes it: read the ref directly
            q = d.find(b'"', j, hi)
            if q < 0:
                return False
            ref = d[j:q]
        else:
            r = _R_ATTR.search(d, i, d.find(b">", i, hi))
            if r is None:
                return False
            ref = r.group(1)
        col = _ref_col(ref)
        return col is not None and col < min_col

    def _column_ops(self, row: int, by_row: dict) -> None:
        """The careful path for one row: the column cells as CellWrites among the row's
        other edits (after restores and removals, before single writes and marks)."""
        ops = []
        for k in self.cols:
            if not k.first <= row <= k.last:
                continue
            i = row - k.first
            v = k.values[i]
            if v is KEEP:
                continue
            ops.append(("write", CellWrite(row, k.col, v, k.formula, None, body=k.body(i), )))
            self._col_style[(row, k.col)] = k
            self.result.column_cells.add((row, k.col))
        if not ops:
            return
        cur = by_row.setdefault(row, [])
        at = next((j for j, (kind, _) in enumerate(cur) if kind in ("write", "mark")), len(cur))
        cur[at:at] = ops

    def _created_runs(self, fast_rows: list[int]) -> None:
        """Cells appended by the fast path, per column, as runs of rows."""
        rows = sorted(set(fast_rows))
        spans: list[tuple[int, int]] = []        # the fast rows as runs, once for all columns
        for r in rows:
            if spans and spans[-1][1] == r - 1:
                spans[-1] = (spans[-1][0], r)
            else:
                spans.append((r, r))
        for k in self.cols:
            if k.all_written():
                runs = [(max(a, k.first), min(b, k.last)) for a, b in spans if a <= k.last and b >= k.first]
                if runs:
                    self.result.created_runs.setdefault(k.col, []).extend(runs)
                continue
            runs = []
            for r in rows:
                if r < k.first or r > k.last or not k.written(r - k.first):
                    continue
                if runs and runs[-1][1] == r - 1:
                    runs[-1] = (runs[-1][0], r)
                else:
                    runs.append((r, r))
            if runs:
                self.result.created_runs.setdefault(k.col, []).extend(runs)

    def _patch_rows(self, d: bytes, start: int, end: int, by_row: dict) -> bytes:
        """One scan over the rows; touched rows are rebuilt, new rows inserted before the
        first row (in document order) with a higher number, everything else copied.
        Column cells right of a row's last cell are appended as text (the fast path)."""
        pending = sorted(by_row)
        exists: dict[int, _RowAt] = {}
        insert_at: dict[int, int] = {}
        cols = self.cols
        span_lo = min((c.first for c in cols), default=1)
        span_hi = max((c.last for c in cols), default=0)
        min_col = min((c.col for c in cols), default=0)
        # The fast rows (most of a plan), kept as numbers: row, where its cells go (before
        # </row>, or its start for <row/>), and -1 or the end of a <row/>.
        fast = _FastRows()
        missing: list[tuple[int, int]] = []      # column rows the sheet lacks: (row, insert position)
        k, cur, prev = 0, 0, 0
        n_pending = len(pending)
        r_attr = _R_ATTR.search
        for m in _rows(d, start, end, self.p):
            r = r_attr(d, m.start(1), m.end(1))
            cur = int(r.group(1)) if r and r.group(1).isdigit() else cur + 1
            while k < n_pending and pending[k] < cur:
                insert_at.setdefault(pending[k], m.start())
                k += 1
            if cols and cur > prev:
                if span_lo <= cur <= span_hi:
                    if cur > prev + 1:
                        missing += [(n, m.start()) for n in range(max(prev + 1, span_lo), cur)]
                    ops = by_row.get(cur)
                    if self._cols_slow or not self._appendable(m, min_col) \
                            or (ops and any(op.col >= min_col for _, op in ops)):
                        self._column_ops(cur, by_row)
                    else:
                        fast.add(cur, m, len(self.p) + 6)   # rows with other edits too (marks): appended after them
                elif cur > span_hi >= prev + 1:
                    missing += [(n, m.start()) for n in range(max(prev + 1, span_lo), span_hi + 1)]
                prev = cur
            if cur in by_row and cur not in exists:
                exists[cur] = m
        if cols and prev < span_hi:
            missing += [(n, end) for n in range(max(prev + 1, span_lo), span_hi + 1)]
        for n, pos in missing:
            self._column_ops(n, by_row)
            if n in by_row:
                insert_at.setdefault(n, pos)
        self._unshare_masters(d, end, exists, by_row)
        pending = sorted(by_row)
        events: list[tuple[int, int, int, int, bytes | None]] = []   # (pos, existing?, row, end, bytes)
        hybrid: set[int] = set()     # rows with other edits too: their column cells go after the rebuilt row
        appends = self._fast_events(fast, by_row, hybrid, events)
        lazy = bool(appends.rows) or bool(hybrid) or any(e[4] is _OPEN for e in events)
        self._created_runs(fast.rows)
        del fast
        for n in pending:
            if n in exists:
                m = exists[n]
                raw = self._row(n, m, by_row[n])
                if n in hybrid and not raw:   # the tool's own row, emptied by a clear in this pass: made again
                    hybrid.discard(n)
                    cells = _BandRows(self.cols, 1).get(n).encode()
                    raw = b"<" + self.p + b'row r="' + str(n).encode() + b'">' + cells + b"</" + self.p + b"row>"
                    self.result.created_rows.add(n)
                events.append((m.start(), 1, n, m.end(), raw))
            else:
                pos = insert_at.get(n, end)
                events.append((pos, 0, n, pos, self._new_row(n, by_row[n])))
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        added = sum(len(k.values) for k in cols) * 80
        return _Body(self, d, start, end, events, appends, hybrid, lazy, added)

    def _append(self, row_xml: bytes, cells: bytes) -> bytes:
        """`cells` put at the end of a row element (opening a self-closed one)."""
        close = b"</" + self.p + b"row>"
        if not cells:
            return row_xml
        if row_xml.endswith(close):
            return row_xml[:-len(close)] + cells + close
        return row_xml[:-2] + b">" + cells + close    # <row .../>

    def _fast_events(self, fast: _FastRows, by_row: dict, hybrid: set[int], events: list) -> _FastRows:
        """The rows whose column cells are appended (their text is made when the part is
        written: _Body); a row with other edits too goes in `hybrid`, a <row/> in `events`."""
        written = self._row_written()
        out = _FastRows()
        for n, pos, stop in zip(fast.rows, fast.pos, fast.stop, strict=True):
            if not written(n):
                continue
            if n in by_row:
                hybrid.add(n)
            elif stop >= 0:    # <row .../>: opened at write time
                events.append((pos, 1, n, stop, _OPEN))
            else:
                out.rows.append(n)
                out.pos.append(pos)
        return out

    def _row_written(self):
        """row -> does some column write a cell there (else the row gets no text)."""
        always = [(k.first, k.last) for k in self.cols if k.all_written()]
        some = [k for k in self.cols if not k.all_written()]

        def written(n: int) -> bool:
            return any(a <= n <= b for a, b in always) or \
                any(k.first <= n <= k.last and k.written(n - k.first) for k in some)
        return written

    def _unshare_masters(self, d: bytes, end: int, exists: dict, by_row: dict) -> None:
        """A write over the master of a shared formula: its dependants get the formula
        written out (shifted), so overwriting the master breaks nothing."""
        fre = re.compile(rb"<" + re.escape(self.p) + rb"f\b(" + _ATTRS + rb")(?:/>|>(.*?)</" + re.escape(self.p) + rb"f>)",
                         re.S)
        for row in sorted(exists):
            m = exists[row]
            cols = {op.col for kind, op in by_row[row] if kind == "write"}
            if not cols or not m.group(2) or b"shared" not in m.group(2):
                continue
            for cell in self._split_cells(m.group(2)):
                if not isinstance(cell, _Cell) or cell.col not in cols:
                    continue
                fm = fre.search(cell.raw)
                if not fm or _attr(fm.group(1), b"t") != b"shared":
                    continue
                box = _ref_box((_attr(fm.group(1), b"ref") or b"").decode())
                si = _attr(fm.group(1), b"si")
                if box is None or si is None or box == (row, cell.col, row, cell.col):
                    continue
                if any(k.col == cell.col and k.first <= box[0] and box[2] <= k.last and k.all_written()
                       for k in self.cols):
                    self._unshared.add((row, cell.col))   # every cell it shares into is rewritten too
                    continue
                op = _Unshare(row, cell.col, si, _xml_unescape((fm.group(2) or b"").decode()))
                self._unshared.add((row, cell.col))
                cur = row - 1
                for dm in _rows(d, m.start(), end, self.p):   # the rows the shared range spans
                    r = _R_ATTR.search(dm.group(1))
                    cur = int(r.group(1)) if r and r.group(1).isdigit() else cur + 1
                    if cur > box[2]:
                        break
                    if cur >= box[0]:
                        by_row.setdefault(cur, []).insert(0, ("unshare", op))
                        exists.setdefault(cur, dm)

    def _split_cells(self, inner: bytes) -> list[_Cell | bytes]:
        p = re.escape(self.p)
        c_re = re.compile(rb"<" + p + rb"c\b(" + _ATTRS + rb")(?:/>|>.*?</" + p + rb"c>)", re.S)
        cells: list[_Cell | bytes] = []
        last, col = 0, 0
        for cm in c_re.finditer(inner):
            r = _R_ATTR.search(cm.group(1))
            if r is None:
                col += 1
            else:
                col = _ref_col(r.group(1)) or col + 1
            if cm.start() > last:
                cells.append(inner[last:cm.start()])
            cells.append(_Cell(col, cm.group(0)))
            last = cm.end()
        if last < len(inner):
            cells.append(inner[last:])
        return cells

    def _unshare_cells(self, row: int, cells: list, op: _Unshare) -> None:
        p = re.escape(self.p)
        fre = re.compile(rb"<" + p + rb"f\b(" + _ATTRS + rb")(?:/>|>(.*?)</" + p + rb"f>)", re.S)
        for c in cells:
            if not isinstance(c, _Cell) or (row, c.col) == (op.row, op.col):
                continue
            fm = fre.search(c.raw)
            if not fm or _attr(fm.group(1), b"t") != b"shared" or _attr(fm.group(1), b"si") != op.si \
                    or _attr(fm.group(1), b"ref") is not None:
                continue
            text = shift_formula(op.formula, row - op.row, c.col - op.col)
            c.raw = c.raw[:fm.start()] + f"<{self.ps}f>{_xml_escape(text)}</{self.ps}f>".encode() + c.raw[fm.end():]
            self._touched = True

    def _new_row(self, row: int, ops: list) -> bytes:
        cells: list[_Cell | bytes] = []
        body = self._apply(row, cells, ops, None)
        if not body:
            return b""
        self.result.created_rows.add(row)
        return b"<" + self.p + b'row r="' + str(row).encode() + b'">' + body + b"</" + self.p + b"row>"

    def _row(self, row: int, m: _RowAt, ops: list) -> bytes:
        quick = self._restyle_row(row, m, ops)
        if quick is not None:
            return quick
        p = self.p
        attrs, inner = m.group(1), m.group(2)
        cells: list[_Cell | bytes] = self._split_cells(inner) if inner else []
        row_s = None
        if _attr(attrs, b"customFormat") in (b"1", b"true"):
            s = _attr(attrs, b"s")
            row_s = int(s) if s and s.isdigit() else None
        self._touched = False
        body = self._apply(row, cells, ops, row_s)
        if not self._touched:
            return m.group(0)
        tool_row = any(isinstance(o, CellRemoval) and o.row_created for _, o in ops)
        if not any(isinstance(c, _Cell) for c in cells):
            if tool_row:
                self.result.created_rows.discard(row)
                return b""              # the tool made this row; it goes with its last cell
            return b"<" + p + b"row" + attrs + b"/>"
        if tool_row:   # cleared and written again in one pass: still the tool's row
            self.result.created_rows.add(row)
        return b"<" + p + b"row" + attrs + b">" + body + b"</" + p + b"row>"

    def _restyle_row(self, row: int, m: _RowAt, ops: list) -> bytes | None:
        """A row whose edits only restyle cells it has (marks, a clear's restores): each
        cell is found by its ``<c r="K7"`` start and only its s attribute is rewritten,
        without splitting the row.  The same bytes as the careful path; None sends the
        row there (another kind of edit, a cell to create, an unusual cell start)."""
        if m.group(2) is None:
            return None
        d, lo, hi = self.data, m.start(2), m.end(2)
        num = str(row).encode()
        tags: dict[int, bytes] = {}          # start offset in d -> the cell's start tag now
        head = b"<" + self.p + b'c r="'
        for kind, op in ops:
            if kind != "mark" and kind != "restore":
                return None
            pos = d.find(head + col_letter(op.col).encode() + num + b'"', lo, hi)
            if pos < 0:
                if kind == "mark":
                    return None              # a cell to create: the careful path inserts it
                continue                     # restoring a cell that is gone: nothing to do
            tag = tags.get(pos)
            if tag is None:
                tm = _TAG_RE.match(d, pos)
                if tm is None or tm.group(2) is None:
                    return None
                tag = tm.group(0)
            # The tag after its r attribute repeats down a column: restyle it once.
            ref_end = d.index(b'"', pos + len(head)) + 1 - pos
            key = (kind, tag[ref_end:], op.s if kind == "restore" else op.fill)
            hit = self._restyled.get(key)
            if hit is None:
                hit = self._restyle_tag(tag, kind, op)
                hit = self._restyled[key] = (hit[0][ref_end:], hit[1])
            tags[pos] = tag[:ref_end] + hit[0]
            if kind == "mark":
                self.result.marked.setdefault((row, op.col), hit[1])
        out: list[bytes] = []
        last = m.start()
        for pos in sorted(tags):
            out += [d[last:pos], tags[pos]]
            last = pos + len(_TAG_RE.match(d, pos).group(0))   # type: ignore[union-attr]
        out.append(d[last:m.end()])
        return b"".join(out)

    def _restyle_tag(self, tag: bytes, kind: str, op: CellMark | CellRestore) -> tuple[bytes, int | None]:
        """A cell start tag restored (op.s) or marked (op.fill over its style); for a
        mark, also the s index it had."""
        if isinstance(op, CellRestore):
            return (_del_attr(tag, b"s") if op.s is None else _set_attr(tag, b"s", str(op.s).encode())), None
        cur = _attr(tag, b"s")
        orig = int(cur) if cur and cur.isdigit() else None
        s = self.styles.derive(orig or 0, Style(fill=op.fill))
        return _set_attr(tag, b"s", str(s).encode()), orig

    def _find(self, cells: list, col: int) -> int | None:
        for i, c in enumerate(cells):
            if isinstance(c, _Cell) and c.col == col:
                return i
        return None

    def _insert_at(self, cells: list, col: int) -> int:
        for i, c in enumerate(cells):
            if isinstance(c, _Cell) and c.col > col:
                return i
        i = len(cells)
        return i

    def _default_style(self, col: int, row_s: int | None) -> int:
        if row_s is not None:
            return row_s
        for lo, hi, s in self.col_styles:
            if lo <= col <= hi:
                return s
        return 0

    def _apply(self, row: int, cells: list, ops: list, row_s: int | None) -> bytes:
        for kind, op in ops:
            if kind == "unshare":
                self._unshare_cells(row, cells, op)
                continue
            i = self._find(cells, op.col)
            if kind == "restore":
                if i is not None:
                    c = cells[i]
                    new = self._restyle(c.raw, op.s)
                    if new != c.raw:
                        c.raw, self._touched = new, True
                continue
            if kind == "remove":
                if i is not None:
                    del cells[i]
                    self._touched = True
                    self.result.created_cells.discard((row, op.col))
                continue
            self._touched = True
            if kind == "write":
                self._write(row, cells, i, op, row_s)
            elif kind == "mark":
                if i is None:
                    base = self._default_style(op.col, row_s)
                    s = self.styles.derive(base, Style(fill=op.fill))
                    cells.insert(self._insert_at(cells, op.col),
                                 _Cell(op.col, cell_xml(self.ps, row, op.col, s, None)))
                    self.result.created_cells.add((row, op.col))
                    self.result.marked.setdefault((row, op.col), None)
                else:
                    c = cells[i]
                    tag = self._start_tag(c.raw)
                    cur = _attr(tag, b"s")
                    orig = int(cur) if cur and cur.isdigit() else None
                    self.result.marked.setdefault((row, op.col), orig)
                    s = self.styles.derive(orig or 0, Style(fill=op.fill))
                    c.raw = self._restyle(c.raw, s)
        return b"".join(c.raw if isinstance(c, _Cell) else c for c in cells)

    def _start_tag(self, raw: bytes) -> bytes:
        m = _TAG_RE.match(raw)
        assert m is not None
        return m.group(0)

    def _restyle(self, raw: bytes, s: int | None) -> bytes:
        tag = self._start_tag(raw)
        new = _del_attr(tag, b"s") if s is None else _set_attr(tag, b"s", str(s).encode())
        return new + raw[len(tag):]

    def _write(self, row: int, cells: list, i: int | None, op: CellWrite, row_s: int | None) -> None:
        ref = cell_ref(row, op.col)
        for box in self.array_boxes:
            if box[0] <= row <= box[2] and box[1] <= op.col <= box[3] and (box[0], box[1]) != (row, op.col):
                raise UnsupportedWorkbook(f"cell {ref} is part of an array formula; refusing to split it",
                                          cell=ref)
        if i is None:
            base = self._default_style(op.col, row_s)
        else:
            raw = cells[i].raw
            tag = self._start_tag(raw)
            cur = _attr(tag, b"s")
            base = int(cur) if cur and cur.isdigit() else 0
            fm = re.search(rb"<" + re.escape(self.p) + rb"f\b(" + _ATTRS + rb")/?>", raw)
            if fm:
                ftype = _attr(fm.group(1), b"t")
                fref = _attr(fm.group(1), b"ref")
                if ftype == b"shared" and fref and _ref_box(fref.decode()) != (row, op.col, row, op.col) \
                        and (row, op.col) not in self._unshared:
                    raise UnsupportedWorkbook(
                        f"cell {ref} is the master of a shared formula over {fref.decode()}; "
                        "overwriting it would break the cells that share it", cell=ref)
                self.result.formulas_removed.append((row, op.col))
        k = self._col_style.get((row, op.col)) if op.body is not None else None
        if k is not None:   # a column cell: the column's style over this cell's own
            s = self.styles.derive(base, k.style) if k.style is not None else base
            new = (f'<{self.ps}c r="{ref}"' + (f' s="{s}"' if s else "") + op.body).encode()
        else:
            s = self.styles.derive(base, op.style) if op.style is not None else base
            new = cell_xml(self.ps, row, op.col, s, op.value, op.formula, self.date1904)
        if i is None:
            cells.insert(self._insert_at(cells, op.col), _Cell(op.col, new))
            self.result.created_cells.add((row, op.col))
        else:
            cells[i].raw = new
        if op.value is not None or op.formula is not None:
            self._grow.append((row, op.col))

    # -- head: dimension, cols ---------------------------------------------------------
    def _read_cols(self, head: list[_Node]) -> None:
        for n in head:
            if n.name == "cols":
                for cm in re.finditer(rb"<(?:[\w.-]+:)?col\b(" + _ATTRS + rb")/?>", n.raw):
                    a = cm.group(1)
                    lo, hi, s = _attr(a, b"min"), _attr(a, b"max"), _attr(a, b"style")
                    if lo and hi and s and s.isdigit():
                        self.col_styles.append((int(lo), int(hi), int(s)))
            if n.name == "dimension":
                ref = _attr(n.raw, b"ref")
                self.result.old_dimension = ref.decode() if ref is not None else None

    def _edit_head(self, head: list[_Node]) -> bool:
        changed = False
        e = self.edits
        grow = self._grow
        dim = next((n for n in head if n.name == "dimension"), None)
        if e.dimension is not None or grow:
            box = None
            if e.dimension is not None:
                target = e.dimension
            else:
                old = self.result.old_dimension
                box = _ref_box(old) if old else None
                rows = [r for r, _ in grow]
                cols = [c for _, c in grow]
                nb = (min(rows), min(cols), max(rows), max(cols))
                if box and not (old == "A1" and _is_empty_a1(self.data)):
                    nb = (min(box[0], nb[0]), min(box[1], nb[1]), max(box[2], nb[2]), max(box[3], nb[3]))
                target = _box_ref(nb)
            if dim is not None:
                new = _set_attr(dim.raw, b"ref", target.encode())
                if new != dim.raw:
                    dim.raw, changed = new, True
            else:
                _insert(head, _Node("dimension", f'<{self.ps}dimension ref="{target}"/>'.encode()))
                changed = True
        if e.col_widths:
            changed |= self._edit_cols(head)
        return changed

    def _edit_cols(self, head: list[_Node]) -> bool:
        node = next((n for n in head if n.name == "cols"), None)
        cols: list[tuple[int, int, bytes]] = []   # (min, max, raw start-tag attrs)
        if node is not None:
            for cm in re.finditer(rb"<(?:[\w.-]+:)?col\b(" + _ATTRS + rb")\s*/?>", node.raw):
                a = cm.group(1)
                try:
                    cols.append((int(_attr(a, b"min") or 0), int(_attr(a, b"max") or 0), a))
                except ValueError:
                    return False
        for col, width in sorted(self.edits.col_widths.items()):
            w = _num(round(float(width), 6)).encode()
            out: list[tuple[int, int, bytes]] = []
            hit = False
            for lo, hi, a in cols:
                if lo <= col <= hi:
                    hit = True
                    if lo < col:
                        out.append((lo, col - 1, _set_attr(a, b"max", str(col - 1).encode())))
                    one = _set_attr(_set_attr(a, b"min", str(col).encode()), b"max", str(col).encode())
                    one = _set_attr(_set_attr(one, b"width", w, after=b"max"), b"customWidth", b"1",
                                    after=b"width")
                    out.append((col, col, one))
                    if col < hi:
                        out.append((col + 1, hi, _set_attr(a, b"min", str(col + 1).encode())))
                else:
                    out.append((lo, hi, a))
            if not hit:
                out.append((col, col, f' min="{col}" max="{col}" width="{w.decode()}" customWidth="1"'.encode()))
            cols = sorted(out, key=lambda t: t[0])
        p = self.ps
        raw = (f"<{p}cols>".encode() + b"".join(b"<" + self.p + b"col" + a.rstrip() + b"/>" for _, _, a in cols)
               + f"</{p}cols>".encode())
        if node is None:
            _insert(head, _Node("cols", raw))
            return True
        if raw == node.raw:
            return False
        node.raw = raw
        return True

    # -- tail: dataValidations, legacyDrawing ---------------------------------------------
    def _rel_prefix(self) -> bytes | None:
        for m in re.finditer(rb"xmlns:([\w.-]+)\s*=\s*[\"']([^\"']*)[\"']", self.root_tag):
            if m.group(2) in (NS_REL_T, NS_REL_S):
                return m.group(1)
        return None

    def _read_legacy(self, tail: list[_Node]) -> None:
        for n in tail:
            if n.name == "legacyDrawing":
                m = re.search(rb"\s[\w.-]+:id\s*=\s*[\"']([^\"']*)[\"']", n.raw)
                self.result.legacy_drawing_rid = m.group(1).decode() if m else None

    def _edit_tail(self, tail: list[_Node]) -> bool:
        changed = False
        e = self.edits
        if e.drop_validations:
            changed |= self._drop_validations(tail)
        if e.validations:
            changed |= self._edit_validations(tail)
        legacy = next((n for n in tail if n.name == "legacyDrawing"), None)
        if e.drop_legacy_drawing and legacy is not None:
            tail.remove(legacy)
            self.result.legacy_drawing_rid = None
            changed = True
        elif e.legacy_drawing and legacy is None:
            pre = self._rel_prefix()
            if pre is None:
                raw = (f'<{self.ps}legacyDrawing xmlns:r="{NS_REL_T.decode()}" '
                       f'r:id="{xml_attr(e.legacy_drawing)}"/>').encode()
            else:
                raw = (f'<{self.ps}legacyDrawing {pre.decode()}:id="{xml_attr(e.legacy_drawing)}"/>').encode()
            _insert(tail, _Node("legacyDrawing", raw))
            self.result.legacy_drawing_rid = e.legacy_drawing
            changed = True
        return changed

    def _drop_validations(self, tail: list[_Node]) -> bool:
        """Remove list validations by sqref; the container goes when it is left empty."""
        node = next((n for n in tail if n.name == "dataValidations"), None)
        if node is None:
            return False
        wanted = {r.replace("$", "").replace(",", " ") for r in self.edits.drop_validations}
        p = re.escape(self.p)
        one = re.compile(rb"<" + p + rb"dataValidation\b(" + _ATTRS + rb")(?:/>|>.*?</" + p + rb"dataValidation>)", re.S)
        dropped = 0

        def keep(m: re.Match) -> bytes:
            nonlocal dropped
            sq = _attr(m.group(1), b"sqref")
            if sq is not None and sq.decode() in wanted:
                dropped += 1
                return b""
            return m.group(0)

        raw = one.sub(keep, node.raw)
        if not dropped:
            return False
        left = len(one.findall(raw))
        if not left:
            tail.remove(node)
            return True
        start = self._start_tag(raw)
        node.raw = _set_attr(start, b"count", str(left).encode()) + raw[len(start):]
        return True

    def _edit_validations(self, tail: list[_Node]) -> bool:
        node = next((n for n in tail if n.name == "dataValidations"), None)
        existing = node.raw if node is not None else b""
        add: list[bytes] = []
        p = self.ps
        for rule in self.edits.validations:
            if rule.source is not None:
                f1 = rule.source.removeprefix("=")
            else:
                f1 = '"' + ",".join(v.replace('"', '""') for v in rule.values) + '"'
                if len(f1) > MAX_LIST_FORMULA:
                    raise XlpluginError(
                        f"dropdown list for {rule.ref} is longer than Excel's {MAX_LIST_FORMULA} "
                        "characters; use a range as its source")
            sqref = rule.ref.replace("$", "").replace(",", " ")
            el = (f'<{p}dataValidation type="list" allowBlank="{int(rule.allow_blank)}" showInputMessage="1" '
                  f'showErrorMessage="1" sqref="{xml_attr(sqref)}"><{p}formula1>{xml_text(f1)}</{p}formula1>'
                  f"</{p}dataValidation>").encode()
            # idempotent: an identical rule already there is not added again
            same = re.search(rb'sqref="' + re.escape(xml_attr(sqref).encode()) + rb'"' + _ATTRS + rb">\s*<"
                             + re.escape(self.p) + rb"formula1>" + re.escape(xml_text(f1).encode()) + rb"<",
                             existing)
            if same is None and el not in add:
                add.append(el)
        if not add:
            return False
        if node is None:
            raw = (f'<{p}dataValidations count="{len(add)}">'.encode() + b"".join(add)
                   + f"</{p}dataValidations>".encode())
            _insert(tail, _Node("dataValidations", raw))
            return True
        count = len(re.findall(rb"<" + re.escape(self.p) + rb"dataValidation\b", existing)) + len(add)
        close = existing.rfind(b"</")
        if close < 0:  # <dataValidations/> (empty, self-closed)
            start = existing.rstrip(b"/>").rstrip() + b">"
            body = start + b"".join(add) + f"</{p}dataValidations>".encode()
        else:
            body = existing[:close] + b"".join(add) + existing[close:]
        start_tag = self._start_tag(body)
        body = _set_attr(start_tag, b"count", str(count).encode(), after=b"disablePrompts") + body[len(start_tag):]
        node.raw = body
        return True


def _is_empty_a1(data: bytes) -> bool:
    """Excel writes <dimension ref="A1"/> for an empty sheet: don't let it widen the new box."""
    return b"<c " not in data and b":c " not in data


# --------------------------------------------------------------------------- public API
def _read_all(xml: bytes | IO[bytes]) -> bytes:
    if isinstance(xml, bytes | bytearray | memoryview):
        return bytes(xml)
    return xml.read()


def patch_sheet(xml: bytes | IO[bytes], edits: SheetEdits, styles: StyleBook, *,
                date1904: bool = False) -> PatchResult:
    """Apply `edits` to a worksheet part and return the new bytes plus what was recorded.

    Rows and cells nobody edits keep their exact bytes.  Styles derived for writes and
    marks are appended to `styles` (save ``styles.to_bytes()`` when ``styles.changed``).
    Raises UnsupportedWorkbook for a cell the patch refuses to change (part of an array
    formula) or a part that is not a worksheet.
    """
    return _Patcher(_read_all(xml), edits, styles, date1904).run()


_LEGACY_RE = re.compile(rb"<(?:[\w.-]+:)?legacyDrawing\s[^>]*?[\w.-]+:id\s*=\s*[\"']([^\"']*)[\"']")


def legacy_drawing_rid(xml: bytes) -> str | None:
    """The r:id of the sheet's <legacyDrawing> (its notes VML), or None."""
    idx = xml.rfind(b"sheetData")
    m = _LEGACY_RE.search(xml, max(idx, 0))
    return m.group(1).decode() if m else None


def read_cell_styles(xml: bytes | IO[bytes], cells: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int | None]:
    """The s index of each (row, col): None when the cell or its s attribute is absent."""
    data = _read_all(xml)
    want: dict[int, set[int]] = {}
    for r, c in cells:
        want.setdefault(r, set()).add(c)
    out: dict[tuple[int, int], int | None] = {(r, c): None for r, cs in want.items() for c in cs}
    m = _ROOT_RE.search(data)
    p = re.escape((m.group(1) + b":") if m and m.group(1) else b"")
    row_re = re.compile(rb"<" + p + rb"row\b(" + _ATTRS + rb")(?:/>|>(.*?)</" + p + rb"row>)", re.S)
    c_re = re.compile(rb"<" + p + rb"c\b(" + _ATTRS + rb")(?:/>|>)", re.S)
    cur = 0
    for rm in row_re.finditer(data):
        r = _R_ATTR.search(rm.group(1))
        cur = int(r.group(1)) if r and r.group(1).isdigit() else cur + 1
        if cur not in want or not rm.group(2):
            continue
        col = 0
        for cm in c_re.finditer(rm.group(2)):
            ra = _R_ATTR.search(cm.group(1))
            col = split_ref(ra.group(1).decode())[1] if ra else col + 1
            if col in want[cur]:
                s = _S_ATTR.search(cm.group(1))
                out[(cur, col)] = int(s.group(1)) if s and s.group(1) else None
    return out


__all__ = ["ERROR_VALUES", "CellMark", "CellRemoval", "CellRestore", "CellWrite", "ColumnWrite", "ListRule",
           "PatchResult",
           "SheetEdits", "WORKSHEET_ORDER", "cell_xml", "col_letter", "excel_serial",
           "legacy_drawing_rid", "patch_sheet", "read_cell_styles", "xml_text"]
