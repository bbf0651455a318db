"""Training the head on the labelled corpus (tests/data/stages/*.csv), and splitting it by source.

Used at build time (scripts/build_stage_model.py writes head.json) and by the benchmark and
tests, which retrain the head without one source to see how it does on wording it never saw.
Needs scikit-learn (a runtime dependency already, for --learn-from).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlplugin.stage_model.head import HEAD_FILE, Head, tax_features
from xlplugin.stage_model.vectors import Vectors, shipped_vectors

ROOT = Path(__file__).resolve().parent.parent.parent
CORPUS = ROOT / "tests" / "data" / "stages"
STAGES = ("Upstream", "Downstream", "Review")
C = 4.0                 # inverse regularisation; measured on the by-source split (bench_label)


@dataclass
class Row:
    activity: str
    description: str
    stage: str          # Upstream | Downstream | Review (= genuinely either)
    source: str         # the CSV file's stem: one public source


def load_corpus(directory: Path = CORPUS) -> list[Row]:
    """Every row of every source CSV (columns activity, description, stage, source, ...)."""
    rows = []
    for path in sorted(directory.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r.get("stage") in STAGES and (r.get("activity") or "").strip():
                    rows.append(Row(r["activity"].strip(), (r.get("description") or "").strip(),
                                    r["stage"], path.stem))
    return rows


def _tax_scores(texts: list[str]) -> Any:
    from xlplugin.label import taxonomy_scores
    from xlplugin.taxonomy import load_taxonomy

    return taxonomy_scores(texts, load_taxonomy())


def fit_head(rows: list[Row], vectors: Vectors | None = None, c: float = C) -> Head:
    """Logistic regression on clear rows; each row also once without its description, so
    the head knows what a name alone says."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    vec = vectors or shipped_vectors()
    clear = [r for r in rows if r.stage != "Review"]
    acts = [r.activity for r in clear]
    descs = [r.description for r in clear]
    a, d = vec.embed(acts), vec.embed(descs)
    ta, td = _tax_scores(acts), _tax_scores(descs)
    zero_d = np.zeros_like(d)
    x = np.vstack([np.hstack([a, d, tax_features(ta, td)]),
                   np.hstack([a, zero_d, tax_features(ta, np.zeros_like(td))])])
    y = np.array([r.stage == "Upstream" for r in clear] * 2)
    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(x, y)
    w = clf.coef_[0]
    dims = a.shape[1]
    return Head(w[:dims].astype(np.float32), w[dims:2 * dims].astype(np.float32),
                w[2 * dims:].astype(np.float64), float(clf.intercept_[0]), len(clear),
                sorted({r.source for r in clear}))


def train_shipped_head() -> Head:
    rows = load_corpus()
    if not rows:
        raise SystemExit(f"no corpus CSVs in {CORPUS}")
    return fit_head(rows)


def save_head(head: Head, path: Path = HEAD_FILE) -> Path:
    return head.save(path)


def by_source_folds(rows: list[Row], folds: int = 0) -> list[tuple[list[Row], list[Row]]]:
    """(train, test) pairs with all rows of one source on the same side.  folds=0: leave one
    source out; else sources dealt round-robin (sorted by name) into that many groups."""
    sources = sorted({r.source for r in rows})
    groups = [[s] for s in sources] if not folds else [sources[i::folds] for i in range(folds)]
    out = []
    for g in groups:
        held = set(g)
        out.append(([r for r in rows if r.source not in held], [r for r in rows if r.source in held]))
    return out
