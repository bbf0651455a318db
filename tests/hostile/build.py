"""Hostile workbooks generated from code: a real plan (XlsxWriter) changed at the zip level.

Every builder writes a new file and returns its path; big members are streamed through
zipfile so a 1 GB whitespace bomb never sits in memory.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

from tests.plan_factory import make_plan

BILLION_LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b"]>")
EXTERNAL_ENTITY = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def plan(path: Path, **kw) -> Path:
    return make_plan(path, **kw)


def members(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(path) as z:
        return [(i, z.read(i)) for i in z.infolist()]


def rewrite(src: Path, dest: Path,
            edit: Callable[[str, bytes], bytes | None] = lambda n, d: d,
            extra: Iterable[tuple[str, bytes]] = ()) -> Path:
    """Copy src's members to dest through `edit` (None drops one), then append `extra`.
    Names are written as given: duplicates and odd names included (that is the point)."""
    import warnings
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out, warnings.catch_warnings():
        warnings.simplefilter("ignore")          # "Duplicate name": wanted here
        for info, data in members(src):
            new = edit(info.filename, data)
            if new is not None:
                out.writestr(info.filename, new)
        for name, data in extra:
            out.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data,
                         zipfile.ZIP_DEFLATED if data else zipfile.ZIP_STORED)
    return dest


def insert_dtd(xml: bytes, dtd: bytes) -> bytes:
    """Put a DOCTYPE right after the XML declaration (or at the start)."""
    if xml.startswith(b"<?xml"):
        end = xml.index(b"?>") + 2
        return xml[:end] + b"\n" + dtd + xml[end:]
    return dtd + xml


def whitespace_bomb(src: Path, dest: Path, inflated: int = 1 << 30, where: bytes = b"<sheetData>") -> Path:
    """The plan sheet with `inflated` bytes of spaces inserted after `where`, deflated as it is
    written (about 1000:1): what a 2 GB bomb looks like, a few MB on disk."""
    sheet = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info, data in members(src):
            if info.filename != sheet:
                out.writestr(info.filename, data)
                continue
            cut = data.index(where) + len(where)
            zi = zipfile.ZipInfo(sheet, (1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            with out.open(zi, "w", force_zip64=True) as fh:
                fh.write(data[:cut])
                block = b" " * (16 << 20)
                left = inflated
                while left > 0:
                    fh.write(block[:left])
                    left -= len(block)
                fh.write(data[cut:])
    return dest


def _central_entry(data: bytearray, part: str) -> int:
    """Offset of `part`'s record in the central directory."""
    name = part.encode()
    i = data.find(b"PK\x01\x02")
    while i >= 0:
        n_len = struct.unpack_from("<H", data, i + 28)[0]
        if data[i + 46:i + 46 + n_len] == name:
            return i
        i = data.find(b"PK\x01\x02", i + 4)
    raise KeyError(part)


def lying_size(src: Path, dest: Path, part: str = "xl/worksheets/sheet1.xml", declared: int = 200) -> Path:
    """A member whose headers declare `declared` bytes (with the CRC of that many) while its
    data inflates to far more: both the local header and the central directory rewritten."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        info = z.getinfo(part)
        crc = zlib.crc32(z.read(part)[:declared])
    assert data[info.header_offset:info.header_offset + 4] == b"PK\x03\x04"
    struct.pack_into("<LLL", data, info.header_offset + 14, crc, info.compress_size, declared)
    struct.pack_into("<LLL", data, _central_entry(data, part) + 16, crc, info.compress_size, declared)
    dest.write_bytes(bytes(data))
    return dest


def declared_huge(src: Path, dest: Path, part: str = "xl/worksheets/sheet1.xml",
                  declared: int = 3 << 30) -> Path:
    """A member declaring 3 GB in the central directory (refused before anything inflates)."""
    data = bytearray(src.read_bytes())
    struct.pack_into("<L", data, _central_entry(data, part) + 24, declared)
    dest.write_bytes(bytes(data))
    return dest


def add_sheet(src: Path, dest: Path, name: str, body: Callable[[zipfile.ZipFile, str], None]) -> Path:
    """Add a worksheet named `name` whose part `body(zout, part_name)` streams in."""
    part = "xl/worksheets/sheet_extra.xml"

    def edit(n: str, d: bytes) -> bytes:
        if n == "[Content_Types].xml":
            return d.replace(b"</Types>", b'<Override PartName="/' + part.encode() + b'" ContentType='
                             b'"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        if n == "xl/_rels/workbook.xml.rels":
            return d.replace(b"</Relationships>", b'<Relationship Id="rIdX1" Type="http://schemas.openxmlformats.org/'
                             b'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet_extra.xml"/>'
                             b"</Relationships>")
        if n == "xl/workbook.xml":
            return d.replace(b"</sheets>", b'<sheet name="' + name.encode() + b'" sheetId="99" r:id="rIdX1"/></sheets>')
        return d

    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for info, data in members(src):
            out.writestr(info.filename, edit(info.filename, data))
        body(out, part)
    return dest


def million_rows(out: zipfile.ZipFile, part: str, rows: int = 1_048_576) -> None:
    """A sheet with a number in column A of every one of Excel's 1,048,576 rows."""
    zi = zipfile.ZipInfo(part, (1980, 1, 1, 0, 0, 0))
    zi.compress_type = zipfile.ZIP_DEFLATED
    with out.open(zi, "w", force_zip64=True) as fh:
        fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
                 b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:A%d"/>'
                 b"<sheetData>" % rows)
        step = 65536
        for start in range(1, rows + 1, step):
            fh.write(b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (r, r, r)
                              for r in range(start, min(start + step, rows + 1))))
        fh.write(b"</sheetData></worksheet>")


def local_name_mismatch(src: Path, dest: Path, part: str = "xl/styles.xml", other: str = "xl/stylez.xml") -> Path:
    """A member whose local header names another file than the central directory does:
    two readers of one package would see different parts (zip parser confusion)."""
    assert len(part) == len(other)
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        off = z.getinfo(part).header_offset
    assert data[off + 30:off + 30 + len(part)] == part.encode()
    data[off + 30:off + 30 + len(part)] = other.encode()
    dest.write_bytes(bytes(data))
    return dest
