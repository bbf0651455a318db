"""The plan's own look, read from the file (the file source): the number format of its
amounts and the style of its header row.

The Summary and the metric columns show amounts the way the plan does ("$8,000", not
"8,000.00"): the format of the first Budget / Actual / Revenue cells that have one; the
columns xlplugin adds get headers styled like the plan's own (bold, fill, font colour,
border).  Only a few cells near the top are looked at, with a regular expression over
the head of the sheet XML (inflated up to the last row looked at), so a 100k-row sheet
costs neither a parse nor a read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from xlplugin.changes import Style
    from xlplugin.model import PlanTable

AMOUNT_FIELDS = ("budget", "actual", "revenue")
LOOK_AT_ROWS = 5
NS_STYLES = "/styles"


def money_format(wb: object, plan: PlanTable) -> str | None:
    """The format code of the plan's amount cells, or None (General, unknown, or a
    source that is not a file)."""
    pkg = getattr(wb, "package", None)
    if pkg is None:
        return None
    from xlplugin.model import cell_ref

    fields = plan.fields
    rows = plan.data_rows[:LOOK_AT_ROWS]
    try:
        part = pkg.sheet(plan.sheet).part
        xml = _sheet_head(pkg, part, max(rows, default=plan.header_row))
        styles = None
        for row in rows:
            for f in AMOUNT_FIELDS:
                if f not in fields:
                    continue
                s = _cell_style(xml, cell_ref(row, fields[f].col))
                if not s:
                    continue
                styles = styles or _styles(pkg)
                if styles is None:
                    return None
                code = styles.number_format(s)
                if code and code.lower() != "general" and "%" not in code:
                    return code
    except Exception:   # a format is a nicety: never fail a run over it
        return None
    return None


def header_style(wb: object, plan: PlanTable) -> Style | None:
    """The plan's header look as a style delta (from its last header cell), or None."""
    pkg = getattr(wb, "package", None)
    if pkg is None:
        return None
    from xlplugin.changes import Style
    from xlplugin.model import cell_ref

    try:
        part = pkg.sheet(plan.sheet).part
        # the user's last header cell: on a re-run the plan's columns include the tool's,
        # whose look must not feed back into itself (run twice == run once)
        tool = set(plan.tool_cols.values())
        last = max((c for c in range(plan.first_col, plan.last_col + 1) if c not in tool),
                   default=plan.last_col)
        xf = _cell_style(_sheet_head(pkg, part, plan.header_row), cell_ref(plan.header_row, last))
        if not xf:
            return None
        styles = _styles(pkg)
        if styles is None:
            return None
        font, fill, border = _parts(styles, xf)
    except Exception:   # a nicety: never fail a run over it
        return None
    return Style(bold=font.get("bold"), font_color=font.get("color"), fill=fill,
                 border_bottom=border or None)


_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"')


def _sheet_head(pkg, part: str, last_row: int) -> bytes:
    """The sheet's XML up to the end of row `last_row`: the few rows looked at sit near the
    top, so a 100k-row sheet is not inflated whole (twice) for them."""
    buf = bytearray()
    with pkg.zf.open(part) as fh:
        while chunk := fh.read(1 << 16):
            start = max(0, len(buf) - 256)   # a row tag may straddle two chunks
            buf += chunk
            for m in _ROW_NUMBER.finditer(buf, start):
                if int(m.group(1)) > last_row:
                    return bytes(buf[:m.start()])
    return bytes(buf)


def _cell_style(head: bytes, ref: str) -> int | None:
    """The style index of cell `ref` (rows are in ascending order in SpreadsheetML, so a
    cell of a row the head reaches is in the head)."""
    m = re.search(rb'<(?:\w+:)?c\b[^>]*?\br="' + ref.encode() + rb'"[^>]*>', head)
    if m is None:
        return None
    s = re.search(rb'\bs="(\d+)"', m.group(0))
    return int(s.group(1)) if s else None


def _parts(styles, xf: int) -> tuple[dict, str | None, bool]:
    """(font {bold, color}, solid fill RGB, has a bottom border) of a cellXfs entry."""
    q = styles._q
    entry = styles._items("cellXfs", "xf")[xf]
    fonts, borders = styles._items("fonts", "font"), styles._items("borders", "border")
    font: dict = {}
    f = fonts[int(entry.get("fontId", "0"))] if fonts else None
    if f is not None:
        b = f.find(q("b"))
        font["bold"] = b is not None and b.get("val", "1") not in ("0", "false")
        c = f.find(q("color"))
        if c is not None and c.get("rgb"):
            font["color"] = c.get("rgb")[-6:]
    fill = styles.fill_rgb(xf)
    bd = borders[int(entry.get("borderId", "0"))] if borders else None
    bottom = bd is not None and bd.find(q("bottom")) is not None and bool(bd.find(q("bottom")).get("style"))
    return font, fill[-6:] if fill else None, bottom


def _styles(pkg):
    from xlplugin.file.write.styles import StyleBook

    part = next((r.target for r in pkg.rels(pkg.workbook_part) if r.type.endswith(NS_STYLES)), None)
    return StyleBook(pkg.read(part)) if part and pkg.has(part) else None
