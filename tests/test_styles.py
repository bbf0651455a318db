"""StyleBook: derive styles inside real Excel stylesheets without disturbing them."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from lxml import etree

from tests.corpus import GOOD
from xlplugin.changes import Style
from xlplugin.file.write.styles import StyleBook

CORPUS = GOOD
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def corpus_styles() -> list[tuple[str, bytes]]:
    out = []
    if not CORPUS.is_dir():
        return out
    for p in sorted(CORPUS.glob("*.xls[xm]")):
        try:
            with zipfile.ZipFile(p) as z:
                if "xl/styles.xml" in z.namelist():
                    out.append((p.name, z.read("xl/styles.xml")))
        except zipfile.BadZipFile:
            continue
    return out


def probe_workbook(styles_xml: bytes, indices: list[int]) -> openpyxl.Workbook:
    """A one-sheet workbook whose cell A<k> has s=indices[k-1], around `styles_xml`."""
    cells = "".join(f'<row r="{k}"><c r="A{k}" s="{i}"><v>1</v></c></row>' for k, i in enumerate(indices, 1))
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            "</Relationships>"),
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>{cells}</sheetData></worksheet>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in parts.items():
            z.writestr(name, text)
        z.writestr("xl/styles.xml", styles_xml)
    buf.seek(0)
    return openpyxl.load_workbook(buf)


def look(cell) -> tuple:
    """What a user sees of a cell's style, as openpyxl reads it."""
    return (cell.number_format, repr(cell.fill), repr(cell.font), repr(cell.border), repr(cell.alignment),
            repr(cell.protection))


def xf_count(xml: bytes) -> int:
    root = etree.fromstring(xml)
    xfs = root.find(f"{{{MAIN}}}cellXfs")
    return 0 if xfs is None else len(xfs)


DELTAS = [Style(fill="FFC7CE"), Style(number_format="0.0%"), Style(bold=True),
          Style(number_format="yyyy-mm-dd", fill="FFEB9C", bold=True, halign="center", wrap=True,
                border_bottom=True, font_color="1F4E79", font_size=12)]


def check_derived(styles_xml: bytes) -> None:
    """Derive every delta on xf 0 and on the last xf; openpyxl must see the deltas on the
    new indices and exactly the old looks on every old index."""
    n = xf_count(styles_xml)
    bases = sorted({0, max(n - 1, 0)})
    book = StyleBook(styles_xml)
    new = {(b, d): book.derive(b, d) for b in bases for d in DELTAS}
    out = book.to_bytes()
    assert book.changed
    etree.fromstring(out)  # well-formed
    old_idx = list(range(min(n, 400)))
    before = probe_workbook(styles_xml, old_idx).active
    after_idx = old_idx + list(new.values())
    after = probe_workbook(out, after_idx).active
    for k in range(1, len(old_idx) + 1):
        assert look(after.cell(k, 1)) == look(before.cell(k, 1)), f"xf {old_idx[k - 1]} changed"
    for j, (b, d) in enumerate(new):
        base = look(before.cell(old_idx.index(b) + 1, 1)) if b in old_idx else None
        got = after.cell(len(old_idx) + j + 1, 1)
        if d.fill:
            assert got.fill.fill_type == "solid" and got.fill.fgColor.rgb == "FF" + d.fill
        if d.number_format:
            assert got.number_format == d.number_format
        if d.bold:
            assert got.font.b
        if d.halign:
            assert got.alignment.horizontal == "center" and got.alignment.wrap_text
            assert got.border.bottom.style == "thin" and got.font.sz == 12
            assert got.font.color.rgb == "FF1F4E79"
        if d == Style(bold=True) and base is not None:  # everything but the font kept from the base
            mine = look(got)
            assert mine[:2] == base[:2] and mine[3:] == base[3:]
        if d == Style(fill="FFC7CE") and base is not None:
            mine = look(got)
            assert mine[0] == base[0] and mine[2:] == base[2:]


def test_minimal_stylesheet_when_the_package_has_none() -> None:
    book = StyleBook(None)
    red = book.derive(0, Style(fill="FFC7CE"))
    pct = book.derive(0, Style(number_format="0.0%"))
    assert (red, pct) == (1, 2) and book.changed
    ws = probe_workbook(book.to_bytes(), [0, red, pct]).active
    assert ws["A2"].fill.fgColor.rgb == "FFFFC7CE" and ws["A3"].number_format == "0.0%"
    assert ws["A1"].fill.fill_type is None


def test_identical_requests_are_deduplicated_and_custom_numfmt_ids_unique() -> None:
    book = StyleBook(None)
    a = book.derive(0, Style(number_format="yyyy-mm-dd", bold=True))
    b = book.derive(0, Style(number_format="yyyy-mm-dd", bold=True))
    c = book.derive(0, Style(number_format="#,##0.00 \"EUR\""))
    assert a == b != c
    again = StyleBook(book.to_bytes())   # a second run over the output adds nothing
    assert again.derive(0, Style(number_format="yyyy-mm-dd", bold=True)) == a
    assert not again.changed
    root = etree.fromstring(book.to_bytes())
    ids = [int(e.get("numFmtId")) for e in root.iter(f"{{{MAIN}}}numFmt")]
    assert ids == sorted(set(ids)) and min(ids) >= 164
    assert StyleBook(None).derive(0, Style(number_format="0.00%")) == 1  # built-in id 10, one new xf
    assert etree.fromstring(StyleBook(None).to_bytes()) is not None


def test_a_style_that_changes_nothing_reuses_the_base_index() -> None:
    book = StyleBook(None)
    red = book.derive(0, Style(fill="FFC7CE"))
    assert book.derive(red, Style(fill="FFC7CE")) == red


@needs_corpus
def test_unchanged_round_trip_is_byte_identical_on_every_corpus_stylesheet() -> None:
    styles = corpus_styles()
    assert len(styles) > 200
    for name, xml in styles:
        book = StyleBook(xml)
        assert book.to_bytes() == xml, name
        assert not book.changed


@needs_corpus
def test_derive_keeps_extlst_and_ignorable_namespaces() -> None:
    for name, xml in corpus_styles():
        if b"mc:Ignorable" not in xml or b"<extLst" not in xml:
            continue
        book = StyleBook(xml)
        book.derive(0, Style(fill="FFC7CE", number_format="0.0%"))
        out = book.to_bytes()
        root_at = xml.index(b"<styleSheet")
        head_in = xml[root_at:xml.index(b">", root_at) + 1]
        assert out.startswith(xml[:xml.index(b"<styleSheet")]), name      # the same XML declaration
        assert head_in in out, name                                       # root tag with every xmlns
        def ext(x: bytes) -> bytes:    # compared canonically: lxml may reorder xmlns declarations
            return etree.tostring(etree.fromstring(x).find(f"{{{MAIN}}}extLst"), method="c14n")
        assert ext(out) == ext(xml), name
        return
    pytest.skip("no stylesheet with mc:Ignorable and extLst in the corpus")


@needs_corpus
@pytest.mark.parametrize("name", ["ClosedXML__ClosedXML.Tests_Resource_TryToLoad_CommentAndButton.xlsx",
                                  "poi__test-data_spreadsheet_StructuredRefs-lots-with-lookups.xlsx",
                                  "poi__test-data_integration_stress002.xlsx"])
def test_derived_styles_read_back_in_openpyxl(name: str) -> None:
    with zipfile.ZipFile(CORPUS / name) as z:
        check_derived(z.read("xl/styles.xml"))


@needs_corpus
@pytest.mark.slow
def test_derived_styles_read_back_in_openpyxl_on_every_corpus_stylesheet() -> None:
    failures, checked = [], 0
    for name, xml in corpus_styles():
        try:
            probe_workbook(xml, [0])
        except Exception:        # a stylesheet openpyxl itself cannot read (strict, odd): not ours to judge
            continue
        try:
            check_derived(xml)
            checked += 1
        except AssertionError as e:
            failures.append(f"{name}: {e}")
    assert checked > 200 and not failures, failures[:5]
