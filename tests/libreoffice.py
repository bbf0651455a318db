"""LibreOffice headless as a formula oracle for tests, and a PNG renderer.

Trap (DESIGN.md): by default LibreOffice trusts the cached values in an .xlsx and does
not recalculate, so a wrong cached value would pass.  `make_profile` writes a private
user profile whose registrymodifications.xcu sets Calc's OOXMLRecalcMode (and
ODFRecalcMode) to 0 = "always recalculate"; every call passes it with
`-env:UserInstallation=file:///...`.  One soffice call converts many files.

    values = recalculate_values([a, b], tmp_path)      # {path: Book}
    values[a].errors()                                 # cells that evaluate to an error
    values[a]["Summary"][(5, 2)]                       # a number, a str, None ...

Converting to .xlsx (not CSV) keeps types: numbers stay numbers, "" stays apart from 0,
errors are typed (openpyxl data_type "e").  LibreOffice 7.4 writes numbers with 15
significant digits, plenty for a 1e-9 relative comparison.  `convert_csv` gives every
sheet's text as LibreOffice shows it (filter option token 12 = -1: all sheets, >= 7.2).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOPPM = shutil.which("pdftoppm")
TIMEOUT = 300

XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,UTF8,1,,0,false,true,false,false,false,-1"


def available() -> bool:
    return SOFFICE is not None


def make_profile(base: str | Path | None = None) -> Path:
    """A LibreOffice user profile that always recalculates on load."""
    base = Path(base) if base else Path(tempfile.mkdtemp(prefix="xlp-lo-profile-"))
    user = base / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(XCU, encoding="utf-8")
    return base


def _run(args: list[str], profile: Path, outdir: Path) -> None:
    if SOFFICE is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [SOFFICE, f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless",
           "--norestore", *args, "--outdir", str(outdir)]
    env = dict(os.environ, HOME=str(profile))   # nothing leaks into the real home
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"soffice failed ({proc.returncode}): {proc.stderr.strip()}")


def convert(paths: list[Path], outdir: Path, to: str = "xlsx", profile: Path | None = None) -> dict[Path, Path]:
    """Convert every file in ONE soffice call (recalculating on load).  {input: output}.

    Inputs must have distinct stems (outputs are named after them)."""
    paths = [Path(p) for p in paths]
    stems = [p.stem for p in paths]
    if len(set(stems)) != len(stems):
        raise ValueError("inputs must have distinct file names")
    profile = profile or make_profile(outdir / "_profile")
    ext = to.split(":", 1)[0]
    _run(["--convert-to", to, *map(str, paths)], profile, outdir)
    out = {}
    for p in paths:
        target = outdir / f"{p.stem}.{ext}"
        if not target.exists():
            raise RuntimeError(f"LibreOffice produced no {target.name} for {p.name}")
        out[p] = target
    return out


ERROR_TEXTS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "Err:")


@dataclass
class Book:
    """Recalculated values of one workbook: sheets[name][(row, col)] -> value."""

    sheets: dict[str, dict[tuple[int, int], object]] = field(default_factory=dict)
    error_cells: list[tuple[str, int, int, str]] = field(default_factory=list)

    def __getitem__(self, sheet: str) -> dict[tuple[int, int], object]:
        return self.sheets[sheet]

    def errors(self) -> list[tuple[str, int, int, str]]:
        return self.error_cells


def read_values(path: Path) -> Book:
    """Every cell value of an .xlsx as written (cached values), errors collected."""
    import openpyxl

    wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    book = Book()
    try:
        for ws in wb.worksheets:
            cells: dict[tuple[int, int], object] = {}
            for line in ws.iter_rows():
                for c in line:
                    if c.value is None or not hasattr(c, "column"):
                        continue
                    cells[(c.row, c.column)] = c.value
                    if c.data_type == "e" or (isinstance(c.value, str) and c.value.startswith(ERROR_TEXTS)):
                        book.error_cells.append((ws.title, c.row, c.column, str(c.value)))
            book.sheets[ws.title] = cells
    finally:
        wb.close()
    return book


def recalculate_values(paths: list[Path], workdir: Path, profile: Path | None = None) -> dict[Path, Book]:
    """LibreOffice loads each file, recalculates every formula, saves .xlsx; read the values."""
    outdir = Path(workdir) / "recalc"
    done = convert(paths, outdir, "xlsx", profile=profile)
    return {src: read_values(out) for src, out in done.items()}


def convert_csv(paths: list[Path], outdir: Path, profile: Path | None = None) -> dict[Path, dict[str, list[list[str]]]]:
    """Every sheet of every file as CSV text rows (values as LibreOffice computed them)."""
    import csv

    paths = [Path(p) for p in paths]
    profile = profile or make_profile(Path(outdir) / "_profile")
    _run(["--convert-to", CSV_ALL_SHEETS, *map(str, paths)], profile, Path(outdir))
    out: dict[Path, dict[str, list[list[str]]]] = {}
    for p in paths:
        sheets = {}
        for f in sorted(Path(outdir).glob(f"{p.stem}-*.csv")):
            with open(f, newline="", encoding="utf-8") as fh:
                sheets[f.stem[len(p.stem) + 1:]] = list(csv.reader(fh))
        out[p] = sheets
    return out


def render_png(path: Path, outdir: Path, page: int | None = None, profile: Path | None = None,
               dpi: int = 80) -> list[Path]:
    """xlsx -> PDF (one page per sheet) -> PNG with pdftoppm.  page: 1-based sheet page."""
    if PDFTOPPM is None:
        raise RuntimeError("pdftoppm (poppler-utils) is not installed")
    outdir = Path(outdir)
    profile = profile or make_profile(outdir / "_profile")
    pdf_filter = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'
    pdf = convert([path], outdir, pdf_filter, profile=profile)[Path(path)]
    prefix = outdir / Path(path).stem
    cmd = [PDFTOPPM, "-png", "-r", str(dpi)]
    if page is not None:
        cmd += ["-f", str(page), "-l", str(page)]
    subprocess.run([*cmd, str(pdf), str(prefix)], check=True, capture_output=True, timeout=TIMEOUT)
    return sorted(outdir.glob(f"{Path(path).stem}*.png"))


def render_pdf_pages(pdf: Path, outdir: Path, dpi: int = 60) -> list[Path]:
    """Every page of a PDF as a PNG (pdftoppm), in page order."""
    if PDFTOPPM is None:
        raise RuntimeError("pdftoppm (poppler-utils) is not installed")
    prefix = Path(outdir) / (Path(pdf).stem + "-page")
    subprocess.run([PDFTOPPM, "-png", "-r", str(dpi), str(pdf), str(prefix)], check=True,
                   capture_output=True, timeout=TIMEOUT)
    return sorted(Path(outdir).glob(f"{prefix.name}*.png"))
