"""The ribbon (customUI14.xml): Microsoft's customUI schema, imageMso names, buttons.

The schema is Microsoft's customui14.xsd, vendored unchanged (templates/ribbon/schema/).
It re-declares some attributes a base type already carries (e.g. getEnabled on
CT_ButtonRegular), which .NET's validator tolerates and libxml2 rejects as a "duplicate
attribute use"; `schema()` drops each such redundant re-declaration in memory, which
changes nothing a document may contain.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lxml import etree

from xlplugin.excel.addin.package import ribbon_dir

NS = "http://schemas.microsoft.com/office/2009/07/customui"
_XSD = "http://www.w3.org/2001/XMLSchema"
_DUPLICATE = re.compile(r"complex type '(\w+)': Duplicate attribute use '(\w+)'")


@cache
def schema() -> etree.XMLSchema:
    doc = etree.parse(str(ribbon_dir() / "schema" / "customui14.xsd"))
    groups = {g.get("name"): {a.get("name") for a in g.iter(f"{{{_XSD}}}attribute")}
              for g in doc.getroot().findall(f"{{{_XSD}}}attributeGroup")}
    for _ in range(50):
        try:
            return etree.XMLSchema(doc)
        except etree.XMLSchemaParseError as e:
            m = _DUPLICATE.search(str(e))
            if not m:
                raise
            ctype, attr = m.groups()
            node = doc.getroot().find(f"{{{_XSD}}}complexType[@name='{ctype}']")
            ext = node.find(f".//{{{_XSD}}}extension")
            for child in ext:
                ref = child.get("ref")
                if (child.tag == f"{{{_XSD}}}attributeGroup" and attr in groups.get(ref, ())) or \
                        (child.tag == f"{{{_XSD}}}attribute" and child.get("name") == attr):
                    ext.remove(child)
                    break
            else:
                raise
    raise RuntimeError("customui14.xsd: too many duplicate attribute uses")


@cache
def known_image_mso() -> frozenset[str]:
    text = (ribbon_dir() / "schema" / "imageMso.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def problems(xml: bytes, commands: tuple[str, ...], callback: str) -> list[str]:
    """Everything wrong with a customUI part; empty when it is fine."""
    try:
        doc = etree.fromstring(xml)
    except etree.XMLSyntaxError as e:
        return [f"not well-formed XML: {e}"]
    out = []
    s = schema()
    if not s.validate(doc):
        out += [f"schema: line {err.line}: {err.message}" for err in s.error_log]
    ids = [el.get("id") for el in doc.iter() if el.get("id")]
    out += [f"id {i!r} is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    known = known_image_mso()
    for el in doc.iter(f"{{{NS}}}button"):
        label = el.get("id")
        if el.get("imageMso") and el.get("imageMso") not in known:
            out.append(f"button {label}: imageMso {el.get('imageMso')!r} is not a known Office icon")
        if el.get("onAction") != callback:
            out.append(f"button {label}: onAction is {el.get('onAction')!r}, not {callback}")
        if el.get("tag") not in commands:
            out.append(f"button {label}: tag {el.get('tag')!r} is not a command of xlplugin.excel")
        for attr in ("label", "screentip", "supertip"):
            if not el.get(attr):
                out.append(f"button {label}: no {attr}")
    return out


def buttons(xml: bytes) -> list[dict[str, str]]:
    return [dict(el.attrib) for el in etree.fromstring(xml).iter(f"{{{NS}}}button")]


def tab_groups(xml: bytes) -> list[tuple[str, list[str]]]:
    doc = etree.fromstring(xml)
    return [(g.get("label"), [b.get("tag") for b in g.iter(f"{{{NS}}}button")])
            for g in doc.iter(f"{{{NS}}}group")]


def path() -> Path:
    return ribbon_dir() / "customUI14.xml"
