"""What the fuzzer drives, importable without atheris (the regression test replays it)."""

from __future__ import annotations

from pathlib import Path

from xlplugin.errors import XlpluginError
from xlplugin.file.read import open_workbook


def read_everything(path: Path) -> None:
    """What the CLI reads from a workbook before locating the plan."""
    with open_workbook(path) as wb:
        _ = wb.tables, wb.defined_names, wb.sheet_states
        for name in wb.sheet_names:
            wb.grid(name)
            wb.list_validations(name)


def one_input(path: Path) -> str | None:
    """None when the workbook reads; the one-line refusal when it is refused cleanly.
    Anything else propagates: that is a crash."""
    try:
        read_everything(path)
    except XlpluginError as e:
        text = str(e)
        assert "\n" not in text and text.startswith(path.name), text
        return text
    return None
