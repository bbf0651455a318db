"""Read a workbook file: cell values via python-calamine, the rest from the package XML.

calamine gives values fast (cached values for formulas, dates as date/datetime in both
the 1900 and 1904 systems).  What it does not give, we read from the package ourselves:
Excel Table definitions, defined names, list validations, hidden rows/columns, merged
ranges and error cells (calamine returns '' for "#DIV/0!").  A worksheet's XML is
streamed once per sheet: its `sheetData` (the bulk of a big sheet) is only searched for
the rare `hidden=` rows and `t="e"` cells; everything around it is parsed as a small
document.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from xlplugin import model
from xlplugin.errors import (
    DamagedWorkbook,
    EncryptedWorkbook,
    UnreadableWorkbook,
    UnsafePackage,
    XlpluginError,
)
from xlplugin.file.ooxml.package import (
    NS_MAIN,
    NS_REL,
    PARSER,
    Package,
    open_package,
    q,
)
from xlplugin.model import WorkbookSource, as_text, parse_range, parse_sqref, split_sheet_ref  # noqa: F401  (their home was here)

NS_X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
NS_XM = "http://schemas.microsoft.com/office/excel/2006/main"
_CHUNK = 1 << 22
MAX_CELLS = 60_000_000     # used-range cells per sheet we agree to hold as Python objects
DENSE_CELLS = 2_000_000    # above this, blank rows share one empty list and rows lose trailing blanks
_EMPTY_ROW: list = []      # shared by every blank row of a sparse grid: never mutate it

_ROW_TAG = re.compile(rb"<(?:[\w.-]+:)?row\b([^>]*)>")
_ERR_CELL = re.compile(rb"<(?:[\w.-]+:)?c\b([^>]*\bt\s*=\s*[\"']e[\"'][^>]*)>(.*?)</(?:[\w.-]+:)?c>", re.S)
_ATTR_R = re.compile(rb"\br\s*=\s*[\"']([^\"']+)[\"']")
_HIDDEN = re.compile(rb"\bhidden\s*=\s*[\"'](?:1|true)[\"']")
_V = re.compile(rb"<(?:[\w.-]+:)?v>([^<]*)<")
_INDIRECT = re.compile(r'^INDIRECT\(\s*"((?:[^"]|"")*)"\s*\)$', re.I)
_STRUCTURED = re.compile(r"^([A-Za-z_\\][\w.]*)\[(?:\[#Data\],\s*\[)?([^\[\]]+)\]?\]$")


@dataclass
class _SheetXml:
    """What we read from one worksheet part besides its values."""

    skeleton: etree._Element | None               # the sheet without its sheetData
    hidden_rows: set[int] = field(default_factory=set)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)


def _calamine_failed(e: BaseException, file: str, what: str) -> UnreadableWorkbook:
    """Turn any calamine failure (its exceptions, or a Rust panic) into one clean line."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    low = text.lower()
    if "password" in low or "encrypt" in low or type(e).__name__ == "PasswordError":
        return EncryptedWorkbook("the workbook is password-protected; remove the password in Excel "
                                 "and save again", file=file)
    if type(e).__name__ in ("ZipError",) or "zip" in low:
        return DamagedWorkbook(f"damaged zip package ({text})", file=file)
    if type(e).__name__ == "XmlError" or "xml" in low:
        return DamagedWorkbook(f"malformed XML while reading {what} ({text})", file=file)
    return UnreadableWorkbook(f"cannot read {what} ({text})", file=file)


def _is_calamine_error(e: BaseException) -> bool:
    import python_calamine as pc

    # pyo3 panics derive from BaseException; match them by name, they are not importable.
    return isinstance(e, pc.CalamineError) or type(e).__name__ == "PanicException"


class Workbook:
    """A workbook file opened for reading.  Use as a context manager or call close()."""

    def __init__(self, path: Path, package: Package, book: Any) -> None:
        self.path = path
        self.package = package
        self._book = book
        self._grids: dict[str, model.Grid] = {}
        self._xml: dict[str, _SheetXml] = {}
        self._tables: list[model.TableDef] | None = None
        self._names: dict[str, str] | None = None
        self.sheet_names: list[str] = [s.name for s in package.sheets if s.kind == "worksheet"]

    # --- basics -----------------------------------------------------------------------
    @property
    def date1904(self) -> bool:
        return self.package.date1904

    @property
    def file(self) -> str:
        return self.path.name

    @property
    def sheet_states(self) -> dict[str, str]:
        return {s.name: s.state for s in self.package.sheets if s.kind == "worksheet"}

    def close(self) -> None:
        try:
            if self._book is not None:
                self._book.close()
        except Exception:  # closing twice or a half-open book: nothing to release
            pass
        self.package.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- values -----------------------------------------------------------------------
    def grid(self, name: str) -> model.Grid:
        """The sheet's values (cached).  KeyError for a name that is not a worksheet."""
        if name in self._grids:
            return self._grids[name]
        if name not in self.sheet_names:
            raise KeyError(name)
        entry = self.package.sheet(name)
        sx = self._sheet_xml(name)
        self._check_size(name, entry.part, sx)
        try:
            sheet = self._book.get_sheet_by_name(name)
            start = sheet.start
            if sheet.height * sheet.width > DENSE_CELLS:
                cells = _sparse_rows(sheet, start[0] if start else 0)
            else:
                # calamine's "" for a blank cell becomes None; a full row (the usual
                # case) is kept as it is, found in C by `in`
                cells = [r if "" not in r else [None if v == "" else v for v in r]
                         for r in sheet.to_python(skip_empty_area=True)]
        except BaseException as e:
            if not _is_calamine_error(e):
                raise
            raise _calamine_failed(e, self.file, f"sheet {name!r}") from None
        origin_row, origin_col = (start[0] + 1, start[1] + 1) if start else (1, 1)
        for (r, c), text in sx.errors.items():
            i, j = r - origin_row, c - origin_col
            if i < 0 or j < 0:
                continue
            while len(cells) <= i:
                cells.append([])
            line = cells[i]
            if line is _EMPTY_ROW:
                line = cells[i] = []
            if len(line) <= j:
                line.extend([None] * (j + 1 - len(line)))
            line[j] = text
        hidden_cols: set[int] = set()
        merged: list[tuple[int, int, int, int]] = []
        if sx.skeleton is not None:
            hidden_cols = _hidden_cols(sx.skeleton)
            merged = _merged(sx.skeleton)
        grid = model.Grid(
            name=name, index=self.sheet_names.index(name), part=entry.part, cells=cells,
            origin_row=origin_row, origin_col=origin_col, hidden_rows=sx.hidden_rows,
            hidden_cols=hidden_cols, merged=merged, state=entry.state,
        )
        self._grids[name] = grid
        return grid

    def _check_size(self, name: str, part: str, sx: _SheetXml) -> None:
        """Refuse a sheet whose values span more than MAX_CELLS before calamine sees it.

        calamine holds a sheet as one dense array: a single stray value at XFD1048576
        makes it allocate billions of cells and abort the process.  The <dimension> Excel
        writes is a cheap upper bound; only when it is huge do we measure the real extent.
        """
        box = None
        if sx.skeleton is not None:
            dim = sx.skeleton.find(f"{{{sx.skeleton.nsmap.get(None, NS_MAIN)}}}dimension")
            if dim is not None:
                box = parse_range(dim.get("ref", ""))
        if box is None or _area(box) <= MAX_CELLS:
            return
        real = _value_extent(self.package, part)
        if real is not None and _area(real) > MAX_CELLS:
            r1, c1, r2, c2 = real
            raise UnreadableWorkbook(
                f"sheet {name!r} has values spread over {model.cell_ref(r1, c1)}:{model.cell_ref(r2, c2)}, "
                "too large to read; delete the stray values far from the data", file=self.file)

    # --- package XML ------------------------------------------------------------------
    def _sheet_xml(self, name: str) -> _SheetXml:
        if name not in self._xml:
            part = self.package.sheet(name).part
            self._xml[name] = _scan_sheet(self.package, part)
        return self._xml[name]

    @property
    def tables(self) -> list[model.TableDef]:
        """Excel Tables of every worksheet, in sheet order."""
        if self._tables is None:
            out = []
            for entry in self.package.sheets:
                if entry.kind != "worksheet":
                    continue
                for rel in self.package.rels(entry.part):
                    # transitional or Strict (purl.oclc.org) relationship type
                    if rel.type.rsplit("/", 1)[-1] != "table" or rel.external \
                            or not self.package.has(rel.target):
                        continue
                    t = _table_def(self.package, rel.target, entry.name)
                    if t is not None:
                        out.append(t)
            self._tables = out
        return self._tables

    @property
    def defined_names(self) -> dict[str, str]:
        """Workbook-level names by name; sheet-level ones as "Sheet!name"."""
        if self._names is None:
            root = self.package.xml(self.package.workbook_part)
            ns = root.nsmap.get(None, NS_MAIN)
            all_sheets = [s.name for s in self.package.sheets]
            names: dict[str, str] = {}
            for dn in root.iter(f"{{{ns}}}definedName"):
                nm = dn.get("name", "")
                local = dn.get("localSheetId")
                if local is not None and local.isdigit() and int(local) < len(all_sheets):
                    nm = f"{all_sheets[int(local)]}!{nm}"
                names[nm] = (dn.text or "").strip()
            self._names = names
        return self._names

    def list_validations(self, sheet: str) -> list[tuple[str, list[str]]]:
        """(sqref, allowed values) for each list validation on `sheet` (x14 ones too).

        Resolved: inline lists ("a,b,c"), ranges (`Lists!$A$2:$A$9`, same-sheet `$A$2:$A$9`),
        Table columns (`Lists[Channel]`), `INDIRECT("...")` of those, and names referring
        to any of them.  Other formulas (OFFSET, computed INDIRECT) are skipped.
        """
        if sheet not in self.sheet_names:
            raise KeyError(sheet)
        root = self._sheet_xml(sheet).skeleton
        if root is None:
            return []
        out: list[tuple[str, list[str]]] = []
        ns = root.nsmap.get(None, NS_MAIN)
        for dv in root.iter(f"{{{ns}}}dataValidation"):
            if dv.get("type") != "list":
                continue
            f1 = dv.find(f"{{{ns}}}formula1")
            values = self._list_values(sheet, f1.text if f1 is not None else None)
            if values is not None:
                out.append((dv.get("sqref", ""), values))
        for dv in root.iter(q("dataValidation", NS_X14)):
            if dv.get("type") != "list":
                continue
            f = dv.find(f"{q('formula1', NS_X14)}/{q('f', NS_XM)}")
            sq = dv.find(q("sqref", NS_XM))
            values = self._list_values(sheet, f.text if f is not None else None)
            if values is not None and sq is not None:
                out.append(((sq.text or "").strip(), values))
        return out

    def _list_values(self, sheet: str, formula: str | None, depth: int = 0) -> list[str] | None:
        if not formula:
            return None
        f = formula.strip().lstrip("=")
        if f.startswith('"') and f.endswith('"') and len(f) >= 2:
            items = [x.strip() for x in f[1:-1].replace('""', '"').split(",")]
            return [x for x in items if x]
        m = _INDIRECT.match(f)
        if m:  # INDIRECT("Lists[Channel]") / INDIRECT("Lists!A2:A9"): a literal target only
            f = m.group(1).replace('""', '"')
        target = self.range_values(f, default_sheet=sheet)
        if target is not None:
            return target
        target = self._table_column_values(f)
        if target is not None:
            return target
        if depth < 2:  # a defined name referring to a range
            ref = self.defined_names.get(f"{sheet}!{f}") or self.defined_names.get(f)
            if ref:
                return self._list_values(sheet, ref, depth + 1)
        return None

    def _table_column_values(self, ref: str) -> list[str] | None:
        """`Lists[Channel]` or `Lists[[#Data],[Channel]]`: the column's data cells."""
        m = _STRUCTURED.match(ref.strip())
        if not m:
            return None
        name, col = m.group(1).lower(), m.group(2).replace("'", "").strip().lower()
        for t in self.tables:
            if t.name.lower() != name:
                continue
            names = [c.lower() for c in t.columns]
            if col not in names:
                return None
            c = t.first_col + names.index(col)
            first, last = t.first_row + t.header_rows, t.last_row - t.totals_rows
            return self.range_values(f"{model.quote_sheet(t.sheet)}!{model.cell_ref(first, c)}:"
                                     f"{model.cell_ref(last, c)}")
        return None

    def range_values(self, ref: str, default_sheet: str | None = None) -> list[str] | None:
        """Non-blank values of a range like `'Lists'!$A$2:$A$9`, as text, row by row.

        None when `ref` is not a plain range (a formula, a name) or its sheet is unknown.
        """
        sheet, addr = split_sheet_ref(ref)
        sheet = sheet or default_sheet
        if sheet is None or sheet not in self.sheet_names:
            return None
        box = parse_range(addr)
        if box is None:
            return None
        g = self.grid(sheet)
        r1, c1, r2, c2 = box
        r1, r2 = max(r1, g.origin_row), min(r2, g.max_row)
        c1, c2 = max(c1, g.origin_col), min(c2, g.max_col)
        out = []
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                v = g.value(r, c)
                if v is None or (isinstance(v, str) and not v.strip()):
                    continue
                out.append(as_text(v))
        return out


def _table_def(pkg: Package, part: str, sheet: str) -> model.TableDef | None:
    try:
        root = pkg.xml(part)
    except XlpluginError:
        return None  # a broken table part should not stop us reading values
    ns = root.nsmap.get(None, NS_MAIN)
    ref = root.get("ref", "")
    box = parse_range(ref)
    if box is None:
        return None
    cols = [c.get("name", "") for c in root.iter(f"{{{ns}}}tableColumn")]
    r1, c1, r2, c2 = box

    def count(attr: str, default: int) -> int:
        v = root.get(attr)
        return int(v) if v and v.isdigit() else default

    return model.TableDef(
        name=root.get("displayName") or root.get("name", ""), sheet=sheet, ref=ref,
        first_row=r1, first_col=c1, last_row=r2, last_col=c2, columns=cols,
        header_rows=count("headerRowCount", 1), totals_rows=count("totalsRowCount", 0), part=part,
    )


def _hidden_cols(root: etree._Element) -> set[int]:
    ns = root.nsmap.get(None, NS_MAIN)
    out: set[int] = set()
    for col in root.iter(f"{{{ns}}}col"):
        if col.get("hidden") in ("1", "true"):
            try:
                lo, hi = int(col.get("min", "0")), int(col.get("max", "0"))
            except ValueError:
                continue
            out.update(range(lo, min(hi, 16384) + 1))
    return out


def _merged(root: etree._Element) -> list[tuple[int, int, int, int]]:
    ns = root.nsmap.get(None, NS_MAIN)
    out = []
    for mc in root.iter(f"{{{ns}}}mergeCell"):
        box = parse_range(mc.get("ref", ""))
        if box:
            out.append(box)
    return out


_MAX_SKELETON = 256 << 20   # bytes of a sheet outside sheetData we agree to parse
_MARK_OPEN, _MARK_CLOSE = b"sheetData", b"sheetData>"


def _scan_sheet(pkg: Package, part: str) -> _SheetXml:
    """Stream a worksheet part once: skeleton (all but sheetData), hidden rows, error cells.

    Linear however the part is shaped: each byte is searched a bounded number of times
    (searches resume where the last one stopped), and the pending buffer inside
    sheetData is cut at the last whole cell or row, or, when a stretch holds neither
    (megabytes of whitespace), at its last tag end, so memory stays bounded too."""
    name = pkg.path.name
    hidden: set[int] = set()
    errors: dict[tuple[int, int], str] = {}
    try:
        fh = pkg.zf.open(part)
    except KeyError:
        raise DamagedWorkbook(f"missing part {part}", file=name) from None
    head = bytearray()
    tail = bytearray()
    try:
        with fh:
            chunks = iter(lambda: fh.read(_CHUNK), b"")
            # 1. the head, up to the end of the <sheetData ...> start tag
            from_ = 0
            while True:
                i = head.find(_MARK_OPEN, from_)
                gt = head.find(b">", i) if i >= 0 else -1
                if gt >= 0:
                    break
                from_ = max(0, len(head) - len(_MARK_OPEN)) if i < 0 else i
                nxt = next(chunks, None)
                if nxt is None:
                    return _SheetXml(_skeleton(bytes(head)))  # no sheetData at all
                head += nxt
                _check_skeleton(len(head), part, name)
            rest = head[gt + 1:]
            self_closing = head[gt - 1:gt] == b"/"
            del head[head.rfind(b"<", 0, i):]
            if self_closing:  # <sheetData/>
                tail = rest
            else:
                # 2. the body: scan whole cells and rows, keep the unfinished rest
                buf = rest
                from_ = 0
                while True:
                    end = buf.find(_MARK_CLOSE, from_)
                    if end >= 0:
                        _scan_body(bytes(buf[:buf.rfind(b"<", 0, end)]), hidden, errors)
                        tail = buf[end + len(_MARK_CLOSE):]
                        break
                    cut = _safe_cut(buf)
                    if cut > 0:
                        _scan_body(bytes(buf[:cut]), hidden, errors)
                        del buf[:cut]
                    from_ = max(0, len(buf) - len(_MARK_CLOSE))
                    nxt = next(chunks, None)
                    if nxt is None:
                        raise DamagedWorkbook(f"malformed XML in {part} (sheetData not closed)", file=name)
                    buf += nxt
            # 3. the tail: everything after </sheetData>
            for nxt in chunks:
                tail += nxt
                _check_skeleton(len(head) + len(tail), part, name)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as e:
        raise DamagedWorkbook(f"damaged part {part} ({e})", file=name) from None
    return _SheetXml(_skeleton(bytes(head + tail)), hidden, errors)


def _safe_cut(buf: bytearray) -> int:
    """Where the sheetData buffer can be cut without splitting a row tag or an error cell:
    after the last `</c>` or `row>`; failing those (a stretch of whitespace or text with
    no cell end), after the last `>`, or everything but a few bytes."""
    cut = max(buf.rfind(b"</c>"), buf.rfind(b"row>"))
    if cut >= 0:
        return cut + 4
    if len(buf) <= _CHUNK:
        return 0
    gt = buf.rfind(b">")
    return gt + 1 if gt >= 0 else len(buf) - len(_MARK_CLOSE)


TEXTS_KEPT = 50_000   # distinct texts a big sheet shares one object for (the first seen)


def _sparse_rows(sheet: Any, first: int) -> list[list[model.CellValue]]:
    """A big sheet row by row: a blank row costs one shared reference instead of a list of
    Nones (a stray value at row 1,048,576), so memory follows the values; and a text that
    repeats (a million rows of a few channels, owners, statuses) is one object, not one
    per cell."""
    cells: list[list[model.CellValue]] = []
    texts: dict[str, str] = {}
    seen = texts.get

    def keep(v: str) -> str:
        if len(texts) < TEXTS_KEPT:
            texts[v] = v
        return v

    for i, row in enumerate(sheet.iter_rows()):
        if i < first:
            continue                    # iter_rows starts at row 1; the grid at its origin
        n = len(row)
        while n and row[n - 1] == "":
            n -= 1
        cells.append([None if v == "" else (seen(v) or keep(v)) if type(v) is str else v
                      for v in row[:n]] if n else _EMPTY_ROW)
    return cells


def _check_skeleton(size: int, part: str, file: str) -> None:
    if size > _MAX_SKELETON:
        raise UnsafePackage(f"part {part} holds more than {_MAX_SKELETON >> 20} MB outside its cells",
                            file=file)


def _skeleton(data: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError:
        return None  # values still come from calamine; validations/merges are lost


def _area(box: tuple[int, int, int, int]) -> int:
    return (box[2] - box[0] + 1) * (box[3] - box[1] + 1)


def _value_extent(pkg: Package, part: str) -> tuple[int, int, int, int] | None:
    """The box holding every cell that has a value (the rare huge-dimension path).

    Streamed with iterparse, clearing each row: linear time, memory of one row."""
    r1 = c1 = 1 << 30
    r2 = c2 = 0
    try:
        with pkg.zf.open(part) as fh:
            for _, el in etree.iterparse(fh, events=("end",), tag=("{*}c", "{*}row"),
                                         resolve_entities=False, no_network=True, load_dtd=False,
                                         huge_tree=True):
                if etree.QName(el).localname == "row":
                    el.clear(keep_tail=False)
                    continue
                ref = el.get("r")
                if not ref or not any(etree.QName(k).localname in ("v", "is") for k in el
                                      if isinstance(k.tag, str)):
                    continue
                try:
                    r, c = model.split_ref(ref)
                except ValueError:
                    continue
                r1, c1, r2, c2 = min(r1, r), min(c1, c), max(r2, r), max(c2, c)
    except etree.XMLSyntaxError as e:
        raise DamagedWorkbook(f"malformed XML in {part} ({e})", file=pkg.path.name) from None
    return (r1, c1, r2, c2) if r2 else None


def _scan_body(seg: bytes, hidden: set[int], errors: dict[tuple[int, int], str]) -> None:
    # Find the rare needles with bytes.find (memchr-fast) and look only around each hit;
    # most rows have neither a hidden flag nor an error cell.
    i = seg.find(b"hidden")
    while i >= 0:
        lt = seg.rfind(b"<", 0, i)
        gt = seg.find(b">", i)
        m = _ROW_TAG.match(seg, lt, gt + 1) if lt >= 0 and gt >= 0 else None
        if m and _HIDDEN.search(m.group(1)):
            r = _ATTR_R.search(m.group(1))
            if r and r.group(1).isdigit():
                hidden.add(int(r.group(1)))
        i = seg.find(b"hidden", max(gt, i + 1))
    for needle in (b'"e"', b"'e'"):
        i = seg.find(needle)
        while i >= 0:
            lt = seg.rfind(b"<", 0, i)
            m = _ERR_CELL.match(seg, lt) if lt >= 0 else None
            if m:
                r = _ATTR_R.search(m.group(1))
                v = _V.search(m.group(2))
                if r and v:
                    try:
                        row, col = model.split_ref(r.group(1).decode())
                        errors[(row, col)] = v.group(1).decode("utf-8", "replace")
                    except ValueError:
                        pass
            i = seg.find(needle, i + 3)


def _without_macrosheets(pkg: Package) -> io.BytesIO:
    """An in-memory copy whose workbook.xml lists worksheets only.

    calamine refuses a whole workbook that holds an Excel 4 macro sheet or dialog sheet
    ("Unrecognized sheet type"); we only need the worksheets' values.
    """
    root = pkg.xml(pkg.workbook_part)
    ns = root.nsmap.get(None, NS_MAIN)
    sheets = root.find(f"{{{ns}}}sheets")
    keep = {s.rid for s in pkg.sheets if s.kind == "worksheet"}
    if sheets is not None:
        for s in list(sheets):
            if isinstance(s.tag, str) and s.get(f"{{{NS_REL}}}id") not in keep:
                sheets.remove(s)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for info in pkg.zf.infolist():
            data = etree.tostring(root) if info.filename == pkg.workbook_part else pkg.zf.read(info)
            z.writestr(info.filename, data)
    out.seek(0)
    return out


def open_workbook(path: str | Path) -> Workbook:
    """Open a workbook for reading.  Raises UnreadableWorkbook (one line, naming the file)."""
    import python_calamine as pc

    path = Path(path)
    pkg = open_package(path)
    try:
        try:
            book = pc.CalamineWorkbook.from_path(str(path))
        except BaseException as e:
            if not _is_calamine_error(e):
                raise
            if "unrecognized sheet" not in str(e).lower():
                raise _calamine_failed(e, path.name, "the workbook") from None
            try:
                book = pc.CalamineWorkbook.from_filelike(_without_macrosheets(pkg))
            except BaseException as e2:
                if not _is_calamine_error(e2):
                    raise
                raise _calamine_failed(e2, path.name, "the workbook") from None
    except BaseException:
        pkg.close()
        raise
    return Workbook(path, pkg, book)
