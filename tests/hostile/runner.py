"""Run the `xlplugin` CLI as a user does (a real process) and measure it: wall time and
peak memory of that process tree, from the kernel (os.wait4's rusage), not from guesses."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

XLPLUGIN = [sys.executable, "-m", "xlplugin.cli"]

# Bounds for one small workbook, hostile or not.  The CLI imports pandas and pandera
# (about 1.5 s and 150 MB alone); 2 cores are shared with other jobs, hence the slack.
SECONDS = 45.0
MEGABYTES = 600.0


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float

    @property
    def error_lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.strip()]


def cli(*args: str, cwd: Path | None = None, timeout: float = 300, env: dict | None = None) -> Run:
    environment = {**os.environ, "COLUMNS": "200", **(env or {})}
    environment.pop("XLPLUGIN_DEBUG", None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([*XLPLUGIN, *args], stdout=out, stderr=err, cwd=cwd, env=environment)
        killer = threading.Timer(timeout, lambda: os.kill(proc.pid, signal.SIGKILL))
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        # ru_maxrss: kilobytes on Linux; the largest of the process and its waited-for children
        return Run(proc.returncode, out.read().decode("utf-8", "replace"),
                   err.read().decode("utf-8", "replace"), seconds, usage.ru_maxrss / 1024)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def assert_refused(run: Run, src: Path, reason: str, before: str, folder_before: list[str],
                   seconds: float = SECONDS, megabytes: float = MEGABYTES) -> None:
    """Exit 2, exactly one line naming the file and saying why, no traceback, bounded time
    and memory, the input unchanged and nothing written beside it."""
    assert run.returncode == 2, (run.returncode, run.stderr[-2000:])
    assert "Traceback" not in run.stderr + run.stdout, run.stderr[-3000:]
    lines = run.error_lines
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {src}: "), lines[0]
    assert reason in lines[0], lines[0]
    assert run.seconds < seconds, f"took {run.seconds:.1f} s"
    assert run.peak_mb < megabytes, f"peak memory {run.peak_mb:.0f} MB"
    assert digest(src) == before
    assert listing(src.parent) == folder_before, "something was written"
