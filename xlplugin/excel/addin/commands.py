"""The `xlplugin addin` command group: build, verify, install, path, lite.
Registered by xlplugin/cli.py; heavy imports stay inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(name="addin", help="The Excel add-in (xlplugin.xlam) and the xlwings Lite scripts.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command()
def build(out: Annotated[Path | None, typer.Option("--out", help="Where to write the add-in "
                                                    "(default: the one shipped in the package).")] = None) -> None:
    """Build xlplugin.xlam from templates/ribbon (no Excel needed; byte-identical each time)."""
    from xlplugin.excel.addin import package as pkg
    try:
        path = pkg.build_addin(out or pkg.shipped_addin())
    except (OSError, ValueError, KeyError) as e:
        _fail(f"{out or pkg.shipped_addin()}: cannot build the add-in: {e}")
    typer.echo(str(path))


@app.command()
def verify(path: Annotated[Path | None, typer.Argument(help="The add-in (default: the shipped one).")] = None,
           libreoffice: Annotated[bool, typer.Option("--libreoffice/--no-libreoffice",
                                                     help="Also open it in LibreOffice when installed.")] = True) -> None:
    """Check everything about the add-in that can be checked without Excel; one line per check."""
    import zipfile

    from xlplugin.excel.addin import package as pkg
    from xlplugin.excel.addin.verify import verify as run_checks
    path = path or pkg.shipped_addin()
    if not path.is_file():
        _fail(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        _fail(f"{path}: not an Excel add-in (not a zip package)")
    try:
        checks = run_checks(path, libreoffice=libreoffice)
    except (KeyError, ValueError, OSError) as e:
        _fail(f"{path}: not an xlplugin add-in ({e.__class__.__name__}: {e})")
    for c in checks:
        typer.echo(c.line())
    failed = [c for c in checks if c.ok is False]
    typer.echo(f"{path}: {len(failed)} of {len(checks)} checks failed" if failed else
               f"{path}: all {sum(c.ok is True for c in checks)} checks passed")
    raise typer.Exit(1 if failed else 0)


@app.command()
def install() -> None:
    """Put the add-in where Excel loads add-ins (Windows, macOS) and point it at this Python."""
    from xlplugin.errors import XlpluginError
    from xlplugin.excel.addin.install import install as do_install
    try:
        lines = do_install()
    except XlpluginError as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"{e.filename or 'the add-in'}: cannot install: {e.strerror or e}")
    for line in lines:
        typer.echo(line)


@app.command()
def path() -> None:
    """Print where the shipped add-in is."""
    from xlplugin.excel.addin import package as pkg
    typer.echo(str(pkg.shipped_addin()))


@app.command()
def lite(out: Annotated[Path, typer.Option("--out", help="Folder for main.py and requirements.txt.")] = Path("."),
         package: Annotated[str | None, typer.Option("--package", help="How requirements.txt names xlplugin "
                                                     "(a version pin or a wheel URL).")] = None) -> None:
    """Write main.py and requirements.txt for xlwings Lite (Excel on the web and Mac, no VBA)."""
    from xlplugin.excel.addin import lite as lite_mod
    try:
        for p in lite_mod.write(out, package):
            typer.echo(str(p))
    except OSError as e:
        _fail(f"{out}: cannot write the xlwings Lite files: {e.strerror or e}")
