"""LibreOffice's reading of the add-in's VBA: a macro-enabled twin (.xlsm) of the .xlam,
converted headless to .ods, keeps the VBA project as a Basic library; its module list and
texts are what LibreOffice's VBA import made of our `dir` stream and compressed sources."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from lxml import etree

from xlplugin.excel.addin.package import CT_ADDIN_MAIN, CT_MACRO_MAIN

_LIB = "http://openoffice.org/2000/library"
_SCRIPT = "http://openoffice.org/2000/script"


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def macro_twin(xlam: Path, dest: Path) -> Path:
    """The same package as a macro-enabled workbook (only the main content type differs)."""
    with zipfile.ZipFile(xlam) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(CT_ADDIN_MAIN.encode(), CT_MACRO_MAIN.encode())
            zout.writestr(info, data)
    return dest


def basic_modules(xlam: Path, timeout: int = 180) -> tuple[str, dict[str, str]]:
    """(library name, {module: text}) as LibreOffice imported the add-in's VBA project."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="xlp-addin-lo-") as tmp:
        t = Path(tmp)
        twin = macro_twin(xlam, t / "xlplugin-twin.xlsm")
        subprocess.run([exe, f"-env:UserInstallation={(t / 'profile').as_uri()}", "--headless",
                        "--convert-to", "ods", "--outdir", str(t / "out"), str(twin)],
                       capture_output=True, timeout=timeout, check=False)
        ods = t / "out" / "xlplugin-twin.ods"
        if not ods.is_file():
            raise RuntimeError("LibreOffice did not convert the add-in's macro-enabled twin")
        with zipfile.ZipFile(ods) as z:
            libs = [n for n in z.namelist() if re.fullmatch(r"Basic/[^/]+/script-lb\.xml", n)
                    and not n.startswith("Basic/Standard/")]
            if len(libs) != 1:
                return "", {}
            lib = etree.fromstring(z.read(libs[0]))
            name = lib.get(f"{{{_LIB}}}name")
            modules = {}
            for el in lib.iter(f"{{{_LIB}}}element"):
                mod = el.get(f"{{{_LIB}}}name")
                text = etree.fromstring(z.read(f"Basic/{name}/{mod}.xml")).text or ""
                modules[mod] = text
            return name, modules


def vba_body(source: str) -> list[str]:
    """A module's source lines as LibreOffice keeps them: without its Attribute lines."""
    return [line.rstrip("\r") for line in source.split("\n")
            if not line.startswith("Attribute ")]
