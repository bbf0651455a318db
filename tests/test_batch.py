"""Batches as ops run them: `xlplugin run FOLDER` in a local process pool and on a real
Dask distributed cluster (started here on loopback) give the same outputs, table and
exit code as one process does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.plan_factory import ROWS, make_plan

XLPLUGIN = [sys.executable, "-m", "xlplugin.cli"]


def _plans(folder: Path, n: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(n):
        rows = [list(r) for r in ROWS]
        rows[i % len(rows)][8] = "lots"          # one bad budget cell per plan, in a different row
        paths.append(make_plan(folder / f"plan{i}.xlsx", rows))
    return paths


def _cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*XLPLUGIN, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {}), "COLUMNS": "200"})


# The Summary records when it was produced (an Excel date-time serial): the one value
# two runs of the same command may differ in.
_TIMESTAMP = re.compile(rb"<v>4\d{4}\.\d+</v>")


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: _TIMESTAMP.sub(b"<v>TIME</v>", z.read(n)) for n in z.namelist()}


def _table_rows(stdout: str) -> list[str]:
    """The result table's body rows (rich draws them between vertical bars)."""
    return [line for line in stdout.splitlines() if line.startswith("│") and ".xlsx" in line]


def test_pool_equals_one_process(tmp_path):
    _plans(tmp_path / "plans", 5)
    one = _cli("run", "plans", "--out", "one", "--jobs", "1", cwd=tmp_path)
    two = _cli("run", "plans", "--out", "two", "--jobs", "2", cwd=tmp_path)
    assert one.returncode == two.returncode == 1, one.stderr + two.stderr   # each plan has an error
    assert len(_table_rows(two.stdout)) == 5
    # The table lists files in the order given, whichever worker finished first.
    assert [r.split()[1] for r in _table_rows(two.stdout)] == [f"plans/plan{i}.xlsx" for i in range(5)]
    for i in range(5):
        assert _parts(tmp_path / "one" / f"plan{i}.xlsx") == _parts(tmp_path / "two" / f"plan{i}.xlsx")


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster:
        yield cluster.scheduler_address


def test_dask_cluster_equals_local(tmp_path, dask_cluster):
    paths = _plans(tmp_path / "plans", 4)
    local = _cli("run", "plans", "--out", "local", "--jobs", "1", cwd=tmp_path)
    remote = _cli("run", "plans", "--out", "remote", "--scheduler", dask_cluster, cwd=tmp_path)
    assert remote.returncode == local.returncode == 1, remote.stderr
    assert _table_rows(remote.stdout) and len(_table_rows(remote.stdout)) == len(paths)
    for p in paths:
        assert _parts(tmp_path / "local" / p.name) == _parts(tmp_path / "remote" / p.name)
    # check over the cluster: the same findings report as one process gives.
    local_json = _cli("check", "plans", "--format", "json", "--jobs", "1", cwd=tmp_path)
    remote_json = _cli("check", "plans", "--format", "json", "--scheduler", dask_cluster, cwd=tmp_path)
    assert remote_json.stdout == local_json.stdout and '"XP' in remote_json.stdout


def test_scheduler_from_config(tmp_path, dask_cluster):
    _plans(tmp_path / "plans", 2)
    (tmp_path / "xlplugin.toml").write_text(f'[run]\nscheduler = "{dask_cluster}"\n')
    r = _cli("run", "plans", "--out", "out", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["plan0.xlsx", "plan1.xlsx"]


def test_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path):
    _plans(tmp_path / "plans", 2)
    r = _cli("run", "plans", "--out", "out", "--scheduler", "tcp://127.0.0.1:9", cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "tcp://127.0.0.1:9" in lines[0] and "Dask scheduler" in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
