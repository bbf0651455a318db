"""apply_to_file: carry out a ChangeList on a workbook file, losslessly.

Order of work: ClearMarks first (all of them), then the other changes in list order;
changes to existing sheets are gathered per sheet and patched in one streaming pass
each (sheet_patch); then styles, the state sheet, calcChain and the package are
written.  Nothing is written unless every step succeeded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from xlplugin import changes as ch
from xlplugin.errors import UnsupportedWorkbook, XlpluginError
from xlplugin.file.ooxml.package import NS_MAIN, RT_SHARED_STRINGS, RT_STYLES, RT_TABLE, open_package
from xlplugin.file.write import charts, existing, new_sheet, tables
from xlplugin.file.write.packager import PackageEdit, check_not_open
from xlplugin.file.write.state import STATE_SHEET, State, from_sheet_xml, shared_strings, to_sheet_xml
from xlplugin.file.write.workbook_parts import MAX_SHEET_NAME, SheetInfo, WorkbookXml
from xlplugin.model import CellValue, quote_sheet, split_ref

CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
SUFFIX = " (xlplugin)"
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")


@dataclass
class ApplyResult:
    """What apply_to_file did, for the CLI's result table."""

    dest: Path
    sheets_added: list[str] = field(default_factory=list)
    sheets_replaced: list[str] = field(default_factory=list)
    sheets_removed: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)   # requested -> actual sheet name
    cells: int = 0
    marks: int = 0
    notes: int = 0
    marks_cleared: int = 0
    notes_cleared: int = 0
    names: int = 0
    table_columns: int = 0
    calc_chain_dropped: bool = False

    def summary(self) -> str:
        bits = []
        if self.sheets_added or self.sheets_replaced:
            bits.append("sheets " + ", ".join(self.sheets_added + self.sheets_replaced))
        for label, n in (("cells", self.cells), ("marks", self.marks), ("notes", self.notes),
                         ("cleared marks", self.marks_cleared), ("cleared notes", self.notes_cleared)):
            if n:
                bits.append(f"{n} {label}")
        if self.sheets_removed:
            bits.append("removed " + ", ".join(self.sheets_removed))
        return "; ".join(bits) or "no changes"


def apply_to_file(src: Path | str, dest: Path | str, changes: ch.ChangeList) -> ApplyResult:
    """Apply a change list to the workbook `src`, writing `dest` (may equal src).

    Raises XlpluginError (UnreadableWorkbook / UnsupportedWorkbook) with a one-line
    message naming the file; on any error nothing is written at dest."""
    src, dest = Path(src), Path(dest)
    check_not_open(dest)  # reading a workbook Excel holds open is fine; overwriting is not
    with open_package(src) as pkg:
        if pkg.strict:
            raise UnsupportedWorkbook("Strict Open XML workbooks are not supported; save it as "
                                      "\"Excel Workbook (.xlsx)\" in Excel", file=src.name)
        try:
            writer = _Writer(PackageEdit(pkg), dest)
            writer.run(changes)
            writer.edit.write(dest)
        except XlpluginError as e:
            if not e.file:
                e.file = src.name
            raise
        except (ValueError, KeyError, IndexError) as e:
            raise UnsupportedWorkbook(f"cannot update this workbook safely ({type(e).__name__}: {e})",
                                      file=src.name) from None
        except OSError as e:
            raise XlpluginError(f"cannot write {dest} ({e.strerror or e})", file=dest.name) from None
        return writer.result


class _Writer:
    def __init__(self, edit: PackageEdit, dest: Path) -> None:
        self.edit = edit
        self.wb = WorkbookXml(edit)
        self.result = ApplyResult(dest=dest)
        self.renames: dict[str, str] = {}
        self._styles = None
        self._styles_part: str | None = None
        self.state = self._read_state()
        self.sheet_edits: dict = {}                  # sheet -> sheet_patch.SheetEdits
        self.note_ops: dict = {}                     # sheet -> existing._Notes
        self.drop_validations: dict[str, list[str]] = {}
        self.restore_cols: dict[str, str | None] = {}   # sheet -> original <cols> (clear)
        self.restore_cells: dict[str, dict[str, str]] = {}  # sheet -> {ref: original <c>}
        self.drop_dimension: set[str] = set()
        self.sheets_patched: set[str] = set()
        self.formulas_changed = False
        self.values_changed = False

    # -- helpers ---------------------------------------------------------------
    @property
    def file(self) -> str:
        return self.edit.pkg.path.name

    def styles(self):
        if self._styles is None:
            from xlplugin.file.write.styles import StyleBook
            rels = self.wb.rels.by_type(RT_STYLES)
            if rels:
                self._styles_part = self.wb.rels.target_part(rels[0])
                data = self.edit.read(self._styles_part) if self.edit.has(self._styles_part) else None
            else:
                self._styles_part, data = None, None
            self._styles = StyleBook(data)
        return self._styles

    def sheet_name(self, name: str) -> str:
        """The actual name of a sheet the change list calls `name`."""
        return self.renames.get(name, name)

    def rewrite_refs(self, text: str) -> str:
        """Point references at renamed sheets ("'Summary'!" -> "'Summary (xlplugin)'!")."""
        for old, new in self.renames.items():
            text = text.replace(quote_sheet(old) + "!", quote_sheet(new) + "!")
            if re.fullmatch(r"[A-Za-z_][\w.]*", old):
                text = re.sub(rf"(?<![\w.'!]){re.escape(old)}!", quote_sheet(new).replace("\\", r"\\") + "!",
                              text)
        return text

    def _read_state(self) -> State:
        info = self.wb.find(STATE_SHEET)
        if info is None or info.kind != "worksheet" or not self.edit.has(info.part):
            return State()
        sst = None
        ss = self.wb.rels.by_type(RT_SHARED_STRINGS)
        if ss:
            part = self.wb.rels.target_part(ss[0])
            if part and self.edit.has(part):
                sst = shared_strings(self.edit.read(part))
        return from_sheet_xml(self.edit.read(info.part), sst)

    def user_sheet(self, name: str) -> SheetInfo:
        info = self.wb.find(name)
        if info is None:
            raise UnsupportedWorkbook(f"no sheet named {name!r}", file=self.file)
        if info.kind != "worksheet":
            raise UnsupportedWorkbook(f"sheet {name!r} is a {info.kind}, not a worksheet; "
                                      "cannot write cells into it", file=self.file)
        return info

    # -- the run ---------------------------------------------------------------
    def run(self, changes: Iterable[ch.Change]) -> None:
        items = list(changes)
        checked: dict[str, str] = {}
        for c in items:
            if isinstance(c, ch.ClearMarks):
                self.clear(c)
        for c in items:
            if isinstance(c, ch.ClearMarks):
                continue
            if isinstance(c, ch.ReplaceSheet):
                self.replace_sheet(c)
            elif isinstance(c, ch.DefinedName):
                self.defined_name(c)
            elif isinstance(c, ch.ExtendTable):
                self.extend_table(c)
            elif isinstance(c, (ch.SetCell, ch.MarkCell, ch.SetNote, ch.SetColumnWidth,
                                ch.ListValidation, ch.ValueColumn, ch.FormulaColumn)):
                name = checked.get(c.sheet)
                if name is None:  # sheets are only added in this loop, so a check holds
                    name = checked[c.sheet] = self.user_sheet(self.sheet_name(c.sheet)).name
                existing.queue(self, c, name)
            else:
                raise UnsupportedWorkbook(f"unknown change {type(c).__name__}", file=self.file)
        existing.apply_patches(self)
        self.finish()

    # -- ClearMarks -------------------------------------------------------------
    def clear(self, c: ch.ClearMarks) -> None:
        existing.clear_marks(self, c.sheet, everything=c.everything)
        if not c.everything:
            return
        for rec in list(self.state.of("name")):
            local = rec.get("local")
            if c.sheet is None or local == c.sheet:
                self.wb.remove_defined_name(rec["name"], local)
                self.state.drop(rec)
        for rec in list(self.state.of("table")):
            if c.sheet is not None and rec["sheet"] != c.sheet:
                continue
            part = rec.get("part", "")
            if part and self.edit.has(part):
                root = self.edit.tree(part)
                if tables.remove_columns(root, rec.get("columns", [])):
                    self.edit.touch(part)
            self.state.drop(rec)
        for name in list(self.state.owned_sheets()):
            if c.sheet is not None and name != c.sheet:
                continue
            if self.wb.find(name) is not None:
                self.check_structure_unlocked()
                self.wb.remove_sheet(name)
                self.result.sheets_removed.append(name)
            self.state.drop_where("sheet", name)

    # -- ReplaceSheet -----------------------------------------------------------
    def _target_name(self, name: str) -> str:
        """The name the tool's sheet gets: `name`, unless a user sheet holds it."""
        candidates = [name] + [name[:MAX_SHEET_NAME - len(SUFFIX)] + SUFFIX] + \
            [f"{name[:MAX_SHEET_NAME - len(SUFFIX) - 2]} (xlplugin {i})" for i in range(2, 100)]
        for cand in candidates:
            cand = cand[:MAX_SHEET_NAME]
            if self.wb.find(cand) is None or self.state.owns(cand):
                return cand
        raise UnsupportedWorkbook(f"no free sheet name for {name!r}", file=self.file)

    def check_structure_unlocked(self) -> None:
        prot = self.wb.root.find(f"{{{NS_MAIN}}}workbookProtection")
        if prot is not None and prot.get("lockStructure") in ("1", "true"):
            raise UnsupportedWorkbook("the workbook structure is protected, so no sheet can be added "
                                      "or removed; unprotect it in Excel (Review > Protect Workbook)",
                                      file=self.file)

    def replace_sheet(self, spec: ch.ReplaceSheet) -> None:
        if spec.name == STATE_SHEET:
            raise UnsupportedWorkbook(f"{STATE_SHEET} is reserved", file=self.file)
        if not spec.name or _BAD_NAME.search(spec.name) or spec.name.startswith("'") or spec.name.endswith("'"):
            raise XlpluginError(f"{spec.name!r} is not a valid sheet name", file=self.file)
        actual = self._target_name(spec.name)
        if actual != spec.name:
            self.renames[spec.name] = actual
            self.result.renamed[spec.name] = actual
        existing_info = self.wb.find(actual)
        if existing_info is not None:
            actual = existing_info.name
            part = existing_info.part
            # Drop everything the old sheet hung on to (drawing, charts, comments...);
            # remove_tree removes the sheet part too, which is written again below.
            self.edit.remove_tree(part)
            self.result.sheets_replaced.append(actual)
            for kind in ("mark", "note", "cells", "notes_parts", "validation", "dimension"):
                self.state.drop_where(kind, actual)
        else:
            part = self.edit.new_name("xl/worksheets/sheet{}.xml")
        spec = self._renamed_spec(spec)
        values = {(c.row, c.col): c.value for c in spec.cells}
        drawing_rid = self._add_charts(part, spec, values) if spec.charts else None
        book = self.styles()
        base = book.plain()
        xml = new_sheet.sheet_xml(spec, lambda st: book.derive(base, st) if st else base,
                                  date1904=self.edit.pkg.date1904, drawing_rid=drawing_rid)
        self.edit.set(part, xml)
        if existing_info is None:
            self.check_structure_unlocked()
            self.wb.add_sheet(actual, part, position=self._position(spec.after))
            self.result.sheets_added.append(actual)
        if not self.state.owns(actual):
            self.state.add("sheet", actual)
        self.result.cells += len(spec.cells) + sum(len(c.values) for c in spec.columns)

    def _renamed_spec(self, spec: ch.ReplaceSheet) -> ch.ReplaceSheet:
        if not self.renames:
            return spec
        from dataclasses import replace
        rw = self.rewrite_refs
        cells = tuple(replace(c, formula=rw(c.formula)) if c.formula else c for c in spec.cells)
        links = tuple(replace(h, location=rw(h.location)) for h in spec.hyperlinks)
        chart_specs = tuple(replace(cs, series=tuple(replace(s, values=rw(s.values), categories=rw(s.categories))
                                                     for s in cs.series)) for cs in spec.charts)
        return replace(spec, cells=cells, hyperlinks=links, charts=chart_specs)

    def _position(self, after: str | None) -> int | None:
        if after is not None:
            info = self.wb.find(self.sheet_name(after))
            if info is not None:
                return info.index + 1
        state = self.wb.find(STATE_SHEET)
        return state.index if state is not None else None

    def _add_charts(self, sheet_part: str, spec: ch.ReplaceSheet,
                    values: dict[tuple[int, int], CellValue]) -> str:
        drawing = self.edit.new_name("xl/drawings/drawing{}.xml")
        sheet_name = spec.name

        def lookup(ref: str) -> list[CellValue] | None:
            sheet, _, cells = ref.lstrip("=").rpartition("!")
            if sheet.strip("'").replace("''", "'") not in (sheet_name, self.sheet_name(sheet_name)):
                return None
            a, _, b = cells.partition(":")
            r1, c1 = split_ref(a)
            r2, c2 = split_ref(b or a)
            return [values.get((r, c)) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]

        drels = self.edit.rels(drawing)
        anchors = []
        for i, cs in enumerate(spec.charts):
            part = self.edit.new_name("xl/charts/chart{}.xml")
            self.edit.set(part, charts.chart_xml(cs, lookup, chart_id=i))
            self.edit.add_override(part, charts.CT_CHART)
            anchors.append((cs, drels.add(charts.RT_CHART, part)))
        self.edit.set(drawing, charts.drawing_xml(anchors, new_sheet.widths_px(spec)))
        self.edit.add_override(drawing, charts.CT_DRAWING)
        return self.edit.rels(sheet_part).add(charts.RT_DRAWING, drawing)

    # -- names and tables ------------------------------------------------------
    def defined_name(self, c: ch.DefinedName) -> None:
        local = self.sheet_name(c.sheet) if c.sheet else None
        new = self.wb.set_defined_name(c.name, self.rewrite_refs(c.value), local)
        if new:
            self.state.add("name", "", name=c.name, local=local)
        self.result.names += 1

    def find_table(self, sheet: str, name: str) -> str:
        info = self.user_sheet(sheet)
        rels = self.edit.rels(info.part)
        for el in rels.by_type(RT_TABLE):
            part = rels.target_part(el)
            if part and self.edit.has(part) and \
                    tables.table_name(self.edit.tree(part)).lower() == name.lower():
                return part
        raise UnsupportedWorkbook(f"no Excel Table named {name!r} on sheet {sheet!r}", file=self.file)

    def extend_table(self, c: ch.ExtendTable) -> None:
        sheet = self.sheet_name(c.sheet)
        part = self.find_table(sheet, c.table)
        root = self.edit.tree(part)
        before = etree.tostring(root)
        added = tables.extend_table(root, c.columns)
        if etree.tostring(root) != before:
            self.edit.touch(part)
        if added:
            rec = self.state.find("table", sheet, part=part)
            if rec is None:
                rec = self.state.add("table", sheet, table=c.table, part=part, columns=[])
            rec["columns"] = rec["columns"] + added
            self.result.table_columns += len(added)

    # -- the end -----------------------------------------------------------------
    def finish(self) -> None:
        if self._styles is not None and self._styles.changed:
            data = self._styles.to_bytes()
            if self._styles_part is None:
                self._styles_part = "xl/styles.xml"
                self.wb.rels.add(RT_STYLES, self._styles_part)
                self.edit.add_override(self._styles_part, CT_STYLES)
            self.edit.set(self._styles_part, data)
        self._write_state()
        structural = bool(self.result.sheets_added or self.result.sheets_replaced
                          or self.result.sheets_removed or self.sheets_patched or self.values_changed)
        if structural and self.wb.drop_calc_chain():
            self.result.calc_chain_dropped = True
        if self.values_changed:
            # User formulas may depend on the cells we changed; their cached values are
            # stale until Excel recalculates, and Excel does not when calcId matches.
            self.wb.full_calc_on_load()

    def _write_state(self) -> None:
        info = self.wb.find(STATE_SHEET)
        if info is not None and (info.kind != "worksheet" or info.state != "veryHidden"):
            return  # a user sheet with our name: never touch it (state is then not kept)
        if not self.state:
            if info is not None:
                self.wb.remove_sheet(STATE_SHEET)
            return
        xml = to_sheet_xml(self.state)
        if info is not None:
            if self.edit.read(info.part) != xml:
                self.edit.set(info.part, xml)
            return
        self.check_structure_unlocked()
        part = self.edit.new_name("xl/worksheets/sheet{}.xml")
        self.edit.set(part, xml)
        self.wb.add_sheet(STATE_SHEET, part, state="veryHidden")

