"""Changes to sheets the user owns: one streaming sheet_patch pass per sheet, notes
through comments.merge_notes, and what they did recorded in the state sheet so
ClearMarks can undo it exactly.

ClearMarks only *queues* restores/removals here (SheetEdits are applied per cell in
the order restores, removals, writes, marks), so "clear, then mark again" is still
one pass over each sheet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from xlplugin import changes as ch
from xlplugin.file.write.comments import CT_COMMENTS, CT_VML, RT_COMMENTS, RT_VML, merge_notes, vml_blocks
from xlplugin.file.write.sheet_patch import (
    CellRemoval,
    CellRestore,
    ListRule,
    SheetEdits,
    legacy_drawing_rid,
    patch_sheet,
)
from xlplugin.file.write.state import pack_cells, pack_rows, unpack_cells, unpack_rows
from xlplugin.model import cell_ref, split_ref


class _Writer(Protocol):
    """What this module uses of writer._Writer, stated here so that existing.py never
    imports writer.py (which imports it): no import cycle, even for type checkers."""

    edit: Any                # packager.PackageEdit
    wb: Any                  # workbook_parts.WorkbookXml
    state: Any               # state.State
    result: Any              # writer.ApplyResult
    styles: Any
    sheet_edits: Any
    note_ops: Any
    restore_cells: Any
    restore_cols: Any
    drop_dimension: Any
    drop_validations: Any
    values_changed: Any
    sheets_patched: Any
    encode: Any
    user_sheet: Any


@dataclass
class _Notes:
    add: list[ch.SetNote] = field(default_factory=list)
    remove_all: bool = False


def _edits(w: _Writer, sheet: str) -> SheetEdits:
    e = w.sheet_edits.get(sheet)      # called per mark: no throwaway SheetEdits()
    if e is None:
        e = w.sheet_edits[sheet] = SheetEdits()
    return e


def _notes(w: _Writer, sheet: str) -> _Notes:
    n = w.note_ops.get(sheet)
    if n is None:
        n = w.note_ops[sheet] = _Notes()
    return n


def clear_marks(w: _Writer, sheet: str | None, everything: bool) -> None:
    """Queue the undo of the tool's marks and notes (and with everything, its cells,
    dropdowns and the sheet's original dimension)."""
    st = w.state
    for rec in list(st.of("mark", sheet)):
        if w.wb.find(rec["sheet"]) is None:
            st.drop(rec)
            continue
        row, col = split_ref(rec["ref"])
        if rec.get("created"):
            _edits(w, rec["sheet"]).removals.append(CellRemoval(row, col, bool(rec.get("row_created"))))
        else:
            s = rec.get("s")
            _edits(w, rec["sheet"]).restores.append(CellRestore(row, col, int(s) if s is not None else None))
        st.drop(rec)
        w.result.marks_cleared += 1
    for rec in list(st.of("note", sheet)):
        if w.wb.find(rec["sheet"]) is not None:
            _notes(w, rec["sheet"]).remove_all = True
        st.drop(rec)
        w.result.notes_cleared += 1
    if not everything:
        return
    for rec in list(st.of("cells", sheet)):
        if w.wb.find(rec["sheet"]) is not None:
            new_rows = unpack_rows(rec.get("rows", ""))
            for row, col in sorted(unpack_cells(rec.get("refs", ""))):
                _edits(w, rec["sheet"]).removals.append(CellRemoval(row, col, row in new_rows))
            w.values_changed = True
        st.drop(rec)
    for rec in list(st.of("validation", sheet)):
        w.drop_validations.setdefault(rec["sheet"], []).append(rec["sqref"])
        st.drop(rec)
    for rec in list(st.of("cols", sheet)):
        if w.wb.find(rec["sheet"]) is not None:
            w.restore_cols[rec["sheet"]] = rec.get("raw")
        st.drop(rec)
    for rec in list(st.of("overwritten", sheet)):
        if w.wb.find(rec["sheet"]) is not None:
            w.restore_cells.setdefault(rec["sheet"], {}).update(rec.get("cells", {}))
            w.values_changed = True
        st.drop(rec)
    for rec in list(st.of("dimension", sheet)):
        if w.wb.find(rec["sheet"]) is not None:
            if rec.get("ref"):
                _edits(w, rec["sheet"]).dimension = rec["ref"]
            else:
                w.drop_dimension.add(rec["sheet"])   # the sheet had no <dimension> at all
        st.drop(rec)


def queue(w: _Writer, c: ch.SetCell | ch.MarkCell | ch.SetNote | ch.SetColumnWidth | ch.ListValidation
          | ch.ValueColumn | ch.FormulaColumn, sheet: str) -> None:
    if isinstance(c, ch.SetCell):
        _edits(w, sheet).set_cell(c)
        w.values_changed = True
    elif isinstance(c, ch.ValueColumn | ch.FormulaColumn):
        _edits(w, sheet).set_column(c)
        w.values_changed = True
    elif isinstance(c, ch.MarkCell):
        _edits(w, sheet).mark(c)
    elif isinstance(c, ch.SetNote):
        _notes(w, sheet).add.append(c)
    elif isinstance(c, ch.SetColumnWidth):
        _edits(w, sheet).col_widths[c.col] = c.width
    elif isinstance(c, ch.ListValidation):
        _edits(w, sheet).validations.append(ListRule(c.ref, tuple(c.values), allow_blank=c.allow_blank))


def apply_patches(w: _Writer) -> None:
    sheets = set(w.sheet_edits) | set(w.note_ops) | set(w.drop_validations) | set(w.restore_cols) \
        | set(w.restore_cells) | w.drop_dimension
    for sheet in sorted(sheets):
        if w.wb.find(sheet) is None:
            continue
        info = w.user_sheet(sheet)
        edits = w.sheet_edits.get(sheet, SheetEdits())
        notes = w.note_ops.get(sheet)
        xml = None                           # the sheet part, read (decompressed) once
        if notes is not None:
            xml = w.edit.read(info.part)
            _apply_notes(w, sheet, info.part, notes, edits, xml)
        restore = w.restore_cells.get(sheet, {})
        if edits.is_empty() and not restore and sheet not in w.drop_validations \
                and sheet not in w.restore_cols and sheet not in w.drop_dimension:
            continue
        if xml is None:
            xml = w.edit.read(info.part)
        base = xml
        if sheet in w.restore_cols:
            base = set_cols(base, w.restore_cols[sheet])
        if edits.col_widths and not w.state.owns(sheet) and not w.state.of("cols", sheet):
            w.state.add("cols", sheet, raw=get_cols(base))
        res = patch_sheet(base, edits, w.styles(), date1904=w.edit.pkg.date1904)
        originals: dict[str, str] = {}
        if sheet in w.drop_validations or restore or sheet in w.drop_dimension:
            # A full clear: the few edits left work on the whole part.
            out = res.xml
            if sheet in w.drop_validations:
                out = remove_validations(out, w.drop_validations[sheet])
            written = {cell_ref(*cell) for cell in _written(edits, res)} if restore else set()
            originals = {ref: raw for ref, raw in restore.items() if ref in written}  # written again now
            restore = {ref: raw for ref, raw in restore.items() if ref not in written}
            if restore:
                out = put_cells(out, {split_ref(ref): raw for ref, raw in restore.items()})
            if sheet in w.drop_dimension:
                out = remove_dimension(out)
            if out != xml:
                w.edit.set(info.part, out)
                w.sheets_patched.add(sheet)
        elif res.changed or base != xml:
            w.edit.set(info.part, res.part())     # a stream: written into the zip row window by window
            w.sheets_patched.add(sheet)
        _record(w, sheet, edits, res, base, originals)


def _written(edits: SheetEdits, res) -> set[tuple[int, int]]:
    """Cells written one by one: single writes and column cells that met an existing cell
    (the cells a column appended are in res.created_runs, kept as runs)."""
    return {(c.row, c.col) for c in edits.writes} | res.column_cells


def _record(w: _Writer, sheet: str, edits: SheetEdits, res, base: bytes, originals: dict[str, str]) -> None:
    st = w.state
    owned = w.state.owns(sheet)
    if (edits.writes or edits.columns) and not st.of("dimension", sheet) and edits.dimension is None \
            and not owned:
        st.add("dimension", sheet, ref=res.old_dimension)
    written = _written(edits, res)
    created = res.created_cells & written
    rec = st.find("cells", sheet)
    ours = unpack_cells(rec["refs"]) if rec and written else set()
    if created or res.created_runs:
        rec = rec or st.add("cells", sheet, refs="", rows="")
        rows = {r for r, _ in created if r in res.created_rows}
        # A column's appended cells are recorded as runs ("P5:P100004"), never cell by cell.
        runs = " ".join(cell_ref(a, col) + (f":{cell_ref(b, col)}" if b != a else "")
                        for col, rr in sorted(res.created_runs.items()) for a, b in rr)
        rec["refs"] = " ".join(x for x in (pack_cells(ours | created) if created else rec["refs"], runs) if x)
        if rows:
            rec["rows"] = pack_rows(unpack_rows(rec.get("rows", "")) | rows)
    # Cells of the user's that we overwrote: keep their original XML for a full clear.
    over = written - res.created_cells - ours
    if over and not owned:
        orec = st.find("overwritten", sheet) or st.add("overwritten", sheet, cells={})
        known = orec["cells"]
        missing = {cell for cell in over if cell_ref(*cell) not in known and cell_ref(*cell) not in originals}
        raws = get_cells(base, missing) if missing else {}
        for cell in sorted(over):
            ref = cell_ref(*cell)
            if ref in known:
                continue
            if ref in originals:
                known[ref] = originals[ref]
            elif cell in raws:
                known[ref] = raws[cell]
        if not known:
            st.drop(orec)
    w.result.cells += len(edits.writes) + sum(len(c.values) for c in edits.columns)
    marks = st.index("mark", sheet, "ref")
    for (row, col), s in sorted(res.marked.items()):
        ref = cell_ref(row, col)
        if ref in marks:
            continue  # marked twice without a clear: the first record holds the original
        made = (row, col) in res.created_cells and (row, col) not in written
        marks[ref] = st.add("mark", sheet, ref=ref, s=None if s is None else str(s), created=made,
                            row_created=made and row in res.created_rows)
    w.result.marks += len(edits.marks)
    for rule in edits.validations:
        if st.find("validation", sheet, sqref=rule.ref) is None:
            st.add("validation", sheet, sqref=rule.ref)


def _vml_block(w: _Writer) -> int:
    used: set[int] = set()
    for name in w.edit.pkg.names():
        if name.lower().endswith(".vml") and w.edit.has(name):
            used |= vml_blocks(w.edit.read(name))
    for name, data in w.edit.parts.items():
        if data and name.lower().endswith(".vml"):
            used |= vml_blocks(data)
    return max(used, default=0) + 1


def _apply_notes(w: _Writer, sheet: str, part: str, ops: _Notes, edits: SheetEdits, xml: bytes) -> None:
    from xlplugin.file.ooxml.package import rels_path
    had_rels = w.edit.has(rels_path(part))
    rels = w.edit.rels(part)
    com = rels.by_type(RT_COMMENTS)
    com_part = rels.target_part(com[0]) if com else None
    vml_rid = legacy_drawing_rid(xml)
    vml_part = None
    if vml_rid:
        for el in rels.items():
            if el.get("Id") == vml_rid:
                vml_part = rels.target_part(el)
    if not ops.add and com_part is None:
        return
    st = w.state
    parts_rec = st.find("notes_parts", sheet)
    res = merge_notes(w.edit.read(com_part) if com_part and w.edit.has(com_part) else None,
                      w.edit.read(vml_part) if vml_part and w.edit.has(vml_part) else None,
                      ops.add, remove_all_tool=ops.remove_all, vml_block=_vml_block(w))
    created_com = created_vml = False
    if com_part is None:
        com_part = w.edit.new_name("xl/comments{}.xml")
        rels.add(RT_COMMENTS, com_part)
        w.edit.add_override(com_part, CT_COMMENTS)
        created_com = True
    if vml_part is None:
        vml_part = w.edit.new_name("xl/drawings/vmlDrawing{}.vml")
        rid = rels.add(RT_VML, vml_part)
        w.edit.ensure_default("vml", CT_VML)
        edits.legacy_drawing = rid
        created_vml = True
    if parts_rec is None and (created_com or created_vml):
        parts_rec = st.add("notes_parts", sheet, comments=created_com, vml=created_vml, rels=had_rels)
    if res.empty and parts_rec is not None:
        # Only the tool's notes were there: take away the parts it created.
        if parts_rec.get("comments"):
            _drop_rel(w, part, com_part)
        else:
            w.edit.set(com_part, res.comments)
        if parts_rec.get("vml"):
            _drop_rel(w, part, vml_part)
            edits.drop_legacy_drawing = True
            edits.legacy_drawing = None
        else:
            w.edit.set(vml_part, res.vml)
        if parts_rec.get("rels"):
            w.edit.keep_empty.add(rels_path(part))   # the sheet had a (possibly empty) rels part
        st.drop(parts_rec)
    else:
        if created_com or res.comments != w.edit.read(com_part):
            w.edit.set(com_part, res.comments)
        if created_vml or res.vml != w.edit.read(vml_part):
            w.edit.set(vml_part, res.vml)
    notes = st.index("note", sheet, "ref")
    for row, col in res.added + res.replaced:
        ref = cell_ref(row, col)
        if ref not in notes:
            notes[ref] = st.add("note", sheet, ref=ref)
    w.result.notes += len(res.added) + len(res.replaced)


def _drop_rel(w: _Writer, owner: str, target: str) -> None:
    rels = w.edit.rels(owner)
    for el in rels.items():
        if rels.target_part(el) == target:
            rels.remove(el.get("Id"))
    w.edit.remove(target)


_DV_RE = re.compile(rb"<(?:[\w.-]+:)?dataValidation\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(?:/>|>.*?</(?:[\w.-]+:)?dataValidation>)",
                    re.S)
_DVS_RE = re.compile(rb"<((?:[\w.-]+:)?)dataValidations\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(?:/>|>(.*?)</(?:[\w.-]+:)?dataValidations>)",
                     re.S)


_ROW_RE = re.compile(rb"<((?:[\w.-]+:)?)row\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
_CELL_RE = re.compile(rb"<((?:[\w.-]+:)?)c\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(?:/>|>.*?</\1c>)", re.S)
_R_ATTR = re.compile(rb"\sr\s*=\s*[\"']([^\"']+)[\"']")


def _cell_spans(xml: bytes, cells: set[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
    """Byte spans of the given cells' <c> elements, found in one scan of the rows."""
    want: dict[int, set[int]] = {}
    for r, c in cells:
        want.setdefault(r, set()).add(c)
    out: dict[tuple[int, int], tuple[int, int]] = {}
    start = max(xml.find(b"sheetData"), 0)
    for m in _ROW_RE.finditer(xml, start):
        if not want:
            break
        rm = _R_ATTR.search(m.group(2))
        if m.group(3) or not rm or int(rm.group(1)) not in want:
            continue
        row = int(rm.group(1))
        cols = want.pop(row)
        end = xml.find(b"</" + m.group(1) + b"row>", m.end())
        for cm in _CELL_RE.finditer(xml, m.end(), end if end > 0 else len(xml)):
            ra = _R_ATTR.search(cm.group(2))
            if ra is None:
                continue
            col = split_ref(ra.group(1).decode())[1]
            if col in cols:
                out[(row, col)] = (cm.start(), cm.end())
    return out


def get_cells(xml: bytes, cells: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """The raw XML of existing cells (missing ones are left out)."""
    return {k: xml[a:b].decode("utf-8") for k, (a, b) in _cell_spans(xml, cells).items()}


def put_cells(xml: bytes, raws: dict[tuple[int, int], str]) -> bytes:
    """Replace existing cells by recorded raw XML (a cell no longer there is skipped)."""
    spans = sorted((span, raws[k]) for k, span in _cell_spans(xml, set(raws)).items())
    out, pos = [], 0
    for (a, b), raw in spans:
        out += [xml[pos:a], raw.encode("utf-8")]
        pos = b
    out.append(xml[pos:])
    return b"".join(out)


def remove_dimension(xml: bytes) -> bytes:
    head_end = xml.find(b"sheetData")
    m = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*/>").search(xml, 0, head_end if head_end > 0 else len(xml))
    return xml[:m.start()] + xml[m.end():] if m else xml


def _cols_span(xml: bytes) -> tuple[int, int] | None:
    head_end = xml.find(b"sheetData")
    m = _COLS_RE.search(xml, 0, head_end if head_end > 0 else len(xml))
    return (m.start(), m.end()) if m else None


def get_cols(xml: bytes) -> str | None:
    """The sheet's <cols> element as written (None when it has none)."""
    span = _cols_span(xml)
    return xml[span[0]:span[1]].decode("utf-8") if span else None


def set_cols(xml: bytes, raw: str | None) -> bytes:
    """Put back a <cols> element recorded by get_cols (None: remove it)."""
    span = _cols_span(xml)
    new = raw.encode("utf-8") if raw else b""
    if span:
        return xml[:span[0]] + new + xml[span[1]:]
    if not new:
        return xml
    sd = re.search(rb"<(?:[\w.-]+:)?sheetData\b", xml)
    return xml[:sd.start()] + new + xml[sd.start():] if sd else xml


_COLS_RE = re.compile(rb"<((?:[\w.-]+:)?)cols\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(?:/>|>.*?</\1cols>)", re.S)


def remove_validations(xml: bytes, sqrefs: list[str]) -> bytes:
    """Remove the tool's list validations (by sqref) from a worksheet; the element
    goes too when nothing is left.  Only the part after </sheetData> is searched."""
    cut = xml.rfind(b"sheetData")        # </sheetData> or <sheetData/>
    if cut < 0:
        return xml
    head, tail = xml[:cut], xml[cut:]
    wanted = {s.replace("$", "").replace(",", " ").encode() for s in sqrefs}

    def one(m: re.Match) -> bytes:
        sq = re.search(rb"\ssqref\s*=\s*[\"']([^\"']*)[\"']", m.group(0))
        return b"" if sq and sq.group(1) in wanted else m.group(0)

    def block(m: re.Match) -> bytes:
        body = _DV_RE.sub(one, m.group(3) or b"")
        n = len(_DV_RE.findall(body))
        if n == 0:
            return b""
        start = re.sub(rb"\scount\s*=\s*[\"']\d*[\"']", b' count="%d"' % n, m.group(2))
        return b"<" + m.group(1) + b"dataValidations" + start + b">" + body + b"</" + m.group(1) + b"dataValidations>"

    return head + _DVS_RE.sub(block, tail, count=1)
