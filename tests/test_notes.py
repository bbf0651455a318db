"""Notes (legacy comments) merged into real workbooks: old notes, form controls and
threaded comments survive; the tool's notes are replaced on re-run and removed on clear."""

from __future__ import annotations

import csv
import posixpath
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from tests import libreoffice
from tests.corpus import GOOD
from tests.plan_factory import make_plan
from xlplugin.apply_file.comments import (
    CT_COMMENTS,
    CT_VML,
    RT_COMMENTS,
    RT_VML,
    comment_refs,
    merge_notes,
    vml_blocks,
)
from xlplugin.apply_file.sheet_patch import SheetEdits, legacy_drawing_rid, patch_sheet
from xlplugin.apply_file.styles import StyleBook
from xlplugin.changes import TOOL_AUTHOR, SetNote
from xlplugin.model import cell_ref
from xlplugin.ooxml.package import NS_PKG_REL, open_package, rels_path

CORPUS = GOOD
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
SHAPE_RE = re.compile(r"<v:shape\b.*?</v:shape>", re.S)


# ------------------------------------------------------------------ a minimal wiring (W1 does this for real)
def apply_notes(src: Path, dest: Path, sheet: str, notes: list[SetNote], *, clear: bool = False) -> dict:
    """Merge `notes` into one sheet of a package (or clear the tool's notes), wiring the
    parts, rels and content types the way the file target must."""
    with open_package(src) as pkg:
        entry = pkg.sheet(sheet)
        part = entry.part
        sheet_xml = pkg.read(part)
        rels = pkg.rels(part)
        rp = rels_path(part)
        rels_xml = pkg.read(rp) if pkg.has(rp) else (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{NS_PKG_REL}"/>').encode()
        comments_rel = next((r for r in rels if r.type == RT_COMMENTS), None)
        rid = legacy_drawing_rid(sheet_xml)
        vml_rel = next((r for r in rels if r.id == rid), None)
        comments = pkg.read(comments_rel.target) if comments_rel else None
        vml = pkg.read(vml_rel.target) if vml_rel else None
        used = set()
        for name in pkg.names():
            if name.endswith(".vml"):
                used |= vml_blocks(pkg.read(name))
        res = merge_notes(comments, vml, notes, remove_all_tool=clear, vml_block=max(used, default=0) + 1)
        parts: dict[str, bytes] = {}
        ct = etree.fromstring(pkg.read("[Content_Types].xml"))
        rroot = etree.fromstring(rels_xml)
        ids = {r.get("Id") for r in rroot}

        def new_rel(rtype: str, target: str) -> str:
            n = 1
            while f"rIdX{n}" in ids:
                n += 1
            rid_new = f"rIdX{n}"
            ids.add(rid_new)
            etree.SubElement(rroot, f"{{{NS_PKG_REL}}}Relationship", Id=rid_new, Type=rtype,
                             Target=posixpath.relpath(target, posixpath.dirname(part)))
            return rid_new

        comments_part = comments_rel.target if comments_rel else f"xl/comments_xlp{entry.sheet_id}.xml"
        vml_part = vml_rel.target if vml_rel else f"xl/drawings/vmlDrawing_xlp{entry.sheet_id}.vml"
        if comments_rel is None:
            new_rel(RT_COMMENTS, comments_part)
            etree.SubElement(ct, f"{{{NS_CT}}}Override", PartName="/" + comments_part, ContentType=CT_COMMENTS)
        if vml_rel is None:
            rid = new_rel(RT_VML, vml_part)
            if not any(d.get("Extension", "").lower() == "vml" for d in ct):
                etree.SubElement(ct, f"{{{NS_CT}}}Default", Extension="vml", ContentType=CT_VML)
        parts[comments_part] = res.comments
        parts[vml_part] = res.vml
        parts[rp] = etree.tostring(rroot, xml_declaration=True, encoding="UTF-8", standalone=True)
        parts["[Content_Types].xml"] = etree.tostring(ct, xml_declaration=True, encoding="UTF-8", standalone=True)
        parts[part] = patch_sheet(sheet_xml, SheetEdits(legacy_drawing=rid), StyleBook(None)).xml
        names = set(pkg.names())
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, parts.pop(info.filename, zin.read(info.filename)))
        for name, data in parts.items():
            assert name not in names
            zout.writestr(name, data)
    return {"result": res, "vml_before": vml, "vml_part": vml_part, "comments_part": comments_part}


def notes_seen(path: Path, sheet: str) -> dict[str, tuple[str, str]]:
    ws = openpyxl.load_workbook(path)[sheet]
    return {c.coordinate: (c.comment.author, c.comment.text) for row in ws.iter_rows() for c in row if c.comment}


def free_cells(path: Path, sheet: str, n: int) -> list[tuple[int, int]]:
    with zipfile.ZipFile(path) as z, open_package(path) as pkg:
        part = pkg.sheet(sheet).part
        comments_rel = next((r for r in pkg.rels(part) if r.type == RT_COMMENTS), None)
        taken = comment_refs(z.read(comments_rel.target)) if comments_rel else set()
    return [(r, 30) for r in range(2, 100) if (r, 30) not in taken][:n]


def sheets_with_notes_or_controls(path: Path) -> list[str]:
    with open_package(path) as pkg:
        out = []
        for s in pkg.sheets:
            if s.kind == "worksheet" and legacy_drawing_rid(pkg.read(s.part)):
                out.append(s.name)
        return out


def corpus_files(limit_bytes: int = 1_000_000) -> list[str]:
    path = CORPUS / "MANIFEST.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return sorted(r["file"] for r in rows
                  if re.search(r"\b(comments|ctrlProps)\b", r["features"]) and int(r["size"]) < limit_bytes
                  and not openpyxl_is_slow(CORPUS / r["file"]))


def openpyxl_is_slow(path: Path) -> bool:
    """openpyxl takes minutes on a column style spanning all 16384 columns."""
    with zipfile.ZipFile(path) as z:
        return any(re.search(rb'<(?:x:)?col\b[^>]*max="16384"', z.read(n))
                   for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml"))


def check_merge(tmp_path: Path, name: str) -> None:
    src = CORPUS / name
    sheets = sheets_with_notes_or_controls(src)
    if not sheets:
        pytest.skip("no sheet with a legacy drawing")
    sheet = sheets[0]
    try:
        before = notes_seen(src, sheet)
    except Exception:
        pytest.skip("openpyxl cannot read the original")
    cells = free_cells(src, sheet, 2)
    notes = [SetNote(sheet, r, c, f"Budget must be a number\nhint {i} & <check>") for i, (r, c) in enumerate(cells)]
    out = tmp_path / ("noted" + src.suffix)
    info = apply_notes(src, out, sheet, notes)
    res = info["result"]
    assert res.added == cells
    after = notes_seen(out, sheet)
    for ref, seen in before.items():
        assert after[ref] == seen                                  # every old note kept as it was
    for n in notes:
        assert after[cell_ref(n.row, n.col)] == (TOOL_AUTHOR, n.text)
    old_vml = info["vml_before"].decode("utf-8", "surrogateescape")
    new_vml = res.vml.decode("utf-8", "surrogateescape")
    for shape in SHAPE_RE.findall(old_vml):                         # buttons, boxes, old notes: verbatim
        assert shape in new_vml
    ids = re.findall(r'\bid="(_x0000_s\d+)"', new_vml)
    assert len(ids) == len(set(ids)) and len(ids) == len(re.findall(r'\bid="_x0000_s\d+"', old_vml)) + len(notes)
    try:
        etree.fromstring(info["vml_before"])
    except etree.XMLSyntaxError:
        pass
    else:
        etree.fromstring(res.vml)                                   # well-formed stays well-formed
    # clear: old notes remain, the VML is back to its exact bytes
    cleared = tmp_path / ("cleared" + src.suffix)
    info2 = apply_notes(out, cleared, sheet, [], clear=True)
    assert sorted(info2["result"].removed) == sorted(cells)
    assert info2["result"].vml == info["vml_before"]
    assert notes_seen(cleared, sheet) == before


KEY_FILES = ["ClosedXML__ClosedXML.Tests_Resource_TryToLoad_CommentAndButton.xlsx",
             "poi__test-data_integration_stress002.xlsx",
             "poi__test-data_spreadsheet_right-to-left.xlsx",
             "XlsxWriter__xlsxwriter_test_comparison_xlsx_files_comment05.xlsx"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
@pytest.mark.parametrize("name", KEY_FILES)
def test_notes_merge_into_workbooks_with_comments_and_form_controls(tmp_path: Path, name: str) -> None:
    check_merge(tmp_path, name)


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
@pytest.mark.parametrize("name", [f for f in corpus_files() if f not in KEY_FILES])
def test_notes_merge_on_every_corpus_workbook_with_comments(tmp_path: Path, name: str) -> None:
    check_merge(tmp_path, name)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_form_controls_only_sheet_gets_a_comments_part(tmp_path: Path) -> None:
    src = CORPUS / "ClosedXML__ClosedXML.Tests_Resource_Other_Shapes_sheet-with-form-controls-input.xlsx"
    sheet = sheets_with_notes_or_controls(src)[0]
    out = tmp_path / "o.xlsx"
    info = apply_notes(src, out, sheet, [SetNote(sheet, 3, 2, "Check this")])
    assert notes_seen(out, sheet) == {"B3": (TOOL_AUTHOR, "Check this")}
    vml = info["result"].vml.decode()
    assert 'id="_x0000_t202"' in vml                      # the note shape type was added
    for shape in SHAPE_RE.findall(info["vml_before"].decode()):
        assert shape in vml


def test_fresh_notes_on_a_plan(tmp_path: Path) -> None:
    src = make_plan(tmp_path / "plan.xlsx")
    out = tmp_path / "noted.xlsx"
    notes = [SetNote("Plan", 3, 9, "XP101 budget is negative\nType a positive amount"),
             SetNote("Plan", 4, 2, "  leading spaces kept")]
    info = apply_notes(src, out, "Plan", notes)
    assert notes_seen(out, "Plan") == {"I3": (TOOL_AUTHOR, notes[0].text), "B4": (TOOL_AUTHOR, notes[1].text)}
    vml = info["result"].vml.decode()
    assert 'data="1"' in vml and re.findall(r'id="_x0000_s(\d+)"', vml) == ["1025", "1026"]
    assert "<x:Row>2</x:Row>" in vml and "<x:Column>8</x:Column>" in vml
    # re-run: the tool's note is replaced, not duplicated
    again = tmp_path / "again.xlsx"
    info2 = apply_notes(out, again, "Plan", [SetNote("Plan", 3, 9, "new text")])
    assert info2["result"].replaced == [(3, 9)] and info2["result"].vml == info["result"].vml
    assert notes_seen(again, "Plan")["I3"] == (TOOL_AUTHOR, "new text")
    # clear: no note left
    cleared = tmp_path / "cleared.xlsx"
    info3 = apply_notes(again, cleared, "Plan", [], clear=True)
    assert info3["result"].empty and notes_seen(cleared, "Plan") == {}
    assert "_x0000_s" not in info3["result"].vml.decode()


def test_a_users_note_is_never_replaced() -> None:
    comments, vml = merge_notes(None, None, [SetNote("S", 2, 2, "mine", author="Dana")]).comments, None
    res = merge_notes(comments, vml, [SetNote("S", 2, 2, "tool"), SetNote("S", 5, 5, "tool")],
                      remove={(2, 2)})
    assert res.skipped == [(2, 2)] and res.added == [(5, 5)] and res.removed == []
    assert comment_refs(res.comments, "Dana") == {(2, 2)}
    assert comment_refs(res.comments, TOOL_AUTHOR) == {(5, 5)}
    unchanged = merge_notes(res.comments, res.vml, [])
    assert unchanged.comments == res.comments and unchanged.vml == res.vml


@pytest.mark.slow
@pytest.mark.skipif(not libreoffice.available() or not CORPUS.is_dir(), reason="LibreOffice or corpus missing")
def test_libreoffice_opens_noted_workbooks(tmp_path: Path) -> None:
    outs = []
    src = make_plan(tmp_path / "plan.xlsx")
    outs.append(tmp_path / "noted_plan.xlsx")
    apply_notes(src, outs[-1], "Plan", [SetNote("Plan", 3, 9, "check")])
    corpus = CORPUS / KEY_FILES[0]
    sheet = sheets_with_notes_or_controls(corpus)[0]
    outs.append(tmp_path / "noted_buttons.xlsx")
    apply_notes(corpus, outs[-1], sheet, [SetNote(sheet, 3, 2, "check")])
    converted = libreoffice.convert(outs, tmp_path / "lo", to="xlsx")
    for out in outs:
        back = openpyxl.load_workbook(converted[out])
        texts = [c.comment.text for ws in back for row in ws.iter_rows() for c in row if c.comment]
        assert any("check" in t for t in texts), out.name
