"""MS-OVBA compression (section 2.4.1): the container VBA keeps module sources and `dir` in.

Written here because the packaged compressors are wrong (ms-ovba-compression 1.0.1 caps a
copy token's length at the wrong value and fails round trips on long modules, see
DESIGN.md).  Decompression is oletools' `decompress_stream`, which decodes correctly;
`compress` checks every result against it, so a compressor bug fails the build instead of
shipping a module Excel would read as garbage.
"""

from __future__ import annotations

from types import ModuleType

CHUNK = 4096
_MIN_MATCH = 3


def olevba() -> ModuleType:
    """oletools.olevba, imported quietly (it uses pyparsing names newer pyparsing deprecates);
    deferred because oletools is the `addin` extra."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from oletools import olevba as module
    return module


def decompress(data: bytes) -> bytes:
    """oletools' MS-OVBA decompressor."""
    return bytes(olevba().decompress_stream(bytearray(data)))


def _copy_token_layout(pos_in_chunk: int) -> tuple[int, int]:
    """(bit count of the offset, maximum length) of a copy token at this position
    (MS-OVBA 2.4.1.3.19.1 CopyToken Help)."""
    bit_count = max(4, (pos_in_chunk - 1).bit_length())
    return bit_count, (0xFFFF >> bit_count) + 3


def _compress_chunk(data: bytes) -> bytes:
    """One CompressedChunk (header + body) for up to 4096 bytes of `data`."""
    out = bytearray()
    heads: dict[bytes, list[int]] = {}       # 3-byte prefix -> earlier positions (hash chains)
    pos, n = 0, len(data)
    while pos < n:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= n:
                break
            best_len = best_off = 0
            if pos > 0 and pos + _MIN_MATCH <= n:
                bit_count, max_len = _copy_token_layout(pos)
                limit = min(max_len, n - pos)
                for cand in reversed(heads.get(data[pos:pos + 3], ())):
                    length = 3
                    while length < limit and data[cand + length] == data[pos + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_off = length, pos - cand
                        if length == limit:
                            break
            step = best_len if best_len >= _MIN_MATCH else 1
            if best_len >= _MIN_MATCH:
                token = ((best_off - 1) << (16 - bit_count)) | (best_len - 3)
                out += token.to_bytes(2, "little")
                flags |= 1 << bit
            else:
                out.append(data[pos])
            for p in range(pos, pos + step):  # index every position we pass
                if p + 3 <= n:
                    heads.setdefault(data[p:p + 3], []).append(p)
            pos += step
        out[flag_at] = flags
    if len(out) > CHUNK:
        # MS-OVBA's raw chunk holds exactly 4096 bytes; a shorter last chunk would be
        # padded with zeros that decompress back as text, so refuse rather than corrupt.
        if n != CHUNK:
            raise ValueError("an incompressible final chunk cannot be stored exactly")
        return (0x3000 | (CHUNK - 1)).to_bytes(2, "little") + data
    header = 0x8000 | 0x3000 | (len(out) + 2 - 3)
    return header.to_bytes(2, "little") + bytes(out)


def compress(data: bytes) -> bytes:
    """A CompressedContainer for `data`, verified by decompressing it again."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK):
        out += _compress_chunk(data[start:start + CHUNK])
    packed = bytes(out)
    if decompress(packed) != data:  # pragma: no cover - guards the hand-written compressor
        raise AssertionError("MS-OVBA compression did not round-trip through oletools")
    return packed
