"""`xlplugin addin install`: put xlplugin.xlam where Excel loads add-ins at start-up, as
`xlwings addin install` does, and tell the add-in which Python to run.

- Windows: the user's XLSTART folder (%APPDATA%\\Microsoft\\Excel\\XLSTART, or the running
  Excel's startup_path); the settings file is %USERPROFILE%\\.xlplugin\\xlplugin.conf.
- macOS: Excel's startup folder in the Office group container; the settings file sits in
  Excel's sandbox (~/Library/Containers/com.microsoft.Excel/Data/xlplugin.conf), and
  RunPython needs xlwings' AppleScript in ~/Library/Application Scripts/com.microsoft.Excel.
- Linux: there is no desktop Excel; say so and where the file is.

The add-in's xlwings module reads "<PROJECT_NAME>.conf", PROJECT_NAME being "xlplugin"
(package.build_vba), in xlwings' format: one "KEY","value" line per setting.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from xlplugin.errors import XlpluginError
from xlplugin.excel.addin import package as pkg

MAC_STARTUP = ("Library/Group Containers/UBF8T346G9.Office/User Content.localized/"
               "Startup.localized/Excel")
MAC_SANDBOX = "Library/Containers/com.microsoft.Excel/Data"
MAC_SCRIPTS = "Library/Application Scripts/com.microsoft.Excel"


@dataclass
class Targets:
    system: str               # "Windows" or "Darwin"
    addin_dir: Path
    config: Path
    interpreter_key: str      # INTERPRETER_WIN / INTERPRETER_MAC
    scripts_dir: Path | None  # macOS: where RunPython's AppleScript goes


def targets(system: str | None = None, home: Path | None = None,
            env: dict[str, str] | None = None) -> Targets:
    """Where the add-in and its settings go on this (or the named) system."""
    system = system or platform.system()
    home = Path(home) if home else Path.home()
    env = dict(os.environ if env is None else env)
    if system == "Windows":
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        profile = Path(env.get("USERPROFILE") or home)
        return Targets(system, _running_excel_startup() or appdata / "Microsoft" / "Excel" / "XLSTART",
                       profile / f".{pkg.PROJECT}" / f"{pkg.PROJECT}.conf", "INTERPRETER_WIN", None)
    if system == "Darwin":
        return Targets(system, home / MAC_STARTUP, home / MAC_SANDBOX / f"{pkg.PROJECT}.conf",
                       "INTERPRETER_MAC", home / MAC_SCRIPTS)
    raise XlpluginError(f"Excel add-ins install on Windows and macOS only, not on {system}: copy this "
                        "file to a machine with Excel and run `xlplugin addin install` there, or use "
                        "`xlplugin addin lite` for xlwings Lite", file=str(pkg.shipped_addin()))


def _running_excel_startup() -> Path | None:
    """A running Excel's own startup folder, as `xlwings addin install` asks it (Windows)."""
    if platform.system() != "Windows":
        return None
    try:
        import xlwings as xw
        startup = xw.apps.active.startup_path if xw.apps else ""
        return Path(startup) if startup else None
    except Exception:  # no xlwings or no Excel: the default folder
        return None


def write_config(path: Path, key: str, interpreter: str) -> None:
    """Set one key in an xlwings-style settings file, keeping the other lines."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    lines = [line for line in lines if not line.upper().startswith(f'"{key}"')]
    lines.append(f'"{key}","{interpreter}"')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def install(system: str | None = None, home: Path | None = None, env: dict[str, str] | None = None,
            interpreter: str | None = None, source: Path | None = None) -> list[str]:
    """Install the add-in; returns what was done and what else is needed, one line each."""
    t = targets(system, home, env)
    source = Path(source) if source else pkg.shipped_addin()
    if not source.is_file():
        raise XlpluginError("the add-in is missing from this installation; run `xlplugin addin build`",
                            file=str(source))
    dest = t.addin_dir / pkg.ADDIN_NAME
    lock = t.addin_dir / f"~${pkg.ADDIN_NAME}"
    if lock.exists():
        raise XlpluginError("Excel has the add-in open: quit Excel, then install again", file=str(dest))
    t.addin_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.copyfile(source, tmp)
    tmp.replace(dest)
    python = interpreter or sys.executable
    write_config(t.config, t.interpreter_key, python)
    done = [f"Installed the add-in: {dest}",
            f"Excel will run xlplugin with this Python: {python} (set in {t.config})"]
    done += _xlwings_notes(t)
    done.append("Restart Excel: the Marketing Plan tab appears in every workbook. "
                "Excel's startup folder is a trusted location, so its macros may run.")
    return done


def _xlwings_notes(t: Targets) -> list[str]:
    """xlwings must be in that Python, at the version the add-in's VBA came from."""
    try:
        import xlwings
    except ImportError:
        return [f"Also needed: xlwings in this Python: pip install xlwings=={pkg.XLWINGS_VBA_VERSION}"]
    notes = []
    if xlwings.__version__ != pkg.XLWINGS_VBA_VERSION:
        notes.append(f"Note: the add-in's VBA is xlwings {pkg.XLWINGS_VBA_VERSION}, this Python has "
                     f"xlwings {xlwings.__version__}: pip install xlwings=={pkg.XLWINGS_VBA_VERSION}")
    if t.scripts_dir is not None:
        script = Path(xlwings.__file__).parent / f"xlwings-{xlwings.__version__}.applescript"
        if script.is_file():
            t.scripts_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(script, t.scripts_dir / script.name)
            notes.append(f"Enabled RunPython on macOS: {t.scripts_dir / script.name}")
        else:
            notes.append("Also needed on macOS: `xlwings runpython install`")
    return notes
