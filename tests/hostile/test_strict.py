"""ISO 29500 Strict workbooks: read correctly (the plan's values, not an empty sheet), and
refused for writing with one clear line (rewriting every part's namespaces would not be
the lossless edit the writer promises)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tests.hostile.runner import cli, digest, listing
from tests.plan_factory import ROWS, make_plan
from xlplugin.file.read import open_workbook

# Transitional namespace -> Strict namespace (ECMA-376 Part 1 Strict, ISO/IEC 29500-1)
STRICT = {
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": b"http://purl.oclc.org/ooxml/spreadsheetml/main",
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships":
        b"http://purl.oclc.org/ooxml/officeDocument/relationships",
    b"http://schemas.openxmlformats.org/drawingml/2006/main": b"http://purl.oclc.org/ooxml/drawingml/main",
}


def strict_plan(path: Path) -> Path:
    """A plan written by XlsxWriter, then moved to the Strict namespaces part by part."""
    src = make_plan(path.with_name("transitional.xlsx"))
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            data = z.read(info)
            for old, new in STRICT.items():
                data = data.replace(old, new)
            out.writestr(info, data)
    src.unlink()
    return path


def test_strict_workbook_is_read_not_emptied(tmp_path):
    src = strict_plan(tmp_path / "plan.xlsx")
    with open_workbook(src) as wb:
        assert wb.package.strict
        grid = wb.grid("Plan")
        assert grid.value(2, 2) == ROWS[0][1] and grid.value(6, 9) == ROWS[4][8]
    r = cli("label", str(src), "--format", "json")        # the whole analysis, read-only
    assert r.returncode == 0, r.stderr
    labels = json.loads(r.stdout)
    assert [lab["row"] for lab in labels] == [2, 3, 4, 5, 6]
    assert all(lab["stage"] for lab in labels)


def test_strict_workbook_write_is_refused_with_one_line(tmp_path):
    src = strict_plan(tmp_path / "plan.xlsx")
    before, folder = digest(src), listing(tmp_path)
    r = cli("run", str(src))
    assert r.returncode == 2
    assert r.error_lines == [f"error: {src}: Strict Open XML workbooks are not supported; save it as "
                             "\"Excel Workbook (.xlsx)\" in Excel"], r.error_lines
    assert digest(src) == before and listing(tmp_path) == folder
