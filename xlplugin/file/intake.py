"""What a path is, before the engine reads it, and what an earlier xlplugin output holds.

Each refusal is one of errors.py's outcomes, with what to do about it: a missing file,
a CSV or an old .xls, an .xlsx renamed to .xls, an encrypted workbook.  The package
reader (ooxml/package.py) catches what is wrong inside a zip; the writer refuses a
workbook open in Excel (apply_file/packager.check_not_open).
"""

from __future__ import annotations

from pathlib import Path

from xlplugin.errors import EncryptedWorkbook, FileNotFound, NotAWorkbook

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
TEXT_SUFFIXES = {".csv": "a CSV text file", ".tsv": "a tab-separated text file",
                 ".txt": "a text file"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK"
# An encrypted .xlsx is an OLE container with this stream name (UTF-16).
ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
STATE_SHEET = "xlplugin_state"
TOOL_SHEETS = {"Validation": "check", "Summary": "summarize"}


def check_input(path: Path) -> None:
    """Raise the outcome that fits a path that is not a readable .xlsx/.xlsm workbook."""
    if not path.exists():
        raise FileNotFound("no such file", file=str(path))
    if path.is_dir():
        raise FileNotFound("is a folder, not a workbook", file=str(path))
    suffix = path.suffix.lower()
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError as e:
        raise FileNotFound(f"cannot open ({e.strerror or e})", file=str(path)) from None
    if head.startswith(OLE_MAGIC):
        if ENCRYPTION_INFO in head or (suffix in WORKBOOK_SUFFIXES and _encrypted(path)):
            raise EncryptedWorkbook("the workbook is password-protected", file=str(path))
        raise NotAWorkbook("a legacy binary Excel 97-2003 (.xls) workbook", file=str(path))
    if suffix in TEXT_SUFFIXES:
        raise NotAWorkbook(TEXT_SUFFIXES[suffix], file=str(path))
    if suffix not in WORKBOOK_SUFFIXES:
        what = ("an .xlsx workbook saved under another extension" if head.startswith(ZIP_MAGIC)
                else f"a {suffix or 'extension-less'} file, not an Excel workbook")
        err = NotAWorkbook(what, file=str(path))
        if head.startswith(ZIP_MAGIC):
            err.advice = "rename it to .xlsx"
        raise err


def _encrypted(path: Path) -> bool:
    with open(path, "rb") as fh:
        return ENCRYPTION_INFO in fh.read(1 << 22)


def output_parts(path: Path) -> set[str]:
    """The steps whose parts an earlier xlplugin output holds ("check": a Validation sheet,
    "label": Stage columns, "summarize": a Summary sheet); empty for a user's workbook."""
    if not path.is_file():
        return set()
    from xlplugin.file.ooxml.package import open_package

    try:
        with open_package(path) as pkg:
            names = {s.name for s in pkg.sheets}
            workbook_xml = pkg.read(pkg.workbook_part)
    except Exception:   # not ours to judge here: the reader says what is wrong, if anything
        return set()
    if STATE_SHEET not in names:
        return set()
    steps = {step for sheet, step in TOOL_SHEETS.items()
             if sheet in names or f"{sheet} (xlplugin)" in names}
    if b"_xlplugin_columns" in workbook_xml:
        steps.add("label")
    return steps
