"""Reading an OOXML (SpreadsheetML) package: parts, relationships, the sheet map.

Shared by the reader (Excel Table definitions, list validations, date system) and
the file writer.  Read-only: the writer builds its output from these pieces.
"""

from __future__ import annotations

import posixpath
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from xlplugin.errors import (
    DamagedWorkbook,
    EncryptedWorkbook,
    NotAWorkbook,
    UnreadableWorkbook,
    UnsafePackage,
)
from xlplugin.file.ooxml import guard

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
RT_OFFICE_DOC = NS_REL + "/officeDocument"
RT_WORKSHEET = NS_REL + "/worksheet"
RT_TABLE = NS_REL + "/table"
RT_STYLES = NS_REL + "/styles"
RT_SHARED_STRINGS = NS_REL + "/sharedStrings"
STRICT_OFFICE_DOC = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"

# Every part is parsed with this: no entity expansion, no network, libxml2's size and
# depth limits on (huge_tree off).  The door (guard.verify_members) has already refused
# any part that declares a DTD, so this is the second line, not the only one.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                         remove_blank_text=False)


def q(tag: str, ns: str = NS_MAIN) -> str:
    return f"{{{ns}}}{tag}"


def resolve(base_part: str, target: str) -> str:
    """Resolve a relationship target against the part that owns the .rels."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))


def rels_path(part: str) -> str:
    d, name = posixpath.split(part)
    return posixpath.join(d, "_rels", name + ".rels")


@dataclass
class Rel:
    id: str
    type: str
    target: str          # resolved part name (or external URL when external)
    external: bool = False


@dataclass
class SheetEntry:
    name: str
    sheet_id: str
    rid: str
    part: str            # resolved part name, "xl/worksheets/sheet1.xml"
    kind: str            # "worksheet", "chartsheet", "dialogsheet", "macrosheet", ...
    state: str = "visible"


@dataclass
class Package:
    """An opened workbook package.  Use as a context manager or call close()."""

    path: Path
    zf: zipfile.ZipFile
    workbook_part: str = "xl/workbook.xml"
    sheets: list[SheetEntry] = field(default_factory=list)
    date1904: bool = False
    strict: bool = False

    def names(self) -> list[str]:
        return self.zf.namelist()

    def has(self, part: str) -> bool:
        try:
            self.zf.getinfo(part)
            return True
        except KeyError:
            return False

    def read(self, part: str) -> bytes:
        try:
            return self.zf.read(part)
        except KeyError:
            raise DamagedWorkbook(f"missing part {part}", file=self.path.name) from None
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise DamagedWorkbook(f"damaged part {part} ({e})", file=self.path.name) from None

    def xml(self, part: str) -> etree._Element:
        return parse_xml(self.read(part), part, self.path.name)

    def rels(self, part: str) -> list[Rel]:
        rp = rels_path(part)
        if not self.has(rp):
            return []
        out = []
        for el in self.xml(rp):
            if not isinstance(el.tag, str):
                continue
            external = el.get("TargetMode") == "External"
            target = el.get("Target", "")
            out.append(Rel(el.get("Id", ""), el.get("Type", ""),
                           target if external else resolve(part, target), external))
        return out

    def sheet(self, name: str) -> SheetEntry:
        for s in self.sheets:
            if s.name == name:
                return s
        raise KeyError(name)

    def close(self) -> None:
        self.zf.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def parse_xml(data: bytes, part: str, file: str) -> etree._Element:
    """Parse one part with the hardened parser; a DTD is refused even if the door missed it."""
    try:
        root = etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError as e:
        raise DamagedWorkbook(f"malformed XML in {part} ({e})", file=file) from None
    if root.getroottree().docinfo.doctype:
        raise UnsafePackage(f"part {part} declares a DTD: entity expansion is refused", file=file)
    return root


_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")


def _refuse_non_zip(path: Path, head: bytes) -> None:
    name = path.name
    if not head:
        raise NotAWorkbook("empty file", file=name)
    if head.startswith(_CFB):
        # Office encrypts an .xlsx into a compound file holding an EncryptionInfo stream;
        # any other compound file is a legacy .xls (or .doc) under an .xlsx name.
        with open(path, "rb") as fh:
            directory = fh.read(1 << 20)
        if _ENCRYPTION_INFO in directory or b"E\x00n\x00c\x00r\x00y\x00p\x00t" in directory:
            raise EncryptedWorkbook("the workbook is password-protected (encrypted); "
                                    "remove the password in Excel and save again", file=name)
        raise NotAWorkbook("a legacy binary workbook (.xls), not .xlsx/.xlsm; "
                           "open it in Excel and save it as .xlsx", file=name)
    raise NotAWorkbook("not an Excel workbook (.xlsx/.xlsm): not a zip package", file=name)


def open_package(path: str | Path) -> Package:
    """Open a workbook package and read its sheet map.

    Raises UnreadableWorkbook or one of its kinds: NotAWorkbook, EncryptedWorkbook,
    DamagedWorkbook, UnsafePackage (see ooxml.guard for the limits at the door)."""
    path = Path(path)
    name = path.name
    if name.startswith("~$"):
        raise NotAWorkbook("this is an Excel lock file, not a workbook", file=name)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as e:
        raise UnreadableWorkbook(f"cannot open ({e.strerror or e})", file=name) from None
    if not head.startswith(b"PK"):
        _refuse_non_zip(path, head)
    try:
        with open(path, "rb") as fh:
            guard.check_directory(fh, name)
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, struct.error) as e:
        raise DamagedWorkbook(f"damaged zip package ({e})", file=name) from None
    try:
        infos = zf.infolist()
        guard.check_names(infos, name)
        guard.check_sizes(infos, name)
        with open(path, "rb") as fh:
            guard.verify_members(fh, infos, name)
        pkg = Package(path=path, zf=zf)
        _check_is_workbook(pkg)
        _read_sheet_map(pkg)
        _check_relationships(pkg)
    except UnreadableWorkbook:
        zf.close()
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error) as e:
        zf.close()
        raise DamagedWorkbook(f"damaged zip package ({e})", file=name) from None
    return pkg


def _check_is_workbook(pkg: Package) -> None:
    if not pkg.has("_rels/.rels"):
        names = pkg.names()
        if any(n.startswith("word/") for n in names) or any(n.startswith("ppt/") for n in names):
            raise NotAWorkbook("a Word or PowerPoint document, not an Excel workbook", file=pkg.path.name)
        if not pkg.has("[Content_Types].xml"):
            raise NotAWorkbook("a zip file, not an Excel workbook (no package relationships)",
                               file=pkg.path.name)
        raise DamagedWorkbook("the package has no relationships part (_rels/.rels)", file=pkg.path.name)


def _check_relationships(pkg: Package) -> None:
    rels: dict[str, list[tuple[str, str, str]]] = {}
    for part in pkg.names():
        if not part.endswith(".rels"):
            continue
        items = []
        for el in pkg.xml(part):
            if isinstance(el.tag, str) and el.get("TargetMode") != "External":
                items.append((el.get("Id", ""), el.get("Type", ""), el.get("Target", "")))
        rels[part] = items
    guard.check_relationships(set(pkg.names()), rels, pkg.path.name)


def _read_sheet_map(pkg: Package) -> None:
    root_rels = pkg.rels("")  # _rels/.rels
    wb = [r for r in root_rels if r.type in (RT_OFFICE_DOC, STRICT_OFFICE_DOC)]
    if not wb:
        names = pkg.names()
        if any(n.startswith(("word/", "ppt/")) for n in names):
            raise NotAWorkbook("a Word or PowerPoint document, not an Excel workbook", file=pkg.path.name)
        raise DamagedWorkbook("no workbook part in the package", file=pkg.path.name)
    pkg.workbook_part = wb[0].target
    pkg.strict = wb[0].type == STRICT_OFFICE_DOC
    root = pkg.xml(pkg.workbook_part)
    ns = root.nsmap.get(None, NS_MAIN)
    rel_ns = NS_REL if not pkg.strict else "http://purl.oclc.org/ooxml/officeDocument/relationships"
    pr = root.find(f"{{{ns}}}workbookPr")
    if pr is not None:
        pkg.date1904 = pr.get("date1904") in ("1", "true")
    by_id = {r.id: r for r in pkg.rels(pkg.workbook_part)}
    sheets = root.find(f"{{{ns}}}sheets")
    if sheets is None:
        raise DamagedWorkbook("workbook has no sheets", file=pkg.path.name)
    for s in sheets:
        if not isinstance(s.tag, str):
            continue
        rid = s.get(f"{{{rel_ns}}}id", "")
        rel = by_id.get(rid)
        if rel is None and not rid:
            # LibreOffice lists VBA modules of some .xlsm files as sheets with r:id="":
            # nothing to read there, so skip them rather than refuse the workbook.
            continue
        if rel is None:
            raise DamagedWorkbook(f"sheet {s.get('name')!r} points at a missing part",
                                     file=pkg.path.name)
        kind = rel.type.rsplit("/", 1)[-1]
        pkg.sheets.append(SheetEntry(s.get("name", ""), s.get("sheetId", ""), rid, rel.target,
                                     kind, s.get("state", "visible")))
