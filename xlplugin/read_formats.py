"""The plan's own number format for amounts, read from the file (the file source).

The Summary and the metric columns show amounts the way the plan does ("$8,000", not
"8,000.00"): the format of the first Budget / Actual / Revenue cells that have one.
Only a few cells near the top are looked at, with a regular expression over the sheet
XML, so a 100k-row sheet costs no parse.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
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

    try:
        xml = pkg.read(pkg.sheet(plan.sheet).part)
        styles = _styles(pkg)
    except Exception:   # a format is a nicety: never fail a run over it
        return None
    if styles is None:
        return None
    fields = plan.fields
    for row in plan.data_rows[:LOOK_AT_ROWS]:
        for f in AMOUNT_FIELDS:
            if f not in fields:
                continue
            s = _style_index(xml, cell_ref(row, fields[f].col))
            code = styles.number_format(s) if s else None
            if code and code.lower() != "general" and "%" not in code:
                return code
    return None


def _style_index(xml: bytes, ref: str) -> int | None:
    m = re.search(rb'<(?:\w+:)?c\b[^>]*?\br="' + ref.encode() + rb'"[^>]*>', xml)
    if m is None:
        return None
    s = re.search(rb'\bs="(\d+)"', m.group(0))
    return int(s.group(1)) if s else None


def _styles(pkg):
    from xlplugin.apply_file.styles import StyleBook

    part = next((r.target for r in pkg.rels(pkg.workbook_part) if r.type.endswith(NS_STYLES)), None)
    return StyleBook(pkg.read(part)) if part and pkg.has(part) else None
