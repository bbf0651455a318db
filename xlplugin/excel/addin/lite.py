"""`xlplugin addin lite`: the ribbon's commands as xlwings Lite scripts.

xlwings Lite runs Python inside Excel (Windows, macOS, Excel on the web) on Pyodide, and
is free for commercial use.  Its main.py holds `@script` functions, one button each in
the Lite task pane; requirements.txt lists what Pyodide installs.  The engine reads the
open workbook through the xlwings Book there (read_xlwings), never python-calamine,
whose compiled wheel Pyodide lacks (pyproject.toml skips it on sys_platform emscripten).
The scripts are generated from the ribbon's buttons, so the two stay the same list.
"""

from __future__ import annotations

from pathlib import Path

from xlplugin import __version__
from xlplugin.excel.addin import ribbon_xml

# new_plan creates a file beside the workbook: there is none on the web
_FILE_ONLY = {"new_plan"}

_HEADER = '''"""xlplugin in xlwings Lite: the "Marketing Plan" ribbon's commands as scripts.

Written by `xlplugin addin lite` (xlplugin {version}); paste into xlwings Lite's main.py
and requirements.txt.  Each script runs the same change list as the CLI and the ribbon
on the open workbook, and reports the outcome in an alert.
"""

import xlwings as xw
from xlwings import script

from xlplugin.excel import ribbon_on
'''

_SCRIPT = '''

@script
def {name}(book: xw.Book):
    """{label}: {tip}"""
    return ribbon_on(book, "{tag}")
'''


def main_py() -> str:
    ui = ribbon_xml.path().read_bytes()
    parts = [_HEADER.format(version=__version__)]
    for b in ribbon_xml.buttons(ui):
        if b["tag"] in _FILE_ONLY:
            continue
        parts.append(_SCRIPT.format(name=b["tag"], tag=b["tag"], label=b["label"],
                                    tip=b.get("screentip", "").replace('"', "'")))
    return "".join(parts)


def requirements_txt(package: str | None = None) -> str:
    import xlwings
    return "\n".join([
        "# xlplugin for xlwings Lite (Pyodide).  pandas, lxml, pyyaml and scikit-learn come",
        "# from Pyodide's own builds; xlplugin skips python-calamine there.",
        f"xlwings=={xlwings.__version__}",
        package or f"xlplugin=={__version__}",
        "",
    ])


def write(out: Path, package: str | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    main, req = out / "main.py", out / "requirements.txt"
    main.write_text(main_py(), encoding="utf-8")
    req.write_text(requirements_txt(package), encoding="utf-8")
    return [main, req]
