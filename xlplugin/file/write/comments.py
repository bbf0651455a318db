"""Notes (legacy comments): ``xl/commentsN.xml`` plus the sheet's ``vmlDrawingN.vml``.

A note needs two parts: the text lives in the comments part, the (hidden) yellow
box in the sheet's VML drawing, which it shares with form controls.  Both are
merged, never rebuilt: existing notes, authors and VML shapes (buttons, check
boxes, other people's notes) keep their bytes; the VML is edited as text because
Excel's VML is not reliably well-formed XML.  A note replaces an existing note on
the same cell only when that note is the tool's (author ``xlplugin``); a user's
note wins and the tool's is skipped (reported in NotesResult.skipped).

W1 wires the parts: the sheet rels get RT_COMMENTS and RT_VML relationships, the
sheet gets ``<legacyDrawing r:id>`` pointing at the VML (sheet_patch does that),
``[Content_Types].xml`` gets an Override for the comments part (CT_COMMENTS) and a
Default for the ``vml`` extension (CT_VML) when missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from xlplugin.changes import TOOL_AUTHOR, SetNote
from xlplugin.errors import UnsupportedWorkbook
from xlplugin.file.ooxml.package import NS_MAIN, NS_REL, PARSER
from xlplugin.model import cell_ref, split_ref

RT_COMMENTS = NS_REL + "/comments"
RT_VML = NS_REL + "/vmlDrawing"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"   # as <Default Extension="vml">
VML_SHAPES_PER_BLOCK = 1024   # o:idmap data=N owns shape ids N*1024 .. N*1024+1023

_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_XESC = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

NOTE_SHAPETYPE = (
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202"\r\n'
    '  path="m,l,21600r21600,l21600,xe">\r\n'
    '  <v:stroke joinstyle="miter"/>\r\n'
    '  <v:path gradientshapeok="t" o:connecttype="rect"/>\r\n'
    ' </v:shapetype>'
)


@dataclass
class NotesResult:
    comments: bytes
    vml: bytes
    added: list[tuple[int, int]] = field(default_factory=list)
    replaced: list[tuple[int, int]] = field(default_factory=list)
    removed: list[tuple[int, int]] = field(default_factory=list)
    skipped: list[tuple[int, int]] = field(default_factory=list)   # a user's note is already there
    empty: bool = False          # no note left: W1 may drop both parts and the legacyDrawing


def _ooxml_text(s: str) -> str:
    """OOXML's _xHHHH_ escape for control characters (XML cannot carry them)."""
    return _CTRL.sub(lambda m: f"_x{ord(m.group()):04X}_", _XESC.sub(r"_x005F_\1", s))


def vml_blocks(vml_xml: bytes) -> set[int]:
    """The o:idmap blocks a VML drawing uses (shape ids block*1024 + n)."""
    out: set[int] = set()
    for m in re.finditer(rb"idmap\b[^>]*?\sdata\s*=\s*[\"']([^\"']*)[\"']", vml_xml):
        out |= {int(x) for x in re.findall(rb"\d+", m.group(1))}
    return out


def comment_refs(comments_xml: bytes, author: str | None = None) -> set[tuple[int, int]]:
    """Cells holding a note (optionally only `author`'s)."""
    root = etree.fromstring(comments_xml, PARSER)
    ns = etree.QName(root).namespace or NS_MAIN
    authors = [a.text or "" for a in root.iter(f"{{{ns}}}author")]
    out = set()
    for c in root.iter(f"{{{ns}}}comment"):
        aid = int(c.get("authorId", "0"))
        if author is None or (0 <= aid < len(authors) and authors[aid] == author):
            out.add(split_ref(c.get("ref", "A1").split(":")[0]))
    return out


# ------------------------------------------------------------------ comments part
def _new_comments() -> etree._Element:
    root = etree.Element(f"{{{NS_MAIN}}}comments", nsmap={None: NS_MAIN})
    etree.SubElement(root, f"{{{NS_MAIN}}}authors")
    etree.SubElement(root, f"{{{NS_MAIN}}}commentList")
    return root


def _set_text(comment: etree._Element, ns: str, text: str) -> None:
    for old in comment.findall(f"{{{ns}}}text"):
        comment.remove(old)
    t = etree.Element(f"{{{ns}}}text")
    r = etree.SubElement(t, f"{{{ns}}}r")
    rpr = etree.SubElement(r, f"{{{ns}}}rPr")
    etree.SubElement(rpr, f"{{{ns}}}sz", val="9")
    etree.SubElement(rpr, f"{{{ns}}}color", indexed="81")
    etree.SubElement(rpr, f"{{{ns}}}rFont", val="Tahoma")
    etree.SubElement(rpr, f"{{{ns}}}family", val="2")
    te = etree.SubElement(r, f"{{{ns}}}t")
    te.text = _ooxml_text(text)
    te.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    comment.insert(0, t)   # CT_Comment: text, commentPr


# ------------------------------------------------------------------ VML part
def _vml_shape(shape_id: int, row: int, col: int, z: int) -> str:
    r0, c0 = row - 1, col - 1
    top = max(r0 - 1, 0)
    anchor = f"{c0 + 1}, 15, {top}, {10 if r0 else 2}, {c0 + 3}, 15, {top + 4}, 16"
    return (
        f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" style=\'position:absolute;\r\n'
        f"  margin-left:{(c0 + 1) * 48 + 11.25:g}pt;margin-top:{max(r0 * 15 - 7.5, 1.5):g}pt;"
        f"width:144pt;height:79.5pt;z-index:{z};\r\n"
        "  visibility:hidden' fillcolor=\"#ffffe1\" o:insetmode=\"auto\">\r\n"
        '  <v:fill color2="#ffffe1"/>\r\n'
        '  <v:shadow on="t" color="black" obscured="t"/>\r\n'
        '  <v:path o:connecttype="none"/>\r\n'
        "  <v:textbox style='mso-direction-alt:auto'>\r\n"
        "   <div style='text-align:left'></div>\r\n"
        "  </v:textbox>\r\n"
        '  <x:ClientData ObjectType="Note">\r\n'
        "   <x:MoveWithCells/>\r\n"
        "   <x:SizeWithCells/>\r\n"
        f"   <x:Anchor>\r\n    {anchor}</x:Anchor>\r\n"
        "   <x:AutoFill>False</x:AutoFill>\r\n"
        f"   <x:Row>{r0}</x:Row>\r\n"
        f"   <x:Column>{c0}</x:Column>\r\n"
        "  </x:ClientData>\r\n"
        " </v:shape>"
    )


def _new_vml(block: int) -> str:
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml"\r\n'
        ' xmlns:o="urn:schemas-microsoft-com:office:office"\r\n'
        ' xmlns:x="urn:schemas-microsoft-com:office:excel">\r\n'
        ' <o:shapelayout v:ext="edit">\r\n'
        f'  <o:idmap v:ext="edit" data="{block}"/>\r\n'
        " </o:shapelayout>" + NOTE_SHAPETYPE + "</xml>"
    )


_SHAPE_RE = re.compile(r"<v:shape\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(?:/>|>.*?</v:shape>)\s*", re.S)


def _note_cell(shape: str) -> tuple[int, int] | None:
    if not re.search(r"ObjectType\s*=\s*[\"']Note[\"']", shape):
        return None
    r = re.search(r"<x:Row>\s*(\d+)\s*</x:Row>", shape)
    c = re.search(r"<x:Column>\s*(\d+)\s*</x:Column>", shape)
    return (int(r.group(1)) + 1, int(c.group(1)) + 1) if r and c else None


def _edit_vml(vml: str, add: list[tuple[int, int]], remove: set[tuple[int, int]], block: int) -> str:
    if remove:
        vml = _SHAPE_RE.sub(lambda m: "" if _note_cell(m.group(0)) in remove else m.group(0), vml)
        # The note shape type the tool added next to form controls goes with the last note.
        if "#_x0000_t202" not in vml and NOTE_SHAPETYPE in vml:
            vml = vml.replace(NOTE_SHAPETYPE, "", 1)
    if not add:
        return vml
    if "</xml>" not in vml:
        raise UnsupportedWorkbook("the sheet's VML drawing is not in a form the writer knows")
    ids = [int(x) for x in re.findall(r"_x0000_s(\d+)", vml)]
    blocks = vml_blocks(vml.encode()) or {block}
    next_id = max([min(blocks) * VML_SHAPES_PER_BLOCK, *ids]) + 1
    z = len(re.findall(r"<v:shape\b", vml)) + 1
    new = []
    if 'id="_x0000_t202"' not in vml:
        new.append(NOTE_SHAPETYPE)
    for i, (row, col) in enumerate(add):
        new.append(_vml_shape(next_id + i, row, col, z + i))
    if next_id + len(add) - 1 >= (max(blocks) + 1) * VML_SHAPES_PER_BLOCK:
        raise UnsupportedWorkbook("too many notes on one sheet for its VML drawing (over 1023)")
    pos = vml.rfind("</xml>")
    return vml[:pos] + "".join(new) + vml[pos:]


# ------------------------------------------------------------------ public API
def merge_notes(comments_xml: bytes | None, vml_xml: bytes | None, notes: Iterable[SetNote],
                remove: Iterable[tuple[int, int]] = (), *, remove_all_tool: bool = False,
                tool_author: str = TOOL_AUTHOR, vml_block: int = 1) -> NotesResult:
    """Add `notes` and remove the tool's notes at `remove` (or all of them).

    `vml_block`: the o:idmap block for a *new* VML part; use one no other sheet's
    drawing uses (see vml_blocks).  Unchanged input comes back byte for byte.
    """
    notes = list(notes)
    remove = set(remove)
    if comments_xml is not None:
        root = etree.fromstring(comments_xml, PARSER)
        start = re.search(rb"<(?![?!])", comments_xml)
        prolog = comments_xml[:start.start()] if start and start.start() else _DECL
    else:
        root, prolog = _new_comments(), _DECL
    ns = etree.QName(root).namespace or NS_MAIN
    authors_el = root.find(f"{{{ns}}}authors")
    if authors_el is None:
        authors_el = etree.Element(f"{{{ns}}}authors")
        root.insert(0, authors_el)
    clist = root.find(f"{{{ns}}}commentList")
    if clist is None:
        clist = etree.Element(f"{{{ns}}}commentList")
        authors_el.addnext(clist)
    authors = [a.text or "" for a in authors_el.findall(f"{{{ns}}}author")]
    by_cell: dict[tuple[int, int], etree._Element] = {}
    for c in clist.findall(f"{{{ns}}}comment"):
        try:
            by_cell[split_ref(c.get("ref", "").split(":")[0])] = c
        except ValueError:
            continue

    def is_tool(c: etree._Element) -> bool:
        aid = int(c.get("authorId", "-1"))
        return 0 <= aid < len(authors) and authors[aid] == tool_author

    res = NotesResult(b"", b"")
    for cell, c in list(by_cell.items()):
        if is_tool(c) and (remove_all_tool or cell in remove):
            clist.remove(c)
            del by_cell[cell]
            res.removed.append(cell)

    def author_id(name: str) -> int:
        if name not in authors:
            etree.SubElement(authors_el, f"{{{ns}}}author").text = name
            authors.append(name)
        return authors.index(name)

    new_shapes: list[tuple[int, int]] = []
    for n in notes:
        cell = (n.row, n.col)
        old = by_cell.get(cell)
        if old is not None and not is_tool(old):
            res.skipped.append(cell)
            continue
        if old is not None:
            old.set("authorId", str(author_id(n.author)))
            _set_text(old, ns, n.text)
            res.replaced.append(cell)
            continue
        c = etree.SubElement(clist, f"{{{ns}}}comment", ref=cell_ref(n.row, n.col),
                             authorId=str(author_id(n.author)), shapeId="0")
        _set_text(c, ns, n.text)
        by_cell[cell] = c
        new_shapes.append(cell)
        res.added.append(cell)

    # Drop the tool's author entry when it is the last one and nobody uses it any more,
    # so clearing every tool note gives back the original part.
    if res.removed and tool_author in authors and authors[-1] == tool_author:
        tid = str(len(authors) - 1)
        if not any(c.get("authorId") == tid for c in by_cell.values()):
            authors_el.remove(authors_el.findall(f"{{{ns}}}author")[-1])
            authors.pop()
    changed = bool(res.added or res.replaced or res.removed) or comments_xml is None
    res.comments = (prolog + etree.tostring(root, encoding="UTF-8")) if changed else comments_xml  # type: ignore[assignment]
    removed_cells = set(res.removed)
    if vml_xml is None:
        vml = _edit_vml(_new_vml(vml_block), new_shapes, set(), vml_block)
        res.vml = vml.encode()
    elif new_shapes or removed_cells:
        text = vml_xml.decode("utf-8", errors="surrogateescape")
        res.vml = _edit_vml(text, new_shapes, removed_cells, vml_block).encode("utf-8", errors="surrogateescape")
    else:
        res.vml = vml_xml
    res.empty = not by_cell
    return res


def add_notes(comments_xml: bytes | None, vml_xml: bytes | None, notes: list[SetNote],
              remove: set[tuple[int, int]] = frozenset()) -> tuple[bytes, bytes]:  # type: ignore[assignment]
    """(comments part, VML part) with `notes` added and the tool's notes at `remove` gone."""
    r = merge_notes(comments_xml, vml_xml, notes, remove)
    return r.comments, r.vml
