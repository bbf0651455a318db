"""Training the heads on the labelled corpus (tests/data/stages/*.csv), and splitting it by source.

Used at build time (scripts/build_stage_model.py writes head.json) and by the benchmark and
tests, which retrain the head without one source to see how it does on wording it never saw.
Needs scikit-learn (a runtime dependency already, for --learn-from).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlplugin.engine.stages.model import StageModel
from xlplugin.engine.stages.model.head import HEAD_FILE, TAX_FEATURES, Head, tax_features
from xlplugin.engine.stages.model.neighbours import Neighbours
from xlplugin.engine.stages.model.ngrams import NgramHead
from xlplugin.engine.stages.model.vectors import Vectors, shipped_vectors

ROOT = Path(__file__).resolve().parents[4]
CORPUS = ROOT / "tests" / "data" / "stages"
# more annotators' labels for part of the corpus (its README says how they were given)
SECOND = ROOT / "tests" / "data" / "stages_second" / "labels.csv"
STAGES = ("Upstream", "Downstream", "Review")
C = 2.0                 # inverse regularisation; measured on the by-source split (bench_label)
WORD_SCALE = 2.0        # the per-word features' scale (their regularisation against the vectors')
REVIEW_WEIGHT = 1.0     # how much a Review row pulls its wording towards the middle
REVIEW_C = 0.5          # the Review head's inverse regularisation (measured like C)


@dataclass
class Row:
    activity: str
    description: str
    stage: str          # Upstream | Downstream | Review (= genuinely either)
    source: str         # the CSV file's stem: one public source
    votes: tuple[str, ...] = ()   # every annotator's label, the writer's first, where more labelled it


def load_corpus(directory: Path = CORPUS) -> list[Row]:
    """Every row of every source CSV (columns activity, description, stage, source, ...), with
    every annotator's label (SECOND) where more people labelled it.  The heads train on the
    writer's label: on the consensus, or on each label's share of the votes, they send fewer
    ambiguous rows to Review for about as many more clear rows right (stages_second/README.md)."""
    more = load_annotations()
    rows = []
    for path in sorted(directory.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r.get("stage") in STAGES and (r.get("activity") or "").strip():
                    act, desc = r["activity"].strip(), (r.get("description") or "").strip()
                    votes = (r["stage"], *more[path.stem, act, desc]) if (path.stem, act, desc) in more else ()
                    rows.append(Row(act, desc, r["stage"], path.stem, votes))
    return rows


def load_annotations(path: Path = SECOND) -> dict[tuple[str, str, str], tuple[str, ...]]:
    """(source, activity, description) -> the later annotators' labels (second, third if given)."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {(r["source"], r["activity"], r["description"]):
                tuple(s for s in (r["second"], r.get("third") or "") if s in STAGES)
                for r in csv.DictReader(f)}


def consensus(first: str, *more: str) -> str:
    """The label most annotators gave; where no two agree, Review (people read it as either)."""
    labels = [first, *more]
    best = max(STAGES, key=labels.count)
    return best if labels.count(best) * 2 > len(labels) else "Review"


def _tax_scores(texts: list[str]) -> Any:
    from xlplugin.engine.stages.label import taxonomy_scores
    from xlplugin.engine.stages.taxonomy import load_taxonomy

    return taxonomy_scores(texts, load_taxonomy())


def fit_head(rows: list[Row], vectors: Vectors | None = None, c: float = C,
             review_weight: float = REVIEW_WEIGHT, review_c: float = REVIEW_C) -> Head:
    """Logistic regression; each row also once without its description, so the head knows
    what a name alone says.  A Review row counts as half Upstream, half Downstream (times
    review_weight), which pulls wording that serves either stage towards the middle.
    Beside it, the Review head (same features): Review rows against clear ones."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack, vstack

    vec = vectors or shipped_vectors()
    acts = [r.activity for r in rows]
    descs = [r.description for r in rows]
    ba, bd = vec.bag(acts), vec.bag(descs)
    width = len(vec.words) + len(vec._extra)
    ba.resize((ba.shape[0], width))
    bd.resize((bd.shape[0], width))
    m = vec.full_matrix()[:width]
    a, d = np.asarray(ba @ m), np.asarray(bd @ m)
    ta, td = _tax_scores(acts), _tax_scores(descs)
    zero = csr_matrix(bd.shape, dtype=bd.dtype)
    # dense part (vectors, taxonomy) and a per-word part (the words themselves, scaled)
    x1 = vstack([hstack([csr_matrix(np.hstack([a, d, tax_features(ta, td)])), WORD_SCALE * ba, WORD_SCALE * bd]),
                 hstack([csr_matrix(np.hstack([a, np.zeros_like(d), tax_features(ta, np.zeros_like(td))])),
                         WORD_SCALE * ba, zero])]).tocsr()
    review = np.array([r.stage == "Review" for r in rows] * 2)
    up = np.array([r.stage == "Upstream" for r in rows] * 2)
    # clear rows once with their stage; Review rows twice, once as each stage
    x = vstack([x1[~review], x1[review], x1[review]]).tocsr()
    y = np.concatenate([up[~review], np.ones(review.sum(), bool), np.zeros(review.sum(), bool)])
    w = np.concatenate([np.ones((~review).sum()), np.full(2 * review.sum(), review_weight / 2)])
    head = _logistic(x, y, w, c, vec, a.shape[1], width)
    if review.any() and (~review).any():
        head.review = _logistic(x1, review, np.ones(review.size), review_c, vec, a.shape[1], width)
    head.rows, head.sources = len(rows), sorted({r.source for r in rows})
    return head


def _logistic(x: Any, y: Any, w: Any, c: float, vec: Vectors, dims: int, width: int) -> Head:
    """A Head from a weighted logistic regression over fit_head's features; both classes
    weigh the same in all (as class_weight='balanced' would)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    w = w.astype(np.float64)
    total = {cls: w[y == cls].sum() for cls in (True, False)}
    for cls in (True, False):
        w[y == cls] *= w.size / (2 * total[cls])
    clf = LogisticRegression(C=c, max_iter=5000).fit(x, y, sample_weight=w)
    coef = clf.coef_[0]
    k = 2 * dims + len(TAX_FEATURES)
    names = {i: w for w, i in vec._ids.items()}
    names.update(enumerate(vec.words))

    def per_word(c: object) -> dict[str, float]:
        c = WORD_SCALE * np.asarray(c)
        used = np.flatnonzero(np.abs(c) > 1e-3)
        return {names[int(i)]: round(float(c[i]), 4) for i in used if int(i) in names}

    return Head(coef[:dims].astype(np.float32), coef[dims:2 * dims].astype(np.float32),
                coef[2 * dims:k].astype(np.float64), float(clf.intercept_[0]), 0, [],
                per_word(coef[k:k + width]), per_word(coef[k + width:]))


def fit_model(rows: list[Row], vectors: Vectors | None = None) -> StageModel:
    """The heads (vector and n-gram) trained on rows, and rows as the neighbours that vote on unsure ones."""
    vec = vectors or shipped_vectors()
    acts, descs, stages = [r.activity for r in rows], [r.description for r in rows], [r.stage for r in rows]
    return StageModel(vec, fit_head(rows, vec), Neighbours.build(acts, descs, stages, vec),
                      NgramHead.fit(acts, descs, stages))


def train_shipped_model() -> StageModel:
    rows = load_corpus()
    if not rows:
        raise SystemExit(f"no corpus CSVs in {CORPUS}")
    return fit_model(rows)


def save_model(model: StageModel, path: Path = HEAD_FILE) -> list[Path]:
    """head.json at path, neighbours.npz and ngrams.npz beside it."""
    out = [model.head.save(path)]
    if model.neighbours is not None:
        out.append(model.neighbours.save(path.parent / "neighbours.npz"))
    if model.ngrams is not None:
        out.append(model.ngrams.save(path.parent / "ngrams.npz"))
    return out


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
