"""Cells as runs of rows per column: the cells the tool created in a user's sheet.

A column the tool adds beside a 100k-row plan is one run, not 100,000 cells, and its
state record ("P2:P100001 Q4", the file target's "cells" format: pack_cells in
file/write/state.py) is written from the runs without visiting each cell.
"""

from __future__ import annotations

from collections.abc import Iterable

from xlplugin.model import cell_ref, split_ref

Runs = dict[int, list[tuple[int, int]]]          # col -> [(first row, last row), ...]


def from_cells(cells: Iterable[tuple[int, int]]) -> Runs:
    by_col: dict[int, list[int]] = {}
    for row, col in cells:
        by_col.setdefault(col, []).append(row)
    return {col: merged([(r, r) for r in rows]) for col, rows in by_col.items()}


def parse(text: str) -> Runs:
    """"P1:P9 Q4" -> {16: [(1, 9)], 17: [(4, 4)]} (unpack_cells, as runs)."""
    out: Runs = {}
    for part in text.split():
        a, _, b = part.partition(":")
        r1, col = split_ref(a)
        r2, _ = split_ref(b or a)
        out.setdefault(col, []).append((r1, r2))
    return out


def merged(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, with overlapping and adjacent runs joined."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(runs):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def union(*parts: Runs) -> Runs:
    out: Runs = {}
    for runs in parts:
        for col, rs in runs.items():
            out.setdefault(col, []).extend(rs)
    return {col: merged(rs) for col, rs in out.items() if rs}


def pack(runs: Runs) -> str:
    """The text pack_cells gives for the same cells: columns in order, rows ascending."""
    out = []
    for col in sorted(runs):
        for a, b in merged(runs[col]):
            out.append(cell_ref(a, col) if a == b else f"{cell_ref(a, col)}:{cell_ref(b, col)}")
    return " ".join(out)


def cells(runs: Runs) -> set[tuple[int, int]]:
    return {(r, col) for col, rs in runs.items() for a, b in rs for r in range(a, b + 1)}


def split(runs: list[tuple[int, int]], by: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """The rows of `runs` cut where `by` starts and ends: (first, last, inside `by`)."""
    out: list[tuple[int, int, bool]] = []
    by = merged(by)
    j = 0
    for a, b in merged(runs):
        while j < len(by) and by[j][1] < a:
            j += 1
        k, r = j, a
        while r <= b:
            if k < len(by) and by[k][0] <= r:            # inside by[k]
                end = min(b, by[k][1])
                out.append((r, end, True))
                k += 1
            else:
                end = min(b, by[k][0] - 1) if k < len(by) else b
                out.append((r, end, False))
            r = end + 1
    return out
