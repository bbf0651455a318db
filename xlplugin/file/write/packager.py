"""The package layer of the file writer: read parts, edit them, write a new zip.

`PackageEdit` wraps an opened source package and records what changes: parts
replaced, added and removed, plus parsed XML trees that are serialised once at the
end, and only when they were touched.  `PackageEdit.write(dest)` writes the result
to a temporary file beside `dest` and renames it into place; every part nobody
touched is copied as its raw compressed zip member, so its bytes cannot change.
"""

from __future__ import annotations

import contextlib
import copy
import os
import posixpath
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from lxml import etree

from xlplugin.errors import OpenInExcel, UnsupportedWorkbook
from xlplugin.file.ooxml.package import NS_CT, NS_PKG_REL, PARSER, Package, rels_path

# Fixed timestamp for the members we write, so the same input gives the same output.
_NEW_MEMBER_TIME = (1980, 1, 1, 0, 0, 0)
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")


class PartStream:
    """A part's new bytes as chunks made on demand, so a 1M-row sheet goes into its zip
    entry a row window at a time instead of being held whole.  `chunks` is called once
    per use; to_bytes() (a reader wanting the part) joins them."""

    def __init__(self, chunks: Callable[[], Iterable[bytes | memoryview]], size_hint: int) -> None:
        self.chunks = chunks
        self.size_hint = size_hint        # about the size of the result (picks the deflate level)

    def to_bytes(self) -> bytes:
        return b"".join(self.chunks())


def lock_file(path: Path) -> Path:
    """Excel's owner file for an open workbook: `~$name.xlsx` beside it."""
    return path.with_name("~$" + path.name)


def check_not_open(dest: Path) -> None:
    """Refuse to write a workbook that Excel holds open (its lock file exists).  Excel
    names it `~$` + the file name; Office also uses `~$` + the name less its first two
    characters for long names, so both are looked for."""
    for lock in {lock_file(dest), dest.with_name("~$" + dest.name[2:])}:
        if len(lock.name) > 2 + len(dest.suffix) and lock.exists():
            raise OpenInExcel(f"the workbook is open in Excel (lock file {lock.name} found)",
                              file=str(dest))


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def relative_target(from_part: str, to_part: str) -> str:
    """Relationship target of `to_part` as seen from the part that owns the rels."""
    return posixpath.relpath(to_part, posixpath.dirname(from_part) or ".")


class Rels:
    """A part's relationships, editable.  Targets are stored as written (relative)."""

    def __init__(self, edit: PackageEdit, owner: str) -> None:
        self.edit = edit
        self.owner = owner
        self.part = rels_path(owner)
        if edit.has(self.part):
            self.root = edit.tree(self.part)
        else:
            self.root = etree.Element(f"{{{NS_PKG_REL}}}Relationships", nsmap={None: NS_PKG_REL})
            self.edit.trees[self.part] = self.root

    def items(self) -> list[etree._Element]:
        return [el for el in self.root if isinstance(el.tag, str)]

    def target_part(self, el: etree._Element) -> str | None:
        if el.get("TargetMode") == "External":
            return None
        from xlplugin.file.ooxml.package import resolve
        return resolve(self.owner, el.get("Target", ""))

    def add(self, rel_type: str, part: str) -> str:
        used = {el.get("Id") for el in self.items()}
        n = len(used) + 1
        while f"rId{n}" in used:
            n += 1
        rid = f"rId{n}"
        etree.SubElement(self.root, f"{{{NS_PKG_REL}}}Relationship",
                         Id=rid, Type=rel_type, Target=relative_target(self.owner, part))
        self.edit.touch(self.part)
        return rid

    def remove(self, rid: str) -> None:
        for el in self.items():
            if el.get("Id") == rid:
                self.root.remove(el)
                self.edit.touch(self.part)

    def by_type(self, rel_type: str) -> list[etree._Element]:
        return [el for el in self.items() if el.get("Type") == rel_type]


class PackageEdit:
    """The source package plus the edits made to it."""

    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        self.parts: dict[str, bytes | PartStream | None] = {}      # new bytes; None = removed
        self.trees: dict[str, etree._Element] = {}
        self.dirty: set[str] = set()
        self.keep_empty: set[str] = set()             # rels parts kept even when emptied
        self._source = set(pkg.names())

    # -- reading ---------------------------------------------------------------
    def has(self, part: str) -> bool:
        if part in self.trees and part not in self.parts:
            return True
        if part in self.parts:
            return self.parts[part] is not None
        return part in self._source

    def read(self, part: str) -> bytes:
        if part in self.trees and part in self.dirty:
            return serialize(self.trees[part])
        if part in self.parts:
            data = self.parts[part]
            if data is None:
                raise KeyError(part)
            return data.to_bytes() if isinstance(data, PartStream) else data
        return self.pkg.read(part)

    def tree(self, part: str) -> etree._Element:
        """Parsed XML of a part, cached; call touch() after changing it."""
        if part not in self.trees:
            try:
                self.trees[part] = etree.fromstring(self.read(part), PARSER)
            except etree.XMLSyntaxError as e:
                raise UnsupportedWorkbook(f"malformed XML in {part} ({e})",
                                          file=self.pkg.path.name) from None
        return self.trees[part]

    def rels(self, owner: str) -> Rels:
        return Rels(self, owner)

    def in_source(self, part: str) -> bool:
        return part in self._source

    # -- editing ---------------------------------------------------------------
    def touch(self, part: str) -> None:
        self.dirty.add(part)
        self.parts.pop(part, None)

    def set(self, part: str, data: bytes | PartStream) -> None:
        self.trees.pop(part, None)
        self.dirty.discard(part)
        self.parts[part] = data

    def remove(self, part: str) -> None:
        self.trees.pop(part, None)
        self.dirty.discard(part)
        self.parts[part] = None

    def new_name(self, pattern: str) -> str:
        """First unused part name for a pattern like 'xl/charts/chart{}.xml'."""
        n = 1
        while self.has(pattern.format(n)):
            n += 1
        name = pattern.format(n)
        self.parts.setdefault(name, b"")  # reserve it until set() fills it
        return name

    def remove_tree(self, part: str, keep: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """Remove a part, its rels, and every internal part only it reaches (recursively).

        Used for the tool's own parts (a sheet it made, with its drawing and charts).
        A part something else still points at (an image Excel shares between
        drawings, say) stays, as do parts in `keep`."""
        referrers = self._referrers()
        removed: list[str] = []
        stack = [part]
        while stack:
            p = stack.pop()
            if p in keep or not self.has(p) or p in removed:
                continue
            if p != part and referrers.get(p, set()) - {rels_path(r) for r in removed} - {rels_path(p)}:
                continue
            rp = rels_path(p)
            if self.has(rp):
                rels = self.rels(p)
                for el in rels.items():
                    target = rels.target_part(el)
                    if target and target not in keep:
                        stack.append(target)
                self.remove(rp)
            self.remove(p)
            removed.append(p)
        return removed

    def _referrers(self) -> dict[str, set[str]]:
        """part -> the rels parts that point at it (current state of the package)."""
        names = set(self._source) | {n for n, d in self.parts.items() if d is not None} | set(self.trees)
        out: dict[str, set[str]] = {}
        for rp in names:
            if not rp.endswith(".rels") or not self.has(rp):
                continue
            d, _, base = rp.rpartition("_rels/")
            owner = d + base[:-len(".rels")]
            try:
                rels = self.rels(owner)
            except UnsupportedWorkbook:
                continue
            for el in rels.items():
                target = rels.target_part(el)
                if target:
                    out.setdefault(target, set()).add(rp)
        return out

    # -- content types ---------------------------------------------------------
    def content_types(self) -> etree._Element:
        return self.tree("[Content_Types].xml")

    def add_override(self, part: str, content_type: str) -> None:
        ct = self.content_types()
        name = "/" + part
        for el in ct:
            if isinstance(el.tag, str) and el.get("PartName") == name:
                if el.get("ContentType") != content_type:
                    el.set("ContentType", content_type)
                    self.touch("[Content_Types].xml")
                return
        etree.SubElement(ct, f"{{{NS_CT}}}Override", PartName=name, ContentType=content_type)
        self.touch("[Content_Types].xml")

    def remove_override(self, part: str) -> None:
        """Drop a part's Override now (finished_parts also sweeps those of removed parts)."""
        ct = self.content_types()
        name = "/" + part
        for el in list(ct):
            if isinstance(el.tag, str) and el.get("PartName", "").lower() == name.lower():
                ct.remove(el)
                self.touch("[Content_Types].xml")

    def _sweep_overrides(self) -> None:
        """Remove Overrides of parts that end up absent.  Done at the end, so a part
        removed and re-created (a replaced sheet's chart) keeps its entry's place."""
        gone = {"/" + p.lower() for p, data in self.parts.items() if data is None}
        if not gone or not self.has("[Content_Types].xml"):
            return
        ct = self.content_types()
        for el in list(ct):
            if isinstance(el.tag, str) and el.get("PartName", "").lower() in gone:
                ct.remove(el)
                self.touch("[Content_Types].xml")

    def ensure_default(self, ext: str, content_type: str) -> None:
        ct = self.content_types()
        for el in ct:
            if isinstance(el.tag, str) and el.get("Extension", "").lower() == ext.lower():
                return
        # Defaults come before Overrides by convention.
        el = etree.Element(f"{{{NS_CT}}}Default", Extension=ext, ContentType=content_type)
        ct.insert(0, el)
        self.touch("[Content_Types].xml")

    # -- writing ---------------------------------------------------------------
    def finished_parts(self) -> dict[str, bytes | PartStream | None]:
        self._sweep_overrides()
        out = dict(self.parts)
        for part in sorted(self.dirty):   # sorted: the same input gives the same member order
            if part in self.trees:
                root = self.trees[part]
                if part.endswith(".rels") and not len(root) and part not in self.keep_empty:
                    # rels we emptied (the tool's notes or drawing went away): drop the part
                    if part in self._source:
                        out[part] = None
                    continue
                out[part] = serialize(root)
        # Parts reserved by new_name() but never filled are dropped.
        return {k: v for k, v in out.items() if not (isinstance(v, bytes) and v == b"" and k not in self._source)}

    def write(self, dest: Path) -> None:
        """Write the edited package to dest via a temporary file and os.replace."""
        write_package(self.pkg, dest, self.finished_parts())


def _raw_member(fh, info: zipfile.ZipInfo) -> bytes:
    """The compressed bytes of a zip member, as stored."""
    fh.seek(info.header_offset)
    header = fh.read(_LOCAL_HEADER.size)
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_len, extra_len = fields[-2], fields[-1]
    fh.seek(info.header_offset + _LOCAL_HEADER.size + name_len + extra_len)
    data = fh.read(info.compress_size)
    if len(data) != info.compress_size:
        raise zipfile.BadZipFile(f"truncated member {info.filename}")
    return data


def _copy_raw(zout: zipfile.ZipFile, info: zipfile.ZipInfo, raw: bytes) -> None:
    """Append a member's compressed bytes unchanged (CRC and sizes are the source's).

    zipfile has no public API for this; the steps mirror ZipFile.write's own."""
    zinfo = copy.copy(info)
    zinfo.flag_bits &= ~0x08                   # sizes are known: no data descriptor
    zinfo.extra = zipfile._strip_extra(info.extra, (1,))  # zip64 field is re-added if needed
    zinfo.header_offset = zout.fp.tell()
    zip64 = zinfo.file_size > zipfile.ZIP64_LIMIT or zinfo.compress_size > zipfile.ZIP64_LIMIT
    zout._writecheck(zinfo)
    zout._didModify = True
    zout.fp.write(zinfo.FileHeader(zip64))
    zout.fp.write(raw)
    zout.filelist.append(zinfo)
    zout.NameToInfo[zinfo.filename] = zinfo
    zout.start_dir = zout.fp.tell()


def write_package(pkg: Package, dest: Path, changed: dict[str, bytes | PartStream | None]) -> None:
    """Write pkg with `changed` applied (bytes = new content, None = drop) to dest.

    Untouched members keep their compressed bytes; changed ones keep their position;
    new ones are appended.  All or nothing: a temp file in dest's folder, then rename."""
    dest = Path(dest)
    check_not_open(dest)
    # ".tmp", not dest's suffix: a file left by a killed run is never taken for a workbook
    # by the next run over the folder.
    fd, tmp = tempfile.mkstemp(prefix=".~xlplugin-", suffix=dest.suffix + ".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(pkg.path, "rb") as src, \
                zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zout:
            seen = set()
            for info in pkg.zf.infolist():
                name = info.filename
                if name in seen:
                    continue                     # duplicate member names: keep the first
                seen.add(name)
                if name in changed:
                    data = changed[name]
                    if data is not None:
                        _write_new(zout, name, data)
                    continue
                try:
                    _copy_raw(zout, info, _raw_member(src, info))
                except (zipfile.BadZipFile, struct.error, NotImplementedError):
                    # Odd member layout: recompress the same uncompressed bytes instead.
                    zi = copy.copy(info)
                    zi.flag_bits &= ~0x08
                    zout.writestr(zi, pkg.zf.read(info))
            for name, data in changed.items():
                if name not in seen and data is not None:
                    _write_new(zout, name, data)
            zout.close()
            out.flush()
            os.fsync(out.fileno())           # on disk before the rename makes it the workbook
        pkg.close()  # Windows cannot replace a file that is still open (the --in-place case)
        with contextlib.suppress(OSError):
            if dest.exists():
                os.chmod(tmp, os.stat(dest).st_mode & 0o777)
            else:
                os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# Deflate level for a large new part (a patched 100k-row sheet is ~150 MB of XML): level 1
# compresses it in 0.64 s CPU to 24.9 MB, level 6 (zlib's default) in 1.76 s to 19.1 MB
# (benchmarks/RESULTS.md).  Small parts keep level 6: there the time is nothing.
FAST_LEVEL = 1
FAST_LEVEL_ABOVE = 1 << 20
_WRITE_BLOCK = 1 << 20


def _write_new(zout: zipfile.ZipFile, name: str, data: bytes | PartStream) -> None:
    zi = zipfile.ZipInfo(name, date_time=_NEW_MEMBER_TIME)
    zi.compress_type = zipfile.ZIP_DEFLATED
    zi.external_attr = 0o600 << 16
    if isinstance(data, bytes):
        zout.writestr(zi, data, compresslevel=FAST_LEVEL if len(data) > FAST_LEVEL_ABOVE else 6)
        return
    # What writestr does, fed chunk by chunk (zlib's output does not depend on how the
    # input is cut, so the member's bytes are the same as writestr's).
    # what writestr(compresslevel=...) sets (Python 3.13 keeps _compresslevel as an alias)
    zi._compresslevel = FAST_LEVEL if data.size_hint > FAST_LEVEL_ABOVE else 6   # type: ignore[attr-defined]
    with zout.open(zi, "w", force_zip64=data.size_hint * 1.05 > zipfile.ZIP64_LIMIT) as f:
        # Row-sized chunks joined to about 1 MB first: zipfile's write costs ~8 µs a call
        # (CRC, compressor, bookkeeping), 1.7 s for the 195k chunks of a 100k-row sheet.
        buf: list[bytes] = []
        size = 0
        for chunk in data.chunks():
            buf.append(chunk)
            size += len(chunk)
            if size >= _WRITE_BLOCK:
                f.write(b"".join(buf))
                buf, size = [], 0
        if buf:
            f.write(b"".join(buf))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
