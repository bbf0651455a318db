"""Build xlplugin.xlam: the xlwings ribbon quickstart add-in (written by Excel, BSD-3)
with our dispatcher module, project name, ribbon and config sheet name.

The package is patched part by part, never re-saved through a library: every part not
named below is copied byte for byte.  Zip entries get a fixed time stamp and order, so
two builds are byte-identical.
"""

from __future__ import annotations

import io
import re
import zipfile
from importlib.resources import files
from pathlib import Path

from xlplugin.excel.addin.vba_project import VbaProject

PROJECT = "xlplugin"                  # the VBA project's name and xlwings' PROJECT_NAME
DISPATCHER = "RibbonMyAddin"          # the template's callback module, kept by name
CALLBACK = "OnXlpluginButton"
TEMPLATE_NAME = "xlwings_quickstart_addin_ribbon.xlam"
ADDIN_NAME = "xlplugin.xlam"
XLWINGS_VBA_VERSION = "0.37.8"      # the template's xlwings module (XLWINGS_VERSION)

CT_ADDIN_MAIN = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
CT_MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_VBA = "application/vnd.ms-office.vbaProject"
RT_UI_2010 = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
RT_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
CUSTOM_UI_PART = "customUI/customUI14.xml"
_OLD_UI_PART = "customUI/customUI.xml"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_XLWINGS_NAME_LINE = 'Public Const PROJECT_NAME As String = "{}"'


def ribbon_dir() -> Path:
    return Path(str(files("xlplugin.templates.ribbon")))


def shipped_addin() -> Path:
    """The add-in built into the wheel."""
    return ribbon_dir() / ADDIN_NAME


def build_vba(template_bin: bytes, dispatcher_source: str) -> bytes:
    """vbaProject.bin: the template's project with our dispatcher and names."""
    vba = VbaProject(template_bin)
    vba.rename(PROJECT)
    vba.set_source(DISPATCHER, dispatcher_source)
    # xlwings reads its settings from <PROJECT_NAME>.conf: make that xlplugin.conf
    old = re.search(r'Public Const PROJECT_NAME As String = "([^"]*)"', vba.source("xlwings"))
    if old is None:
        raise ValueError("the template's xlwings module has no PROJECT_NAME constant")
    vba.replace_line("xlwings", _XLWINGS_NAME_LINE.format(old.group(1)), _XLWINGS_NAME_LINE.format(PROJECT))
    return vba.to_bytes()


def bas_source(path: Path) -> str:
    """A .bas file as VBA keeps it: CRLF line ends, no trailing blank lines."""
    text = path.read_text(encoding="cp1252")
    return "\r\n".join(text.replace("\r\n", "\n").rstrip("\n").split("\n")) + "\r\n"


def _content_types(xml: bytes) -> bytes:
    xml = xml.replace(CT_MACRO_MAIN.encode(), CT_ADDIN_MAIN.encode())
    if CT_ADDIN_MAIN.encode() not in xml:
        raise ValueError("the template's workbook part is not an add-in")
    return xml


def _package_rels(xml: bytes) -> bytes:
    """Point the ribbon relationship at the Office 2010 part (customUI14.xml)."""
    new = re.sub(rb'<Relationship Id="(\w+)" Type="[^"]*/ui/extensibility" Target="[^"]*" */>',
                 lambda m: (f'<Relationship Id="{m.group(1).decode()}" Type="{RT_UI_2010}" '
                            f'Target="{CUSTOM_UI_PART}" />').encode(), xml)
    if new.count(RT_UI_2010.encode()) != 1:
        raise ValueError("the template has no single ribbon relationship to repoint")
    return new


def _workbook(xml: bytes, old_project: str) -> bytes:
    """The hidden config sheet xlwings looks for is named after the project."""
    old = f'name="_{old_project}.conf"'.encode()
    if old not in xml:
        raise ValueError(f"the template's workbook has no _{old_project}.conf sheet")
    return xml.replace(old, f'name="_{PROJECT}.conf"'.encode())


def build_addin(dest: Path, ribbon: Path | None = None) -> Path:
    """Write xlplugin.xlam from the sources in `ribbon` (default: the shipped ones)."""
    src = Path(ribbon) if ribbon else ribbon_dir()
    template = src / TEMPLATE_NAME
    custom_ui = (src / "customUI14.xml").read_bytes()
    dispatcher = bas_source(src / "xlplugin.bas")
    buf = io.BytesIO()
    with zipfile.ZipFile(template) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        old_project = VbaProject(zin.read("xl/vbaProject.bin")).name.lower()
        names = [n for n in zin.namelist() if n != _OLD_UI_PART]
        for name in names:
            data = zin.read(name)
            if name == "[Content_Types].xml":
                data = _content_types(data)
            elif name == "_rels/.rels":
                data = _package_rels(data)
            elif name == "xl/workbook.xml":
                data = _workbook(data, old_project)
            elif name == "xl/vbaProject.bin":
                data = build_vba(data, dispatcher)
            _write(zout, name, data)
            if name == "_rels/.rels":
                _write(zout, CUSTOM_UI_PART, custom_ui)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(dest)
    return dest


def _write(z: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    z.writestr(info, data, compresslevel=9)
