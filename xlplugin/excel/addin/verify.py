"""`xlplugin addin verify PATH`: everything about the add-in that can be checked without
Excel, one verdict per check.  Whether Excel itself accepts the file is the manual
checklist in docs/excel.md."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from xlplugin.excel.addin import package as pkg

_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@dataclass
class Check:
    name: str
    ok: bool | None          # None: skipped (a tool is missing)
    detail: str

    def line(self) -> str:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        return f"{mark} {self.name}: {self.detail}"


class AddinFile:
    """The parts of an .xlam that the checks read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with zipfile.ZipFile(path) as z:
            self.parts = {n: z.read(n) for n in z.namelist()}

    def xml(self, name: str) -> etree._Element:
        return etree.fromstring(self.parts[name])

    def rels(self, name: str) -> list[dict[str, str]]:
        return [dict(r.attrib) for r in self.xml(name).iter(f"{{{_PKG_RELS}}}Relationship")]

    def content_type(self, part: str) -> str | None:
        ct = self.xml("[Content_Types].xml")
        for o in ct.iter(f"{{{_CT}}}Override"):
            if o.get("PartName") == "/" + part:
                return o.get("ContentType")
        ext = part.rsplit(".", 1)[-1]
        for d in ct.iter(f"{{{_CT}}}Default"):
            if d.get("Extension", "").lower() == ext.lower():
                return d.get("ContentType")
        return None


def _check(name: str, fn: Callable[[], tuple[bool | None, str]]) -> Check:
    try:
        ok, detail = fn()
    except Exception as e:  # a broken part fails its check, not the whole run
        ok, detail = False, f"{e.__class__.__name__}: {e}"
    return Check(name, ok, detail)


def verify(path: Path, *, libreoffice: bool = True, ribbon: Path | None = None) -> list[Check]:
    """All checks on the add-in at `path`, against the sources in `ribbon`."""
    from xlplugin.excel import COMMANDS
    from xlplugin.excel.addin.cfb import tree_order_errors
    from xlplugin.excel.addin.ribbon_xml import problems
    from xlplugin.excel.addin.vba_project import VbaProject, project_stream_modules

    src = Path(ribbon) if ribbon else pkg.ribbon_dir()
    f = AddinFile(Path(path))
    vba_bin = f.parts.get("xl/vbaProject.bin", b"")
    if not vba_bin:
        raise ValueError("no VBA project (xl/vbaProject.bin): not a macro add-in")
    vba = VbaProject(vba_bin)
    with zipfile.ZipFile(src / pkg.TEMPLATE_NAME) as z:
        template = VbaProject(z.read("xl/vbaProject.bin"))

    def content_type() -> tuple[bool, str]:
        ct = f.content_type("xl/workbook.xml")
        return ct == pkg.CT_ADDIN_MAIN, f"xl/workbook.xml is {ct}"

    def custom_ui_wired() -> tuple[bool, str]:
        rels = [r for r in f.rels("_rels/.rels") if r.get("Type") == pkg.RT_UI_2010]
        if len(rels) != 1:
            return False, f"{len(rels)} package relationships of the Office 2010 ribbon type"
        target = rels[0]["Target"].lstrip("/")
        ok = target in f.parts and f.content_type(target) in ("application/xml", "text/xml")
        return ok, f"_rels/.rels -> {target} ({'present' if target in f.parts else 'missing'})"

    def vba_wired() -> tuple[bool, str]:
        rels = [r for r in f.rels("xl/_rels/workbook.xml.rels") if r.get("Type") == pkg.RT_VBA]
        ok = (len(rels) == 1 and rels[0]["Target"] == "vbaProject.bin" and bool(vba_bin)
              and f.content_type("xl/vbaProject.bin") == pkg.CT_VBA)
        return ok, "xl/workbook.xml -> vbaProject.bin, content type " + str(f.content_type("xl/vbaProject.bin"))

    def code_names() -> tuple[bool, str]:
        wb = f.xml("xl/workbook.xml")
        names = {wb.find(f"{{{_MAIN}}}workbookPr").get("codeName")}
        rels = {r["Id"]: r["Target"] for r in f.rels("xl/_rels/workbook.xml.rels")}
        for sheet in wb.iter(f"{{{_MAIN}}}sheet"):
            part = "xl/" + rels[sheet.get(f"{{{_REL_NS}}}id")]
            pr = f.xml(part).find(f"{{{_MAIN}}}sheetPr")
            names.add(pr.get("codeName") if pr is not None else None)
        docs = {n for n, kind in project_stream_modules(vba.cfb.streams["PROJECT"], vba.encoding).items()
                if kind == "Document"}
        return names == docs, f"workbook/sheets {sorted(map(str, names))}, document modules {sorted(docs)}"

    def ribbon_schema() -> tuple[bool, str]:
        ui = f.parts.get(pkg.CUSTOM_UI_PART)
        if ui is None:
            return False, f"no {pkg.CUSTOM_UI_PART}"
        errs = problems(ui, COMMANDS, pkg.CALLBACK)
        n = len(etree.fromstring(ui).findall(".//{*}button"))
        return not errs, "; ".join(errs[:5]) if errs else (
            f"customui14.xsd valid, {n} buttons, unique ids, known imageMso, every tag a command "
            f"of xlplugin.excel ({', '.join(COMMANDS)})")

    def ribbon_is_source() -> tuple[bool, str]:
        same = f.parts.get(pkg.CUSTOM_UI_PART) == (src / "customUI14.xml").read_bytes()
        return same, "equals templates/ribbon/customUI14.xml" if same else "differs from the source: rebuild"

    def compound_file() -> tuple[bool, str]:
        import olefile
        ole = olefile.OleFileIO(io.BytesIO(vba_bin), raise_defects=olefile.DEFECT_INCORRECT)
        ole.close()
        errs = tree_order_errors(vba_bin)
        return not errs, "; ".join(errs) or "olefile reads it in strict mode; directory trees in MS-CFB order"

    def modules_agree() -> tuple[bool, str]:
        in_dir = {m.name for m in vba.modules}
        in_project = set(project_stream_modules(vba.cfb.streams["PROJECT"], vba.encoding))
        streams = {p.split("/", 1)[1] for p in vba.cfb.streams if p.startswith("VBA/")}
        in_storage = streams - {"dir", "_VBA_PROJECT"} - {s for s in streams if s.startswith("__SRP_")}
        by_stream = {m.stream for m in vba.modules}
        wm = vba.cfb.streams.get("PROJECTwm", b"")
        in_wm = {n.decode(vba.encoding) for n in re.findall(rb"([^\x00]+)\x00(?:[^\x00]\x00)+\x00\x00", wm)}
        ok = in_dir == in_project == by_stream == in_storage and (not wm or in_wm == in_dir)
        return ok, (f"dir {sorted(in_dir)}; PROJECT {sorted(in_project)}; storage {sorted(in_storage)}"
                    + (f"; PROJECTwm {sorted(in_wm)}" if wm else ""))

    def sources_exact() -> tuple[bool, str]:
        from xlplugin.excel.addin.ovba import olevba
        got = {name.rsplit(".", 1)[0]: code for _, _, name, code in
               olevba().VBA_Parser("vbaProject.bin", data=vba_bin).extract_macros()}
        want = {m.name: template.source(m.name) for m in template.modules}
        want[pkg.DISPATCHER] = pkg.bas_source(src / "xlplugin.bas")
        old = pkg._XLWINGS_NAME_LINE.format(template.name.lower())
        want["xlwings"] = want["xlwings"].replace(old, pkg._XLWINGS_NAME_LINE.format(pkg.PROJECT), 1)
        bad = sorted(n for n in want.keys() | got.keys() if want.get(n) != got.get(n))
        return not bad, (f"differ: {', '.join(bad)}" if bad else
                         f"{len(got)} modules read back by olevba equal their sources exactly")

    def pcode_kept() -> tuple[bool, str]:
        m = vba.module(pkg.DISPATCHER)
        t = template.module(pkg.DISPATCHER)
        same = (m.offset == t.offset and vba.cfb.streams[f"VBA/{m.stream}"][:m.offset]
                == template.cfb.streams[f"VBA/{t.stream}"][:t.offset])
        version = struct.unpack_from("<H", vba.cfb.streams["VBA/_VBA_PROJECT"], 2)[0]
        return same and version == 0xFFFF, (f"{pkg.DISPATCHER}: {m.offset} bytes of Excel's p-code kept; "
                                            f"_VBA_PROJECT version {version:#06x} (recompile from source)")

    def names() -> tuple[bool, str]:
        project_line = f'Name="{pkg.PROJECT}"'.encode()
        ok = vba.name == pkg.PROJECT and project_line in vba.cfb.streams["PROJECT"]
        return ok, f"project {vba.name!r} in dir and PROJECT"

    def run_python() -> tuple[bool, str]:
        where = [m.name for m in vba.modules
                 if re.search(r"^\s*(Public\s+)?Function\s+RunPython\(", vba.source(m.name), re.M)]
        disp = vba.source(pkg.DISPATCHER)
        callback = re.search(rf"^Public Sub {pkg.CALLBACK}\(control As IRibbonControl\)", disp, re.M)
        calls = "RunPython " in disp
        version = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', vba.source("xlwings"))
        same = version is not None and version.group(1) == pkg.XLWINGS_VBA_VERSION
        ok = bool(where) and bool(callback) and calls and same
        return ok, (f"RunPython defined in module {', '.join(where) or '(none)'} (xlwings "
                    f"{version.group(1) if version else '?'}); "
                    f"{pkg.CALLBACK}(control As IRibbonControl) in {pkg.DISPATCHER} calls it")

    def deterministic() -> tuple[bool, str]:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            a = pkg.build_addin(Path(tmp) / "a.xlam", src).read_bytes()
            b = pkg.build_addin(Path(tmp) / "b.xlam", src).read_bytes()
        same = a == b == Path(path).read_bytes()
        return same, ("two fresh builds are byte-identical to this file" if same else
                      "a fresh build differs from this file (or from another fresh build)")

    def lo_modules() -> tuple[bool | None, str]:
        from xlplugin.excel.addin import libreoffice as lo
        if not libreoffice:
            return None, "not asked (--no-libreoffice)"
        if lo.soffice() is None:
            return None, "LibreOffice (soffice) is not installed"
        lib, mods = lo.basic_modules(Path(path))
        want = {m.name for m in vba.modules}
        body = lo.vba_body(vba.source(pkg.DISPATCHER))
        got_body = [line for line in mods.get(pkg.DISPATCHER, "").split("\n")
                    if line not in ("Rem Attribute VBA_ModuleType=VBAModule", "Option VBASupport 1")]
        ok = lib == pkg.PROJECT and set(mods) == want and got_body[:len(body)] == body
        return ok, f"library {lib!r} with modules {sorted(mods)}" + (
            "; the dispatcher's text intact" if got_body[:len(body)] == body else "; dispatcher text differs")

    checks = [
        ("add-in content type", content_type), ("customUI relationship", custom_ui_wired),
        ("vbaProject relationship", vba_wired), ("sheet code names", code_names),
        ("customUI schema", ribbon_schema), ("customUI source", ribbon_is_source),
        ("compound file", compound_file), ("module lists agree", modules_agree),
        ("module sources", sources_exact), ("dispatcher p-code", pcode_kept),
        ("project name", names), ("RunPython", run_python), ("byte-identical builds", deterministic),
        ("LibreOffice", lo_modules),
    ]
    return [_check(name, fn) for name, fn in checks]
