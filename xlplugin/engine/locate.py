"""Find the plan in a workbook: the sheet, the table, its kind, what each column means.

Every candidate is scored: each Excel Table, and every header-like row in the first
HEADER_SCAN_ROWS rows of every sheet (below titles, KPI tiles, key/value blocks and charts;
one-row, two-row, merged and multi-line headers; several tables side by side or stacked).
A candidate's columns are matched against the header vocabulary (xlplugin/engine/headers.py); its
score is the evidence that it is a table of a known kind (xlplugin/engine/kinds.py).

Choice: the sheet the user named (its best candidate); else, visible sheets before hidden
ones, a sheet named like a plan ("Marketing Plan", "Budget", ...) that holds a plausible
table with data; else the best-scoring plausible candidate anywhere.  `--sheet S` and
auto-detection pick the same table on S, because both take S's best candidate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from operator import itemgetter

from xlplugin import model
from xlplugin.config import Config
from xlplugin.engine.headers import Synonyms, Vocabulary, load_synonyms, normalize_header, vocabulary
from xlplugin.engine.kinds import LABEL_FIELDS, classify, kind_name
from xlplugin.engine.layouts import period_columns, weekday_columns
from xlplugin.engine.parse import PLACEHOLDERS, read_number
from xlplugin.errors import PlanNotFound, UnreadableWorkbook, XlpluginError
from xlplugin.model import WorkbookSource as Workbook
from xlplugin.model import as_text, parse_range, parse_sqref, split_sheet_ref

__all__ = ["Candidate", "HEADER_SCAN_ROWS", "Synonyms", "find_candidates", "load_synonyms",
           "locate_plan", "normalize_header"]

HEADER_SCAN_ROWS = 300     # header rows are looked for in the first rows of the used area
BLANK_RUN_END = 5          # this many blank rows in a row end a plan that is not a Table
MIN_SCORE = 2.5            # field evidence a table needs on a sheet nobody named
ROWS_LOOKAHEAD = 60        # data rows counted when ranking candidates
TOOL_ROOM = 16             # free columns the tool's own columns need beside the plan
# Fields whose allowed values a list validation (dropdown) in the workbook declares.
LIST_FIELDS = ("channel", "status", "stage", "category", "owner", "quarter", "objective", "kpi")

_PLAN_NAME = re.compile(r"plan(?!t|e[tn])|budget|calendar|calendrier|calendario|kalender|presupuesto|"
                        r"orçamento|orcamento|bilancio|begroting|haushalt|media ?plan|campaign|campaña|"
                        r"campanha|kampagne|kế hoạch|ke hoach|ngân sách|ngan sach|lịch|計画|计划|预算|予算|"
                        r"カレンダー|日历|日曆|план|бюджет|календар|кампан", re.I)


# The columns each kind is recognised by, as a "no plan" message names them.
_TELLTALE = {"activity_plan": ("start", "end", "budget"), "budget": ("budget", "actual", "category"),
             "performance_log": ("actual", "impressions", "clicks", "conversions"),
             "content_calendar": ("start", "channel", "status"), "media_plan": ("channel", "placement", "budget")}
_SHOWN = {"start": "Start Date", "end": "End Date", "budget": "Budget", "actual": "Spend",
          "category": "Category", "impressions": "Impressions", "clicks": "Clicks",
          "conversions": "Conversions", "channel": "Channel", "status": "Status", "placement": "Placement"}


def _named_like_plan(name: str) -> bool:
    return bool(_PLAN_NAME.search(name))


# --- candidates ---------------------------------------------------------------------------

@dataclass
class Candidate:
    """One possible table: a header (one or two rows) or an Excel Table, and its columns."""

    sheet: str
    header_row: int
    columns: list[model.Column]
    first_col: int
    last_col: int
    top_row: int = 0                       # first header row when the header spans two rows
    generic: frozenset[int] = frozenset()  # columns matched only by a generic synonym
    loose: frozenset[int] = frozenset()    # columns matched by words inside a longer text
    table: model.TableDef | None = None
    periods: dict[int, str] = field(default_factory=dict)
    weekdays: dict[int, str] = field(default_factory=dict)   # a weekday grid: col -> day name
    rows: int = 0                          # data rows seen below (up to ROWS_LOOKAHEAD)
    named: bool = False                    # on a sheet named like a plan
    stop_row: int | None = None            # the next table's header row - 1
    entities: str = ""                     # a list of people or records ('Lead_ID', 'Client Name' first)

    @property
    def fields(self) -> dict[str, model.Column]:
        return {c.field: c for c in self.columns if c.field}

    @property
    def evidence(self) -> float:
        """1 per field matched, 0.5 for a generic word; months across count as one field."""
        s = sum(0.5 if c.col in self.generic else 1.0 for c in self.fields.values())
        if self.weekdays:  # a calendar grid: as good as date, title and channel columns
            return 3.0 if self.rows >= 2 else 1.0
        return s + (1.5 if self.periods else 0.0)

    @property
    def label(self) -> model.Column | None:
        """The column that names each row (activity, category, ...), if any."""
        f = self.fields
        for name in LABEL_FIELDS:
            if name in f:
                return f[name]
        if "start" in f and self.kind in ("performance_log", "content_calendar"):
            return f["start"]  # a daily log or a calendar is named by its date
        return None

    @property
    def kind(self) -> str:
        if self.weekdays:
            return "content_calendar"
        return classify(self.fields, len(self.periods), self.weak)

    @property
    def weak(self) -> set[str]:
        """Fields matched only by a generic word ('Qty', 'Amount')."""
        return {c.field for c in self.columns if c.field and c.col in self.generic}

    @property
    def score(self) -> float:
        """Ranking: evidence, a row label, data below, an Excel Table's explicit structure (with data)."""
        s = self.evidence + (0.5 if self.label is not None else 0.0)
        s += min(self.rows, ROWS_LOOKAHEAD) / ROWS_LOOKAHEAD + math.log1p(self.rows) * 0.1
        # Columns nobody recognises widen a candidate for nothing (two tables side by side
        # read as one): the tighter table wins.
        s -= 0.2 * sum(1 for c in self.columns
                       if not c.field and c.col not in self.periods and c.col not in self.weekdays)
        # an Excel Table's structure says "a table", but one whose rows are all blank (a
        # template's Table waiting to be filled in) is no better than a header without data
        return s + (1.0 if self.table is not None and self.rows else 0.0)

    @property
    def key(self) -> tuple:
        # On a tie the tighter header wins (a title merged across row 2 must not widen row 3).
        return (round(self.score, 6), -sum(1 for c in self.columns if not c.field), -self.header_row)

    def plausible(self, insisted: bool = False) -> bool:
        """Enough evidence of a table of a known kind.  `insisted`: the user or the sheet's
        name says this is the place, so a thinner header will do."""
        if self.weekdays:
            return self.rows >= 2
        if self.entities or (self.label is None and not self.periods):
            return False
        # Two whole-text matches at least: a row of data ("Customer marketing", "In progress")
        # can hold synonyms as words, a header row holds them as the whole cell.
        if len(self.fields) - len(self.loose) + (2 if self.periods else 0) < 2:
            return False
        return self.evidence >= (2.0 if insisted else MIN_SCORE)

    def describe(self) -> str:
        f = self.fields
        names = ", ".join(c.header.replace("\n", " ") for c in f.values())
        where = f"{self.sheet!r} row {self.header_row}"
        if self.table is not None:
            where += f" (Table {self.table.name})"
        if self.label is None and not self.periods:
            known = "1 known column" if len(f) == 1 else f"{len(f)} known columns"
            return (f"{where} has {known} ({names}) but none names the rows "
                    "(an Activity, Campaign, Item or Category column)")
        return f"{where} matched {len(f)} of the needed columns ({names})"

    def lacks(self) -> str:
        """Why a candidate that is not plausible falls short, as a clause."""
        if self.entities:
            return f"its rows are {self.entities}, not activities, budget lines, campaigns or posts"
        if self.label is None and not self.periods:
            return "no column names each row (an Activity, Campaign, Item or Category column)"
        kind = self.kind
        missing = [_SHOWN[f] for f in _TELLTALE[kind] if f not in self.fields]
        generic = [c.header for c in self.columns if c.col in self.generic and c.field]
        half = (f" ({', '.join(repr(h) for h in generic)} count{'s' if len(generic) == 1 else ''} half: "
                "words other lists use too)") if generic else ""
        name = kind_name(kind)
        return (f"too little for {'an' if name[0] in 'aeiou' else 'a'} {name}{half}: no "
                + " or ".join(missing[:3] or ["second known column"]))


def _text(v: model.CellValue) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v.strip() or None
    return as_text(v)


def _row_cells(grid: model.Grid, row: int) -> dict[int, model.CellValue]:
    i = row - grid.origin_row
    if i < 0 or i >= len(grid.cells):
        return {}
    out = {}
    for j, v in enumerate(grid.cells[i]):
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        out[grid.origin_col + j] = v
    return out


def _blocks(cols: list[int], gap: int = 2) -> list[list[int]]:
    """Split header columns where more than `gap - 1` empty columns separate them."""
    blocks: list[list[int]] = []
    for c in sorted(cols):
        if blocks and c - blocks[-1][-1] <= gap:
            blocks[-1].append(c)
        else:
            blocks.append([c])
    return blocks


def _assign(columns: list[tuple[int, str, list[str]]], syn: Synonyms | Vocabulary,
            tool: set[int]) -> tuple[list[model.Column], frozenset[int]]:
    """Columns (col, shown header, texts to try) -> Columns with fields, and the columns
    matched only by a generic synonym (see _assign_fields)."""
    vocab = syn if isinstance(syn, Vocabulary) else _vocab_for(syn)
    out, generic, _loose = _assign_fields(columns, vocab, tool)
    return out, generic


_VOCABS: dict[int, tuple[Synonyms, Vocabulary]] = {}


def _vocab_for(syn: Synonyms) -> Vocabulary:
    hit = _VOCABS.get(id(syn))
    if hit is None or hit[0] is not syn:
        hit = _VOCABS[id(syn)] = (syn, Vocabulary(syn))
    return hit[1]


def _assign_fields(columns: list[tuple[int, str, list[str]]], vocab: Vocabulary,
                   tool: set[int]) -> tuple[list[model.Column], frozenset[int], frozenset[int]]:
    """Columns (col, shown header, texts to try) -> Columns with fields (the best claim per
    field wins: exact before words, then the better-ranked synonym, then the leftmost), the
    columns matched only by a generic synonym, and those matched by words in a longer text."""
    claims: dict[str, tuple[int, int, int]] = {}
    found: dict[int, tuple[str, str, bool]] = {}
    loose: set[int] = set()
    for col, _shown, texts in columns:
        if col in tool:
            continue
        for t in texts:
            m = vocab.match(t)
            if m:
                found[col] = (m.field, m.synonym, m.generic)
                if m.how == "words":
                    loose.add(col)
                claim = (m.how != "exact", m.rank, col)
                if m.field not in claims or claim < claims[m.field]:
                    claims[m.field] = claim
                break
    out = []
    generic_cols = set()
    for col, shown, _texts in columns:
        fld, synonym, generic = found.get(col, (None, "", False))
        if fld is not None and claims[fld][2] != col:
            fld, synonym = None, ""   # another column is the better match for this field
        if fld is not None and generic:
            generic_cols.add(col)
        out.append(model.Column(header=shown, col=col, field=fld, matched=synonym))
    kept = {c.col for c in out if c.field}
    return out, frozenset(generic_cols), frozenset(loose & kept)


def _header_like(cells: dict[int, model.CellValue], cols: list[int]) -> bool:
    """A header row is mostly text (a KPI tile row alternates labels and numbers)."""
    vals = [cells[c] for c in cols if c in cells]
    if len(vals) < 2:
        return False
    strings = [v for v in vals if isinstance(v, str)]
    if len(strings) < 0.7 * len(vals):        # most data rows: no need to read the texts as numbers
        return False
    texts = sum(read_number(v) is None for v in strings)
    return texts / len(vals) >= 0.7


def _build(sheet: str, row: int, texts: dict[int, list[str]], shown: dict[int, str],
           cells: dict[int, model.CellValue], vocab: Vocabulary, tool: set[int],
           top_row: int = 0) -> list[Candidate]:
    out = []
    blocks = _blocks(list(texts))
    # Tables side by side with one empty column between them are also tried apart.
    finer = [b for blk in blocks for b in _blocks(blk, gap=1)]
    seen = set()
    for block in blocks + finer:
        c1, c2 = block[0], block[-1]
        if (c1, c2) in seen:
            continue
        seen.add((c1, c2))
        periods = period_columns({c: cells[c] for c in block if c in cells})
        if not periods and not _header_like(cells, block):
            continue
        cols = [(c, shown.get(c, ""), texts.get(c, []) if c not in periods else [])
                for c in range(c1, c2 + 1)]
        columns, generic, loose = _assign_fields(cols, vocab, tool)
        if periods:
            columns, generic = _label_for_periods(columns, generic, periods)
        if sum(1 for c in columns if c.field) + bool(periods) < 2:
            continue
        out.append(Candidate(sheet, row, columns, c1, c2, top_row or row, generic, loose, periods=periods))
    return out


def _label_for_periods(columns: list[model.Column], generic: frozenset[int],
                       periods: dict[int, str]) -> tuple[list[model.Column], frozenset[int]]:
    """Months across: the row labels are the first column left of the months that no
    field claimed (often with no header at all)."""
    if any(c.field in LABEL_FIELDS for c in columns):
        return columns, generic
    first = min(periods)
    for c in columns:
        if c.col < first and c.field is None:
            c.field, c.matched = "activity", "(row labels left of the periods)"
            return columns, generic | {c.col}
    return columns, generic


def _candidates_at(grid: model.Grid, row: int, vocab: Vocabulary, tool: set[int]) -> list[Candidate]:
    cells = _row_cells(grid, row)
    if len(cells) < 2:
        return []
    upper = {c: t for c, v in cells.items() if (t := _text(v)) is not None and len(t) <= 80}
    days = weekday_columns(cells)
    if days:  # Mon | Tue | ... | Sun: a calendar grid, one entry per cell
        c1, c2 = min(days), max(days)
        columns = [model.Column(header=upper.get(c, ""), col=c, field=None) for c in range(c1, c2 + 1)]
        return [Candidate(grid.name, row, columns, c1, c2, row, weekdays=days)]
    out = _build(grid.name, row, {c: [t] for c, t in upper.items()}, upper, cells, vocab, tool)
    # Two-row header: a cell merged across columns in this row with sub-headers under it
    # ("Spend" over "Planned" | "Actual"); other columns' texts come from either row.
    wide = [m for m in grid.merged if m[0] == row and m[3] > m[1]]
    # the row below merged over the same columns is a data row laid out like the header, not
    # sub-headers (a post table whose every row merges A:B)
    same = {(m[1], m[3]) for m in grid.merged if m[0] == row + 1}
    wide = [m for m in wide if (m[1], m[3]) not in same]
    if wide:
        lower_cells = _row_cells(grid, row + 1)
        lower = {c: t for c, v in lower_cells.items() if (t := _text(v)) is not None}
        if any(any(c in lower for c in range(m[1], m[3] + 1)) for m in wide):
            filled = dict(upper)
            for _r1, c1, _r2, c2 in wide:
                if c1 in upper:
                    for c in range(c1, c2 + 1):
                        filled[c] = upper[c1]
            texts: dict[int, list[str]] = {}
            shown: dict[int, str] = {}
            both: dict[int, model.CellValue] = {}
            for c in sorted(set(filled) | set(lower)):
                up, lo = filled.get(c), lower.get(c)
                texts[c] = [t for t in (lo, f"{up} {lo}" if up and lo else None, up) if t]
                shown[c] = lo or up or ""
                both[c] = lower_cells.get(c, cells.get(c, shown[c]))
            out += _build(grid.name, row + 1, texts, shown, both, vocab, tool, top_row=row)
    return out


def _sheet_candidates(wb: Workbook, sheet: str, vocab: Vocabulary) -> list[Candidate]:
    grid = wb.grid(sheet)
    boxes = _tool_boxes(wb, sheet)
    out: list[Candidate] = []
    last = min(grid.max_row, grid.origin_row + HEADER_SCAN_ROWS - 1)
    for row in range(grid.origin_row, last + 1):
        # a two-row header's tool columns sit in its lower row
        tool = _tool_cols(boxes, row) | _tool_cols(boxes, row + 1)
        out += _candidates_at(grid, row, vocab, tool)
    tables = [t for t in wb.tables if t.sheet == sheet]
    in_table = {(t.first_row + max(t.header_rows, 1) - 1, t.first_col) for t in tables}
    out = [c for c in out if (c.header_row, c.first_col) not in in_table]
    out += [_table_candidate(wb, t, vocab) for t in tables]
    for c in out:
        _unheaded_labels(grid, c)
        _words_are_no_numbers(grid, c)
        _headed_labels(grid, c)
        c.entities = _entities(c)
    named = _named_like_plan(sheet)
    for c in out:
        c.named = named
        if c.table is None:
            c.stop_row = _stop_row(grid, c, out)
        c.rows = _count_rows(grid, c)
    return out


def _unheaded_labels(grid: model.Grid, c: Candidate) -> None:
    """Names in a column with no header left of the headers (a pivot table's row labels, a
    list of campaigns whose first header cell was left empty): that column names the rows."""
    if c.table is not None or c.weekdays or c.label is not None or c.first_col <= grid.origin_col:
        return
    col = c.first_col - 1
    if _text(grid.value(c.header_row, col)) is not None:
        return
    below = [grid.value(r, col) for r in range(c.header_row + 1, c.header_row + 4)]
    if sum(isinstance(v, str) and bool(v.strip()) for v in below) >= 2:
        c.columns.insert(0, model.Column(header="", col=col, field="activity",
                                         matched="(row labels, no header)"))
        c.first_col = col
        c.generic = c.generic | {col}


def _headed_labels(grid: model.Grid, c: Candidate, sample: int = 10) -> None:
    """A budget's first column of names under a header no synonym claims ('OPERATING EXPENSES',
    'Personnel costs' over 'Wages', 'Commission') beside amounts (Estimated | Actual): a person
    reads it as the line items, so it names the rows (counted as a generic match).  Only with two
    amount columns matched, so a contact or keyword list is not made a budget this way."""
    if c.label is not None or c.periods or c.weekdays or not c.columns:
        return
    first = c.columns[0]
    if first.field is not None or not _text(first.header) or _is_total_label(first.header) \
            or _SUMMARY.search(first.header):
        return                      # 'BUDGET TOTALS', 'Summary': a summary of other tables
    if sum(1 for f in c.fields if f in _AMOUNTS) < 2:
        return
    amounts = [col.col for col in c.columns if col.field in _AMOUNTS]
    named = priced = 0
    for r in range(c.header_row + 1, c.header_row + 1 + sample):
        v = grid.value(r, first.col)
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        if not isinstance(v, str) or read_number(v) is not None:
            return                  # a number or a date names no row: not a list of line items
        named += 1
        priced += any(isinstance(grid.value(r, a), (int, float)) for a in amounts)
    if named >= 2 and priced >= 2:  # names with amounts beside them, not a list of names alone
        first.field, first.matched = "activity", "(row labels: the first column, names)"
        c.generic = c.generic | {first.col}


_SUMMARY = re.compile(r"\b(?:summary|overview|totals?)\b", re.I)
_AMOUNTS = frozenset({"budget", "forecast", "actual", "variance", "revenue"})


def _entities(c: Candidate) -> str:
    """What the rows are when the table's first column keys people or records ('Lead_ID',
    'Client Name', 'Customer ID', 'Order No'): a lead, contact or customer list mentions
    campaigns, channels and dates but plans nothing.  '' for any other table."""
    if not c.columns or c.weekdays:
        return ""
    m = _ENTITY_KEY.fullmatch(normalize_header(c.columns[0].header))
    return f"{m.group(1)}s (first column {c.columns[0].header.strip()!r})" if m else ""


_ENTITY_KEY = re.compile(r"(lead|customer|client|contact|user|member|subscriber|employee|order|transaction|"
                         r"invoice|patient|student|visitor|donor|guest|buyer|prospect)s?"
                         r"(?:id|name|email|emailaddress|no|number|nr|code|key)")


def _words_are_no_numbers(grid: model.Grid, c: Candidate, sample: int = 30) -> None:
    """A header that only holds a number field's word ('Customer Demographics' holds
    'Customers', a conversions synonym) over a column of words ('Young Adults', 'Seniors') is
    not that field: the column is left unmatched, so its words are no number errors.  A header
    that is the synonym itself ('Budget') keeps its field, whatever is typed below it."""
    for col in c.columns:
        if col.col not in c.loose or col.field not in model.NUMBER_FIELDS:
            continue
        below = [grid.value(r, col.col) for r in range(c.header_row + 1, c.header_row + 1 + sample)]
        filled = [v for v in below if v is not None and not (isinstance(v, str) and not v.strip())]
        words = [v for v in filled if isinstance(v, str) and v.strip().casefold() not in PLACEHOLDERS
                 and read_number(v) is None]
        if len(filled) >= 3 and len(words) >= 0.8 * len(filled):
            col.field, col.matched = None, ""
            c.loose = c.loose - {col.col}


def _stop_row(grid: model.Grid, c: Candidate, others: list[Candidate]) -> int | None:
    """A table on the same sheet whose header sits below this one (over the same columns,
    not this header repeated, set apart by a blank or a title row) ends this one."""
    mine = [col.header for col in c.columns]

    def set_apart(o: Candidate) -> bool:
        above = _row_cells(grid, o.top_row - 1)
        return sum(1 for col in above if o.first_col <= col <= o.last_col) <= 1

    below = [o.top_row for o in others
             if o.top_row > c.header_row and o.first_col <= c.last_col and o.last_col >= c.first_col
             and [col.header for col in o.columns] != mine and not _section_of(c, o)
             and o.plausible(insisted=True) and set_apart(o)]
    tables = [o.table.first_row for o in others if o.table is not None and o.table.first_row > c.header_row
              and o.first_col <= c.last_col and o.last_col >= c.first_col]
    stops = below + tables
    return min(stops) - 1 if stops else None


def _section_of(c: Candidate, o: Candidate) -> bool:
    """o's header is c's with another name over the label column ('Site | Estimated | Actual',
    then 'Decorations | Estimated | Actual' below): a section of the same table, not a new one."""
    if (o.first_col, o.last_col) != (c.first_col, c.last_col) or len(o.columns) != len(c.columns) \
            or o.top_row != o.header_row or c.top_row != c.header_row:
        return False
    rest = [(a.header, b.header) for a, b in zip(c.columns[1:], o.columns[1:], strict=True)]
    return sum(1 for a, _b in rest if a) >= 2 and all(a == b for a, b in rest)


def _count_rows(grid: model.Grid, c: Candidate) -> int:
    """Rows with data in them below the header (up to ROWS_LOOKAHEAD), as _data_rows keeps them:
    a name alone in the first column is a heading or a line not filled in yet.  An Excel Table
    counts its filled rows only: a template's Table of blank rows holds no data."""
    j1, j2 = max(c.first_col - grid.origin_col, 0), c.last_col - grid.origin_col + 1

    def data(line: list[model.CellValue]) -> bool:
        seg = line[j1:j2]
        return _row_kind(seg, len(seg) - seg.count(None), j1) == "data"

    if c.table is not None:
        last = min(c.table.last_row - c.table.totals_rows, grid.max_row, c.header_row + ROWS_LOOKAHEAD)
        return sum(not _is_blank_row(line := grid.cells[r - grid.origin_row], j1, j2) and data(line)
                   for r in range(max(c.header_row + 1, grid.origin_row), last + 1))
    n = blank = 0
    end = grid.max_row if c.stop_row is None else min(grid.max_row, c.stop_row)
    for r in range(c.header_row + 1, min(end, c.header_row + ROWS_LOOKAHEAD * 2) + 1):
        line = grid.cells[r - grid.origin_row]
        if _is_blank_row(line, j1, j2):
            blank += 1
            if blank >= BLANK_RUN_END:
                break
            continue
        blank = 0
        n += data(line)
        if n >= ROWS_LOOKAHEAD:
            break
    return n


def _table_candidate(wb: Workbook, t: model.TableDef, vocab: Vocabulary) -> Candidate:
    grid = wb.grid(t.sheet)
    row = t.first_row + t.header_rows - 1 if t.header_rows else t.first_row - 1
    tool = _tool_cols(_tool_boxes(wb, t.sheet), row)
    cols = []
    cells: dict[int, model.CellValue] = {}
    for i, c in enumerate(range(t.first_col, t.last_col + 1)):
        value = grid.value(row, c) if t.header_rows else None
        name = _text(value) or (t.columns[i] if i < len(t.columns) else "")
        cells[c] = value if value is not None else name
        cols.append((c, name, [name] if name else []))
    periods = period_columns(cells)
    cols = [(c, name, [] if c in periods else texts) for c, name, texts in cols]
    columns, generic, loose = _assign_fields(cols, vocab, tool)
    if periods:
        columns, generic = _label_for_periods(columns, generic, periods)
    return Candidate(t.sheet, row, columns, t.first_col, t.last_col, row, generic, loose, table=t,
                     periods=periods)


# --- the plan area -----------------------------------------------------------------------

def _is_blank_row(line: list[model.CellValue], j1: int, j2: int) -> bool:
    seg = line[j1:j2]
    if seg.count(None) == len(seg):   # the usual blank row, counted in C
        return True
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in seg)


def _is_total_label(v: model.CellValue) -> bool:
    """'Total', 'Grand total', 'OVERALL', 'Paid media total', 'Gesamt', '合計', 'Итого'."""
    return type(v) is str and "\n" not in v and len(v) <= 60 and bool(_total_labels([v]))


_TOTAL_START = re.compile(
    r"^[ \t]*(?:grand ?total|sub-? ?total|totals?|sum|overall|total general|gesamt\w*|summe|tong cong|"
    r"tổng cộng|tổng|totale|totaal|合計|合计|总计|總計|小計|小计|итого|всего|общий итог|итог|"
    r"промежуточный итог)\b", re.I | re.M)
_END_WORDS = ("total", "totals", "subtotal", "gesamt", "totale", "totaal")
# A label ending in a totals word, matched on the reversed text: anchored at line starts,
# the regex engine tries one place per line instead of every character (3x faster).
_TOTAL_END_REVERSED = re.compile(r"^[ \t]*(?:" + "|".join(w[::-1] for w in _END_WORDS) + r")\b", re.I | re.M)


def _total_labels(values) -> set[str]:
    """The texts among `values` that label a totals row ('Total', 'Grand total', 'OVERALL',
    'Paid media total', 'Gesamt', '合計'): single lines of at most 60 characters, found in
    two regex passes over all the values joined (a plan of 1M rows has 1M distinct activity
    names: no per-value Python work).  A line of a multi-line text may be returned too; no
    single-line cell that is not a totals label equals one."""
    vals = values if isinstance(values, list) else list(values)
    try:
        text = "\n".join(vals)
    except TypeError:   # blanks, numbers: the texts only
        text = "\n".join([v for v in vals if type(v) is str])
    if not text:
        return set()
    found = _matched_lines(text, _TOTAL_START) | {
        line[::-1] for line in _matched_lines(text[::-1], _TOTAL_END_REVERSED)}
    return {line for line in found if len(line) <= 60}


def _matched_lines(text: str, pattern: re.Pattern) -> set[str]:
    out = set()
    for m in pattern.finditer(text):
        a = text.rfind("\n", 0, m.start()) + 1
        b = text.find("\n", m.end())
        out.add(text[a:b if b >= 0 else len(text)])
    return out


def _row_kind(seg: list[model.CellValue], filled: int, j1: int) -> str:
    """'data' or 'section' (a heading such as "Paid media" alone in the first columns of its
    row inside the table); totals rows are recognised by their label before this."""
    if filled > 1 or len(seg) < 3:
        return "data"
    cells = [(j, v) for j, v in enumerate(seg) if not (v is None or (isinstance(v, str) and not v.strip()))]
    if len(cells) == 1 and isinstance(cells[0][1], str) and cells[0][0] <= 1:
        return "section"
    return "data"


def _data_rows(grid: model.Grid, header_row: int, c1: int, c2: int, columns: list[model.Column],
               stop_row: int | None) -> tuple[list[int], int]:
    """Data rows (blank, totals, section and repeated header rows skipped) and the last data row."""
    j1, j2 = c1 - grid.origin_col, c2 - grid.origin_col + 1
    j1c = max(j1, 0)
    hi = header_row - grid.origin_row
    header = grid.cells[hi][j1c:j2] if 0 <= hi < len(grid.cells) else None
    # sections repeat the header with another name over the first column: two more header texts
    sections = header is not None and j1c == j1 and sum(isinstance(v, str) and bool(v.strip())
                                                        for v in header[1:]) >= 2
    # Where a "Total" label would be typed: the id/activity columns, else the first columns.
    label_cols = [c.col for c in columns if c.field in ("activity", "id", "category")]
    label_cols += [c.col for c in columns[:2]]
    text_js = sorted({c - grid.origin_col for c in label_cols if c >= grid.origin_col})
    end = grid.max_row if stop_row is None else min(stop_row, grid.max_row)
    lines = grid.cells[header_row + 1 - grid.origin_row:end + 1 - grid.origin_row]
    try:   # rows as wide as the label columns (calamine's usual output): picked in C
        labels = [v for j in text_js for v in map(itemgetter(j), lines)]
    except IndexError:
        labels = [line[j] for line in lines for j in text_js if j < len(line)]
    totals = _total_labels(labels)
    rows: list[int] = []
    last = header_row
    blank_run = 0
    for r, line in enumerate(lines, start=header_row + 1):
        seg = line[j1c:j2]
        filled = len(seg) - seg.count(None)
        if filled == 0 or (filled <= 2 and _is_blank_row(line, j1c, j2)):
            blank_run += 1
            if stop_row is None and blank_run >= BLANK_RUN_END:
                break
            continue
        blank_run = 0
        if seg == header:
            continue  # the header repeated (a printed layout)
        if sections and seg[1:] == header[1:] and seg[0] is not None:
            continue  # a section's own header ('Decorations | Estimated | Actual'): not a line item
        if totals and any(j < len(line) and line[j] in totals for j in text_js):
            continue  # a totals row (or an OVERALL heading)
        if _row_kind(seg, filled, j1c) == "data":
            rows.append(r)
            # The plan area ends at its last data row: a totals row below it is not part of
            # the ranges the summary sums (it would count every amount twice).
            last = r
    return rows, last


def _grid_rows(grid: model.Grid, h: Candidate) -> tuple[list[int], int]:
    """A weekday grid's rows: every row with something under the days (weeks of day numbers
    and entries, months stacked below with their own weekday rows) up to a run of blanks."""
    j1, j2 = h.first_col - grid.origin_col, h.last_col - grid.origin_col + 1
    rows: list[int] = []
    blank = 0
    for r in range(h.header_row + 1, grid.max_row + 1):
        line = grid.cells[r - grid.origin_row]
        if _is_blank_row(line, max(j1, 0), j2):
            blank += 1
            if blank >= BLANK_RUN_END:
                break
            continue
        blank = 0
        if weekday_columns({grid.origin_col + j: v for j, v in enumerate(line[max(j1, 0):j2], start=max(j1, 0))}):
            continue  # the weekday row repeated for the next month
        rows.append(r)
    return rows, rows[-1] if rows else h.header_row


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


def _finish(wb: Workbook, h: Candidate, config: Config) -> model.PlanTable:
    grid = wb.grid(h.sheet)
    table = h.table
    tool = _tool_cols(_tool_boxes(wb, h.sheet), h.header_row)
    columns = h.columns
    kind = h.kind
    if kind == "performance_log" and "budget" in h.fields and "actual" not in h.fields:
        # A results log reports what was spent: its "Cost" or "Amount" is the spend.
        columns = [model.Column(c.header, c.col, "actual", c.matched) if c.field == "budget" else c
                   for c in columns]
    stop = table.last_row if table is not None else h.stop_row
    if h.weekdays:
        rows, last = _grid_rows(grid, h)
    else:
        rows, last = _data_rows(grid, h.header_row, h.first_col, h.last_col, columns, stop)
    if table is not None:
        if table.totals_rows:
            rows = [r for r in rows if r <= table.last_row - table.totals_rows]
        last = table.last_row
    tool_map = {c.header or model.col_letter(c.col): c.col for c in columns if c.col in tool}
    kept = set(rows)
    j1, j2 = max(h.first_col - grid.origin_col, 0), h.last_col - grid.origin_col + 1
    first = table.first_row + max(table.header_rows, 1) if table is not None else h.header_row + 1
    between = tuple(r for r in range(max(first, grid.origin_row), min(last, grid.max_row) + 1)
                    if r not in kept and not _is_blank_row(grid.cells[r - grid.origin_row], j1, j2))
    list_vals = _list_values(wb, h.sheet, columns, h.header_row + 1, max(last, h.header_row + 1), config)
    plan = model.PlanTable(
        sheet=h.sheet, header_row=h.header_row, first_col=h.first_col, last_col=h.last_col,
        columns=columns, data_rows=rows, last_row=last, table=table, list_values=list_vals,
        tool_cols=tool_map, kind=kind, periods=dict(h.weekdays or h.periods),
        layout="weekday_grid" if h.weekdays else "across" if h.periods else "rows",
        right_edge=_right_edge(grid, h.top_row, max(last, h.header_row), h.last_col),
        between=() if h.weekdays else between,
    )
    return plan


def _right_edge(grid: model.Grid, r1: int, r2: int, last_col: int) -> int:
    """Where the columns the tool adds may start without covering anything: the last column
    before the first run of TOOL_ROOM free columns right of the plan (rows r1..r2); 0 when
    that run starts right after the plan (the usual case)."""
    j0 = last_col - grid.origin_col + 1
    used: set[int] = set()
    for r in range(max(r1, grid.origin_row), min(r2, grid.max_row) + 1):
        seg = grid.cells[r - grid.origin_row][max(j0, 0):]
        if not seg or seg.count(None) == len(seg):   # nothing beside the plan (counted in C)
            continue
        used.update(grid.origin_col + max(j0, 0) + j for j, v in enumerate(seg)
                    if v is not None and not (isinstance(v, str) and not v.strip()))
    start = last_col + 1
    for col in sorted(used):
        if col - start >= TOOL_ROOM:
            break
        start = max(start, col + 1)
    return 0 if start == last_col + 1 else start - 1


# --- the choice ---------------------------------------------------------------------------

@dataclass
class Choice:
    """The candidate chosen (or None), every candidate considered, best first, and why."""

    chosen: Candidate | None
    ranked: list[Candidate]
    reason: str = ""
    skipped: list[XlpluginError] = field(default_factory=list)

    def runner_up(self) -> Candidate | None:
        """The best candidate that is not the chosen table (and not a piece of it)."""
        c = self.chosen
        for o in self.ranked:
            if c is None or not (o.sheet == c.sheet and c.top_row <= o.header_row <= c.header_row
                                 and o.first_col <= c.last_col and o.last_col >= c.first_col):
                return o
        return None


def _rank(cands: list[Candidate]) -> list[Candidate]:
    return sorted(cands, key=lambda c: c.key, reverse=True)


def find_candidates(wb: Workbook, sheet: str | None = None, config: Config | None = None) -> Choice:
    """Score every candidate table and choose one (see the module docstring)."""
    config = config or Config()
    vocab = vocabulary(str(config.columns_file) if config.columns_file else None)
    sheet = sheet or config.sheet
    worksheets = wb.sheet_names
    if sheet is not None:
        if sheet not in worksheets:
            listed = ", ".join(repr(s) for s in worksheets) or "none"
            raise PlanNotFound(f"no worksheet named {sheet!r}; the worksheets are {listed}", file=wb.file)
        ranked = _rank(_sheet_candidates(wb, sheet, vocab))
        ok = [c for c in ranked if c.plausible(insisted=True)]
        return Choice(ok[0] if ok else None, ranked, "the sheet you named" if ok else "")

    states = getattr(wb, "sheet_states", None) or {}
    visible = [s for s in worksheets if states.get(s, "visible") == "visible"]
    hidden = [s for s in worksheets if s not in visible]
    everything: list[Candidate] = []
    skipped: list[XlpluginError] = []
    for group in (visible, hidden):
        cands: list[Candidate] = []
        for name in group:
            # One unreadable sheet (say, too large) must not hide a plan on another sheet.
            try:
                cands += _sheet_candidates(wb, name, vocab)
            except UnreadableWorkbook as e:
                skipped.append(e)
        ranked = _rank(cands)
        everything += ranked
        named = [c for c in ranked if c.named and c.rows > 0 and c.plausible(insisted=True)]
        if named:
            return Choice(named[0], _rank(everything), "on a sheet named like a plan", skipped)
        ok = [c for c in ranked if c.plausible()]
        if ok:
            why = "the best-scoring table" + (" (no visible sheet has one)" if group is hidden else "")
            return Choice(ok[0], _rank(everything), why, skipped)
    return Choice(None, _rank(everything), "", skipped)


def locate_plan(wb: Workbook, sheet: str | None = None, config: Config | None = None) -> model.PlanTable:
    """Find the plan in `wb`.  Raises PlanNotFound (one line naming the file)."""
    config = config or Config()
    choice = find_candidates(wb, sheet, config)
    if choice.chosen is not None:
        return _finish(wb, choice.chosen, config)
    named = sheet or config.sheet
    best = choice.ranked[0] if choice.ranked else None
    if named is not None:
        closest = f"closest: {best.describe()}; {best.lacks()}" if best is not None \
            else "no known column headers"
        raise PlanNotFound(f"sheet {named!r} has no table xlplugin understands in its first "
                           f"{HEADER_SCAN_ROWS} rows; {closest}", file=wb.file)
    if choice.skipped and best is None:
        raise choice.skipped[0]
    closest = f"closest: {best.describe()}; {best.lacks()}" if best is not None else \
        "no sheet has any known column header"
    raise PlanNotFound("no sheet has a plan header (a row of known column headers naming an activity, "
                       f"budget line, campaign, post or placement in the first {HEADER_SCAN_ROWS} rows); "
                       f"{closest}", file=wb.file)

