"""Rewrite a compound file (MS-CFB v3) with some streams replaced by data of any size.

olefile reads compound files well but can only overwrite a stream with data of the same
length; pycfb 0.0.3 writes unused directory entries with zero links where MS-CFB wants
NOSTREAM, and the one writer on PyPI that rebuilds a file is AGPL.  So: olefile reads,
and this module lays the same directory out again.  Every directory entry keeps its
bytes (names, tree links, colours, CLSIDs, times) except where its stream starts and
how long it is, so the storage tree is exactly the one Excel wrote.  Deterministic: the
same input gives the same bytes.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import olefile

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREESECT, ENDOFCHAIN, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
_ENTRY = 128
_STREAM, _ROOT = 2, 5


@dataclass
class Entry:
    sid: int
    path: str          # "VBA/dir"; "" for the root
    kind: int          # 1 storage, 2 stream, 5 root, 0 unused
    raw: bytes         # the 128 bytes Excel wrote


class Compound:
    """A compound file's directory and stream contents, read with olefile."""

    def __init__(self, data: bytes) -> None:
        ole = olefile.OleFileIO(io.BytesIO(data))
        try:
            if ole.sectorsize != SECTOR:
                raise ValueError("only version 3 compound files (512-byte sectors) are supported")
            self.header = data[:SECTOR]
            raw_dir = self._chain(data, ole.fat, ole.first_dir_sector)
            paths = {ole.root.sid: ""}
            stack = [(ole.root, "")]
            while stack:
                node, prefix = stack.pop()
                for kid in node.kids:
                    paths[kid.sid] = f"{prefix}{kid.name}"
                    stack.append((kid, f"{prefix}{kid.name}/"))
            self.entries = [Entry(i, paths.get(i, ""), raw_dir[i * _ENTRY + 66],
                                  raw_dir[i * _ENTRY:(i + 1) * _ENTRY])
                            for i in range(len(raw_dir) // _ENTRY)]
            self.streams = {e.path: ole.openstream(e.path).read()
                            for e in self.entries if e.kind == _STREAM}
        finally:
            ole.close()

    @staticmethod
    def _chain(data: bytes, fat, start: int) -> bytes:
        out, sect, seen = bytearray(), start, set()
        while sect not in (ENDOFCHAIN, FREESECT) and sect not in seen:
            seen.add(sect)
            out += data[(sect + 1) * SECTOR:(sect + 2) * SECTOR]
            sect = fat[sect]
        return bytes(out)

    def to_bytes(self) -> bytes:
        """The compound file: header, FAT, directory, mini FAT, mini stream, big streams."""
        small = {p: d for p, d in self.streams.items() if len(d) < MINI_CUTOFF}
        big = {p: d for p, d in self.streams.items() if len(d) >= MINI_CUTOFF}

        # the mini stream and its FAT
        mini, minifat, where = bytearray(), [], {}
        for e in self.entries:
            if e.path in small and small[e.path]:
                d = small[e.path]
                n = -(-len(d) // MINI_SECTOR)
                where[e.path] = len(minifat)
                minifat += [len(minifat) + i + 1 for i in range(n - 1)] + [ENDOFCHAIN]
                mini += d + b"\0" * (n * MINI_SECTOR - len(d))

        def sectors(n_bytes: int) -> int:
            return -(-n_bytes // SECTOR)

        dir_bytes = b"".join(e.raw for e in self.entries)
        dir_bytes += b"" if len(dir_bytes) % SECTOR == 0 else _free_entries((SECTOR - len(dir_bytes) % SECTOR) // _ENTRY)
        runs = [("dir", sectors(len(dir_bytes))), ("minifat", sectors(len(minifat) * 4)),
                ("mini", sectors(len(mini)))]
        runs += [(p, sectors(len(big[p]))) for p in (e.path for e in self.entries) if p in big]
        body = sum(n for _, n in runs)
        n_fat = 1
        while n_fat * (SECTOR // 4) < n_fat + body:
            n_fat += 1
        if n_fat > 109:
            raise ValueError("compound file too large for a header-only DIFAT")

        fat: list[int] = [FATSECT] * n_fat
        start: dict[str, int] = {}
        for name, n in runs:
            start[name] = len(fat) if n else ENDOFCHAIN
            fat += [len(fat) + i + 1 for i in range(n - 1)] + ([ENDOFCHAIN] if n else [])
        fat += [FREESECT] * (n_fat * (SECTOR // 4) - len(fat))

        # directory entries: only the start sector and the size change
        entries = bytearray(dir_bytes)
        for e in self.entries:
            off = e.sid * _ENTRY
            if e.kind == _ROOT:
                first, size = start["mini"], len(mini)
            elif e.kind == _STREAM:
                d = self.streams[e.path]
                size = len(d)
                first = (where.get(e.path, ENDOFCHAIN) if e.path in small else start[e.path])
            else:
                continue
            struct.pack_into("<IQ", entries, off + 116, first if size else ENDOFCHAIN, size)

        header = bytearray(self.header)
        struct.pack_into("<I", header, 44, n_fat)
        struct.pack_into("<I", header, 48, start["dir"])
        struct.pack_into("<II", header, 60, start["minifat"], sectors(len(minifat) * 4))
        struct.pack_into("<II", header, 68, ENDOFCHAIN, 0)
        struct.pack_into("<109I", header, 76, *(list(range(n_fat)) + [FREESECT] * (109 - n_fat)))

        def pad(b: bytes, fill: bytes = b"\0") -> bytes:
            return b + fill * ((-len(b)) % SECTOR)

        out = bytearray(header)
        out += struct.pack(f"<{len(fat)}I", *fat)
        out += pad(bytes(entries))
        minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat)
        out += minifat_bytes + b"\xff" * ((-len(minifat_bytes)) % SECTOR)  # free mini sectors
        out += pad(bytes(mini))
        for name, _ in runs[3:]:
            out += pad(big[name])
        return bytes(out)


def _free_entries(n: int) -> bytes:
    """Unused directory entries: zeros, with NOSTREAM sibling and child links."""
    one = bytearray(_ENTRY)
    struct.pack_into("<III", one, 68, NOSTREAM, NOSTREAM, NOSTREAM)
    return bytes(one) * n


def tree_order_errors(data: bytes) -> list[str]:
    """Where a storage's children are not the red-black search tree MS-CFB requires
    (ordered by name length, then by upper-cased name): what strict readers reject."""
    ole = olefile.OleFileIO(io.BytesIO(data))
    try:
        errors = []
        def walk(sid: int, names: list[str], depth: int = 0) -> list[str]:
            if sid != NOSTREAM and depth < 512:
                d = ole.direntries[sid]
                walk(d.sid_left, names, depth + 1)
                names.append(d.name)
                walk(d.sid_right, names, depth + 1)
            return names

        for node in [ole.root, *[d for d in ole.direntries if d is not None and d.kids]]:
            names = walk(node.sid_child, [])
            keys = [(len(n), n.upper()) for n in names]
            if keys != sorted(keys) or len(set(keys)) != len(keys):
                errors.append(f"storage {node.name!r}: children out of order {names}")
        return errors
    finally:
        ole.close()
