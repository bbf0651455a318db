"""Stage, confidence and reason per row from the head, the taxonomy and the row's context.

- The head reads the activity and description (their word vectors and taxonomy scores).
- Context (Channel, KPI, Category, Objective) is weak evidence: it only moves a row the
  head left undecided (|logit| under the Review line), by at most CONTEXT_NUDGE.  A KPI that
  disagrees with a decided row never flips it (check.py's KPI-mismatch warning says so).
- A phrase of the taxonomy's [[review]] group ('beta program') that outweighs the stage
  phrases in the activity and description sends the row to Review.
- Rows a team's own taxonomy groups speak to keep the taxonomy's verdict.
- Reasons: the taxonomy phrase, the words that pushed hardest, and the closest taxonomy
  phrases of that stage ("closest to 'customer interview', 'pricing study' (upstream)").
"""

from __future__ import annotations

import math
from typing import Any

from xlplugin.stage_model import StageModel
from xlplugin.stage_model.head import tax_features

UP, DOWN = 0, 1
NAMES = ("Upstream", "Downstream")
WORDS = ("upstream", "downstream")
CONTEXT_NUDGE = 0.8        # most a tie can move, in logit units (a decided row needs > 0.62)
CONTEXT = ("category", "channel", "kpi", "objective")


def _uniq(values: list[str]) -> tuple[list[str], Any]:
    import numpy as np

    pos: dict[str, int] = {}
    idx = np.fromiter((pos.setdefault(v, len(pos)) for v in values), dtype=np.int64, count=len(values))
    return list(pos), idx


def _row_hash(bag: Any) -> Any:
    """One 64-bit number per bag row: equal for texts with the same known words."""
    import numpy as np

    coo = bag.tocoo()
    mix = (coo.col.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ \
        np.round(coo.data * 997).astype(np.uint64)
    h = np.zeros(bag.shape[0], dtype=np.uint64)
    np.add.at(h, coo.row, mix)
    return h


class _Prototypes:
    """The taxonomy's stage phrases as unit vectors: the 'known activities' a reason names."""

    def __init__(self, model: StageModel, hits: list[tuple[str, str]], hit_stage: list[int]) -> None:
        import numpy as np

        seen: dict[str, int] = {}
        for (_name, phrase), st in zip(hits, hit_stage, strict=True):
            if phrase and st in (UP, DOWN) and len(phrase) > 3:
                seen.setdefault(phrase, st)
        self.phrases = list(seen)
        self.stage = np.fromiter(seen.values(), dtype=np.int64, count=len(seen))
        vec = np.asarray(model.vectors.embed(self.phrases))
        norm = np.linalg.norm(vec, axis=1, keepdims=True)
        self.unit = vec / np.where(norm == 0, 1, norm)

    def closest(self, vecs: Any, stage: Any, k: int = 2) -> list[list[str]]:
        import numpy as np

        norm = np.linalg.norm(vecs, axis=1, keepdims=True)
        sims = (vecs / np.where(norm == 0, 1, norm)) @ self.unit.T
        sims[self.stage[None, :] != np.asarray(stage)[:, None]] = -2.0
        top = np.argsort(-sims, axis=1)[:, :k]
        return [[self.phrases[j] for j in row if sims[i, j] > 0.2] for i, row in enumerate(top)]


_PROTOS: dict[tuple[int, int], _Prototypes] = {}


def _prototypes(model: StageModel, comp: Any) -> _Prototypes:
    key = (id(model), id(comp))
    p = _PROTOS.get(key)
    if p is None:
        if len(_PROTOS) > 8:
            _PROTOS.clear()
        p = _PROTOS[key] = _Prototypes(model, comp.hits, comp.hit_stage)
    return p


def _top_words(vectors: Any, bag: Any, scores: Any, rows: Any, stage: Any, k: int) -> list[list[str]]:
    """The k words of each (bag row, stage) pushing hardest towards that stage."""
    out = []
    for r, s in zip(rows.tolist(), stage.tolist(), strict=True):
        lo, hi = bag.indptr[r], bag.indptr[r + 1]
        cols = bag.indices[lo:hi]
        push = bag.data[lo:hi] * scores[cols] * (1.0 if s == UP else -1.0)
        order = push.argsort()[::-1][:k]
        out.append([_word(vectors, int(cols[j])) for j in order if push[j] > 0.02])
    return out


def _word(vectors: Any, i: int) -> str:
    if i < len(vectors.words):
        return vectors.words[i]
    if not hasattr(vectors, "_extra_words"):
        vectors._extra_words = {}
    if not vectors._extra_words or len(vectors._extra_words) < len(vectors._extra):
        vectors._extra_words = {j: w for w, j in vectors._ids.items() if j >= len(vectors.words)}
    return vectors._extra_words.get(i, "?")


def decide(model: StageModel, comp: Any, ev: Any, columns: dict[str, list[str]], n: int,
           tax_decided: list[tuple[str, str, str, float]]) -> list[tuple[str, str, str, float]]:
    """(stage, reason, strongest phrase, confidence) per row; see the module doc."""
    import numpy as np

    tax = comp.tax
    vec, head = model.vectors, model.head
    blank = [""] * n
    ua, ia = _uniq(columns.get("activity", blank))
    ud, idd = _uniq(columns.get("description", blank))
    bag_a, bag_d = vec.bag(ua), vec.bag(ud)
    sa, sd = head.word_scores(vec)
    la, ld = bag_a @ sa[: bag_a.shape[1]], bag_d @ sd[: bag_d.shape[1]]
    zeros = np.zeros((n, 3))
    fa, fd = ev.fields.get("activity", zeros), ev.fields.get("description", zeros)
    logit = la[ia] + ld[idd] + tax_features(fa, fd) @ head.w_tax + head.bias

    w_a, w_d = tax.field_weights.get("activity", 0.0), tax.field_weights.get("description", 0.0)
    text = w_a * fa + w_d * fd
    ctx = ev.scores - text                                   # every other column, KPI phrases too
    line = math.log(tax.review_below / (1 - tax.review_below))
    tie = np.abs(logit) < line
    nudge = CONTEXT_NUDGE * np.tanh((ctx[:, UP] - ctx[:, DOWN]) / 2)
    logit = np.where(tie, logit + nudge, logit)
    p_up = 1 / (1 + np.exp(-logit))
    conf = np.round(np.maximum(p_up, 1 - p_up), 3)
    lean = np.where(p_up >= 0.5, UP, DOWN)
    known = (np.diff(bag_a.indptr)[ia] + np.diff(bag_d.indptr)[idd] > 0) | (ev.scores.sum(axis=1) > 0)
    either = (text[:, 2] > 0) & (text[:, 2] >= text[:, :2].max(axis=1))
    team = ev.team[:, :2].sum(axis=1) > 0
    decided = known & ~either & (conf >= tax.review_below)
    # Confident (enough to flag a typed Stage, XP401) only with an explicit taxonomy phrase on
    # the winning side and no close second: the vectors alone guess well but should not insist.
    t_up, t_down = text[:, UP], text[:, DOWN]
    t_win, t_lose = np.where(lean == UP, t_up, t_down), np.where(lean == UP, t_down, t_up)
    explicit = (t_win > 0) & (t_lose < 0.5 * t_win) & (text[:, 2] == 0)
    conf = np.where(explicit, conf, np.minimum(conf, tax.confident - 0.01))
    silent = text.sum(axis=1) == 0                 # no taxonomy phrase in activity or description

    # reasons, built from parts cached per distinct text (plans repeat; ids and numbers do not count)
    ha, hd = _row_hash(bag_a), _row_hash(bag_d)
    protos = _prototypes(model, comp)
    key_a = np.column_stack([ha[ia], lean]).tolist()
    key_d = np.column_stack([hd[idd], lean]).tolist()
    first_a: dict[tuple[int, int], int] = {}
    for r, k in enumerate(map(tuple, key_a)):
        first_a.setdefault(k, r)
    first_d: dict[tuple[int, int], int] = {}
    for r, k in enumerate(map(tuple, key_d)):
        first_d.setdefault(k, r)
    ra = np.fromiter(first_a.values(), dtype=np.int64, count=len(first_a))
    rd = np.fromiter(first_d.values(), dtype=np.int64, count=len(first_d))
    words_a = dict(zip(first_a, _top_words(vec, bag_a, sa, ia[ra], lean[ra], 2), strict=True))
    words_d = dict(zip(first_d, _top_words(vec, bag_d, sd, idd[rd], lean[rd], 1), strict=True))
    act_vecs = bag_a[ia[ra]] @ vec.full_matrix()[: bag_a.shape[1]]
    near = dict(zip(first_a, protos.closest(np.asarray(act_vecs), lean[ra]), strict=True))

    hits = comp.hits
    out = []
    for r in range(n):
        t_stage, t_reason, t_phrase, t_conf = tax_decided[r]
        if team[r] or not known[r]:
            out.append((t_stage, t_reason, t_phrase, t_conf))
            continue
        if silent[r] and not decided[r]:
            out.append(("Review", "no stage words found: decide by hand", "", 0.0))
            continue
        s = int(lean[r])
        words = list(dict.fromkeys(words_a[tuple(key_a[r])] + words_d[tuple(key_d[r])]))
        closest = near[tuple(key_a[r])]
        b, bk = int(ev.best[r, s]), int(ev.best_kpi[r, s])
        phrase = hits[b][1] or hits[bk][1] or (words[0] if words else "")
        parts = []
        if b:
            parts.append(f"{hits[b][0]}: '{hits[b][1]}'")
        if words:
            parts.append("words " + ", ".join(f"'{w}'" for w in words))
        if closest:
            parts.append("closest to " + ", ".join(f"'{c}'" for c in closest) + f" ({WORDS[s]})")
        if bk:
            parts.append(f"KPI '{hits[bk][1]}' is {'an upstream' if s == UP else 'a downstream'} measure")
        if decided[r]:
            against = hits[int(ev.best[r, 1 - s])][1]
            if against:
                parts.append(f"outweighs '{against}'")
            out.append((NAMES[s], "; ".join(parts), phrase, float(conf[r])))
            continue
        if either[r]:
            e = hits[int(ev.best[r, 2])][1]
            head_part = f"'{e}' can serve either stage"
        else:
            head_part = f"leans {WORDS[s]} ({conf[r]:.2f})"
        out.append(("Review", "; ".join([head_part, *parts]) + ": decide by hand", phrase, float(conf[r])))
    return out
