"""Coverage-guided fuzzing (atheris) of the package reader: `make fuzz` runs it for a fixed time.

    python -m tests.fuzz.fuzz_package -max_total_time=300 build/fuzz/corpus

Each input is a workbook file.  It goes through what `xlplugin` does before any plan
logic: open_workbook (the door's limits, the sheet map, relationships), then every
worksheet's values, validations, Tables and names.  A clean refusal (XlpluginError)
is the expected outcome for junk; any other exception is a crash.  Crashes land as
crash-* files (libFuzzer's -artifact_prefix); copy each into tests/fuzz/regressions/,
where tests/fuzz/test_regressions.py replays it in the normal suite.

A structure-aware mutator keeps most inputs valid zips: it inflates the package,
mutates one member's bytes (libFuzzer's own mutator), and zips it again, so the
fuzzer reaches the XML handling instead of dying on CRC errors.
"""

from __future__ import annotations

import io
import os
import random
import sys
import tempfile
import zipfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from tests.fuzz.target import one_input
    from xlplugin.file import read  # noqa: F401
    from xlplugin.file.ooxml import guard, package  # noqa: F401  (instrumented for coverage)

_TMP = Path(tempfile.mkdtemp(prefix="xlp-fuzz-"))
_PATH = _TMP / "input.xlsx"


def TestOneInput(data: bytes) -> None:  # noqa: N802  (atheris' name)
    _PATH.write_bytes(data)
    one_input(_PATH)


def _rezip(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, body in members:
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def CustomMutator(data: bytes, max_size: int, seed: int) -> bytes:  # noqa: N802
    rnd = random.Random(seed)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = [(i.filename, z.read(i)) for i in z.infolist()]
    except Exception:  # not a zip (any more): plain byte mutation
        return atheris.Mutate(data, max_size)
    if not members or rnd.random() < 0.1:
        return atheris.Mutate(data, max_size)
    xml = [i for i, (n, _) in enumerate(members) if n.endswith((".xml", ".rels"))] or list(range(len(members)))
    i = rnd.choice(xml)
    name, body = members[i]
    members[i] = (name, atheris.Mutate(body, max(len(body) * 2, 4096)))
    out = _rezip(members)
    return out if len(out) <= max_size else atheris.Mutate(data, max_size)   # libFuzzer's bound


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput, custom_mutator=CustomMutator)
    atheris.Fuzz()


if __name__ == "__main__":
    os.environ.setdefault("XLPLUGIN_DEBUG", "")
    main()
