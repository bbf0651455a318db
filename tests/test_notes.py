"""Notes (legacy comments) merged into real workbooks: old notes, form controls and
threaded comments survive; the tool's notes are replaced on re-run and removed on clear."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from tests import libreoffice
from tests.corpus import GOOD
from tests.plan_factory import make_plan
from xlplugin.changes import TOOL_AUTHOR, ChangeList, ClearMarks, SetNote
from xlplugin.errors import UnsupportedWorkbook
from xlplugin.file.ooxml.package import open_package
from xlplugin.file.write import apply_to_file
from xlplugin.file.write.comments import (
    RT_COMMENTS,
    comment_refs,
    merge_notes,
)
from xlplugin.file.write.sheet_patch import legacy_drawing_rid
from xlplugin.model import cell_ref

CORPUS = GOOD
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
SHAPE_RE = re.compile(r"<v:shape\b.*?</v:shape>", re.S)


# ------------------------------------------------------------------ the production path
def _note_parts(path: Path, sheet: str) -> tuple[bytes | None, bytes | None]:
    """The sheet's notes parts as stored: (comments XML, VML of its legacyDrawing)."""
    with open_package(path) as pkg:
        part = pkg.sheet(sheet).part
        rels = pkg.rels(part)
        comments = next((r.target for r in rels if r.type == RT_COMMENTS), None)
        rid = legacy_drawing_rid(pkg.read(part))
        vml = next((r.target for r in rels if r.id == rid), None)
        return (pkg.read(comments) if comments and pkg.has(comments) else None,
                pkg.read(vml) if vml and pkg.has(vml) else None)


def _canonical(xml: bytes | None) -> bytes | None:
    return etree.tostring(etree.fromstring(xml), method="c14n") if xml is not None else None


def apply_notes(src: Path, dest: Path, sheet: str, notes: list[SetNote], *, clear: bool = False) -> dict:
    """Notes through the writer the CLI uses (apply_to_file): the change list of a run
    (ClearMarks first, then the notes) or of `xlplugin clear`."""
    comments_before, vml_before = _note_parts(src, sheet)
    changes = [ClearMarks(everything=True)] if clear else [ClearMarks(), *notes]
    apply_to_file(src, dest, ChangeList(changes))
    comments, vml = _note_parts(dest, sheet)
    return {"vml_before": vml_before, "vml": vml, "comments_before": comments_before, "comments": comments}


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
    with open_package(src) as pkg:
        strict = pkg.strict
    if strict:   # openpyxl reads a Strict file as empty; the writer refuses it, in one line
        out = tmp_path / ("noted" + src.suffix)
        with pytest.raises(UnsupportedWorkbook, match="Strict Open XML workbooks are not supported"):
            apply_notes(src, out, sheet, [SetNote(sheet, 2, 30, "x")])
        assert not out.exists()
        return
    before = notes_seen(src, sheet)
    cells = free_cells(src, sheet, 2)
    notes = [SetNote(sheet, r, c, f"Budget must be a number\nhint {i} & <check>") for i, (r, c) in enumerate(cells)]
    out = tmp_path / ("noted" + src.suffix)
    info = apply_notes(src, out, sheet, notes)
    after = notes_seen(out, sheet)
    for ref, seen in before.items():
        assert after[ref] == seen                                  # every old note kept as it was
    for n in notes:
        assert after[cell_ref(n.row, n.col)] == (TOOL_AUTHOR, n.text)
    old_vml = info["vml_before"].decode("utf-8", "surrogateescape")
    new_vml = info["vml"].decode("utf-8", "surrogateescape")
    for shape in SHAPE_RE.findall(old_vml):                         # buttons, boxes, old notes: verbatim
        assert shape in new_vml
    ids = re.findall(r'\bid="(_x0000_s\d+)"', new_vml)
    assert len(ids) == len(set(ids)) and len(ids) == len(re.findall(r'\bid="_x0000_s\d+"', old_vml)) + len(notes)
    try:
        etree.fromstring(info["vml_before"])
    except etree.XMLSyntaxError:
        pass
    else:
        etree.fromstring(info["vml"])                               # well-formed stays well-formed
    # clear: old notes remain, the notes parts are back to their exact bytes
    cleared = tmp_path / ("cleared" + src.suffix)
    info2 = apply_notes(out, cleared, sheet, [], clear=True)
    assert info2["vml"] == info["vml_before"]
    # the comments part is re-serialised when the tool's notes leave it: same content
    # (XML reads "\r\n" in text as "\n", so only that may differ in bytes)
    assert _canonical(info2["comments"]) == _canonical(info["comments_before"])
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
    vml = info["vml"].decode()
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
    vml = info["vml"].decode()
    assert 'data="1"' in vml and re.findall(r'id="_x0000_s(\d+)"', vml) == ["1025", "1026"]
    assert "<x:Row>2</x:Row>" in vml and "<x:Column>8</x:Column>" in vml
    # re-run: the tool's notes are replaced, not duplicated
    again = tmp_path / "again.xlsx"
    apply_notes(out, again, "Plan", [SetNote("Plan", 3, 9, "new text")])
    assert notes_seen(again, "Plan") == {"I3": (TOOL_AUTHOR, "new text")}
    # clear: no note left, and no notes parts either (the plan had none)
    cleared = tmp_path / "cleared.xlsx"
    info3 = apply_notes(again, cleared, "Plan", [], clear=True)
    assert notes_seen(cleared, "Plan") == {}
    assert info3["vml"] is None and info3["comments"] is None
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(cleared) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())


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
