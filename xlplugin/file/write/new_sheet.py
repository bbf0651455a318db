"""The worksheet XML of a sheet the tool makes (ReplaceSheet), written from scratch.

Small by nature (a summary, a findings list), so it is built as one string.
Text is always an inline string, never a formula; formulas carry their cached
value (t="str" for text, t="b", t="e" for Excel errors, plain for numbers), so
readers that do not calculate (pandas, calamine, previews) see the results.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator
from xml.sax.saxutils import escape, quoteattr

from xlplugin.changes import KEEP, PageSetup, ReplaceSheet, SetCell, Style
from xlplugin.file.write.columns import ColumnXml, band, clip_cell_text, excel_serial
from xlplugin.model import CellValue, cell_ref, col_letter

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                          "#GETTING_DATA", "#SPILL!", "#CALC!"})
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
TIME_FORMAT = "hh:mm:ss"

_ESCAPED_LITERAL = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
# \r too: XML reads a raw "\r" back as "\n" (XlsxWriter and Excel write _x000D_)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")

_NEEDS_ESCAPE = re.compile(r"[_\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

StyleFor = Callable[[Style | None], int]


def excel_text(s: str) -> str:
    """Text as SpreadsheetML stores it: a literal `_xHHHH_` is protected and characters
    XML 1.0 cannot hold become `_xHHHH_` escapes (ECMA-376 22.9.2.19 ST_Xstring)."""
    if not _NEEDS_ESCAPE.search(s):
        return s
    s = _ESCAPED_LITERAL.sub(r"_x005F_\1", s)
    return _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", s)


def _xml_text(s: str) -> str:
    return escape(excel_text(s))


def _t_element(s: str) -> str:
    s = clip_cell_text(s)
    space = ' xml:space="preserve"' if s != s.strip() or "\n" in s else ""
    return f"<t{space}>{_xml_text(s)}</t>"


def _num(v: float | int) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def default_style(value: CellValue, style: Style | None) -> Style | None:
    """Dates need a date number format to show as dates; add one when none is given."""
    fmt = None
    if isinstance(value, dt.datetime):
        fmt = DATETIME_FORMAT
    elif isinstance(value, dt.date):
        fmt = DATE_FORMAT
    elif isinstance(value, dt.time):
        fmt = TIME_FORMAT
    if fmt is None or (style is not None and style.number_format):
        return style
    if style is None:
        return Style(number_format=fmt)
    from dataclasses import replace
    return replace(style, number_format=fmt)


def cell_xml(ref: str, value: CellValue, formula: str | None, s: int,
             date1904: bool = False) -> str:
    """One <c> element.  s = cellXfs index (0 = default, omitted)."""
    sattr = f' s="{s}"' if s else ""
    if isinstance(value, float) and not math.isfinite(value):
        value = "#NUM!"
        if formula is None:
            return f'<c r="{ref}"{sattr} t="e"><v>#NUM!</v></c>'
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        value = excel_serial(value, date1904)
    if formula is not None:
        f = f"<f>{escape(_CONTROL.sub('', formula))}</f>"
        if value is None:
            return f'<c r="{ref}"{sattr}>{f}</c>'
        if isinstance(value, bool):
            return f'<c r="{ref}"{sattr} t="b">{f}<v>{int(value)}</v></c>'
        if isinstance(value, (int, float)):
            return f'<c r="{ref}"{sattr}>{f}<v>{_num(value)}</v></c>'
        text = clip_cell_text(str(value))
        t = "e" if text in EXCEL_ERRORS else "str"
        return f'<c r="{ref}"{sattr} t="{t}">{f}<v>{_xml_text(text)}</v></c>'
    if value is None:
        return f'<c r="{ref}"{sattr}/>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{sattr} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{sattr}><v>{_num(value)}</v></c>'
    # Text: always an inline string, whatever it starts with ('=cmd|...' stays text).
    return f'<c r="{ref}"{sattr} t="inlineStr"><is>{_t_element(str(value))}</is></c>'


def column_px(width: float) -> int:
    """Pixel width of a column of `width` characters (Calibri 11: max digit width 7)."""
    if width < 1:
        return int(width * 12 + 0.5)
    return int(width * 7 + 0.5) + 5


def _pane(freeze: tuple[int, int]) -> str:
    row, col = freeze
    xs, ys = col - 1, row - 1
    if xs <= 0 and ys <= 0:
        return ""
    top_left = cell_ref(max(row, 1), max(col, 1))
    if xs > 0 and ys > 0:
        active = "bottomRight"
    elif ys > 0:
        active = "bottomLeft"
    else:
        active = "topRight"
    attrs = (f' xSplit="{xs}"' if xs > 0 else "") + (f' ySplit="{ys}"' if ys > 0 else "")
    return (f'<pane{attrs} topLeftCell="{top_left}" activePane="{active}" state="frozen"/>'
            f'<selection pane="{active}" activeCell="{top_left}" sqref="{top_left}"/>')


def _column_cells(spec: ReplaceSheet, style_for: StyleFor, date1904: bool,
                  rows: dict[int, list[tuple[int, str]]]) -> tuple[list[tuple[int, int, int, int]], list[ColumnXml]]:
    """The spec's value columns: date columns and headers added to `rows` (as (col, <c>
    text)), the others as ColumnXml, made into row text a window at a time; their boxes."""
    boxes = []
    cxs: list[ColumnXml] = []
    for k in spec.columns:
        if not k.values:
            continue
        if any(isinstance(v, dt.date | dt.time) for v in k.values):   # dates need a date format
            for c in k.cells():
                s = style_for(default_style(c.value, c.style))
                rows.setdefault(c.row, []).append((c.col, cell_xml(cell_ref(c.row, c.col), c.value, None, s, date1904)))
        else:
            cxs.append(ColumnXml(k.col, k.first_row, k.values, None, style_for(k.style), None, "", date1904))
        boxes.append((k.first_row, k.col, k.last_row, k.col))
        h = k.head()
        if h is not None:
            s = style_for(default_style(h.value, h.style))
            rows.setdefault(h.row, []).append((h.col, cell_xml(cell_ref(h.row, h.col), h.value, None, s, date1904)))
            boxes.append((h.row, h.col, h.row, h.col))
    cxs.sort(key=lambda cx: cx.col)      # stable: a column's own order kept among equals
    return boxes, cxs


def _row_lines(rows: dict[int, list[tuple[int, str]]], cxs: list[ColumnXml], window: int = 4096) -> Iterator[str]:
    """Each row's <row> element, in row order: its single cells and its column cells
    in column order (a single cell first where both have one)."""
    lo = min((k.first for k in cxs), default=1)
    hi = max((k.last for k in cxs), default=0)
    left = min((k.col for k in cxs), default=0)
    numbers = sorted(set(rows).union(range(lo, hi + 1))) if cxs else sorted(rows)
    w0, texts = 0, []
    for r in numbers:
        text = ""
        if lo <= r <= hi:
            if not w0 <= r < w0 + len(texts):
                w0 = r
                texts = band(cxs, r, min(r + window, hi + 1))
            text = texts[r - w0]
        line = rows.get(r)
        if line is None:
            if text:
                yield f'<row r="{r}">{text}</row>'
            continue
        if len(line) > 1:
            line.sort(key=lambda t: t[0])
        if text and line[-1][0] >= left:    # single cells among the columns: merge them
            line = line + [(k.col, f'<c r="{k.letter}{r}"{k.sattr}{k.body(r - k.first)}') for k in cxs
                           if k.first <= r <= k.last and k.written(r - k.first)]
            line.sort(key=lambda t: t[0])
            text = ""
        yield f'<row r="{r}">{"".join(x for _, x in line)}{text}</row>'


def _value_at(spec: ReplaceSheet, cells: dict[tuple[int, int], SetCell], row: int, col: int) -> CellValue:
    c = cells.get((row, col))
    if c is not None:
        return c.value
    for k in spec.columns:
        if k.col == col and k.first_row <= row <= k.last_row:
            v = k.values[row - k.first_row]
            return None if v is KEEP else v   # type: ignore[return-value]
    return None


def sheet_xml(spec: ReplaceSheet, style_for: StyleFor, *, date1904: bool = False,
              drawing_rid: str | None = None, hidden_state: bool = False) -> bytes:
    """Worksheet part for a ReplaceSheet.  style_for maps a Style delta (over the
    default format) to a cellXfs index; it is called once per styled cell."""
    cells: dict[tuple[int, int], SetCell] = {}
    for c in spec.cells:
        cells[(c.row, c.col)] = c                      # a later change wins
    rows: dict[int, list[tuple[int, str]]] = {}
    styles: dict[tuple[type, Style | None], int] = {}
    for (r, col), c in cells.items():
        key = (type(c.value), c.style)
        s = styles.get(key)
        if s is None:
            s = styles[key] = style_for(default_style(c.value, c.style))
        rows.setdefault(r, []).append((col, cell_xml(cell_ref(r, col), c.value, c.formula, s, date1904)))
    blocks, cxs = _column_cells(spec, style_for, date1904, rows)

    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">']
    page = spec.page
    fit = page is not None and page.fit_to_width
    if spec.tab_color or fit:
        tab = f'<tabColor rgb="FF{spec.tab_color.lstrip("#").upper()[-6:]}"/>' if spec.tab_color else ""
        fit_xml = '<pageSetUpPr fitToPage="1"/>' if fit else ""
        out.append(f"<sheetPr>{tab}{fit_xml}</sheetPr>")
    if cells or blocks:
        boxes = [(r, c, r, c) for r, c in cells] + blocks
        r1 = min(b[0] for b in boxes)
        r2 = max(b[2] for b in boxes)
        c1 = min(b[1] for b in boxes)
        c2 = max(b[3] for b in boxes)
        dim = cell_ref(r1, c1) if (r1, c1) == (r2, c2) else f"{cell_ref(r1, c1)}:{cell_ref(r2, c2)}"
    else:
        dim = "A1"
    out.append(f'<dimension ref="{dim}"/>')
    pane = _pane(spec.freeze) if spec.freeze else ""
    out.append(f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>')
    out.append('<sheetFormatPr defaultRowHeight="15"/>')
    if spec.col_widths:
        widths = dict(spec.col_widths)
        out.append("<cols>")
        for col in sorted(widths):
            out.append(f'<col min="{col}" max="{col}" width="{widths[col]:g}" customWidth="1"/>')
        out.append("</cols>")
    lines = list(_row_lines(rows, cxs))
    if lines:
        out += ["<sheetData>", *lines, "</sheetData>"]
    else:
        out.append("<sheetData/>")
    if spec.hyperlinks:
        out.append("<hyperlinks>")
        for h in spec.hyperlinks:
            ref = cell_ref(h.row, h.col)
            v = _value_at(spec, cells, h.row, h.col)
            display = str(v) if v is not None else ""
            attrs = f' ref="{ref}" location={_attr_value(h.location)}'
            if display:
                attrs += f" display={_attr_value(display)}"
            if h.tooltip:
                attrs += f" tooltip={_attr_value(h.tooltip)}"
            out.append(f"<hyperlink{attrs}/>")
        out.append("</hyperlinks>")
    out.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    if page is not None:
        out.append(_page_xml(page))
    if drawing_rid:
        out.append(f'<drawing r:id="{drawing_rid}"/>')
    out.append("</worksheet>")
    return "".join(out).encode("utf-8")


_PLAIN_ATTR = re.compile(r'[^&<>"\x00-\x1f_\ufffe\uffff]*')


def _attr_value(s: str) -> str:
    """quoteattr(excel_text(s)); a sheet of findings has a link per row, most plain."""
    return f'"{s}"' if _PLAIN_ATTR.fullmatch(s) else quoteattr(excel_text(s))


def _page_xml(page: PageSetup) -> str:
    """pageSetup (+ rowBreaks), in the order CT_Worksheet wants them (before drawing)."""
    attrs = ' orientation="landscape"' if page.landscape else ' orientation="portrait"'
    if page.fit_to_width:
        attrs += ' fitToWidth="1" fitToHeight="0"'
    out = f"<pageSetup{attrs}/>"
    if page.row_breaks:
        n = len(page.row_breaks)
        brks = "".join(f'<brk id="{r - 1}" max="16383" man="1"/>' for r in page.row_breaks)
        out += f'<rowBreaks count="{n}" manualBreakCount="{n}">{brks}</rowBreaks>'
    return out


def widths_px(spec: ReplaceSheet, default_width: float = 8.43) -> Callable[[int], int]:
    """Column pixel widths of the new sheet, for chart anchors."""
    widths = dict(spec.col_widths)
    return lambda col: column_px(widths.get(col, default_width))


__all__ = ["cell_xml", "sheet_xml", "excel_serial", "excel_text", "column_px", "col_letter"]
