"""The Excel add-in, built and checked on Linux without Excel: the package, the ribbon
against Microsoft's schema, the VBA project read back by olevba and by LibreOffice,
MS-OVBA compression and the compound file writer, install."""

from __future__ import annotations

import io
import os
import random
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import olefile
import pytest
from lxml import etree

from xlplugin import excel
from xlplugin.excel.addin import install as inst
from xlplugin.excel.addin import libreoffice as lo
from xlplugin.excel.addin import ovba
from xlplugin.excel.addin import package as pkg
from xlplugin.excel.addin.cfb import NOSTREAM, Compound, tree_order_errors
from xlplugin.excel.addin.ribbon_xml import known_image_mso, schema
from xlplugin.excel.addin.vba_project import VbaProject, project_stream_modules

VBA_Parser = ovba.olevba().VBA_Parser
decompress_stream = ovba.olevba().decompress_stream

ROOT = Path(__file__).resolve().parents[1]
RIBBON = ROOT / "templates" / "ribbon"
SHIPPED = RIBBON / "xlplugin.xlam"
UI_NS = {"m": "http://schemas.microsoft.com/office/2009/07/customui"}


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "XLPLUGIN_DEBUG"}
    return subprocess.run([sys.executable, "-m", "xlplugin.cli", "addin", *args], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("addin") / "xlplugin.xlam"
    done = cli("build", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    return out


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


# --- build ----------------------------------------------------------------------------------

def test_two_builds_are_byte_identical_and_the_shipped_one_is_current(built: Path, tmp_path: Path) -> None:
    again = cli("build", "--out", str(tmp_path / "again.xlam"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.xlam").read_bytes() == built.read_bytes() == SHIPPED.read_bytes(), \
        "templates/ribbon changed: run `xlplugin addin build` and commit xlplugin.xlam"


def test_the_package(built: Path) -> None:
    p = parts(built)
    ct = etree.fromstring(p["[Content_Types].xml"])
    over = {o.get("PartName"): o.get("ContentType") for o in ct if o.get("PartName")}
    assert over["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
    assert over["/xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
    assert {d.get("Extension"): d.get("ContentType") for d in ct if d.get("Extension")}["xml"] == "application/xml"
    rels = {r.get("Type"): r.get("Target") for r in etree.fromstring(p["_rels/.rels"])}
    ui = rels["http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"]
    assert ui == "customUI/customUI14.xml" and p[ui] == (RIBBON / "customUI14.xml").read_bytes()
    assert "customUI/customUI.xml" not in p                      # the template's ribbon is gone
    wb_rels = {r.get("Type"): r.get("Target") for r in etree.fromstring(p["xl/_rels/workbook.xml.rels"])}
    assert wb_rels["http://schemas.microsoft.com/office/2006/relationships/vbaProject"] == "vbaProject.bin"
    # sheet code names are the project's document modules
    wb = etree.fromstring(p["xl/workbook.xml"])
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    code_names = {wb.find(f"{main}workbookPr").get("codeName"),
                  etree.fromstring(p["xl/worksheets/sheet1.xml"]).find(f"{main}sheetPr").get("codeName")}
    vba = VbaProject(p["xl/vbaProject.bin"])
    docs = {n for n, k in project_stream_modules(vba.cfb.streams["PROJECT"], vba.encoding).items() if k == "Document"}
    assert code_names == docs == {"ThisWorkbook", "Sheet2"}
    assert [s.get("name") for s in wb.iter(f"{main}sheet")] == ["_xlplugin.conf"]


def test_the_ribbon_validates_against_microsofts_schema() -> None:
    doc = etree.parse(str(RIBBON / "customUI14.xml"))
    assert schema().validate(doc), schema().error_log
    ids = [el.get("id") for el in doc.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    buttons = doc.findall(".//m:button", UI_NS)
    assert {b.get("imageMso") for b in buttons} <= known_image_mso()
    assert {b.get("tag") for b in buttons} == set(excel.COMMANDS)
    assert {b.get("onAction") for b in buttons} == {pkg.CALLBACK}
    assert all(b.get("label") and b.get("screentip") and b.get("supertip") for b in buttons)
    assert doc.find(".//m:tab", UI_NS).get("label") == "Marketing Plan"
    assert len(doc.findall(".//m:group", UI_NS)) == 5
    # the schema is the real one: it rejects what Excel would reject
    bad = etree.fromstring(b'<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui">'
                           b'<ribbon><tabs><tab id="t" label="T"><group id="g" label="G">'
                           b'<button id="b" label="B" size="huge" onAction="X"/></group></tab></tabs>'
                           b'</ribbon></customUI>')
    assert not schema().validate(bad)
    assert "AcceptInvitation" not in known_image_mso() and "FileNew" in known_image_mso()


def test_every_module_reads_back_exactly(built: Path) -> None:
    vba_bin = parts(built)["xl/vbaProject.bin"]
    got = {name: code for _, _, name, code in VBA_Parser("vbaProject.bin", data=vba_bin).extract_macros()}
    with zipfile.ZipFile(RIBBON / pkg.TEMPLATE_NAME) as z:
        template = {name: code for _, _, name, code in
                    VBA_Parser("t.bin", data=z.read("xl/vbaProject.bin")).extract_macros()}
    assert set(got) == set(template) == {"ThisWorkbook.cls", "Dictionary.cls", "RibbonMyAddin.bas",
                                         "Sheet2.cls", "xlwings.bas"}
    assert got["RibbonMyAddin.bas"] == pkg.bas_source(RIBBON / "xlplugin.bas")
    for name in ("ThisWorkbook.cls", "Dictionary.cls", "Sheet2.cls"):
        assert got[name] == template[name]
    assert got["xlwings.bas"] == template["xlwings.bas"].replace(
        'PROJECT_NAME As String = "myaddin"', 'PROJECT_NAME As String = "xlplugin"')
    assert re.search(r"^Public Function RunPython\(", got["xlwings.bas"], re.M)
    assert "RunPython PythonCall(tag)" in got["RibbonMyAddin.bas"]


def test_project_dir_and_storage_agree(built: Path) -> None:
    vba_bin = parts(built)["xl/vbaProject.bin"]
    ole = olefile.OleFileIO(vba_bin, raise_defects=olefile.DEFECT_INCORRECT)
    storage = {e[1] for e in ole.listdir() if e[0] == "VBA"} - {"dir", "_VBA_PROJECT"}
    project = ole.openstream("PROJECT").read().decode("cp1252")
    listed = set(re.findall(r"^(?:Module|Class|Document)=([^/\r]+)", project, re.M))
    vba = VbaProject(vba_bin)
    assert storage == listed == {m.name for m in vba.modules} == {m.stream for m in vba.modules}
    assert 'Name="xlplugin"' in project and vba.name == "xlplugin"
    assert struct.unpack("<H", ole.openstream("VBA/_VBA_PROJECT").read()[2:4])[0] == 0xFFFF
    assert tree_order_errors(vba_bin) == []


def test_the_dispatcher_keeps_excels_pcode_prefix(built: Path) -> None:
    new = VbaProject(parts(built)["xl/vbaProject.bin"])
    with zipfile.ZipFile(RIBBON / pkg.TEMPLATE_NAME) as z:
        old = VbaProject(z.read("xl/vbaProject.bin"))
    m = new.module(pkg.DISPATCHER)
    assert m.offset == old.module(pkg.DISPATCHER).offset > 0
    assert new.cfb.streams["VBA/RibbonMyAddin"][:m.offset] == old.cfb.streams["VBA/RibbonMyAddin"][:m.offset]
    # streams nobody had to change are byte for byte the ones Excel wrote
    for s in ("VBA/ThisWorkbook", "VBA/Sheet2", "VBA/Dictionary", "VBA/_VBA_PROJECT", "PROJECTwm"):
        assert new.cfb.streams[s] == old.cfb.streams[s]


def test_verify_passes_on_the_shipped_addin() -> None:
    done = cli("verify", "--no-libreoffice")
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, done.stdout
    assert len(lines) == 15 and all(line.startswith(("ok ", "skip LibreOffice")) for line in lines[:-1])
    assert lines[-1].endswith("all 13 checks passed")


def test_verify_names_what_is_wrong(built: Path, tmp_path: Path) -> None:
    p = parts(built)
    ui = p["customUI/customUI14.xml"].replace(b'imageMso="FileNew"', b'imageMso="NoSuchIcon"')
    ui = ui.replace(b'tag="clear"', b'tag="erase"').replace(b'id="xlpLabel"', b'id="xlpValidate"')
    vba = VbaProject(p["xl/vbaProject.bin"])
    vba.set_source("RibbonMyAddin", 'Attribute VB_Name = "RibbonMyAddin"\r\nSub Other()\r\nEnd Sub\r\n')
    p["customUI/customUI14.xml"], p["xl/vbaProject.bin"] = ui, vba.to_bytes()
    bad = tmp_path / "bad.xlam"
    with zipfile.ZipFile(bad, "w") as z:
        for name, data in p.items():
            z.writestr(name, data)
    done = cli("verify", "--no-libreoffice", str(bad))
    assert done.returncode == 1
    fails = {line.split(":")[0][5:] for line in done.stdout.splitlines() if line.startswith("FAIL")}
    assert fails == {"customUI schema", "customUI source", "module sources", "RunPython", "byte-identical builds"}
    out = done.stdout
    assert "'NoSuchIcon' is not a known Office icon" in out and "tag 'erase'" in out and "'xlpValidate' is used twice" in out


@pytest.mark.parametrize("content", [b"not a zip", None])
def test_verify_bad_input_is_one_line(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "x.xlam"
    if content is not None:
        path.write_bytes(content)
    done = cli("verify", str(path))
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and str(path) in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(lo.soffice() is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_macro_twin_and_lists_its_modules(built: Path) -> None:
    library, modules = lo.basic_modules(built)
    assert library == "xlplugin"
    assert set(modules) == {"ThisWorkbook", "Dictionary", "RibbonMyAddin", "Sheet2", "xlwings"}
    body = lo.vba_body(pkg.bas_source(RIBBON / "xlplugin.bas"))
    assert [line for line in modules["RibbonMyAddin"].split("\n")][2:2 + len(body)] == body
    assert "Public Function RunPython(PythonCommand As String)" in modules["xlwings"]


# --- MS-OVBA compression and the compound file ----------------------------------------------

def _oletools(data: bytes) -> bytes:
    return bytes(decompress_stream(bytearray(data)))


@pytest.mark.parametrize("data", [
    b"", b"a", b"abc" * 3000, b"x" * 70000,                     # long copies at every bit count
    bytes(random.Random(7).randrange(256) for _ in range(4096)),   # one raw chunk
    bytes(random.Random(8).choice(b"ab \r\n") for _ in range(30000)),
    (pkg.bas_source(RIBBON / "xlplugin.bas") * 20).encode("cp1252"),
])
def test_compression_round_trips_through_oletools(data: bytes) -> None:
    packed = ovba.compress(data)
    assert packed[0] == 1 and _oletools(packed) == data
    if len(data) > 1000 and len(set(data)) < 10:
        assert len(packed) < len(data) / 2


def test_copy_tokens_use_the_longest_length_their_bit_count_allows() -> None:
    """MS-OVBA's CopyToken Help: at 4 offset bits a copy is at most 0xFFF + 3 bytes long
    (ms-ovba-compression capped it wrongly and broke long modules)."""
    packed = ovba.compress(b"a" * 4096)
    # literal 'a' then one copy token covering the remaining 4095 bytes: 2 + 1 + 1 + 2
    assert len(packed) == 1 + 2 + 1 + 1 + 2
    assert _oletools(packed) == b"a" * 4096


def test_compound_file_streams_can_change_size() -> None:
    with zipfile.ZipFile(RIBBON / pkg.TEMPLATE_NAME) as z:
        src = z.read("xl/vbaProject.bin")
    c = Compound(src)
    assert c.to_bytes() == Compound(c.to_bytes()).to_bytes()
    c.streams["VBA/RibbonMyAddin"] += b"y" * 9000            # from the mini stream to big sectors
    c.streams["VBA/dir"] = c.streams["VBA/dir"][:100]         # and a shrink
    out = c.to_bytes()
    ole = olefile.OleFileIO(io.BytesIO(out), raise_defects=olefile.DEFECT_INCORRECT)
    assert ole.openstream("VBA/RibbonMyAddin").read() == c.streams["VBA/RibbonMyAddin"]
    assert ole.openstream("VBA/dir").read() == c.streams["VBA/dir"]
    assert ole.openstream("VBA/xlwings").read() == Compound(src).streams["VBA/xlwings"]
    unused = [e for e in c.entries if e.kind == 0]
    assert unused and all(struct.unpack_from("<III", e.raw, 68) == (NOSTREAM,) * 3 for e in unused)


# --- install ---------------------------------------------------------------------------------

def test_install_on_linux_says_where_the_file_is() -> None:
    done = cli("install")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert str(SHIPPED) in done.stderr and "Windows and macOS" in done.stderr
    assert cli("path").stdout.strip() == str(SHIPPED)


def test_install_on_windows_puts_the_addin_in_xlstart(tmp_path: Path) -> None:
    env = {"APPDATA": str(tmp_path / "Roaming"), "USERPROFILE": str(tmp_path / "me")}
    lines = inst.install(system="Windows", home=tmp_path, env=env, interpreter=r"C:\Py\python.exe")
    dest = tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART" / "xlplugin.xlam"
    assert dest.read_bytes() == SHIPPED.read_bytes()
    conf = tmp_path / "me" / ".xlplugin" / "xlplugin.conf"
    assert conf.read_text() == '"INTERPRETER_WIN","C:\\Py\\python.exe"\n'
    assert any(str(dest) in line for line in lines) and any("Restart Excel" in line for line in lines)
    conf.write_text('"PYTHONPATH","C:\\lib"\n"INTERPRETER_WIN","old"\n')
    inst.install(system="Windows", home=tmp_path, env=env, interpreter=r"C:\Py3\python.exe")
    assert conf.read_text() == '"PYTHONPATH","C:\\lib"\n"INTERPRETER_WIN","C:\\Py3\\python.exe"\n'
    (dest.parent / "~$xlplugin.xlam").write_bytes(b"")     # Excel has it open
    with pytest.raises(inst.XlpluginError, match="quit Excel"):
        inst.install(system="Windows", home=tmp_path, env=env)


def test_install_on_macos_also_enables_runpython(tmp_path: Path) -> None:
    import xlwings
    lines = inst.install(system="Darwin", home=tmp_path, env={}, interpreter="/opt/py/bin/python3")
    assert (tmp_path / inst.MAC_STARTUP / "xlplugin.xlam").read_bytes() == SHIPPED.read_bytes()
    conf = tmp_path / inst.MAC_SANDBOX / "xlplugin.conf"
    assert conf.read_text() == '"INTERPRETER_MAC","/opt/py/bin/python3"\n'
    script = tmp_path / inst.MAC_SCRIPTS / f"xlwings-{xlwings.__version__}.applescript"
    assert script.is_file() and any("RunPython" in line for line in lines)


def python_line_of_the_dispatcher(tag: str) -> str:
    """The Python line OnXlpluginButton hands to RunPython, by evaluating PythonCall's VBA
    string expression (literals joined by `&`, `tag` substituted)."""
    bas = (RIBBON / "xlplugin.bas").read_text(encoding="cp1252")
    body = re.search(r"Private Function PythonCall\(tag As String\) As String\n(.*?)\nEnd Function", bas, re.S)
    expr = body.group(1).split("=", 1)[1].replace(" _\n", " ")
    out = []
    for literal, name in re.findall(r'"((?:[^"]|"")*)"|(\btag\b)', expr):
        out.append(tag if name else literal.replace('""', '"'))
    return "".join(out)


def test_the_dispatchers_python_line_is_valid_python() -> None:
    line = python_line_of_the_dispatcher("validate")
    compile(line, "<RunPython>", "exec")
    assert "x.ribbon('validate')" in line and '"' not in line     # RunPython wraps it in double quotes
    assert "xlplugin is not installed in the Python Excel uses" in line


def test_the_missing_xlplugin_branch_says_so(tmp_path: Path) -> None:
    """Run the dispatcher's line in a Python without site-packages (so no xlplugin), with a
    stand-in for xlwings' caller that prints the alert Excel would show."""
    fake = tmp_path / "fake"
    (fake / "xlwings").mkdir(parents=True)
    (fake / "xlwings" / "__init__.py").write_text(
        "class _App:\n    def alert(self, text, title=''):\n        print('ALERT', title, text)\n"
        "class _Book:\n    app = _App()\n"
        "class Book:\n    @staticmethod\n    def caller():\n        return _Book()\n")
    env = {"PYTHONPATH": str(fake), "PATH": os.environ.get("PATH", "")}
    done = subprocess.run([sys.executable, "-S", "-c", python_line_of_the_dispatcher("validate")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ALERT xlplugin xlplugin is not installed in the Python Excel uses (")
    assert "pip install xlplugin" in done.stdout


def test_the_wheel_carries_the_addin_and_every_package() -> None:
    """`pip install` then `xlplugin addin install` is the whole set-up only if the wheel has
    the built add-in, its schema files, and every subpackage (a missing one breaks imports)."""
    import fnmatch
    import tomllib
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(conf["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "xlplugin").rglob("__init__.py")}
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    patterns = conf["package-data"]["xlplugin.templates.ribbon"]
    for f in ("xlplugin.xlam", pkg.TEMPLATE_NAME, "customUI14.xml", "xlplugin.bas", "THIRD_PARTY.md",
              "schema/customui14.xsd", "schema/imageMso.txt"):
        assert (RIBBON / f).is_file() and any(fnmatch.fnmatch(f, pat) for pat in patterns), f
