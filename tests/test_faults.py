"""Faults around the final write, caused for real: two runs racing on one file, a workbook
Excel holds open, a full disk (a small tmpfs, and RLIMIT_FSIZE in the child), and the
process SIGKILLed mid-write.  In every case the original is intact, nothing half-written
sits under the final name, and no leftover is taken for a workbook by the next run."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.hostile.runner import cli, digest
from tests.plan_factory import ROWS, make_plan

XLPLUGIN = [sys.executable, "-m", "xlplugin.cli"]


def _valid_output(path: Path) -> None:
    """A whole workbook: every member inflates with a good CRC, Summary present once."""
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        wb = z.read("xl/workbook.xml")
    assert wb.count(b'name="Summary"') == 1


def _no_temp_left(folder: Path) -> None:
    left = [p.name for p in folder.iterdir() if "xlplugin" in p.name and p.name.startswith(".")]
    assert not left, left


@pytest.fixture(scope="module")
def big_plan(tmp_path_factory) -> Path:
    """Big enough (1,500 rows) that writing it takes a moment we can interrupt."""
    rows = [[f"A-{i:05d}", *r[1:]] for i, r in enumerate(ROWS * 300)]
    return make_plan(tmp_path_factory.mktemp("big") / "plan.xlsx", rows=rows)


def test_two_runs_on_the_same_file_at_once(tmp_path):
    src = make_plan(tmp_path / "plan.xlsx")
    env = {**os.environ}
    procs = [subprocess.Popen([*XLPLUGIN, "run", str(src), "--in-place"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode in (0, 1, 2) and "Traceback" not in err, err
        if p.returncode == 2:
            assert len(err.strip().splitlines()) == 1 and str(src) in err, err
    assert any(p.returncode in (0, 1) for p in procs)
    _valid_output(src)                    # one run's whole result, never a mix of two
    _no_temp_left(tmp_path)
    # and it is what one run gives: running again changes no sheet's values
    again = cli("run", str(src), "--out", str(tmp_path / "again"))
    assert again.returncode in (0, 1)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(tmp_path / "again" / "plan.xlsx") as b:
        assert sorted(a.namelist()) == sorted(b.namelist())


@pytest.mark.parametrize("lock_name", ["~$plan.xlsx", "~$an.xlsx"], ids=["excel-lock", "long-name-lock"])
def test_workbook_open_in_excel_is_not_overwritten(tmp_path, lock_name):
    src = make_plan(tmp_path / "plan.xlsx")
    (tmp_path / lock_name).write_bytes(b"\x05user" + b"\x00" * 160)   # Excel's owner file
    before = digest(src)
    r = cli("run", str(src), "--in-place")
    assert r.returncode == 2 and len(r.error_lines) == 1, r.stderr
    assert "open in Excel" in r.stderr and str(src) in r.stderr
    assert digest(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["plan.xlsx", lock_name])


def test_output_open_in_excel_is_not_overwritten(tmp_path):
    src = make_plan(tmp_path / "plan.xlsx")
    out = tmp_path / "out"
    assert cli("run", str(src), "--out", str(out)).returncode in (0, 1)
    first = digest(out / "plan.xlsx")
    (out / "~$plan.xlsx").write_bytes(b"\x05user" + b"\x00" * 160)
    r = cli("run", str(src), "--out", str(out))
    assert r.returncode == 2 and "open in Excel" in r.stderr
    assert digest(out / "plan.xlsx") == first


def _fsize_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_disk_full_by_file_size_limit(tmp_path):
    """RLIMIT_FSIZE in the child: writes past the limit fail with EFBIG, as on a full disk."""
    src = make_plan(tmp_path / "plan.xlsx")
    before = digest(src)
    limit = src.stat().st_size // 2
    p = subprocess.run([*XLPLUGIN, "run", str(src), "--in-place"], capture_output=True, text=True,
                       preexec_fn=_fsize_limit(limit), timeout=300)
    assert p.returncode == 2, p.stdout[-2000:] + p.stderr[-2000:]
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and str(src) in lines[0] and "Traceback" not in p.stderr, p.stderr
    assert "too large" in lines[0].lower() or "space" in lines[0].lower(), lines[0]
    assert digest(src) == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["plan.xlsx"]


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 8 KB filesystem (tmpfs); skipped where mounting is not allowed."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.decode().strip()})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_output_disk_full(tmp_path, tiny_disk):
    src = make_plan(tmp_path / "plan.xlsx")
    before = digest(src)
    r = cli("run", str(src), "--out", str(tiny_disk))
    assert r.returncode == 2, r.stderr[-2000:]
    assert len(r.error_lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "No space left" in r.stderr and "plan.xlsx" in r.stderr, r.stderr
    assert digest(src) == before
    assert list(tiny_disk.iterdir()) == []           # neither the output nor a temp file


def _kill_mid_write(cmd: list[str], folder: Path, timeout: float = 120) -> str:
    """Start cmd, SIGKILL it as soon as its temporary output appears in `folder`."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    seen = ""
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(FileNotFoundError):
                temps = [n for n in os.listdir(folder) if n.startswith(".~xlplugin-")]
                if temps:
                    proc.send_signal(signal.SIGKILL)
                    seen = temps[0]
                    break
            time.sleep(0.001)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert seen, "the write finished before it could be interrupted"
    return seen


def test_killed_mid_write_in_place(tmp_path, big_plan):
    src = tmp_path / "plan.xlsx"
    shutil.copyfile(big_plan, src)
    before = digest(src)
    _kill_mid_write([*XLPLUGIN, "run", str(src), "--in-place"], tmp_path)
    assert digest(src) == before                     # the original, whole
    # The leftover temporary file is not a workbook to the next folder run.
    r = cli("run", str(tmp_path), "--out", str(tmp_path / "next"))
    assert r.returncode in (0, 1), r.stderr
    assert sorted(p.name for p in (tmp_path / "next").iterdir()) == ["plan.xlsx"]


def test_killed_mid_write_to_out(tmp_path, big_plan):
    out = tmp_path / "out"
    out.mkdir()
    before = digest(big_plan)
    _kill_mid_write([*XLPLUGIN, "run", str(big_plan), "--out", str(out)], out)
    assert digest(big_plan) == before
    assert not (out / "plan.xlsx").exists()          # nothing half-written under the final name
