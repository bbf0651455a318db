"""Many workbooks through `pipeline.process_file`: in this process, in a local process
pool, or on an existing Dask distributed cluster.  Every way returns the same
FileResults in the order the paths were given, so the CLI's table and exit code do not
depend on where the work ran.

The pool's workers import the engine once and keep the loaded schema, taxonomy and
learned model between files (they are cached at module level in check/label), so a
batch of small plans pays the imports once per worker, not once per file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from xlplugin.errors import XlpluginError
from xlplugin.pipeline import FileResult, Options, process_file

Progress = Callable[[FileResult], None]


class SchedulerError(XlpluginError):
    outcome = "scheduler unreachable"
    advice = "start the scheduler (`dask scheduler`) or check its address"


def run_batch(paths: Sequence[Path], opts: Options, *, jobs: int = 0, scheduler: str | None = None,
              model=None, on_done: Progress | None = None) -> list[FileResult]:
    """Process `paths` and return one FileResult per path, in order.

    scheduler: a Dask distributed address ("tcp://host:8786"); the files must be on storage
    the workers see under the same paths (they are sent as absolute paths).
    jobs: local worker processes (0: one per core); ignored with a scheduler."""
    done = on_done or (lambda _r: None)
    if scheduler:
        return _on_dask(paths, opts, scheduler, model, done)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(paths)))
    if jobs == 1:
        results = []
        for p in paths:
            results.append(process_file(p, opts, model=model))
            done(results[-1])
        return results
    return _on_pool(paths, opts, jobs, model, done)


# Imported once by the forkserver; every worker forks from it with these loaded.  The
# engine imports pandas, pandera and scipy lazily (so `check` starts fast), so they are
# named here: xlplugin.engine.checks brings pandas and pandera (and registers the checks
# the schemas name), the stage model scipy.  Otherwise each worker imports them itself.
ENGINE_MODULES = ["xlplugin.pipeline", "xlplugin.file.intake", "xlplugin.file.read", "xlplugin.file.read_formats",
                  "xlplugin.engine.locate", "xlplugin.engine.parse", "xlplugin.engine.check",
                  "xlplugin.engine.checks", "xlplugin.engine.stages.label",
                  "xlplugin.engine.stages.model.decide", "scipy.sparse",
                  "xlplugin.render.validation", "xlplugin.render.labels", "xlplugin.render.metric_columns",
                  "xlplugin.render.summary", "xlplugin.file.write"]


def _on_pool(paths: Sequence[Path], opts: Options, jobs: int, model, done: Progress) -> list[FileResult]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # forkserver: a clean interpreter (no copy of the parent's progress-bar thread or open
    # files) imports the engine once; each worker forks from it with the imports done.
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(ENGINE_MODULES)
    by_index: dict[int, FileResult] = {}
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_start) as pool:
        futures = {pool.submit(process_file, p, opts, model): i for i, p in enumerate(paths)}
        for fut in as_completed(futures):
            i = futures[fut]
            by_index[i] = _result_of(fut, paths[i])
            done(by_index[i])
    return [by_index[i] for i in range(len(paths))]


def _worker_start() -> None:
    """In each worker, before its first file: what the forkserver imported is frozen (never
    traversed by the collector, so its pages stay shared with the forkserver's), and young
    objects are collected less often (a 200-row plan spent 6 ms of its 140 in collections)."""
    import gc

    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def _result_of(fut, path: Path) -> FileResult:
    """A worker that died (killed, out of memory) becomes that file's one-line error."""
    try:
        return fut.result()
    except Exception as e:  # the worker process itself failed, not the file's analysis
        return FileResult(path=path, error=f"{path}: worker failed ({e.__class__.__name__}: {e})")


def _on_dask(paths: Sequence[Path], opts: Options, address: str, model, done: Progress) -> list[FileResult]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise SchedulerError("--scheduler needs Dask distributed: pip install 'xlplugin[dask]'",
                             file=address) from None
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise SchedulerError(f"cannot reach the Dask scheduler ({e})", file=address) from None
    with client:
        _check_workers(client, address)
        opts = _absolute(opts)
        absolute = [Path(p).resolve() for p in paths]
        shared_model = client.scatter(model, broadcast=True) if model is not None else None
        futures = client.map(process_file, absolute, opts=opts, model=shared_model,
                             pure=False, key=[f"xlplugin-{i}-{p.name}" for i, p in enumerate(absolute)])
        index = {f.key: i for i, f in enumerate(futures)}
        by_index: dict[int, FileResult] = {}
        for fut in as_completed(futures, loop=client.loop):
            i = index[fut.key]
            by_index[i] = _as_given(_result_of(fut, Path(paths[i])), absolute[i], Path(paths[i]))
            done(by_index[i])
            fut.release()
    return [by_index[i] for i in range(len(paths))]


def _check_workers(client, address: str) -> None:
    """Refuse a cluster whose workers lack xlplugin or run another version of it: their
    results would not be this command's results."""
    from xlplugin import __version__

    def version() -> str:
        try:
            import xlplugin
        except ImportError:
            return "missing"
        return xlplugin.__version__

    versions = client.run(version)
    if not versions:
        raise SchedulerError("the Dask cluster has no workers", file=address)
    wrong = {w: v for w, v in versions.items() if v != __version__}
    if wrong:
        w, v = next(iter(wrong.items()))
        raise SchedulerError(f"{len(wrong)} of {len(versions)} workers have xlplugin {v} "
                             f"(this is {__version__}), e.g. {w}; install the same version there",
                             file=address)


def _absolute(opts: Options) -> Options:
    """Workers run in other folders (or on other machines): every path they are given
    must be absolute, on storage they share with this machine."""
    def a(p: Path | None) -> Path | None:
        return Path(p).resolve() if p is not None else None

    return dataclasses.replace(opts, out_dir=a(opts.out_dir), config_path=a(opts.config_path),
                               schema_path=a(opts.schema_path), taxonomy_path=a(opts.taxonomy_path),
                               learn_from=tuple(Path(p).resolve() for p in opts.learn_from))


def _as_given(result: FileResult, absolute: Path, given: Path) -> FileResult:
    """Name the file (in the table, the findings and any error) as the user gave it,
    not by the absolute path the workers were sent."""
    result.path = given
    for f in result.findings:
        f.file = str(given)
    if result.error:
        result.error = result.error.replace(str(absolute), str(given))
    if result.output is not None and not given.is_absolute():
        with contextlib.suppress(ValueError):   # an --out outside the working folder
            result.output = result.output.relative_to(Path.cwd().resolve())
    return result
