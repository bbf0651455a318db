"""Limits at the door: checks a zip package passes before any part of it is parsed.

Every check runs on the central directory or streams the members once, so time is
linear in the file and memory stays bounded however the file is shaped:

- entry names: absolute, `..`, duplicated, or equal but for case -> UnsafePackage;
- sizes: each part's inflated size, the total, and the compression ratio are capped,
  from the declared sizes and again *while inflating* (a member that inflates beyond
  what it declares is a bomb that lies);
- DTDs: `<!DOCTYPE` / `<!ENTITY` in any XML part (OPC forbids DTDs; entity expansion
  and external entities start there) -> UnsafePackage, so no parser ever sees one;
- CRC and truncation: -> DamagedWorkbook.

The relationship check (`check_relationships`) runs once the package is open.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from typing import BinaryIO
from urllib.parse import unquote

from xlplugin.errors import DamagedWorkbook, EncryptedWorkbook, UnsafePackage

MAX_PART_BYTES = 2 << 30        # one part, inflated (a full 1,048,576-row sheet fits)
MAX_TOTAL_BYTES = 4 << 30       # all parts together, inflated
MAX_RATIO = 400                 # inflated / compressed; real parts stay under ~130, deflate tops at ~1030
RATIO_FLOOR = 16 << 20          # the ratio is only judged for parts larger than this
MAX_MEMBERS = 100_000

_CHUNK = 1 << 20                # compressed bytes read at a time
_OUT = 8 << 20                  # inflated bytes produced at a time (memory bound)
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_MAX_PROLOG = 1 << 20           # bytes before an XML part's root element
_DRIVE = re.compile(r"^[A-Za-z]:")


_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
MAX_DIRECTORY_BYTES = 64 << 20   # the central directory zipfile would load into memory


def check_directory(fh: BinaryIO, file: str) -> None:
    """Before zipfile reads the central directory into memory (a ZipInfo per entry): refuse
    one declaring too many entries or too many bytes.  Reads only the file's tail."""
    fh.seek(0, 2)
    size = fh.tell()
    tail_len = min(size, (1 << 16) + _EOCD.size)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _EOCD.size > len(tail):
        return                      # not found: zipfile says "not a zip file" in its own words
    _, _, _, _, entries, cd_size, _, _ = _EOCD.unpack_from(tail, at)
    loc = at - _ZIP64_LOCATOR.size
    if loc >= 0 and tail[loc:loc + 4] == b"PK\x06\x07":
        _, _, offset, _ = _ZIP64_LOCATOR.unpack_from(tail, loc)
        if 0 <= offset <= size - _ZIP64_EOCD.size:
            fh.seek(offset)
            rec = fh.read(_ZIP64_EOCD.size)
            if rec[:4] == b"PK\x06\x06":
                fields = _ZIP64_EOCD.unpack(rec)
                entries, cd_size = fields[6], fields[7]
    if entries > MAX_MEMBERS:
        raise UnsafePackage(f"the package declares {entries} entries (limit {MAX_MEMBERS})", file=file)
    if cd_size > MAX_DIRECTORY_BYTES:
        raise UnsafePackage(f"the package's directory is {cd_size >> 20} MB (limit {MAX_DIRECTORY_BYTES >> 20} MB)",
                            file=file)


def check_names(infos: list[zipfile.ZipInfo], file: str) -> None:
    """Refuse entry names that could escape a folder or make two parts one."""
    if len(infos) > MAX_MEMBERS:
        raise UnsafePackage(f"the package holds {len(infos)} entries (limit {MAX_MEMBERS})", file=file)
    seen: dict[str, str] = {}
    for info in infos:
        name = info.orig_filename
        if not info.filename:
            raise DamagedWorkbook("an entry of the zip has an empty name", file=file)
        if "\x00" in name:
            raise UnsafePackage(f"entry name {name!r} contains a NUL character", file=file)
        if name.startswith(("/", "\\")) or _DRIVE.match(name):
            raise UnsafePackage(f"entry name {name!r} is an absolute path", file=file)
        if ".." in re.split(r"[/\\]", name):
            raise UnsafePackage(f"entry name {name!r} climbs out of the package (..)", file=file)
        key = name.lower()
        if key in seen:
            what = "appears twice" if seen[key] == name else f"differs only in case from {seen[key]!r}"
            raise UnsafePackage(f"entry name {name!r} {what}", file=file)
        seen[key] = name


def check_sizes(infos: list[zipfile.ZipInfo], file: str) -> None:
    """Refuse from the central directory what would inflate too far (cheap, before any read)."""
    total = 0
    for info in infos:
        _check_part_size(info.filename, info.file_size, info.compress_size, file)
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise UnsafePackage(f"the parts inflate to more than {MAX_TOTAL_BYTES >> 20} MB in all "
                                "(a zip bomb?)", file=file)
        if info.flag_bits & 0x1:
            raise EncryptedWorkbook(f"part {info.filename} is encrypted inside the zip", file=file)


def _check_part_size(name: str, size: int, compressed: int, file: str) -> None:
    if size > MAX_PART_BYTES:
        raise UnsafePackage(f"part {name} inflates to {size:,} bytes, over the {MAX_PART_BYTES >> 20} MB "
                            "limit for one part", file=file)
    if size > RATIO_FLOOR and size > MAX_RATIO * max(compressed, 1):
        raise UnsafePackage(f"part {name} inflates {size // max(compressed, 1)}:1 "
                            f"(limit {MAX_RATIO}:1; a zip bomb?)", file=file)


def verify_members(fh: BinaryIO, infos: list[zipfile.ZipInfo], file: str) -> None:
    """Inflate every member once, in bounded steps: CRC, declared size, ratio, and no DTD."""
    spans = []
    for info in infos:
        if info.is_dir():
            continue
        scan = info.filename.lower().endswith(_XML_SUFFIXES) or info.filename == "[Content_Types].xml"
        spans.append((info.header_offset, _verify_one(fh, info, file, scan), info.filename))
    # Entries sharing bytes are the "overlapping files" zip bomb (and a parser-confusion
    # trick): each member's local header and data must stand apart from the next.
    spans.sort()
    for (_, end, name), (start, _, other) in zip(spans, spans[1:], strict=False):
        if end > start:
            raise UnsafePackage(f"entries {name} and {other} overlap in the zip (a zip bomb?)", file=file)


def _verify_one(fh: BinaryIO, info: zipfile.ZipInfo, file: str, scan: bool) -> int:
    """Check one member; returns where its data ends in the file."""
    name = info.filename
    fh.seek(info.header_offset)
    head = fh.read(_LOCAL_HEADER.size)
    if len(head) != _LOCAL_HEADER.size or head[:4] != b"PK\x03\x04":
        raise DamagedWorkbook(f"damaged zip package (bad local header for {name})", file=file)
    fields = _LOCAL_HEADER.unpack(head)
    local_name = fh.read(fields[-2])
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if local_name.decode(encoding, "replace") != info.orig_filename:
        # Two names for one entry: readers that trust the local header see another file.
        raise UnsafePackage(f"entry {name!r} has another name in its local header "
                            f"({local_name.decode(encoding, 'replace')!r})", file=file)
    data_start = info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
    fh.seek(data_start)
    if info.compress_type == zipfile.ZIP_STORED:
        inflate = None
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflate = zlib.decompressobj(-15)
    else:
        raise DamagedWorkbook(f"part {name} uses an unsupported compression method "
                              f"({info.compress_type})", file=file)
    left = info.compress_size
    produced = 0
    crc = 0
    prolog = bytearray() if scan else None      # until the root element starts

    def take(out: bytes) -> None:
        nonlocal produced, crc, prolog
        produced += len(out)
        if produced > info.file_size:
            raise UnsafePackage(f"part {name} inflates beyond the {info.file_size} bytes it declares "
                                "(a zip bomb?)", file=file)
        crc = zlib.crc32(out, crc)
        if prolog is not None and out:
            prolog += out[:_MAX_PROLOG + 1 - len(prolog)]
            verdict = prolog_has_dtd(bytes(prolog))
            if verdict:
                raise UnsafePackage(f"part {name} declares a DTD (<!DOCTYPE): entity expansion "
                                    "and external entities are refused", file=file)
            if verdict is None and len(prolog) > _MAX_PROLOG:
                raise UnsafePackage(f"part {name} has more than {_MAX_PROLOG >> 20} MB before its "
                                    "first element", file=file)
            if verdict is False:
                prolog = None

    try:
        while left > 0:
            chunk = fh.read(min(_CHUNK, left))
            if not chunk:
                raise DamagedWorkbook(f"damaged zip package (part {name} is truncated)", file=file)
            left -= len(chunk)
            if inflate is None:
                take(chunk)
                continue
            data = chunk
            while data:
                take(inflate.decompress(data, _OUT))
                data = inflate.unconsumed_tail
                if inflate.eof:
                    break
            if inflate.eof:
                break
        if inflate is not None:
            while not inflate.eof and inflate.unconsumed_tail:
                take(inflate.decompress(inflate.unconsumed_tail, _OUT))
            take(inflate.flush())
    except zlib.error as e:
        raise DamagedWorkbook(f"damaged zip package (part {name}: {e})", file=file) from None
    if produced != info.file_size or crc != info.CRC:
        raise DamagedWorkbook(f"damaged zip package (bad CRC or size in {name})", file=file)
    return data_start + info.compress_size


def prolog_has_dtd(start: bytes) -> bool | None:
    """Does an XML document declare a DTD before its root element?

    A DTD (and with it every entity declaration) can only sit in the prolog, so only the
    prolog is read: True / False once decided, None when `start` ends before that."""
    if start.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in start[:2]:
        enc = "utf-16-le" if start.startswith(b"\xff\xfe") or start[1:2] == b"\x00" else "utf-16-be"
        text = start[:len(start) & ~1].decode(enc, "replace")
    else:
        text = start.decode("utf-8", "replace")
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n\ufeff":
            i += 1
        if n - i < 4:
            return None
        if text.startswith("<?", i):
            end, step = text.find("?>", i + 2), 2
        elif text.startswith("<!--", i):
            end, step = text.find("-->", i + 4), 3
        else:
            # "<!DOCTYPE" (anything else after "<!" here is not XML either); else the root
            return text.startswith("<!", i)
        if end < 0:
            return None
        i = end + step


def rel_target_part(owner_rels: str, target: str) -> str | None:
    """The part a relationship's internal Target names, or None for an in-document '#x' link."""
    target = target.split("#", 1)[0]
    if not target:
        return None
    if target.startswith("/"):
        return unquote(target.lstrip("/"))
    owner_dir = posixpath.dirname(posixpath.dirname(owner_rels))   # xl/_rels/x.rels -> xl
    return unquote(posixpath.normpath(posixpath.join(owner_dir, target)))


# Parts the writer drops or rebuilds anyway: a dangling relationship to them loses nothing.
_TOLERATED_MISSING = ("/calcChain",)


def check_relationships(names: set[str], rels: dict[str, list[tuple[str, str, str]]], file: str) -> None:
    """Refuse a package whose relationships climb out of it or name parts it lacks.

    `rels` maps each .rels part to its (id, type, Target) triples of internal relationships."""
    lower = {n.lower() for n in names}
    for owner, items in rels.items():
        for rid, rtype, target in items:
            part = rel_target_part(owner, target)
            if part is None:
                continue
            if part == ".." or part.startswith("../"):
                raise UnsafePackage(f"relationship {rid} in {owner} points outside the package "
                                    f"({target})", file=file)
            if part in names or part.lower() in lower:
                continue
            if rtype.endswith(_TOLERATED_MISSING):
                continue
            raise DamagedWorkbook(f"relationship {rid} in {owner} names a missing part {part}", file=file)
