"""The one error type the CLI turns into a clean one-line message and exit 2."""

from __future__ import annotations


class XlpluginError(Exception):
    """A problem with an input or output file the user can act on.

    str() gives one line: "plan.xlsx: Plan!E7: budget must be a number".
    """

    def __init__(self, message: str, file: str = "", cell: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.cell = cell

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.cell, self.message) if p]
        return ": ".join(parts)


class UnreadableWorkbook(XlpluginError):
    """The file is not a workbook we can read (not a zip, encrypted, corrupt)."""


class UnsupportedWorkbook(XlpluginError):
    """A readable workbook the writer refuses to change rather than risk damaging it."""


class PlanNotFound(XlpluginError):
    """No sheet in the workbook looks like a marketing plan."""
