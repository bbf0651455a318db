"""Workbook-level parts: workbook.xml (sheets, defined names, views, calcPr), its
rels, [Content_Types].xml overrides and docProps/app.xml titles.

Every function edits a PackageEdit in place.  Sheet positions matter beyond the
<sheets> list: definedName/@localSheetId and workbookView/@activeTab,@firstSheet are
indexes into it, so inserting or removing a sheet shifts them.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from xlplugin.errors import UnsupportedWorkbook
from xlplugin.file.ooxml.package import NS_MAIN, NS_REL, RT_WORKSHEET, q
from xlplugin.file.write.packager import PackageEdit

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
RT_CALC_CHAIN = NS_REL + "/calcChain"
NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
NS_EP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
APP_PART = "docProps/app.xml"
MAX_SHEET_NAME = 31


@dataclass
class SheetInfo:
    name: str
    sheet_id: int
    rid: str
    part: str
    index: int
    state: str
    kind: str


class WorkbookXml:
    """workbook.xml plus its rels, as one editable unit."""

    def __init__(self, edit: PackageEdit) -> None:
        self.edit = edit
        self.part = edit.pkg.workbook_part
        self.root = edit.tree(self.part)
        if self.root.tag != q("workbook"):
            raise UnsupportedWorkbook("workbook.xml is not transitional SpreadsheetML "
                                      "(Strict OOXML?); save it as a normal .xlsx in Excel",
                                      file=edit.pkg.path.name)
        self.rels = edit.rels(self.part)

    def touch(self) -> None:
        self.edit.touch(self.part)

    # -- sheets ----------------------------------------------------------------
    def _sheets_el(self) -> etree._Element:
        el = self.root.find(q("sheets"))
        if el is None:
            raise UnsupportedWorkbook("workbook has no sheets", file=self.edit.pkg.path.name)
        return el

    def sheets(self) -> list[SheetInfo]:
        by_id = {el.get("Id"): el for el in self.rels.items()}
        out = []
        for i, s in enumerate(x for x in self._sheets_el() if isinstance(x.tag, str)):
            rid = s.get(f"{{{NS_REL}}}id", "")
            rel = by_id.get(rid)
            part = self.rels.target_part(rel) if rel is not None else ""
            kind = rel.get("Type", "").rsplit("/", 1)[-1] if rel is not None else ""
            out.append(SheetInfo(s.get("name", ""), int(s.get("sheetId", "0") or 0), rid,
                                 part or "", i, s.get("state", "visible"), kind))
        return out

    def find(self, name: str) -> SheetInfo | None:
        low = name.lower()  # Excel sheet names are case-insensitive
        for s in self.sheets():
            if s.name.lower() == low:
                return s
        return None

    def add_sheet(self, name: str, part: str, *, position: int | None = None,
                  state: str = "visible") -> SheetInfo:
        """Register a worksheet part under a new <sheet>; position None = last."""
        sheets = self.sheets()
        sheet_id = max((s.sheet_id for s in sheets), default=0) + 1
        rid = self.rels.add(RT_WORKSHEET, part)
        el = etree.Element(q("sheet"), name=name, sheetId=str(sheet_id))
        if state != "visible":
            el.set("state", state)
        el.set(f"{{{NS_REL}}}id", rid)
        parent = self._sheets_el()
        children = [x for x in parent if isinstance(x.tag, str)]
        if position is None or position >= len(children):
            position = len(children)
            parent.append(el)
        else:
            children[position].addprevious(el)
        self._shift_indexes(position, +1)
        self.edit.add_override(part, CT_WORKSHEET)
        self.touch()
        app_add_title(self.edit, name, self._worksheet_position(name),
                      {s.name for s in self.sheets() if s.kind == "worksheet" and s.name != name})
        return SheetInfo(name, sheet_id, rid, part, position, state, "worksheet")

    def remove_sheet(self, name: str) -> list[str]:
        """Remove a sheet, its part tree, names local to it; returns removed parts."""
        info = self.find(name)
        if info is None:
            return []
        parent = self._sheets_el()
        for el in parent:
            if isinstance(el.tag, str) and el.get("name") == info.name:
                parent.remove(el)
        self.rels.remove(info.rid)
        removed = self.edit.remove_tree(info.part) if info.part else []
        names = self.root.find(q("definedNames"))
        if names is not None:
            for dn in list(names):
                if isinstance(dn.tag, str) and dn.get("localSheetId") == str(info.index):
                    names.remove(dn)
            if not len(names):
                self.root.remove(names)
        self._shift_indexes(info.index + 1, -1)
        self._fix_active_tab()
        self.touch()
        app_remove_title(self.edit, info.name)
        return removed

    def rename_sheet_in_app(self, old: str, new: str) -> None:
        app_rename_title(self.edit, old, new)

    def _worksheet_position(self, name: str) -> int:
        ws = [s.name for s in self.sheets() if s.kind == "worksheet"]
        return ws.index(name) if name in ws else len(ws)

    def _shift_indexes(self, start: int, delta: int) -> None:
        """Shift sheet-index attributes >= start by delta (after an insert/remove)."""
        names = self.root.find(q("definedNames"))
        if names is not None:
            for dn in names:
                if not isinstance(dn.tag, str):
                    continue
                lid = dn.get("localSheetId")
                if lid is not None and lid.isdigit() and int(lid) >= start:
                    dn.set("localSheetId", str(int(lid) + delta))
        views = self.root.find(q("bookViews"))
        if views is not None:
            for v in views:
                if not isinstance(v.tag, str):
                    continue
                for attr in ("activeTab", "firstSheet"):
                    val = v.get(attr)
                    if val is not None and val.isdigit() and int(val) >= start:
                        v.set(attr, str(max(0, int(val) + delta)))

    def _fix_active_tab(self) -> None:
        sheets = self.sheets()
        views = self.root.find(q("bookViews"))
        if views is None:
            return
        for v in views:
            if not isinstance(v.tag, str):
                continue
            for attr in ("activeTab", "firstSheet"):
                val = v.get(attr)
                if val is not None and val.isdigit() and int(val) >= len(sheets):
                    v.set(attr, str(max(0, len(sheets) - 1)))
            active = v.get("activeTab")
            if active is not None and active.isdigit() and sheets and \
                    sheets[int(active)].state != "visible":
                first_visible = next((s.index for s in sheets if s.state == "visible"), 0)
                v.set("activeTab", str(first_visible))

    # -- defined names -----------------------------------------------------------
    def set_defined_name(self, name: str, value: str, local_sheet: str | None = None) -> bool:
        """Create or update a defined name; hidden when it starts with '_'.  True if new."""
        local_id = None
        if local_sheet is not None:
            info = self.find(local_sheet)
            if info is None:
                raise UnsupportedWorkbook(f"defined name {name}: no sheet {local_sheet!r}",
                                          file=self.edit.pkg.path.name)
            local_id = str(info.index)
        names = self.root.find(q("definedNames"))
        if names is None:
            names = etree.Element(q("definedNames"))
            _insert_in_order(self.root, names)
        for dn in names:
            if isinstance(dn.tag, str) and dn.get("name", "").lower() == name.lower() \
                    and dn.get("localSheetId") == local_id:
                if dn.text != value:
                    dn.text = value
                    self.touch()
                return False
        dn = etree.Element(q("definedName"), name=name)
        if local_id is not None:
            dn.set("localSheetId", local_id)
        if name.startswith("_"):
            dn.set("hidden", "1")
        dn.text = value
        # Excel keeps names sorted (case-insensitively); keep the habit.
        key = name.lower()
        for other in names:
            if isinstance(other.tag, str) and other.get("name", "").lower() > key:
                other.addprevious(dn)
                break
        else:
            names.append(dn)
        self.touch()
        return True

    def remove_defined_name(self, name: str, local_sheet: str | None = None) -> None:
        names = self.root.find(q("definedNames"))
        if names is None:
            return
        local_id = None
        if local_sheet is not None:
            info = self.find(local_sheet)
            local_id = str(info.index) if info else None
        for dn in list(names):
            if isinstance(dn.tag, str) and dn.get("name", "").lower() == name.lower() \
                    and dn.get("localSheetId") == local_id:
                names.remove(dn)
                self.touch()
        if not len(names):
            self.root.remove(names)

    # -- calculation -----------------------------------------------------------
    def drop_calc_chain(self) -> bool:
        """Remove calcChain.xml (Excel rebuilds it) with its rel and content type."""
        dropped = False
        for el in self.rels.by_type(RT_CALC_CHAIN):
            part = self.rels.target_part(el)
            self.rels.remove(el.get("Id"))
            if part:
                self.edit.remove(part)
            dropped = True
        return dropped

    def full_calc_on_load(self) -> None:
        calc = self.root.find(q("calcPr"))
        if calc is None:
            calc = etree.Element(q("calcPr"))
            _insert_in_order(self.root, calc)
        if calc.get("fullCalcOnLoad") != "1":
            calc.set("fullCalcOnLoad", "1")
            self.touch()


# CT_Workbook child order (ECMA-376 Part 1, 18.2.27), for inserting new children.
_WORKBOOK_ORDER = ["fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews",
                   "sheets", "functionGroups", "externalReferences", "definedNames", "calcPr",
                   "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                   "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst"]


def _insert_in_order(root: etree._Element, el: etree._Element) -> None:
    name = etree.QName(el).localname
    rank = _WORKBOOK_ORDER.index(name)
    for child in root:
        if not isinstance(child.tag, str):
            continue
        cname = etree.QName(child).localname
        if etree.QName(child).namespace == NS_MAIN and cname in _WORKBOOK_ORDER \
                and _WORKBOOK_ORDER.index(cname) > rank:
            child.addprevious(el)
            return
        if etree.QName(child).namespace != NS_MAIN:  # mc:AlternateContent etc. keep their place
            continue
    root.append(el)


# -- docProps/app.xml -------------------------------------------------------------
def _app_sections(edit: PackageEdit) -> tuple[etree._Element, etree._Element, etree._Element,
                                               list[tuple[etree._Element, int]]] | None:
    """(root, heading vector, titles vector, [(count element, count)]) or None."""
    if not edit.has(APP_PART):
        return None
    try:
        root = edit.tree(APP_PART)
    except UnsupportedWorkbook:
        return None
    hp = root.find(f"{{{NS_EP}}}HeadingPairs/{{{NS_VT}}}vector")
    tp = root.find(f"{{{NS_EP}}}TitlesOfParts/{{{NS_VT}}}vector")
    if hp is None or tp is None:
        return None
    variants = [v for v in hp if isinstance(v.tag, str)]
    pairs = []
    for i in range(0, len(variants) - 1, 2):
        count_el = variants[i + 1].find(f"{{{NS_VT}}}i4")
        if count_el is None or not (count_el.text or "").strip().isdigit():
            return None
        pairs.append((count_el, int(count_el.text)))
    titles = [t for t in tp if isinstance(t.tag, str)]
    if sum(c for _, c in pairs) != len(titles):
        return None  # inconsistent already: leave it alone
    return root, hp, tp, pairs


def _worksheet_section(names: set[str], titles: list[str],
                       pairs: list[tuple[etree._Element, int]]) -> tuple[int, int, etree._Element] | None:
    """(start, count, count element) of the heading whose titles are the worksheets.

    Found by content, not by label: the label is localised ("Arbeitsblätter")."""
    start = 0
    for el, count in pairs:
        chunk = titles[start:start + count]
        if chunk and all(t in names for t in chunk):
            return start, count, el
        start += count
    return None


def app_add_title(edit: PackageEdit, name: str, ws_position: int, worksheets: set[str]) -> None:
    found = _app_sections(edit)
    if found is None:
        return
    root, _hp, tp, pairs = found
    title_els = [t for t in tp if isinstance(t.tag, str)]
    sec = _worksheet_section(worksheets, [t.text or "" for t in title_els], pairs)
    if sec is None:
        return
    start, count, count_el = sec
    at = start + min(ws_position, count)
    el = etree.Element(f"{{{NS_VT}}}lpstr")
    el.text = name
    if at < len(title_els):
        title_els[at].addprevious(el)
    else:
        tp.append(el)
    count_el.text = str(count + 1)
    tp.set("size", str(len(title_els) + 1))
    edit.touch(APP_PART)


def app_remove_title(edit: PackageEdit, name: str) -> None:
    found = _app_sections(edit)
    if found is None:
        return
    root, _hp, tp, pairs = found
    title_els = [t for t in tp if isinstance(t.tag, str)]
    start = 0
    for count_el, count in pairs:
        for t in title_els[start:start + count]:
            if t.text == name:
                tp.remove(t)
                count_el.text = str(count - 1)
                tp.set("size", str(len(title_els) - 1))
                edit.touch(APP_PART)
                return
        start += count


def app_rename_title(edit: PackageEdit, old: str, new: str) -> None:
    found = _app_sections(edit)
    if found is None:
        return
    for t in found[2]:
        if isinstance(t.tag, str) and t.text == old:
            t.text = new
            edit.touch(APP_PART)
            return
