"""Property-based tests (hypothesis) over the cell parser, the header matcher and the
sheet patcher.  A bounded run here (profile "ci", the default); `make fuzz` runs the
same properties far longer (HYPOTHESIS_PROFILE=fuzz)."""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
import zipfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.plan_factory import HEADERS, make_plan
from xlplugin.changes import MARK_ERROR, MARK_WARNING
from xlplugin.engine.headers import normalize_header, vocabulary
from xlplugin.engine.locate import _assign
from xlplugin.engine.parse import read_date, read_number
from xlplugin.file.read import parse_range
from xlplugin.file.write.sheet_patch import (
    CellMark,
    CellRemoval,
    CellRestore,
    CellWrite,
    SheetEdits,
    patch_sheet,
)
from xlplugin.file.write.styles import StyleBook
from xlplugin.model import cell_ref, split_ref

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("fuzz", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
# Text a workbook can hold: any character XML 1.0 allows, plus the C0 controls OOXML
# escapes as _xHHHH_ (no lone surrogates: no XML file can carry one).
CELL_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"),
                    max_size=60)
FORMULA_LIKE = st.sampled_from(["=cmd|' /C calc'!A0", "+SUM(1,2)", "@SUM(1)", "-2+3", "=1+1", "=A1", "_x0041_"])


# ------------------------------------------------------------------ the cell parser
@given(st.text(max_size=40))
@example("£")        # found by `make fuzz`: a currency sign alone raised IndexError
@example("1e999")    # and this came back as inf
def test_read_number_never_raises_and_gives_a_finite_float_or_none(text):
    v = read_number(text)
    assert v is None or (isinstance(v, float) and math.isfinite(v))


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_read_number_reads_grouped_integers(n):
    assert read_number(f"{n:,}") == n
    assert read_number(f" {n} ") == n


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False))
def test_read_number_reads_plain_decimals(d):
    assert read_number(str(d)) == pytest.approx(float(d))


@given(st.text(max_size=40), st.sampled_from([None, True, False]))
def test_read_date_never_raises(text, dayfirst):
    d, how = read_date(text, dayfirst)
    assert (d is None) == (how == "") or d is not None


@given(st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_read_date_reads_iso_and_us_dates(day):
    assert read_date(day.isoformat())[0].date() == day
    assert read_date(f"{day.month:02d}/{day.day:02d}/{day.year}", dayfirst=False)[0].date() == day
    assert read_date(f"{day.day:02d}.{day.month:02d}.{day.year}", dayfirst=True)[0].date() == day


@given(st.integers(1, 1_048_576), st.integers(1, 16_384))
def test_cell_refs_round_trip(row, col):
    assert split_ref(cell_ref(row, col)) == (row, col)
    assert split_ref(cell_ref(row, col, absolute=True)) == (row, col)
    assert parse_range(cell_ref(row, col)) == (row, col, row, col)


@given(st.text(max_size=30))
def test_parse_range_never_raises(text):
    box = parse_range(text)
    assert box is None or (box[0] <= box[2] and box[1] <= box[3])


# ------------------------------------------------------------------ the header matcher
VOCAB = vocabulary()


@given(st.text(max_size=40))
def test_normalize_header_is_total_and_idempotent(text):
    once = normalize_header(text)
    assert normalize_header(once) == once
    assert re.fullmatch(r"\w*", once)


def _decorate(header: str, case: int, pad: int, unit: str) -> str:
    h = [header, header.upper(), header.lower(), header.title()][case]
    return " " * pad + h + unit + " " * (pad % 2)


@given(st.permutations(HEADERS), st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3),
                                                    st.sampled_from(["", " (USD)", " $", " EUR", " (k)"])),
                                          min_size=len(HEADERS), max_size=len(HEADERS)))
def test_header_matching_ignores_order_case_spacing_and_units(order, decorations):
    plain, *_ = _assign([(i + 1, h, [h]) for i, h in enumerate(order)], VOCAB, set())
    # a unit only decorates a money column, as a person would write it
    money = {"Budget", "Actual", "Revenue"}
    fancy = [_decorate(h, c, p, u if h in money else "") for h, (c, p, u) in zip(order, decorations, strict=True)]
    decorated, *_ = _assign([(i + 1, h, [h]) for i, h in enumerate(fancy)], VOCAB, set())
    assert [c.field for c in decorated] == [c.field for c in plain]
    fields = [c.field for c in plain if c.field]
    assert len(fields) == len(set(fields))                  # one column per field
    assert {"activity", "budget"} <= set(fields)


@given(st.lists(st.one_of(st.sampled_from(HEADERS), CELL_TEXT), min_size=1, max_size=20))
def test_header_matching_never_gives_a_field_twice(headers):
    cols, *_ = _assign([(i + 1, h, [h]) for i, h in enumerate(headers)], VOCAB, set())
    fields = [c.field for c in cols if c.field]
    assert len(fields) == len(set(fields))


# ------------------------------------------------------------------ the sheet patcher
@pytest.fixture(scope="module")
def plan_sheet(tmp_path_factory) -> tuple[bytes, bytes]:
    path = make_plan(tmp_path_factory.mktemp("prop") / "plan.xlsx", top_left="B2")
    with zipfile.ZipFile(path) as z:
        return path.read_bytes(), z.read("xl/worksheets/sheet1.xml")


VALUES = st.one_of(CELL_TEXT, FORMULA_LIKE,
                   st.floats(allow_nan=False, allow_infinity=False, width=64),
                   st.integers(-10**15, 10**15), st.booleans(),
                   st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)))
CELLS = st.tuples(st.integers(1, 40), st.integers(1, 30))


def _read_back(package: bytes, xml: bytes, styles: bytes) -> dict[tuple[int, int], object]:
    """The patched sheet through python-calamine, as a user's tools see it."""
    from python_calamine import CalamineWorkbook
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = {"xl/worksheets/sheet1.xml": xml, "xl/styles.xml": styles}.get(info.filename)
            zout.writestr(info, data if data is not None else zin.read(info))
    out.seek(0)
    rows = CalamineWorkbook.from_filelike(out).get_sheet_by_name("Plan").to_python(skip_empty_area=False)
    return {(r + 1, c + 1): v for r, line in enumerate(rows) for c, v in enumerate(line) if v != ""}


@given(st.dictionaries(CELLS, VALUES, min_size=1, max_size=12),
       st.lists(st.tuples(CELLS, st.sampled_from([MARK_ERROR, MARK_WARNING])), max_size=6))
@example({(1, 1): "\r", (2, 2): "a\r\nb"}, [])   # found by make fuzz: a raw \r came back as \n
def test_patched_sheet_is_well_formed_and_reads_back(plan_sheet, writes, marks):
    package, xml = plan_sheet
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        book = StyleBook(z.read("xl/styles.xml"))
    edits = SheetEdits(writes=[CellWrite(r, c, v) for (r, c), v in writes.items()],
                       marks=[CellMark(r, c, f) for (r, c), f in marks])
    res = patch_sheet(xml, edits, book)
    root = etree.fromstring(res.xml)                            # well-formed
    assert not any(f.text and "cmd|" in f.text for f in root.iter(f"{NS}f"))   # text never a formula
    refs = [c.get("r") for c in root.iter(f"{NS}c")]
    assert len(refs) == len(set(refs))                          # one cell per address
    rows = [int(r.get("r")) for r in root.iter(f"{NS}row")]
    assert rows == sorted(set(rows))                            # rows in order, once each
    for row in root.iter(f"{NS}row"):
        cols = [split_ref(c.get("r"))[1] for c in row.iter(f"{NS}c")]
        assert cols == sorted(cols)
    back = _read_back(package, res.xml, book.to_bytes())
    for (r, c), v in writes.items():
        got = back.get((r, c))
        if isinstance(v, str):
            assert got == v or (v == "" and got is None), (cell_ref(r, c), v, got)
        elif isinstance(v, bool):
            assert got == v
        elif isinstance(v, dt.date) or isinstance(got, dt.date | dt.time | dt.timedelta):
            # a date, or a number written into one of the plan's date-formatted cells
            # (the writer keeps a cell's number format, as Excel does): a value is there
            assert got is not None
        else:
            assert got == pytest.approx(float(v), rel=1e-15, abs=0), (cell_ref(r, c), v, got)


@given(st.lists(st.tuples(CELLS, st.sampled_from([MARK_ERROR, MARK_WARNING])), min_size=1, max_size=10,
                unique_by=lambda m: m[0]))
def test_mark_then_undo_gives_back_the_exact_bytes(plan_sheet, marks):
    package, xml = plan_sheet
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        book = StyleBook(z.read("xl/styles.xml"))
    res = patch_sheet(xml, SheetEdits(marks=[CellMark(r, c, f) for (r, c), f in marks]), book)
    undo = SheetEdits(
        restores=[CellRestore(r, c, s) for (r, c), s in res.marked.items() if (r, c) not in res.created_cells],
        removals=[CellRemoval(r, c, row_created=r in res.created_rows) for r, c in res.created_cells])
    assert patch_sheet(res.xml, undo, book).xml == xml

