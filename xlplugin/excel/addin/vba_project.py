"""The add-in's VBA project: an Excel-written project with its dispatcher module replaced.

What changes, and how (MS-OVBA):
- the dispatcher module's stream keeps its p-code prefix (MODULEOFFSET bytes, named in the
  `dir` stream) and gets the new compressed source after it; `_VBA_PROJECT` already says
  0xFFFF ("recompile from source"), so Excel rebuilds the p-code and ignores the stale one;
- the project's name, in the `dir` stream's PROJECTNAME record and the PROJECT stream;
- constants in other modules only by exact, whole-line replacement (xlwings' PROJECT_NAME,
  which names the add-in's config file).
Everything else (references, document modules, the storage tree) is kept byte for byte.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from xlplugin.excel.addin import ovba
from xlplugin.excel.addin.cfb import Compound

_PROJECTVERSION = 0x09    # its size field says 4 but 6 bytes follow
_PROJECTNAME = 0x04
_PROJECTCODEPAGE = 0x03
_MODULENAME = 0x19
_MODULESTREAMNAME = 0x1A
_MODULEOFFSET = 0x31
_MODULETYPE_PROCEDURAL = 0x21
_MODULETYPE_DOCUMENT = 0x22


@dataclass
class Module:
    name: str
    stream: str
    offset: int           # p-code bytes before the compressed source
    kind: str             # "standard" or "document/class"


def parse_dir(data: bytes) -> list[tuple[int, bytes]]:
    """The decompressed `dir` stream as (record id, payload) in file order."""
    out, i = [], 0
    while i < len(data):
        rid, size = struct.unpack_from("<HI", data, i)
        if rid == _PROJECTVERSION:
            size = 6
        out.append((rid, data[i + 6:i + 6 + size]))
        i += 6 + size
    return out


def build_dir(records: list[tuple[int, bytes]]) -> bytes:
    return b"".join(struct.pack("<HI", rid, 4 if rid == _PROJECTVERSION else len(body)) + body
                    for rid, body in records)


def codepage(records: list[tuple[int, bytes]]) -> str:
    cp = next(struct.unpack("<H", b)[0] for r, b in records if r == _PROJECTCODEPAGE)
    return f"cp{cp}"


def modules(records: list[tuple[int, bytes]]) -> list[Module]:
    enc = codepage(records)
    out: list[Module] = []
    for rid, body in records:
        if rid == _MODULENAME:
            out.append(Module(body.decode(enc), "", 0, "document/class"))
        elif rid == _MODULESTREAMNAME and out:
            out[-1].stream = body.decode(enc)
        elif rid == _MODULEOFFSET and out:
            out[-1].offset = struct.unpack("<I", body)[0]
        elif rid == _MODULETYPE_PROCEDURAL and out:
            out[-1].kind = "standard"
    return out


def project_name(records: list[tuple[int, bytes]]) -> str:
    return next(b for r, b in records if r == _PROJECTNAME).decode(codepage(records))


class VbaProject:
    """A vbaProject.bin to edit in place."""

    def __init__(self, data: bytes) -> None:
        self.cfb = Compound(data)
        self.records = parse_dir(ovba.decompress(self.cfb.streams["VBA/dir"]))
        self.encoding = codepage(self.records)

    @property
    def modules(self) -> list[Module]:
        return modules(self.records)

    def module(self, name: str) -> Module:
        for m in self.modules:
            if m.name == name:
                return m
        raise KeyError(f"no module {name!r} in the VBA project")

    def source(self, name: str) -> str:
        m = self.module(name)
        raw = self.cfb.streams[f"VBA/{m.stream}"][m.offset:]
        return ovba.decompress(raw).decode(self.encoding)

    def set_source(self, name: str, text: str) -> None:
        """Replace a module's source; keep its p-code prefix (its length is MODULEOFFSET)."""
        m = self.module(name)
        first = text.splitlines()[0] if text else ""
        if first != f'Attribute VB_Name = "{name}"':
            raise ValueError(f"the source of module {name} must start with Attribute VB_Name = \"{name}\"")
        key = f"VBA/{m.stream}"
        self.cfb.streams[key] = self.cfb.streams[key][:m.offset] + ovba.compress(text.encode(self.encoding))

    def replace_line(self, name: str, old: str, new: str) -> None:
        """Swap one whole line of a module (exactly one must match), keeping its line end
        (xlwings' module has LF ends where Excel writes CRLF: both are kept as found)."""
        lines = self.source(name).split("\n")
        hits = [i for i, line in enumerate(lines) if line.rstrip("\r") == old]
        if len(hits) != 1:
            raise ValueError(f"module {name}: expected one line {old!r}, found {len(hits)}")
        lines[hits[0]] = new + ("\r" if lines[hits[0]].endswith("\r") else "")
        self.set_source(name, "\n".join(lines))

    @property
    def name(self) -> str:
        return project_name(self.records)

    def rename(self, new: str) -> None:
        """The project's name, in `dir` (PROJECTNAME) and in the PROJECT stream."""
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,127}", new):
            raise ValueError(f"not a VBA project name: {new!r}")
        old = self.name
        self.records = [(r, new.encode(self.encoding) if r == _PROJECTNAME else b) for r, b in self.records]
        self.cfb.streams["VBA/dir"] = ovba.compress(build_dir(self.records))
        project = self.cfb.streams["PROJECT"]
        needle = f'Name="{old}"\r\n'.encode(self.encoding)
        if project.count(needle) != 1:
            raise ValueError("the PROJECT stream does not name the project once")
        self.cfb.streams["PROJECT"] = project.replace(needle, f'Name="{new}"\r\n'.encode(self.encoding))

    def to_bytes(self) -> bytes:
        return self.cfb.to_bytes()


def project_stream_modules(project: bytes, encoding: str) -> dict[str, str]:
    """Module names the PROJECT stream lists, with their kind (Module, Class, Document)."""
    out = {}
    for line in project.decode(encoding).split("\r\n"):
        if line.startswith("["):
            break
        key, _, value = line.partition("=")
        if key in ("Module", "Class", "BaseClass"):
            out[value] = key
        elif key == "Document":
            out[value.split("/")[0]] = key
    return out
