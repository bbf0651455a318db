"""Derive cell styles inside an existing ``xl/styles.xml`` without disturbing it.

The writer never rewrites a user's stylesheet: it appends the few fonts, fills,
borders, number formats and cell formats (``cellXfs/xf``) it needs and leaves
every existing entry where it is, so every ``s=`` index already in the workbook
keeps its meaning.  Unknown children, ``extLst`` (x14/x15) and the root's
namespace declarations (``mc:Ignorable`` prefixes included) survive because the
lxml tree is edited in place.  An unchanged book serialises to its input bytes.
"""

from __future__ import annotations

import copy
import re

from lxml import etree

from xlplugin.changes import Style
from xlplugin.errors import UnsupportedWorkbook
from xlplugin.file.ooxml.package import NS_MAIN, PARSER

# Built-in number formats that are locale-independent (ECMA-376 18.8.30).  Date
# formats 14-22 are left out on purpose: Excel shows them in the user's locale,
# so a requested 'yyyy-mm-dd' must become a custom format, not id 14.
BUILTIN_NUMFMTS: dict[str, int] = {
    "General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10,
    "0.00E+00": 11, "# ?/?": 12, "# ??/??": 13, "#,##0 ;(#,##0)": 37,
    "#,##0 ;[Red](#,##0)": 38, "#,##0.00;(#,##0.00)": 39, "#,##0.00;[Red](#,##0.00)": 40,
    "mm:ss": 45, "[h]:mm:ss": 46, "mmss.0": 47, "##0.0E+0": 48, "@": 49,
}
FIRST_CUSTOM_NUMFMT = 164

# CT_Stylesheet child order: a missing container is created at its schema position.
_SHEET_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles",
                "dxfs", "tableStyles", "colors", "extLst")
# CT_Font is a choice list, but Excel writes (and some readers expect) this order.
_FONT_ORDER = ("b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign",
               "sz", "color", "name", "family", "charset", "scheme")
_BORDER_ORDER = ("start", "left", "end", "right", "top", "bottom", "diagonal", "vertical",
                 "horizontal")
_XF_ORDER = ("alignment", "protection", "extLst")

_START_TAG = re.compile(rb"<[\w.:-]+(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
MINIMAL_STYLES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<fonts count="1"><font><sz val="11"/><color theme="1"/><name val="Calibri"/>'
    b'<family val="2"/><scheme val="minor"/></font></fonts>'
    b'<fills count="2"><fill><patternFill patternType="none"/></fill>'
    b'<fill><patternFill patternType="gray125"/></fill></fills>'
    b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    b'<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" '
    b'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
)


def _argb(rgb: str) -> str:
    """'ffc7ce' / '#FFC7CE' / 'FFFFC7CE' -> 'FFFFC7CE' (the ARGB form Excel writes)."""
    rgb = rgb.lstrip("#").upper()
    return rgb if len(rgb) == 8 else "FF" + rgb


def _key(el: etree._Element) -> tuple:
    """A comparable form of an element for deduplication, blind to prefixes and
    attribute order (Clark names, sorted attributes, text, children)."""
    kids = tuple(_key(c) for c in el if isinstance(c.tag, str))
    return (el.tag, tuple(sorted(el.attrib.items())), (el.text or "").strip(), kids)


class StyleBook:
    """The workbook's stylesheet, open for appending derived cell formats.

    >>> book = StyleBook(None)
    >>> i = book.derive(0, Style(fill="FFC7CE"))
    >>> book.changed, i
    (True, 1)
    """

    def __init__(self, styles_xml: bytes | None) -> None:
        self._orig = styles_xml
        data = styles_xml if styles_xml is not None else MINIMAL_STYLES
        try:
            self.root = etree.fromstring(data, PARSER)
        except etree.XMLSyntaxError as e:
            raise UnsupportedWorkbook(f"malformed xl/styles.xml ({e})") from None
        # Keep the input's own XML declaration (quotes, BOM, newline) when it has one.
        start = re.search(rb"<(?![?!])", data)
        self._prolog = data[:start.start()] if start and start.start() else _DECL
        tag = _START_TAG.match(data, start.start()) if start else None
        self._root_tag = tag.group(0) if tag else b""
        ns = etree.QName(self.root).namespace or NS_MAIN
        self._ns = ns
        self.changed = styles_xml is None
        self._cache: dict[tuple[int, Style], int] = {}
        self._keys: dict[tuple[str, str], dict[tuple, int]] = {}   # _append's index of each container

    # -- small tree helpers ---------------------------------------------------------
    def _q(self, tag: str) -> str:
        return f"{{{self._ns}}}{tag}"

    def _child(self, parent: etree._Element, tag: str, order: tuple[str, ...],
               create: bool = True) -> etree._Element | None:
        found = parent.find(self._q(tag))
        if found is not None or not create:
            return found
        el = etree.Element(self._q(tag))
        _insert_ordered(parent, el, order, self._ns)
        return el

    def _container(self, tag: str) -> etree._Element:
        el = self._child(self.root, tag, _SHEET_ORDER)
        assert el is not None
        return el

    def _items(self, container: str, item: str) -> list[etree._Element]:
        c = self.root.find(self._q(container))
        return [] if c is None else c.findall(self._q(item))

    def _append(self, container: str, item: etree._Element) -> int:
        """Append `item` to a container, or return the index of an identical entry."""
        c = self._container(container)
        # Entries are only ever appended (here), so each container's keys are computed once.
        index = self._keys.get((container, item.tag))
        if index is None:
            index = self._keys[(container, item.tag)] = {}
            for i, existing in enumerate(c.findall(item.tag)):
                index.setdefault(_key(existing), i)
        key = _key(item)
        if key in index:
            return index[key]
        n = len(c.findall(item.tag))
        c.append(item)
        c.set("count", str(n + 1))
        index[key] = n
        self.changed = True
        return n

    # -- public API -----------------------------------------------------------------
    @property
    def xf_count(self) -> int:
        return len(self._items("cellXfs", "xf"))

    def number_format(self, xf: int) -> str | None:
        """The format code of a cellXfs entry (None for General/unknown built-ins)."""
        xfs = self._items("cellXfs", "xf")
        if not 0 <= xf < len(xfs):
            return None
        fid = int(xfs[xf].get("numFmtId", "0"))
        for nf in self._items("numFmts", "numFmt"):
            if nf.get("numFmtId") == str(fid):
                return nf.get("formatCode")
        for code, i in BUILTIN_NUMFMTS.items():
            if i == fid and fid:
                return code
        return None

    def fill_rgb(self, xf: int) -> str | None:
        """The solid fill RGB of a cellXfs entry (for tests and diagnostics)."""
        xfs = self._items("cellXfs", "xf")
        fills = self._items("fills", "fill")
        if not 0 <= xf < len(xfs):
            return None
        fid = int(xfs[xf].get("fillId", "0"))
        if not 0 <= fid < len(fills):
            return None
        fg = fills[fid].find(f"{self._q('patternFill')}/{self._q('fgColor')}")
        return fg.get("rgb") if fg is not None else None

    def plain(self) -> int:
        """The base of the sheets xlplugin adds: cellXfs 0, less an alignment a template's
        Normal style carries (wrap and indent: a Summary's titles would wrap into their row).
        0 itself when it has none, so most workbooks gain no entry."""
        xfs = self._items("cellXfs", "xf")
        al = xfs[0].find(self._q("alignment")) if xfs else None
        if al is None or not al.attrib:
            return 0
        key = (-1, Style())
        if key not in self._cache:
            xf = copy.deepcopy(xfs[0])
            xf.remove(xf.find(self._q("alignment")))
            self._child(xf, "alignment", _XF_ORDER).set("horizontal", "general")
            xf.set("applyAlignment", "1")
            self._cache[key] = self._append("cellXfs", xf)
        return self._cache[key]

    def derive(self, base_xf: int, delta: Style) -> int:
        """The cellXfs index of `base_xf` with `delta` applied (appended if new).

        Existing entries are never changed; an identical request returns the same
        index; an existing identical xf is reused.
        """
        ck = (base_xf, delta)
        if ck in self._cache:
            return self._cache[ck]
        xfs = self._items("cellXfs", "xf")
        if not xfs:  # a stylesheet without cellXfs: give it the default entry first
            self._append("cellXfs", etree.Element(self._q("xf"), numFmtId="0", fontId="0",
                                                  fillId="0", borderId="0", xfId="0"))
            xfs = self._items("cellXfs", "xf")
        base = xfs[base_xf] if 0 <= base_xf < len(xfs) else xfs[0]
        xf = copy.deepcopy(base)
        if delta.number_format is not None:
            xf.set("numFmtId", str(self._numfmt_id(delta.number_format)))
            xf.set("applyNumberFormat", "1")
        if any(v is not None for v in (delta.bold, delta.italic, delta.font_color, delta.font_size)):
            xf.set("fontId", str(self._derive_font(int(base.get("fontId", "0")), delta)))
            xf.set("applyFont", "1")
        if delta.fill is not None:
            xf.set("fillId", str(self._solid_fill(delta.fill)))
            xf.set("applyFill", "1")
        if delta.border_bottom is not None:
            xf.set("borderId", str(self._derive_border(int(base.get("borderId", "0")),
                                                       delta.border_bottom)))
            xf.set("applyBorder", "1")
        if delta.wrap is not None or delta.halign is not None:
            al = self._child(xf, "alignment", _XF_ORDER)
            assert al is not None
            if delta.wrap is not None:
                if delta.wrap:
                    al.set("wrapText", "1")
                elif "wrapText" in al.attrib:
                    del al.attrib["wrapText"]
            if delta.halign is not None:
                al.set("horizontal", delta.halign)
            xf.set("applyAlignment", "1")
        idx = xfs.index(base) if _key(xf) == _key(base) else self._append("cellXfs", xf)
        self._cache[ck] = idx
        return idx

    def to_bytes(self) -> bytes:
        """The stylesheet part; the exact input bytes when nothing was derived."""
        if not self.changed and self._orig is not None:
            return self._orig
        body = etree.tostring(self.root, encoding="UTF-8")
        # lxml reorders the root's xmlns declarations; put the original start tag back
        # (the root itself is never edited) so a diff shows only the appended entries.
        tag = _START_TAG.match(body)
        if self._root_tag and tag and not self._root_tag.endswith(b"/>"):
            body = self._root_tag + body[tag.end():]
        return self._prolog + body

    # -- pieces -----------------------------------------------------------------------
    def _numfmt_id(self, code: str) -> int:
        if code in BUILTIN_NUMFMTS:
            return BUILTIN_NUMFMTS[code]
        existing = self._items("numFmts", "numFmt")
        used = set()
        for nf in existing:
            try:
                used.add(int(nf.get("numFmtId", "")))
            except ValueError:
                continue
            if nf.get("formatCode") == code:
                return int(nf.get("numFmtId", ""))
        new_id = max([FIRST_CUSTOM_NUMFMT - 1, *used]) + 1
        self._append("numFmts", etree.Element(self._q("numFmt"), numFmtId=str(new_id),
                                              formatCode=code))
        return new_id

    def _derive_font(self, font_id: int, d: Style) -> int:
        fonts = self._items("fonts", "font")
        font = copy.deepcopy(fonts[font_id]) if 0 <= font_id < len(fonts) else etree.Element(self._q("font"))
        for flag, tag in ((d.bold, "b"), (d.italic, "i")):
            if flag is None:
                continue
            old = font.find(self._q(tag))
            if old is not None:
                font.remove(old)
            if flag:
                _insert_ordered(font, etree.Element(self._q(tag)), _FONT_ORDER, self._ns)
        if d.font_size is not None:
            sz = self._child(font, "sz", _FONT_ORDER)
            assert sz is not None
            sz.set("val", f"{d.font_size:g}")
        if d.font_color is not None:
            old = font.find(self._q("color"))
            if old is not None:
                font.remove(old)
            _insert_ordered(font, etree.Element(self._q("color"), rgb=_argb(d.font_color)),
                            _FONT_ORDER, self._ns)
        return self._append("fonts", font)

    def _solid_fill(self, rgb: str) -> int:
        fill = etree.Element(self._q("fill"))
        pf = etree.SubElement(fill, self._q("patternFill"), patternType="solid")
        etree.SubElement(pf, self._q("fgColor"), rgb=_argb(rgb))
        etree.SubElement(pf, self._q("bgColor"), indexed="64")
        return self._append("fills", fill)

    def _derive_border(self, border_id: int, bottom: bool) -> int:
        borders = self._items("borders", "border")
        if 0 <= border_id < len(borders):
            border = copy.deepcopy(borders[border_id])
        else:
            border = etree.Element(self._q("border"))
        el = border.find(self._q("bottom"))
        if el is not None:
            border.remove(el)
        el = etree.Element(self._q("bottom"))
        if bottom:
            el.set("style", "thin")
            etree.SubElement(el, self._q("color"), indexed="64")
        _insert_ordered(border, el, _BORDER_ORDER, self._ns)
        return self._append("borders", border)


def _insert_ordered(parent: etree._Element, el: etree._Element, order: tuple[str, ...],
                    ns: str) -> None:
    """Insert `el` before the first child that the schema orders after it."""
    name = etree.QName(el).localname
    rank = order.index(name) if name in order else len(order)
    for i, child in enumerate(parent):
        if not isinstance(child.tag, str):
            continue
        q = etree.QName(child)
        if q.namespace == ns and q.localname in order and order.index(q.localname) > rank:
            parent.insert(i, el)
            return
    # Also keep new elements before a trailing extLst from another namespace (none expected).
    parent.append(el)
