"""Excel Table parts (xl/tables/tableN.xml): add columns at the right, remove them again.

The table's `ref` and its autoFilter's `ref` grow by one column per added
tableColumn; the header and data cells come separately as SetCell changes.  Edits
are made on the lxml tree in place, so everything else in the part survives.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from xlplugin.changes import TableColumn
from xlplugin.file.ooxml.package import NS_MAIN
from xlplugin.model import cell_ref, split_ref

_T = f"{{{NS_MAIN}}}"


def _split_range(ref: str) -> tuple[int, int, int, int]:
    a, _, b = ref.partition(":")
    r1, c1 = split_ref(a)
    r2, c2 = split_ref(b or a)
    return r1, c1, r2, c2


def _range(r1: int, c1: int, r2: int, c2: int) -> str:
    return f"{cell_ref(r1, c1)}:{cell_ref(r2, c2)}"


def _columns_el(root: etree._Element) -> etree._Element:
    cols = root.find(f"{_T}tableColumns")
    if cols is None:
        raise ValueError("table part has no tableColumns")
    return cols


def table_name(root: etree._Element) -> str:
    return root.get("displayName") or root.get("name") or ""


def column_names(root: etree._Element) -> list[str]:
    return [c.get("name", "") for c in _columns_el(root) if isinstance(c.tag, str)]


def _resize(root: etree._Element, delta: int) -> None:
    r1, c1, r2, c2 = _split_range(root.get("ref", "A1"))
    root.set("ref", _range(r1, c1, r2, c2 + delta))
    af = root.find(f"{_T}autoFilter")
    if af is not None and af.get("ref"):
        a1, b1, a2, b2 = _split_range(af.get("ref"))
        af.set("ref", _range(a1, b1, a2, b2 + delta))


def extend_table(root: etree._Element, columns: Sequence[TableColumn]) -> list[str]:
    """Add the columns not already present (by name, case-insensitive) at the right.

    Returns the names added.  A present column's formula is updated in place."""
    cols = _columns_el(root)
    existing = {c.get("name", "").lower(): c for c in cols if isinstance(c.tag, str)}
    next_id = max((int(c.get("id", "0")) for c in existing.values()), default=0) + 1
    added = []
    for col in columns:
        el = existing.get(col.name.lower())
        if el is None:
            el = etree.SubElement(cols, f"{_T}tableColumn", id=str(next_id), name=col.name)
            next_id += 1
            existing[col.name.lower()] = el
            added.append(col.name)
        _set_formula(el, col.formula)
    if added:
        cols.set("count", str(len(existing)))
        _resize(root, len(added))
    return added


def _set_formula(el: etree._Element, formula: str | None) -> None:
    f = el.find(f"{_T}calculatedColumnFormula")
    if formula is None:
        if f is not None:
            el.remove(f)
        return
    if f is None:
        f = etree.Element(f"{_T}calculatedColumnFormula")
        el.insert(0, f)
    f.text = formula.lstrip("=")


def remove_columns(root: etree._Element, names: Sequence[str]) -> list[str]:
    """Remove named columns (the tool's, at the right) and shrink the ref to match."""
    cols = _columns_el(root)
    wanted = {n.lower() for n in names}
    removed = []
    for c in list(cols):
        if isinstance(c.tag, str) and c.get("name", "").lower() in wanted:
            cols.remove(c)
            removed.append(c.get("name", ""))
    if removed:
        cols.set("count", str(sum(1 for c in cols if isinstance(c.tag, str))))
        _resize(root, -len(removed))
    return removed
