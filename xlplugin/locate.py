"""Find the plan in a workbook: the sheet, the header row, what each column means.

Order: the sheet the user named; else an Excel Table whose header has known columns;
else a sheet named like "Plan"; else the first sheet with a plan-like header row in
its first 20 rows.  Header texts are matched against `templates/columns.toml`
(extended by the config's columns file) ignoring case, spacing, punctuation, currency
and units in parentheses.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from xlplugin import model
from xlplugin.config import Config
from xlplugin.errors import PlanNotFound, UnreadableWorkbook, XlpluginError
from xlplugin.read import WorkbookSource as Workbook
from xlplugin.read import as_text, parse_range, parse_sqref, split_sheet_ref

HEADER_SCAN_ROWS = 20      # a header row must sit in the first rows of the used area
BLANK_RUN_END = 5          # this many blank rows in a row end a plan that is not a Table
# Fields whose allowed values a list validation (dropdown) in the workbook declares.
LIST_FIELDS = ("channel", "status", "stage", "category", "owner", "quarter", "objective", "kpi")

_CURRENCY = re.compile(r"[$€£¥₹₩₽¢]")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_UNIT_TOKENS = {"usd", "eur", "gbp", "jpy", "cad", "aud", "chf", "inr", "nzd", "sek", "k", "000s",
                "in", "amount"}
_TOTAL = re.compile(r"^(grand ?total|sub-? ?total|totals?|sum)\b", re.I)

# Synonym table: normalised text -> (field, rank, synonym as written, generic).
# Lower rank wins a field; a generic synonym ("Name", "Item") is half evidence of a plan.
Synonyms = dict[str, tuple[str, int, str, bool]]


def normalize_header(text: object) -> str:
    """'Budget (USD)' -> 'budget', ' Start-Date ' -> 'startdate', 'ROI %' -> 'roipct'."""
    s = unicodedata.normalize("NFKC", str(text)).lower().replace("\n", " ")
    s = _BRACKETS.sub(" ", s)
    s = _CURRENCY.sub(" ", s).replace("%", " pct ").replace("#", " no ").replace("&", " and ")
    tokens = [t for t in _NON_ALNUM.split(s) if t]
    # Units and currency codes at either end: "Budget USD", "USD Budget", "Spend in k".
    while len(tokens) > 1 and tokens[-1] in _UNIT_TOKENS:
        tokens.pop()
    while len(tokens) > 1 and tokens[0] in _UNIT_TOKENS:
        tokens.pop(0)
    return "".join(tokens)


def _read_columns_file(data: dict, source: str) -> list[tuple[str, list[str]]]:
    table = data.get("columns", {k: v for k, v in data.items() if k != "generic"})
    out = []
    for fld, syns in table.items():
        if fld not in model.FIELDS:
            raise XlpluginError(f"unknown field {fld!r} (known: {', '.join(model.FIELDS)})",
                                file=source)
        if isinstance(syns, str):
            syns = [syns]
        if not isinstance(syns, list) or not all(isinstance(x, str) for x in syns):
            raise XlpluginError(f"{fld} must be a list of header texts", file=source)
        out.append((fld, syns))
    return out


def _generic(data: dict) -> set[str]:
    return {normalize_header(h) for h in data.get("generic", {}).get("headers", [])}


@lru_cache(maxsize=1)
def _default_columns() -> tuple[tuple[tuple[str, tuple[str, ...]], ...], frozenset[str]]:
    text = resources.files("xlplugin.templates").joinpath("columns.toml").read_text("utf-8")
    data = tomllib.loads(text)
    pairs = _read_columns_file(data, "columns.toml")
    return tuple((f, tuple(s)) for f, s in pairs), frozenset(_generic(data))


def load_synonyms(extra: str | Path | None = None) -> Synonyms:
    """The shipped synonyms, with `extra` (same TOML layout) tried first."""
    groups: list[tuple[str, list[str]]] = []
    default_groups, generic = _default_columns()
    generic = set(generic)
    if extra is not None:
        path = Path(extra)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise XlpluginError(f"cannot read columns file ({e.strerror or e})", file=str(path)) from None
        except tomllib.TOMLDecodeError as e:
            raise XlpluginError(f"invalid TOML ({e})", file=str(path)) from None
        groups += _read_columns_file(data, str(path))
        generic |= _generic(data)
    groups += [(f, list(s)) for f, s in default_groups]
    out: Synonyms = {}
    rank = 0
    for fld, syns in groups:
        for syn in syns:
            key = normalize_header(syn)
            if key and key not in out:
                out[key] = (fld, rank, syn, key in generic)
            rank += 1
    # The canonical field names match themselves ("stage_basis" -> "stagebasis").
    for fld in model.FIELDS:
        key = normalize_header(fld.replace("_", " "))
        out.setdefault(key, (fld, rank, fld, key in generic))
    return out


# --- header matching -------------------------------------------------------------------

@dataclass
class _Header:
    """One candidate header: a row (or two rows) of a sheet and what its columns mean."""

    sheet: str
    header_row: int
    columns: list[model.Column]
    first_col: int
    last_col: int
    top_row: int = 0                     # first header row when the header spans two rows
    generic: frozenset[int] = frozenset()  # columns matched only by a generic synonym

    @property
    def fields(self) -> dict[str, model.Column]:
        return {c.field: c for c in self.columns if c.field}

    @property
    def score(self) -> float:
        """Evidence of a plan: 1 per field matched, 0.5 when the header is generic."""
        return sum(0.5 if c.col in self.generic else 1.0 for c in self.fields.values())

    @property
    def key(self) -> tuple[bool, float, int]:
        # On a tie the tighter header wins (a title merged across row 2 must not widen row 3).
        return ("activity" in self.fields, self.score, -sum(1 for c in self.columns if not c.field))

    def strict(self) -> bool:
        """An activity-like column and two more known columns."""
        return "activity" in self.fields and self.score >= 3

    def relaxed(self) -> bool:
        """Enough for a Table, a sheet named like a plan, or the sheet the user named."""
        return ("activity" in self.fields and self.score >= 2) or self.score >= 3


def _assign(columns: list[tuple[int, str, list[str]]], syn: Synonyms,
            tool: set[int]) -> tuple[list[model.Column], frozenset[int]]:
    """Columns (col, shown header, texts to try) -> Columns with fields (best claim per
    field), and the columns matched only by a generic synonym."""
    claims: dict[str, tuple[int, int]] = {}
    found: dict[int, tuple[str, str, bool]] = {}
    for col, _shown, texts in columns:
        if col in tool:
            continue
        for t in texts:
            hit = syn.get(normalize_header(t))
            if hit:
                fld, rank, synonym, generic = hit
                found[col] = (fld, synonym, generic)
                if fld not in claims or (rank, col) < claims[fld]:
                    claims[fld] = (rank, col)
                break
    out = []
    generic_cols = set()
    for col, shown, _texts in columns:
        fld, synonym, generic = found.get(col, (None, "", False))
        if fld is not None and claims[fld][1] != col:
            fld = None  # another column is the better match for this field
        if fld is not None and generic:
            generic_cols.add(col)
        out.append(model.Column(header=shown, col=col, field=fld, matched=synonym))
    return out, frozenset(generic_cols)


def _text(v: model.CellValue) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v.strip() or None
    return as_text(v)


def _row_headers(grid: model.Grid, row: int) -> dict[int, str]:
    i = row - grid.origin_row
    if i < 0 or i >= len(grid.cells):
        return {}
    out = {}
    for j, v in enumerate(grid.cells[i]):
        t = _text(v)
        if t is not None:
            out[grid.origin_col + j] = t
    return out


def _blocks(cols: list[int]) -> list[list[int]]:
    """Split header columns where two or more empty columns separate them."""
    blocks: list[list[int]] = []
    for c in sorted(cols):
        if blocks and c - blocks[-1][-1] <= 2:
            blocks[-1].append(c)
        else:
            blocks.append([c])
    return blocks


def _candidates_at(grid: model.Grid, row: int, syn: Synonyms, tool: set[int]) -> list[_Header]:
    upper = _row_headers(grid, row)
    if not upper:
        return []
    out = []
    # Single-row header.
    out += _build(grid.name, row, {c: [t] for c, t in upper.items()}, upper, syn, tool)
    # Two-row header: a cell merged across columns in this row with sub-headers under it
    # ("Spend" over "Planned" | "Actual"); other columns' texts come from either row.
    wide = [m for m in grid.merged if m[0] == row and m[3] > m[1]]
    if wide:
        lower = _row_headers(grid, row + 1)
        if any(any(c in lower for c in range(m[1], m[3] + 1)) for m in wide):
            filled = dict(upper)
            for _r1, c1, _r2, c2 in wide:
                if c1 in upper:
                    for c in range(c1, c2 + 1):
                        filled[c] = upper[c1]
            texts: dict[int, list[str]] = {}
            shown: dict[int, str] = {}
            for c in sorted(set(filled) | set(lower)):
                up, lo = filled.get(c), lower.get(c)
                texts[c] = [t for t in (lo, f"{up} {lo}" if up and lo else None, up) if t]
                shown[c] = lo or up or ""
            out += _build(grid.name, row + 1, texts, shown, syn, tool, top_row=row)
    return out


def _build(sheet: str, row: int, texts: dict[int, list[str]], shown: dict[int, str],
           syn: Synonyms, tool: set[int], top_row: int = 0) -> list[_Header]:
    out = []
    for block in _blocks(list(texts)):
        c1, c2 = block[0], block[-1]
        cols = [(c, shown.get(c, ""), texts.get(c, [])) for c in range(c1, c2 + 1)]
        columns, generic = _assign(cols, syn, tool)
        out.append(_Header(sheet, row, columns, c1, c2, top_row or row, generic))
    return out


def _best_header(wb: Workbook, sheet: str, syn: Synonyms) -> _Header | None:
    grid = wb.grid(sheet)
    boxes = _tool_boxes(wb, sheet)
    best: _Header | None = None
    for row in range(grid.origin_row, min(grid.max_row, grid.origin_row + HEADER_SCAN_ROWS - 1) + 1):
        # a two-row header's tool columns sit in its lower row
        tool = _tool_cols(boxes, row) | _tool_cols(boxes, row + 1)
        for cand in _candidates_at(grid, row, syn, tool):
            if best is None or cand.key > best.key:
                best = cand
    return best


# --- the plan area -----------------------------------------------------------------------

def _is_blank_row(line: list[model.CellValue], j1: int, j2: int) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in line[j1:j2])


def _is_totals_row(line: list[model.CellValue], j1: int, j2: int, text_js: list[int]) -> bool:
    has_total = False
    for j in text_js:
        v = line[j] if 0 <= j < len(line) else None
        if isinstance(v, str) and _TOTAL.match(v.strip()):
            has_total = True
            break
    if not has_total:
        return False
    return any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in line[j1:j2])


def _data_rows(grid: model.Grid, header_row: int, c1: int, c2: int, columns: list[model.Column],
               stop_row: int | None) -> tuple[list[int], int]:
    """Data rows (blank, totals and repeated header rows skipped) and the last data row."""
    j1, j2 = c1 - grid.origin_col, c2 - grid.origin_col + 1
    j1c = max(j1, 0)
    hi = header_row - grid.origin_row
    header = grid.cells[hi][j1c:j2] if 0 <= hi < len(grid.cells) else None
    # Where a "Total" label would be typed: the id/activity columns, else the first columns.
    label_cols = [c.col for c in columns if c.field in ("activity", "id", "category")]
    label_cols += [c.col for c in columns[:2]]
    text_js = sorted({c - grid.origin_col for c in label_cols})
    rows: list[int] = []
    last = header_row
    blank_run = 0
    end = grid.max_row if stop_row is None else min(stop_row, grid.max_row)
    for r in range(header_row + 1, end + 1):
        line = grid.cells[r - grid.origin_row]
        if _is_blank_row(line, j1c, j2):
            blank_run += 1
            if stop_row is None and blank_run >= BLANK_RUN_END:
                break
            continue
        blank_run = 0
        if line[j1c:j2] == header:
            continue  # the header repeated (a printed layout)
        if not _is_totals_row(line, j1c, j2, text_js):
            rows.append(r)
            # The plan area ends at its last data row: a totals row below it is not part of
            # the ranges the summary sums (it would count every amount twice).
            last = r
    return rows, last


def _tool_boxes(wb: Workbook, sheet: str) -> list[tuple[int, int, int, int]]:
    """Ranges of `sheet` listed in the hidden name recording the columns the tool added."""
    ref = wb.defined_names.get(model.TOOL_COLUMNS_NAME) or wb.defined_names.get(
        f"{sheet}!{model.TOOL_COLUMNS_NAME}")
    out = []
    for part in (ref or "").lstrip("=").split(","):
        if not part.strip():
            continue
        s, addr = split_sheet_ref(part)
        box = parse_range(addr)
        if box is not None and (s is None or s == sheet):
            out.append(box)
    return out


def _tool_cols(boxes: list[tuple[int, int, int, int]], row: int) -> set[int]:
    out: set[int] = set()
    for r1, c1, r2, c2 in boxes:
        if r1 <= row <= r2:
            out.update(range(c1, min(c2, 16384) + 1))
    return out


def _list_values(wb: Workbook, sheet: str, columns: list[model.Column], first: int, last: int,
                 config: Config) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    wanted = [c for c in columns if c.field in LIST_FIELDS]
    if wanted:
        validations = [(parse_sqref(sq), vals) for sq, vals in wb.list_validations(sheet)]
        for col in wanted:
            for boxes, vals in validations:
                if any(c1 <= col.col <= c2 and r1 <= last and r2 >= first for r1, c1, r2, c2 in boxes):
                    out[col.field] = list(dict.fromkeys(vals))  # type: ignore[index]
                    break
    for fld, vals in config.allowed.items():
        out.setdefault(fld, list(vals))
    return out


def _finish(wb: Workbook, h: _Header, config: Config, table: model.TableDef | None) -> model.PlanTable:
    grid = wb.grid(h.sheet)
    tool = _tool_cols(_tool_boxes(wb, h.sheet), h.header_row)
    columns = h.columns
    stop = table.last_row if table is not None else None
    rows, last = _data_rows(grid, h.header_row, h.first_col, h.last_col, columns, stop)
    if table is not None:
        if table.totals_rows:
            rows = [r for r in rows if r <= table.last_row - table.totals_rows]
        last = table.last_row
    tool_map = {c.header or model.col_letter(c.col): c.col for c in columns if c.col in tool}
    list_vals = _list_values(wb, h.sheet, columns, h.header_row + 1, max(last, h.header_row + 1), config)
    return model.PlanTable(
        sheet=h.sheet, header_row=h.header_row, first_col=h.first_col, last_col=h.last_col,
        columns=columns, data_rows=rows, last_row=last, table=table, list_values=list_vals,
        tool_cols=tool_map,
    )


def _table_header(wb: Workbook, t: model.TableDef, syn: Synonyms) -> _Header:
    grid = wb.grid(t.sheet)
    row = t.first_row + t.header_rows - 1 if t.header_rows else t.first_row - 1
    tool = _tool_cols(_tool_boxes(wb, t.sheet), row)
    cols = []
    for i, c in enumerate(range(t.first_col, t.last_col + 1)):
        cell = _text(grid.value(row, c)) if t.header_rows else None
        name = cell or (t.columns[i] if i < len(t.columns) else "")
        cols.append((c, name, [name] if name else []))
    columns, generic = _assign(cols, syn, tool)
    return _Header(t.sheet, row, columns, t.first_col, t.last_col, row, generic)


def _named_like_plan(name: str) -> bool:
    low = name.lower()
    return bool(re.search(r"plan(?!t|e[tn])", low))


def _describe(h: _Header) -> str:
    f = h.fields
    names = ", ".join(c.header for c in f.values())
    if "activity" in f:
        return f"{h.sheet!r} row {h.header_row} matched {len(f)} of the needed columns ({names})"
    known = "1 known column" if len(f) == 1 else f"{len(f)} known columns"
    return f"{h.sheet!r} row {h.header_row} has {known} ({names}) but no Activity/Campaign column"


def locate_plan(wb: Workbook, sheet: str | None = None, config: Config | None = None) -> model.PlanTable:
    """Find the plan in `wb`.  Raises PlanNotFound (one line naming the file)."""
    config = config or Config()
    syn = load_synonyms(config.columns_file)
    sheet = sheet or config.sheet
    worksheets = wb.sheet_names
    if sheet is not None:
        if sheet not in worksheets:
            listed = ", ".join(repr(s) for s in worksheets) or "none"
            raise PlanNotFound(f"no worksheet named {sheet!r}; the worksheets are {listed}", file=wb.file)
        tables = [t for t in wb.tables if t.sheet == sheet]
        heads = [(_table_header(wb, t, syn), t) for t in tables]
        heads = [(h, t) for h, t in heads if h.relaxed()]
        if heads:
            h, t = max(heads, key=lambda p: p[0].key)
            return _finish(wb, h, config, t)
        h = _best_header(wb, sheet, syn)
        if h is not None and h.relaxed():
            return _finish(wb, h, config, None)
        closest = f"closest: {_describe(h)}" if h is not None and h.fields else "no known column headers"
        raise PlanNotFound(f"sheet {sheet!r} has no plan header in its first {HEADER_SCAN_ROWS} rows; "
                           f"{closest}", file=wb.file)

    states = getattr(wb, "sheet_states", None) or {}
    visible = [s for s in worksheets if states.get(s, "visible") == "visible"]
    hidden = [s for s in worksheets if s not in visible]
    tables = wb.tables
    best: _Header | None = None
    skipped: list[XlpluginError] = []

    def table_header(t: model.TableDef) -> _Header | None:
        try:
            return _table_header(wb, t, syn)
        except UnreadableWorkbook as e:
            skipped.append(e)
            return None

    def best_header(name: str) -> _Header | None:
        # One unreadable sheet (say, too large) must not hide a plan on another sheet.
        try:
            return _best_header(wb, name, syn)
        except UnreadableWorkbook as e:
            skipped.append(e)
            return None
    # Visible sheets first; a plan on a hidden sheet is found only when no visible one is.
    for group in (visible, hidden):
        # 1. An Excel Table with plan columns (on a sheet named like a plan first).
        heads = [(h, t) for t in tables if t.sheet in group
                 if (h := table_header(t)) is not None and h.relaxed()]
        if heads:
            h, t = min(heads, key=lambda p: (not _named_like_plan(p[1].sheet),
                                             tuple(-k for k in p[0].key), group.index(p[1].sheet)))
            return _finish(wb, h, config, t)
        # 2. A sheet named like "Plan" (a looser header will do).
        for name in (s for s in group if _named_like_plan(s)):
            h = best_header(name)
            if h is not None and h.relaxed():
                return _finish(wb, h, config, None)
            if h is not None and (best is None or h.key > best.key):
                best = h
        # 3. The first sheet with a plan-like header row.
        for name in group:
            h = best_header(name)
            if h is not None and h.strict():
                return _finish(wb, h, config, None)
            if h is not None and (best is None or h.key > best.key):
                best = h
    if skipped and (best is None or not best.fields):
        raise skipped[0]
    closest = f"closest: {_describe(best)}" if best is not None and best.fields else \
        "no sheet has any known column header"
    raise PlanNotFound("no sheet has a plan header (an Activity/Campaign column and 2 more known "
                       f"columns in the first {HEADER_SCAN_ROWS} rows); {closest}", file=wb.file)
