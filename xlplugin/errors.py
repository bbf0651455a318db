"""The error types the CLI turns into a clean one-line message and exit 2.

Each class carries an `outcome`: the short phrase the result table, JSON and JUnit
reports use for a file-level result ("no plan found", "encrypted", ...), so every
report speaks one vocabulary.  `advice` says what the user can do about it.
"""

from __future__ import annotations


class XlpluginError(Exception):
    """A problem with an input or output file the user can act on.

    str() gives one line: "plan.xlsx: Plan!E7: budget must be a number".
    """

    outcome = "error"
    advice = ""

    def __init__(self, message: str, file: str = "", cell: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.cell = cell

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.cell, self.message) if p]
        # One line whatever a library put in the message (lxml's errors carry newlines).
        return " ".join(": ".join(parts).split())


class FileNotFound(XlpluginError):
    outcome = "not found"
    advice = "check the path"


class UnreadableWorkbook(XlpluginError):
    """The file is not a workbook we can read (not a zip, corrupt)."""

    outcome = "unreadable"


class NotAWorkbook(UnreadableWorkbook):
    """A CSV, an .xls, a PDF, ... : not an .xlsx/.xlsm package."""

    outcome = "not a workbook"
    advice = "open it in Excel and save it as .xlsx"


class EncryptedWorkbook(UnreadableWorkbook):
    outcome = "encrypted"
    advice = "save an unprotected copy (File > Info > Protect Workbook > Encrypt with Password: clear it)"


class DamagedWorkbook(UnreadableWorkbook):
    outcome = "damaged"
    advice = "open it in Excel (it offers to repair it) and save it again"


class UnsafePackage(UnreadableWorkbook):
    """Refused at the door: a zip bomb, traversal names, entity expansion, ..."""

    outcome = "refused: unsafe file"


class UnsupportedWorkbook(XlpluginError):
    """A readable workbook the writer refuses to change rather than risk damaging it."""

    outcome = "refused"


class OpenInExcel(XlpluginError):
    outcome = "open in Excel"
    advice = "close it in Excel and run again"


class AlreadyOutput(XlpluginError):
    outcome = "already an output"
    advice = "run on the original, or use --in-place to update this output"


class PlanNotFound(XlpluginError):
    """No sheet in the workbook holds a table xlplugin understands."""

    outcome = "no plan found"
