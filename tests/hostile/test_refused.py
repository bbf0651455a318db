"""Hostile packages are refused at the door: exit 2, one line naming the file and the
reason, bounded time and memory, nothing written.  Each case is generated from a real
plan workbook, changed at the zip level."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.hostile import build
from tests.hostile.runner import MEGABYTES, SECONDS, assert_refused, cli, digest, listing


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return build.plan(tmp_path_factory.mktemp("base") / "plan.xlsx")


def _one(tmp_path: Path, name: str) -> Path:
    d = tmp_path / name
    d.mkdir()
    return d / "plan.xlsx"


def _refuse(src: Path, reason: str, **bounds) -> None:
    before, folder = digest(src), listing(src.parent)
    run = cli("run", str(src), "--jobs", "1")
    assert_refused(run, src, reason, before, folder, **bounds)


def _refuse_batch(files: dict[Path, str]) -> None:
    """Many hostile files in one `xlplugin run`: one line each, naming it, with its reason."""
    before = {f: (digest(f), listing(f.parent)) for f in files}
    run = cli("run", *map(str, files), "--jobs", "1")
    assert run.returncode == 2, run.stderr[-2000:]
    assert "Traceback" not in run.stderr + run.stdout
    lines = run.error_lines
    assert len(lines) == len(files), lines
    for f, reason in files.items():
        mine = [ln for ln in lines if ln.startswith(f"error: {f}: ")]
        assert len(mine) == 1 and reason in mine[0], (f, reason, mine)
        assert (digest(f), listing(f.parent)) == before[f], f"{f}: something was written"
    assert run.seconds < SECONDS + 2 * len(files), run.seconds
    assert run.peak_mb < MEGABYTES


# -- zip bombs ----------------------------------------------------------------------------

@pytest.mark.parametrize("where", [b"<sheetData>", b"<worksheet"], ids=["in-sheetData", "before-sheetData"])
def test_whitespace_bomb_1gb_refused_by_ratio(base, tmp_path, where):
    src = build.whitespace_bomb(base, _one(tmp_path, "bomb"), 1 << 30, where)
    assert src.stat().st_size < 4 << 20          # ~1 GB of spaces in a few MB
    _refuse(src, "a zip bomb?", seconds=20)


def test_bomb_that_lies_about_its_size_is_caught_while_inflating(base, tmp_path):
    src = build.lying_size(base, _one(tmp_path, "liar"))
    _refuse(src, "inflates beyond the 200 bytes it declares")


def test_part_declaring_3gb_refused_before_inflating(base, tmp_path):
    src = build.declared_huge(base, _one(tmp_path, "huge"))
    _refuse(src, "inflates to 3,221,225,472 bytes, over the 2048 MB limit for one part", seconds=20)


def test_package_with_too_many_entries_refused_before_its_directory_is_loaded(base, tmp_path):
    src = _one(tmp_path, "entries")
    build.rewrite(base, src, extra=((f"customXml/item{i}.bin", b"") for i in range(100_001)))
    _refuse(src, "declares 100011 entries (limit 100000)")   # the plan's 10 parts + 100,001


# -- entity expansion and external entities, in every part the tool parses ----------------

def _xml_parts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [n for n in z.namelist() if n.endswith((".xml", ".rels"))]


def test_entity_expansion_and_external_entities_refused_in_every_part(base, tmp_path):
    files = {}
    for part in _xml_parts(base):
        for kind, dtd in (("laughs", build.BILLION_LAUGHS), ("xxe", build.EXTERNAL_ENTITY)):
            label = f"{kind}-{part.replace('/', '_')}"
            dest = _one(tmp_path, label)
            build.rewrite(base, dest, lambda n, d, part=part, dtd=dtd: build.insert_dtd(d, dtd) if n == part else d)
            files[dest] = f"part {part} declares a DTD"
    assert len(files) >= 16
    _refuse_batch(files)


def test_entity_in_a_utf16_part_refused(base, tmp_path):
    def to_utf16(n: str, d: bytes) -> bytes:
        if n != "xl/workbook.xml":
            return d
        text = build.insert_dtd(d, build.BILLION_LAUGHS).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
        return text.encode("utf-16")
    src = build.rewrite(base, _one(tmp_path, "utf16"), to_utf16)
    _refuse(src, "declares a DTD")


def test_deeply_nested_xml_refused(base, tmp_path):
    """100,000 nested elements: the parser's depth limit (huge_tree off) answers, not the stack."""
    deep = b"<x>" * 100_000 + b"</x>" * 100_000
    src = build.rewrite(base, _one(tmp_path, "deep"),
                        lambda n, d: d.replace(b"</workbook>", deep + b"</workbook>") if n == "xl/workbook.xml" else d)
    _refuse(src, "malformed XML in xl/workbook.xml")


# -- names that escape, collide, or point nowhere -----------------------------------------

NAMES = {
    "../../evil.txt": "climbs out of the package",
    "xl/../../evil.txt": "climbs out of the package",
    "..\\evil.txt": "climbs out of the package",
    "/abs/evil.txt": "is an absolute path",
    "C:/evil.txt": "is an absolute path",
    "xl/worksheets/sheet1.xml": "appears twice",
    "XL/Worksheets/Sheet1.xml": "differs only in case",
}


def test_traversal_absolute_and_duplicate_names_refused(base, tmp_path):
    files = {}
    for i, (name, reason) in enumerate(NAMES.items()):
        dest = _one(tmp_path, f"name{i}")
        build.rewrite(base, dest, extra=[(name, b"<x>evil</x>")])
        files[dest] = reason
    _refuse_batch(files)
    assert not list(tmp_path.parent.rglob("evil.txt"))


def test_local_header_naming_another_file_refused(base, tmp_path):
    src = build.local_name_mismatch(base, _one(tmp_path, "confused"))
    _refuse(src, "has another name in its local header ('xl/stylez.xml')")


def test_relationships_to_missing_or_outside_parts_refused(base, tmp_path):
    rel = ('<Relationship Id="rIdH" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
           'relationships/drawing" Target="{}"/></Relationships>')

    def with_rel(target: str):
        def edit(n: str, d: bytes) -> bytes:
            if n == "xl/_rels/workbook.xml.rels":
                return d.replace(b"</Relationships>", rel.format(target).encode())
            return d
        return edit

    files = {
        build.rewrite(base, _one(tmp_path, "missing"), with_rel("drawings/drawing9.xml")):
            "names a missing part xl/drawings/drawing9.xml",
        build.rewrite(base, _one(tmp_path, "outside"), with_rel("../../../../etc/passwd")):
            "points outside the package",
    }
    _refuse_batch(files)


def test_not_a_workbook_refused(tmp_path):
    files = {}
    for label, data, reason in (("empty", b"", "empty file"),
                                ("text", b"name,budget\nA,1\n", "not a zip package"),
                                ("xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "(.xls)")):
        dest = _one(tmp_path, label)
        dest.write_bytes(data)
        files[dest] = reason
    zipped = _one(tmp_path, "zip")
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("notes.txt", "hello")
    files[zipped] = "a zip file, not an Excel workbook"
    _refuse_batch(files)
