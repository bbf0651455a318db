"""Fit decide.AMBIGUITY, the weights of P(either stage), on the by-source split, and show its trade.

    python -m benchmarks.fit_ambiguity [--folds 5]

For each group of sources, the heads and neighbours are retrained without it and its rows are
labelled (name + description, and name only) with the inputs of decide.py's Review decision
captured.  Over those held-out rows:

- the logistic fit of "people labelled it Review" on the features AMBIGUITY weighs (the weights to
  put in decide.py), and on a wider set of features for comparison;
- the trade each set of features offers, nested by group (each group's P(either) from a fit on the
  other groups only): clear rows right and ambiguous rows sent to Review as the threshold moves.
  The first line per mode at the shipped thresholds reproduces `bench_label`'s by-source figures.
"""

from __future__ import annotations

import argparse
from typing import Any

from benchmarks.bench_label import TEXT_MODES, corpus_rows, source_folds, train_rows

BASE = ("review_logit", "|stage_logit|", "either_a", "either_d", "ngram_review")
WIDE = (*BASE, "|vote|", "t_either>0", "mixed", "described")


def collect(rows: list[dict[str, str]], folds: int = 5) -> dict[str, dict[str, Any]]:
    """mode -> feature name -> array over all rows (held-out labels), plus 'gold', 'group'."""
    import numpy as np

    from xlplugin.engine.stages.label import label_texts
    from xlplugin.engine.stages.model import shipped_vectors
    from xlplugin.engine.stages.model.train import fit_model

    fold = np.array(source_folds(rows, folds))
    vec = shipped_vectors()
    modes = TEXT_MODES
    parts: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    order: list[int] = []
    for k in range(folds):
        sm = fit_model(train_rows(rows, (fold != k).tolist()), vec)
        idx = np.flatnonzero(fold == k).tolist()
        order += idx
        for m, fields in modes.items():
            feats: dict[str, Any] = {}
            label_texts([{f: rows[i][f] for f in fields} for i in idx], stage_model=sm, features=feats)
            feats["group"] = np.full(len(idx), k)
            parts[m].append(feats)
    gold = np.array([rows[i]["gold"] for i in order])
    out = {}
    for m, chunks in parts.items():
        f = {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}
        f["gold"] = gold
        f["|stage_logit|"] = np.abs(f["stage_logit"])
        f["|vote|"] = np.abs(f["vote"])
        f["t_either>0"] = (f["t_either"] > 0).astype(float)
        f["mixed"] = ((f["t_up"] > 0) & (f["t_down"] > 0)).astype(float)
        f["described"] = f["described"].astype(float)
        out[m] = f
    return out


def fit(f: dict[str, Any], names: tuple[str, ...], rows: Any) -> tuple[Any, float]:
    """(weights, intercept) of the logistic fit of gold == Ambiguous on those rows."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.column_stack([f[n] for n in names])[rows]
    y = (f["gold"] == "Ambiguous")[rows]
    lr = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    return lr.coef_[0], float(lr.intercept_[0])


def trade(f: dict[str, Any], q: Any, threshold: float, sure: float) -> tuple[float, int, int]:
    """(clear rows right %, ambiguous rows to Review, ambiguous rows) for P(either) q."""
    import numpy as np

    review = ~f["other_ok"] | ((q >= threshold) & (f["conf"] < sure))
    gold = f["gold"]
    stage = np.where(review, "Review", np.where(f["lean"] == 0, "Upstream", "Downstream"))
    clear = gold != "Ambiguous"
    return 100 * float((stage[clear] == gold[clear]).mean()), int((review & ~clear).sum()), int((~clear).sum())


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from xlplugin.engine.stages.model import decide as dm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args(argv)
    rows = corpus_rows()
    feats = collect(rows, args.folds)
    pooled = {k: np.concatenate([feats[m][k] for m in feats]) for k in feats[next(iter(feats))]}
    everything = np.arange(len(pooled["gold"]))
    print(f"{len(rows)} rows, {len({r['source'] for r in rows})} sources, {args.folds} groups by source; "
          "both modes pooled for the fits")
    for names in (BASE, WIDE):
        w, b = fit(pooled, names, everything)
        print(f"  fit on {', '.join(names)}: weights ({', '.join(f'{x:.2f}' for x in w)}), intercept {b:.2f}")
    print(f"  shipped AMBIGUITY: {dm.AMBIGUITY}")
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    for m, f in feats.items():
        shipped_q = sigmoid(np.column_stack([f[n] for n in BASE]) @ np.asarray(dm.AMBIGUITY[:-1]) + dm.AMBIGUITY[-1])
        line = dm.AMBIGUOUS if m == "name + description" else dm.AMBIGUOUS_NAME
        acc, to_review, amb = trade(f, shipped_q, line, dm.SURE)
        print(f"\n{m}: shipped weights and threshold {line}: {acc:.1f}% of clear rows right, "
              f"{to_review} of {amb} ambiguous rows to Review")
        for names in (BASE, WIDE):
            q = np.zeros(len(f["gold"]))
            for k in np.unique(f["group"]).tolist():     # each group from a fit on the others
                mine = f["group"] == k
                others = np.flatnonzero(np.concatenate([~mine] * len(feats)))
                w, b = fit(pooled, names, others)
                q[mine] = sigmoid(np.column_stack([f[n] for n in names])[mine] @ w + b)
            print(f"  nested fit on {len(names)} features:  " + "; ".join(
                f"{t:.2f}: {a:.1f}% / {r}" for t in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
                for a, r, _ in [trade(f, q, t, dm.SURE)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
