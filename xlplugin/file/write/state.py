"""The tool's memory, stored inside the workbook so it travels with the file.

It lives in a worksheet named `xlplugin_state` with state="veryHidden" (not
listed in Excel's Unhide dialog; a custom package part might trigger Excel's
repair prompt, a hidden sheet never does).  Layout, one record per row:

    A: kind     B: sheet      C..: JSON object (split over C, D, ... when longer
                                   than CHUNK characters; concatenate to read)
    row 1 is a header: kind | sheet | data  (and A1's note says what this is)

Kinds and their JSON:
    version     {"version": 1}
    sheet       {}                             sheet B is the tool's (ReplaceSheet)
    mark        {"ref": "E7", "s": "12"|null}  original style index of a marked cell
    note        {"ref": "E7"}                  a note the tool wrote
    cells       {"refs": "P1:P9 Q4", "rows": "12:14"}  cells the tool created in a user
                                               sheet (column runs), rows it created
    table       {"table": "Plan", "part": "xl/tables/table1.xml", "columns": [..]}
    validation  {"sqref": "K3:K40"}            a dropdown the tool added
    overwritten {"cells": {"P7": "<c r=..>"}}  user cells the tool wrote over, as they were
    dimension   {"ref": "A1:N6"|null}          a user sheet's <dimension> before the tool wrote
    cols        {"raw": "<cols>..</cols>"|null} a user sheet's <cols> before SetColumnWidth
    notes_parts {"comments": true, "vml": true} note parts the tool created for a sheet
    name        {"name": "_xlplugin_columns", "local": null}
    patch       {...}                          anything else sheet_patch reports

Cells are inline strings when we write them; Excel turns them into shared strings
when it saves, so reading accepts both.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from lxml import etree

from xlplugin.file.ooxml.package import NS_MAIN, PARSER
from xlplugin.file.write.new_sheet import cell_xml
from xlplugin.model import cell_ref, col_letter, split_ref

STATE_SHEET = "xlplugin_state"
VERSION = 1
CHUNK = 30000          # Excel's cell limit is 32767 characters
_T = f"{{{NS_MAIN}}}"
KINDS = ("sheet", "name", "table", "dimension", "cols", "cells", "overwritten", "validation", "notes_parts", "note", "mark")
_UNESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


@dataclass
class State:
    records: list[dict] = field(default_factory=list)   # each has "kind" and "sheet"

    # -- queries ---------------------------------------------------------------
    def of(self, kind: str, sheet: str | None = None) -> list[dict]:
        return [r for r in self.records if r["kind"] == kind and (sheet is None or r["sheet"] == sheet)]

    def owned_sheets(self) -> list[str]:
        return [r["sheet"] for r in self.of("sheet")]

    def owns(self, sheet: str) -> bool:
        return any(r["sheet"].lower() == sheet.lower() for r in self.of("sheet"))

    def index(self, kind: str, sheet: str, key: str) -> dict:
        """{record[key]: record} for one kind and sheet (for bulk lookups)."""
        return {r.get(key): r for r in self.of(kind, sheet)}

    def find(self, kind: str, sheet: str, **match) -> dict | None:
        for r in self.of(kind, sheet):
            if all(r.get(k) == v for k, v in match.items()):
                return r
        return None

    # -- changes ---------------------------------------------------------------
    def add(self, kind: str, sheet: str, **data) -> dict:
        rec = {"kind": kind, "sheet": sheet, **data}
        self.records.append(rec)
        return rec

    def drop(self, rec: dict) -> None:
        self.records = [r for r in self.records if r is not rec]

    def drop_where(self, kind: str, sheet: str | None = None) -> list[dict]:
        gone = self.of(kind, sheet)
        ids = {id(r) for r in gone}
        self.records = [r for r in self.records if id(r) not in ids]
        return gone

    def rename_sheet(self, old: str, new: str) -> None:
        for r in self.records:
            if r["sheet"] == old:
                r["sheet"] = new

    def __bool__(self) -> bool:
        return bool(self.records)


def to_sheet_xml(state: State) -> bytes:
    """The state worksheet part."""
    rows = [["kind", "sheet", "data"]]
    rows.append(["version", "", json.dumps({"version": VERSION})])
    records = []
    rank = {k: i for i, k in enumerate(KINDS)}
    encode = _JSON.encode
    for r in state.records:
        data = {k: v for k, v in r.items() if k != "kind" and k != "sheet"}
        records.append((rank.get(r["kind"], len(KINDS)), r["kind"], r["sheet"], encode(data)))
    # A canonical order: the same state always gives the same part (re-runs are idempotent).
    for _, kind, sheet, text in sorted(records):
        chunks = [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
        rows.append([kind, sheet, *chunks])
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           f'<worksheet xmlns="{NS_MAIN}"><sheetData>']
    for i, row in enumerate(rows, start=1):
        cells = "".join(_text_cell(col_letter(j) + str(i), v) for j, v in enumerate(row, start=1) if v)
        out.append(f'<row r="{i}">{cells}</row>')
    out.append("</sheetData></worksheet>")
    return "".join(out).encode("utf-8")


# One encoder for every record (json.dumps with options builds a new one per call).
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
_NOT_PLAIN = re.compile(r"[&<>\x00-\x1f\ufffe\uffff]|_x")


def _text_cell(ref: str, text: str) -> str:
    """cell_xml(ref, text, None, 0), with the usual short plain text formatted directly:
    a state sheet has a row per marked cell, so 100,000s of these."""
    if len(text) < 1000 and not _NOT_PLAIN.search(text) and text == text.strip():
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
    return cell_xml(ref, text, None, 0)


def pack_cells(cells: set[tuple[int, int]]) -> str:
    """{(row, col)} -> "P1:P9 Q4": runs of consecutive rows per column."""
    out = []
    by_col: dict[int, list[int]] = {}
    for r, c in cells:
        by_col.setdefault(c, []).append(r)
    for c in sorted(by_col):
        rows = sorted(by_col[c])
        start = prev = rows[0]
        for r in rows[1:] + [None]:
            if r is not None and r == prev + 1:
                prev = r
                continue
            a, b = cell_ref(start, c), cell_ref(prev, c)
            out.append(a if a == b else f"{a}:{b}")
            if r is not None:
                start = prev = r
    return " ".join(out)


def unpack_cells(text: str) -> set[tuple[int, int]]:
    cells = set()
    for part in text.split():
        a, _, b = part.partition(":")
        r1, c1 = split_ref(a)
        r2, _c2 = split_ref(b or a)
        cells.update((r, c1) for r in range(r1, r2 + 1))
    return cells


def pack_rows(rows: set[int]) -> str:
    return " ".join(f"{a}:{b}" if a != b else str(a)
                    for a, b in _runs(sorted(rows)))


def unpack_rows(text: str) -> set[int]:
    out = set()
    for part in text.split():
        a, _, b = part.partition(":")
        out.update(range(int(a), int(b or a) + 1))
    return out


def _runs(values: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


def _unescape(s: str) -> str:
    return _UNESCAPE.sub(lambda m: chr(int(m.group(1), 16)), s)


def shared_strings(xml: bytes | None) -> list[str]:
    if not xml:
        return []
    root = etree.fromstring(xml, PARSER)
    return ["".join(t.text or "" for t in si.iter(f"{_T}t") if t.getparent().tag != f"{_T}rPh")
            for si in root.iter(f"{_T}si")]


def from_sheet_xml(xml: bytes, sst: list[str] | None = None) -> State:
    """Read the state worksheet (as we wrote it, or as Excel re-saved it)."""
    root = etree.fromstring(xml, PARSER)
    sst = sst or []
    state = State()
    for row in root.iter(f"{_T}row"):
        values: dict[int, str] = {}
        for c in row.iter(f"{_T}c"):
            _, col = split_ref(c.get("r", "A1"))
            t = c.get("t")
            if t == "inlineStr":
                text = "".join(x.text or "" for x in c.iter(f"{_T}t"))
            else:
                v = c.find(f"{_T}v")
                text = v.text if v is not None and v.text else ""
                if t == "s" and text.isdigit() and int(text) < len(sst):
                    text = sst[int(text)]
            values[col] = _unescape(text)
        kind = values.get(1, "")
        if kind in ("", "kind", "version"):
            continue
        data_text = "".join(values[c] for c in sorted(values) if c >= 3)
        try:
            data = json.loads(data_text) if data_text else {}
        except json.JSONDecodeError:
            continue  # a row someone edited by hand: ignore rather than fail
        if not isinstance(data, dict):
            continue
        state.records.append({"kind": kind, "sheet": values.get(2, ""), **data})
    return state
