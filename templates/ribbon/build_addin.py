"""Build xlplugin.xlam from the sources beside this file, on any OS (no Excel needed).

    python templates/ribbon/build_addin.py [--out dist/xlplugin.xlam]

1. vbaProject.bin from xlplugin.bas, with the `ms-ovba` package (PyPI: ms-ovba), which
   adds the ThisWorkbook and Sheet1 document modules and references to stdole and the
   Office object library (IRibbonControl lives there);
2. a macro workbook around it with XlsxWriter (add_vba_project);
3. turned into an add-in: the workbook part's content type becomes the .xlam one, and
   customUI/customUI14.xml is added with its package relationship.

Honest limits: whether Excel accepts a vbaProject.bin written by ms-ovba (version 0.0.1)
cannot be checked on Linux; `olevba` (oletools) reads the module source back, which is
all the test suite can prove.  The VBA project has no reference to xlwings (its path
differs on every machine): after opening the add-in once, tick Tools > References >
xlwings in the VBA editor and save, or follow README.md's manual assembly instead.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CT_MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_ADDIN_MAIN = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
RT_CUSTOM_UI14 = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
CUSTOM_UI_PART = "customUI/customUI14.xml"


def build_vba_project(bas: Path, dest: Path) -> Path:
    """vbaProject.bin holding the module `bas` (ms-ovba writes into its working folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        shutil.copyfile(bas, src / bas.name)
        done = subprocess.run([sys.executable, "-m", "ms_ovba", str(src)], cwd=tmp,
                              capture_output=True, text=True, timeout=120)
        out = Path(tmp) / "vbaProject.bin"
        if done.returncode != 0 or not out.is_file():
            raise RuntimeError(f"ms-ovba failed: {done.stderr.strip() or done.stdout.strip()}")
        shutil.copyfile(out, dest)
    return dest


def _macro_workbook(vba_bin: Path, dest: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(dest))
    ws = wb.add_worksheet("xlplugin")
    ws.write(0, 0, "xlplugin add-in: the Marketing Plan ribbon tab. This sheet is not shown.")
    wb.set_vba_name("ThisWorkbook")     # the document modules ms-ovba created
    ws.set_vba_name("Sheet1")
    wb.add_vba_project(str(vba_bin))
    wb.close()


def _as_addin(xlsm: Path, custom_ui: bytes, dest: Path) -> None:
    with zipfile.ZipFile(xlsm) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(CT_MACRO_MAIN.encode(), CT_ADDIN_MAIN.encode())
                if b'Extension="xml"' not in data:
                    data = data.replace(b"<Override", b'<Default Extension="xml" ContentType="application/xml"/>'
                                        b"<Override", 1)
            elif info.filename == "_rels/.rels":
                rel = (f'<Relationship Id="rIdXlpluginUI" Type="{RT_CUSTOM_UI14}" '
                       f'Target="{CUSTOM_UI_PART}"/>').encode()
                data = data.replace(b"</Relationships>", rel + b"</Relationships>")
            zout.writestr(info, data)
        zout.writestr(CUSTOM_UI_PART, custom_ui)


def build_addin(dest: Path, bas: Path = HERE / "xlplugin.bas",
                custom_ui: Path = HERE / "customUI14.xml") -> Path:
    """Write the .xlam; returns its path."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    ui = custom_ui.read_bytes()
    if not re.search(rb'xmlns="http://schemas.microsoft.com/office/2009/07/customui"', ui):
        raise ValueError(f"{custom_ui} is not an Office 2010+ customUI part")
    with tempfile.TemporaryDirectory() as tmp:
        vba = build_vba_project(bas, Path(tmp) / "vbaProject.bin")
        xlsm = Path(tmp) / "xlplugin.xlsm"
        _macro_workbook(vba, xlsm)
        _as_addin(xlsm, ui, dest)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("dist/xlplugin.xlam"))
    args = ap.parse_args()
    print(build_addin(args.out))


if __name__ == "__main__":
    main()
