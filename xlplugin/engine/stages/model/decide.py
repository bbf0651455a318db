"""Stage, confidence and reason per row from the heads, the taxonomy and the row's context.

- The stage head reads the activity and description (their word vectors, the words' own
  weights and the taxonomy's scores), the n-gram head (ngrams.py: the words and word pairs
  themselves) adds its score, and together they lean Upstream or Downstream; for a row they are
  less than NEIGHBOURS_BELOW sure of, the corpus activities and descriptions nearest the row's
  wording add their vote (neighbours.py).  They decide the row whenever they lean, but
  - the Review head (same features, trained on the corpus rows people call either stage) and
    the n-gram head's Review score, with how many of the nearest corpus activities and
    descriptions people labelled Review, send wording that reads as either stage to Review
    unless the stage heads are very sure (SURE);
  - a row that says it does two things ('also', 'doubles as': the taxonomy's [dual] words) with
    a phrase of each stage ('a survey that also collects leads') is Review, naming both;
  - a phrase of the taxonomy's [[review]] group ('beta program', 'content marketing') that
    outweighs the stage phrases decides nothing by itself: the row needs a stage phrase beside
    it ('beta invitations to paying customers') and a head that agrees (DOMAIN.md: a beta
    program is either stage unless its description says which);
  - a row with no taxonomy phrase and no word the head was trained on ('Project Falcon') is
    Review: nothing to rest a label on, however its word vectors lean.
- Context (Channel, KPI, Category, Objective) is weak evidence: it moves only rows the text
  left undecided, by at most CONTEXT_NUDGE, so it never flips a row the words decide.  A KPI
  that disagrees with a decided row gets check.py's KPI-mismatch warning instead.
- Confidence reaches the taxonomy's `confident` (enough to flag a typed Stage) only with an
  explicit taxonomy phrase on the winning side.
- Rows a team's own taxonomy groups speak to keep the taxonomy's verdict.
- Reasons: the taxonomy phrase, the words that pushed hardest, and the closest taxonomy
  phrases of that stage ("closest to 'customer interview', 'pricing study' (upstream)").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xlplugin.engine.stages.model import StageModel
from xlplugin.engine.stages.model.head import tax_features

UP, DOWN = 0, 1
NAMES = ("Upstream", "Downstream")
WORDS = ("upstream", "downstream")
CONTEXT_NUDGE = 0.8        # most context can move an undecided row, in logit units
CONTEXT = ("category", "channel", "kpi", "objective")
# The decision constants.  The head decides a row with a taxonomy phrase at the taxonomy's
# review_below plus REVIEW_SHIFT (0.5: whenever it leans), wording the taxonomy does not know at
# review_below plus SILENT_SHIFT; P(either stage) (AMBIGUITY, below) sends a row to Review from
# AMBIGUOUS on (AMBIGUOUS_NAME without a description) unless the stage head is SURE.
# `python -m benchmarks.bench_label --nested` picks them on the other source groups only, scoring
# every row (an ambiguous row is right when it gets Review).  On the 909-source corpus every outer
# group picked SURE 0.95, SILENT_SHIFT -0.15 and EITHER_DECIDES 0.6, AMBIGUOUS 0.4-0.45 (0.4 in
# three of five) and AMBIGUOUS_NAME 0.4-0.45.  Rows right counting both kinds are flat over
# 0.35-0.45 from the name alone (fit_ambiguity: within 20 of about 23,400), so AMBIGUOUS_NAME is
# the lowest of those, which sends the most ambiguous rows to Review (the goal; its
# held-out set calls 15% of rows ambiguous, the corpus 10%): by source 86.2% right and 1,234 of
# 2,946 to Review, against the nested 86.8% and 1,083 (LABELS.md).
REVIEW_SHIFT = -0.15
SILENT_SHIFT = -0.15
AMBIGUOUS = 0.4            # P(either stage) that sends a row with a description to Review ...
AMBIGUOUS_NAME = 0.35      # ... and a row with a name alone (its neighbours read one text, not two)
SURE = 0.95                # ... unless the first head is at least this sure of the stage
# P(either stage) = sigmoid(a * the Review head's logit + b * |the stage logit| + c * the share of
# the nearest corpus activities labelled Review + d * the same for descriptions + e * the n-gram
# head's Review logit + f): a logistic fit on the 5-group by-source split (each group's features
# from heads trained without it), both modes pooled: `python -m benchmarks.fit_ambiguity` (909
# sources).  It also shows the trade: sending more ambiguous rows to Review costs about as many
# clear rows right (by source, a line of 0.3 instead of 0.45 sends about 175 more of 2,946 to
# Review and gets 0.8 points fewer clear rows right).  The n-gram head's Review logit moves that
# trade by about 65 rows with a description and 30 from the name alone; four more features (the
# neighbours' |vote|, an either-stage phrase, a phrase of each stage, a description) by 10-20.
AMBIGUITY = (0.19, -0.25, 0.71, 2.02, 0.78, -0.86)
EITHER_DECIDES = 0.6       # the head's probability a row whose strongest phrase serves either stage needs
# Rows the head is less sure of than NEIGHBOURS_BELOW also hear the nearest corpus activities
# (and descriptions): their vote, in [-1, 1], times these weights, joins the logit.  Picked on
# the 5-group by-source split of the 426-source corpus (below 0.85 / 0.95 / 1, weights 0.5-2.5):
# +1.1 points right with a description, +0.7 from the name, confidently wrong unchanged (on 573
# sources these weights and 1.0 / 1.5 measure within 0.2 points of each other).
# The n-gram head's score (ngrams.py) joins the vector head's logit times NGRAM_WEIGHT before
# the neighbours hear it (0 leaves it out).
NGRAM_WEIGHT = 0.5
NEIGHBOURS_BELOW = 0.95
NEIGHBOUR_ACT = 0.5
NEIGHBOUR_DESC = 1.5
SIMILAR_SAYS = 0.5         # a reason names the vote when it adds this much to the winning side


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
        """Per row of vecs, up to k phrases of its stage nearest it (cosine over 0.2), best first."""
        import numpy as np

        norm = np.linalg.norm(vecs, axis=1, keepdims=True)
        unit = (vecs / np.where(norm == 0, 1, norm)).astype(np.float32)
        stage = np.asarray(stage)
        out: list[list[str]] = [[] for _ in range(len(unit))]
        for st in np.unique(stage).tolist():
            rows = np.flatnonzero(stage == st)
            cand = np.flatnonzero(self.stage == st)
            if not len(cand):
                continue
            ref, names = self.unit[cand].astype(np.float32).T, [self.phrases[c] for c in cand.tolist()]
            for lo in range(0, len(rows), _BLOCK):      # blocks bound memory (rows x phrases)
                part = rows[lo:lo + _BLOCK]
                sims = unit[part] @ ref
                idx = np.arange(len(part))
                for _ in range(min(k, len(cand))):     # k argmax passes, the best first: no sort
                    top = sims.argmax(axis=1)
                    val = sims[idx, top]
                    sims[idx, top] = -3.0
                    for r, t, v in zip(part.tolist(), top.tolist(), val.tolist(), strict=True):
                        if v > 0.2:
                            out[r].append(names[t])
        return out


_BLOCK = 4096
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
    """The k words of each (bag row, stage) pushing hardest towards that stage (over 0.02),
    strongest first; '&' and '+' alone say nothing.  Array work over all rows at once."""
    import numpy as np

    sub = bag[np.asarray(rows)]
    m = sub.shape[0]
    out: list[list[str]] = [[] for _ in range(m)]
    if not m or not sub.nnz:
        return out
    rid = np.repeat(np.arange(m), np.diff(sub.indptr))
    sign = np.where(np.asarray(stage) == UP, 1.0, -1.0)
    names, silent = _word_names(vectors, sub.shape[1])
    push = sub.data * scores[sub.indices] * sign[rid]
    ok = np.flatnonzero((push > 0.02) & ~silent[sub.indices])
    order = ok[np.lexsort((-push[ok], rid[ok]))]               # by row, strongest first
    r_o = rid[order]
    rank = np.arange(len(order)) - np.searchsorted(r_o, r_o)   # place within its row
    take = order[rank < k]
    for r, w in zip(rid[take].tolist(), names[sub.indices[take]].tolist(), strict=True):
        out[r].append(w)
    return out


def _word_names(vectors: Any, width: int) -> tuple[Any, Any]:
    """(word per matrix row as an object array, True where the word is only '&' and '+')."""
    import numpy as np

    have = getattr(vectors, "_names", None)
    if have is None or len(have[0]) < width:      # words met for the first time are added
        start = 0 if have is None else len(have[0])
        new = [vectors.words[i] if i < len(vectors.words) else _word(vectors, i) for i in range(start, width)]
        part = (np.array(new, dtype=object), np.array([not w.strip("&+") for w in new], dtype=bool))
        have = part if have is None else (np.concatenate([have[0], part[0]]), np.concatenate([have[1], part[1]]))
        vectors._names = have
    return have


def _word(vectors: Any, i: int) -> str:
    if i < len(vectors.words):
        return vectors.words[i]
    if not hasattr(vectors, "_extra_words"):
        vectors._extra_words = {}
    if not vectors._extra_words or len(vectors._extra_words) < len(vectors._extra):
        vectors._extra_words = {j: w for w, j in vectors._ids.items() if j >= len(vectors.words)}
    return vectors._extra_words.get(i, "?")


def decide(model: StageModel, comp: Any, ev: Any, columns: dict[str, list[str]], n: int,
           tax_decided: Callable[[list[int]], list[tuple[str, str, str, float]]],
           features: dict[str, Any] | None = None) -> list[tuple[str, str, str, float]]:
    """(stage, reason, strongest phrase, confidence) per row; see the module doc.
    tax_decided(rows): the taxonomy's own verdicts for those rows (team phrases, no words).
    features: when given, filled with what the Review decision reads, per row (for
    benchmarks/fit_ambiguity.py, which fits AMBIGUITY)."""
    import numpy as np

    tax = comp.tax
    vec, head = model.vectors, model.head
    # the distinct texts of the text columns, as the taxonomy scan found them, plus a blank for
    # a missing activity or description column: one bag serves both
    bag_a = bag_d = vec.bag_of(ev.joined + b"\x1f", len(ev.texts) + 1)
    blank = np.full(n, len(ev.texts))
    ia, idd = ev.codes.get("activity", blank), ev.codes.get("description", blank)
    sa, sd = head.word_scores(vec)
    zeros = np.zeros((n, 3))
    fa, fd = ev.fields.get("activity", zeros), ev.fields.get("description", zeros)
    taxf = tax_features(fa, fd)
    logit = head.text_logits(vec, bag_a, bag_d, ia, idd, taxf)
    ngram_review = np.zeros(n)       # without an n-gram head (an older model) AMBIGUITY reads 0
    if model.ngrams is not None and NGRAM_WEIGHT:
        # only the texts of the activity and description cells (not Channel, KPI, ...)
        texts = [*ev.texts, b""]
        used = np.unique(np.concatenate([ia, idd]))
        ng = np.zeros((len(texts), 4))
        ng[used] = model.ngrams.scores([texts[i] for i in used.tolist()])
        logit = logit + NGRAM_WEIGHT * (ng[ia, 0] + ng[idd, 1] + model.ngrams.bias[0])
        ngram_review = ng[ia, 2] + ng[idd, 3] + model.ngrams.bias[1]
    similar = np.zeros(n)          # what activities worded like the row add (reasons name it)
    either_a = either_d = np.zeros(n)   # the share of those neighbours people labelled Review
    if model.neighbours is not None:
        similar, either_a, either_d = _neighbour_votes(model, bag_a, ia, idd, logit,
                                                       lambda which: _negated(tax, ev.texts, which))
        logit = logit + similar

    w_a, w_d = tax.field_weights.get("activity", 0.0), tax.field_weights.get("description", 0.0)
    text = w_a * fa + w_d * fd
    ctx = ev.scores - text                                   # every other column, KPI phrases too
    t_up, t_down = text[:, UP], text[:, DOWN]
    # the line for rows with a taxonomy phrase in activity or description, and for the rest (the
    # same today: `known` below keeps code names out, which a higher line did before)
    review_below = np.where((fa + fd).sum(axis=1) > 0, tax.review_below + REVIEW_SHIFT,
                            tax.review_below + SILENT_SHIFT)
    # a row needs a taxonomy phrase somewhere or a word the head was trained on: a code name
    # ('Project Falcon', 'Atlas workstream') has vectors but nothing a label could rest on
    seen = head.seen_words(vec)
    known = ((bag_a @ seen[: bag_a.shape[1]])[ia] + (bag_d @ seen[: bag_d.shape[1]])[idd] > 0) | \
        (ev.scores.sum(axis=1) > 0)
    either = (text[:, 2] > 0) & (text[:, 2] >= text[:, :2].max(axis=1))
    team = ev.team[:, :2].sum(axis=1) > 0
    # a row that says it does two things, with a phrase of each stage beside ('a survey that also
    # collects leads'), serves both: Review, however the head leans (DOMAIN.md's ambiguous cases)
    both = (t_up > 0) & (t_down > 0)
    which = np.unique(np.concatenate([ia[both], idd[both]]))
    says = np.zeros(len(ev.texts) + 1, dtype=bool)
    says[which] = _says_both(tax, ev.texts, which)
    dual = (says[ia] | says[idd]) & both
    # two phrases: one phrase a qualifier flips in one cell ('interview ... lapsed buyers') is not two things
    for r in np.flatnonzero(dual).tolist():
        dual[r] = comp.hits[ev.best[r, UP]][1] != comp.hits[ev.best[r, DOWN]][1]
    # the Review head, with how the nearest corpus wording was labelled: wording a person would
    # call either stage goes to Review, however the first head leans
    review_logit = np.zeros(n)
    if head.review is not None:
        w = AMBIGUITY
        review_logit = head.review.text_logits(vec, bag_a, bag_d, ia, idd, taxf)
        q = 1 / (1 + np.exp(-(w[0] * review_logit + w[1] * np.abs(logit) + w[2] * either_a + w[3] * either_d
                               + w[4] * ngram_review + w[5])))
        described = (np.diff(bag_d.indptr) > 0)[idd]
        ambiguous = q >= np.where(described, AMBIGUOUS, AMBIGUOUS_NAME)
    else:
        q = np.zeros(n)
        ambiguous = np.zeros(n, dtype=bool)

    def stage_ok(conf: Any, lean: Any) -> Any:
        # decided unless the Review decision (AMBIGUITY) says either stage.  An either-stage
        # phrase ('content marketing', 'beta program') is decided only by a stage phrase beside it
        # ('... announcing the sale') and a head that agrees: DOMAIN.md calls generic content
        # marketing and beta programs genuinely either
        t_win = np.where(lean == UP, t_up, t_down)
        return known & ~dual & (conf >= review_below) & (~either | ((conf >= EITHER_DECIDES) & (t_win > 0)))

    def decided_by(logit: Any) -> tuple[Any, Any, Any]:
        p_up = 1 / (1 + np.exp(-logit))
        conf = np.maximum(p_up, 1 - p_up)
        lean = np.where(p_up >= 0.5, UP, DOWN)
        return stage_ok(conf, lean) & ~(ambiguous & (conf < SURE)), conf, lean

    decided, conf, lean = decided_by(logit)
    if features is not None:
        features.update(
            review_logit=review_logit, stage_logit=logit, ngram_review=ngram_review, either_a=either_a, either_d=either_d,
            described=(np.diff(bag_d.indptr) > 0)[idd], t_up=t_up, t_down=t_down, t_either=text[:, 2],
            vote=similar, conf=conf, lean=lean, other_ok=stage_ok(conf, lean))
    # context (Channel, KPI, ...) moves only the rows the text left undecided, so it never
    # flips a row the words decide; an ambiguous or either-stage row stays Review
    nudge = CONTEXT_NUDGE * np.tanh((ctx[:, UP] - ctx[:, DOWN]) / 2)
    d2, conf2, lean2 = decided_by(logit + nudge)
    use = ~decided & (nudge != 0) & ~ambiguous      # a nudge must not carry one past SURE
    decided, conf, lean = decided | (use & d2), np.where(use, conf2, conf), np.where(use, lean2, lean)
    conf = np.round(conf, 3)
    # Confident (enough to flag a typed Stage, XP401) only with an explicit taxonomy phrase on
    # the winning side and no close second: the vectors alone guess well but should not insist.
    t_win, t_lose = np.where(lean == UP, t_up, t_down), np.where(lean == UP, t_down, t_up)
    explicit = (t_win > 0) & (t_lose < 0.5 * t_win) & (text[:, 2] == 0)
    conf = np.where(explicit, conf, np.minimum(conf, tax.confident - 0.01))
    silent = text.sum(axis=1) == 0                 # no taxonomy phrase in activity or description

    hits = comp.hits
    # Reasons depend on a few small things per row; each distinct combination is written once
    # (plans repeat, and ids or numbers in a cell have no vector, so they do not count).
    # 0 the taxonomy's own verdict, 1 no stage words, 2 decided, 3 either-stage phrase, 4 leans,
    # 5 reads as either stage (the Review head), 6 says it does both
    kind = np.select([team | ~known, dual, decided, ambiguous & ~either, silent & ~ambiguous, either],
                     [0, 6, 2, 5, 1, 3], 4)
    row_a = _first_of(_codes((_row_hash(bag_a)[ia] << np.uint64(1)) | lean.astype(np.uint64)))
    row_d = _first_of(_codes((_row_hash(bag_d)[idd] << np.uint64(1)) | lean.astype(np.uint64)))
    rows = np.arange(n)
    b = ev.best[rows, lean]
    bk = ev.best_kpi[rows, lean]
    against = ev.best[rows, 1 - lean]
    key = np.column_stack([kind, lean, row_a, row_d, b, bk, against, ev.best[:, 2],
                           np.where(kind >= 4, np.round(conf * 100), 0).astype(np.int64),
                           np.where(kind == 5, np.round(q * 100), 0).astype(np.int64),
                           np.where(lean == UP, similar, -similar) >= SIMILAR_SAYS]).astype(np.uint64)
    mixed = key[:, 0].copy()
    for j in range(1, key.shape[1]):          # one 64-bit key per row, then one factorize
        mixed = mixed * np.uint64(0x100000001B3) ^ key[:, j]
    inverse = _codes(mixed)
    first = _first_of(inverse)[np.unique(inverse, return_index=True)[1]]
    need = first[kind[first] >= 2]
    need_a, need_d = np.unique(row_a[need]), np.unique(row_d[need])
    protos = _prototypes(model, comp)
    act_vecs = np.asarray(bag_a[ia[need_a]] @ vec.full_matrix()[: bag_a.shape[1]])
    top_a = _top_words(vec, bag_a, sa, ia[need_a], lean[need_a], 2)
    top_d = _top_words(vec, bag_d, sd, idd[need_d], lean[need_d], 1)
    words_a = dict(zip(need_a.tolist(), top_a, strict=True))
    words_d = {r: (w[0] if w else "") for r, w in zip(need_d.tolist(), top_d, strict=True)}
    near = {r: ("closest to " + ", ".join(f"'{c}'" for c in cl) + f" ({WORDS[int(st)]})") if cl else ""
            for r, cl, st in zip(need_a.tolist(), protos.closest(act_vecs, lean[need_a]), lean[need_a].tolist(),
                                 strict=True)}
    named = {h: f"{hits[h][0]}: '{hits[h][1]}'" for h in set(b[need].tolist())}

    said: list[tuple[str, str, str] | None] = []
    for r, k, st, ra, rd in zip(first.tolist(), kind[first].tolist(), lean[first].tolist(),
                                row_a[first].tolist(), row_d[first].tolist(), strict=True):
        if k == 0:
            said.append(None)
            continue
        if k == 1:
            said.append(("Review", "no stage words found: decide by hand", ""))
            continue
        wa, wd = words_a[ra], words_d[rd]
        words = wa + [wd] if wd and wd not in wa else wa
        br, bkr = b[r], bk[r]
        parts = [named[br]] if br else []
        if words:
            parts.append("words '" + "', '".join(words) + "'")
        if near[ra]:
            parts.append(near[ra])
        if (similar[r] if st == UP else -similar[r]) >= SIMILAR_SAYS:
            parts.append(f"activities worded like it are mostly {WORDS[st]}")
        if bkr:
            parts.append(f"KPI '{hits[bkr][1]}' is {_MEASURE[st]} measure")
        phrase = hits[br][1] or hits[bkr][1] or (words[0] if words else "")
        if k == 2:
            if hits[against[r]][1]:
                parts.append(f"outweighs '{hits[against[r]][1]}'")
            said.append((NAMES[st], "; ".join(parts), phrase))
            continue
        if k == 6:
            up, down = (br, against[r]) if st == UP else (against[r], br)
            said.append(("Review", f"does both: '{hits[up][1]}' ({WORDS[UP]}) and '{hits[down][1]}' "
                         f"({WORDS[DOWN]}): decide by hand", phrase))
            continue
        lead = (f"'{hits[ev.best[r, 2]][1]}' can serve either stage" if k == 3
                else f"reads as either stage ({q[r]:.2f}), leans {WORDS[st]} ({conf[r]:.2f})" if k == 5
                else f"leans {WORDS[st]} ({conf[r]:.2f})")
        said.append(("Review", "; ".join([lead, *parts]) + ": decide by hand", phrase))
    # a Review row's confidence says how far it leans, never past the Review line
    conf = np.where(kind == 1, 0.0, np.where(kind >= 3, np.minimum(conf, review_below - 0.01), conf))
    out = [(*said[i], c) if said[i] else None for i, c in zip(inverse.tolist(), conf.tolist(), strict=True)]
    todo = [r for r, x in enumerate(out) if x is None]
    if todo:                                  # the taxonomy's own verdict, for those rows only
        for r, x in zip(todo, tax_decided(todo), strict=True):
            out[r] = x
    return out  # type: ignore[return-value]


_MEASURE = ("an upstream", "a downstream")


def _negated(tax: Any, texts: list[bytes], which: Any) -> Any:
    """bool per index in `which`: texts[i] has a negation in it ('no paid media'), which a vote
    over mean vectors cannot read."""
    import re

    words = b"|".join(re.escape(w.encode()) for w in sorted(tax.negations, key=len, reverse=True))
    compounds = b"|".join(re.escape(w.encode()) for w in sorted(tax.not_negating, key=len, reverse=True))
    pat = rb" (?:" + words + rb")" + (rb"(?! +(?:" + compounds + rb") )" if compounds else b"") + rb" +[^ \x1f]"
    return _matching(pat, texts, which)


def _says_both(tax: Any, texts: list[bytes], which: Any) -> Any:
    """bool per index in `which`: texts[i] has one of the taxonomy's [dual] words ('also', 'doubles as')."""
    import re

    import numpy as np

    if not tax.both_words:
        return np.zeros(len(which), dtype=bool)
    words = b"|".join(re.escape(w.encode()) for w in sorted(tax.both_words, key=len, reverse=True))
    return _matching(rb" (?:" + words + rb")(?= )", texts, which)


def _matching(pat: bytes, texts: list[bytes], which: Any) -> Any:
    """bool per index in `which`: the pattern matches in texts[i] as the taxonomy scan reads it
    (' one \x1f two '); an index past the end is the blank text.  Only the texts asked about are
    scanned: most rows need neither check."""
    import re

    import numpy as np

    out = np.zeros(len(which), dtype=bool)
    if not len(which):
        return out
    joined = b"\x1f".join([texts[i] if i < len(texts) else b"  " for i in np.asarray(which).tolist()])
    starts = np.fromiter((m.start() for m in re.finditer(pat, joined)), dtype=np.int64)
    if len(starts):
        seps = np.flatnonzero(np.frombuffer(joined, dtype=np.uint8) == 0x1F)
        out[np.searchsorted(seps, starts)] = True
    return out


def _neighbour_votes(model: StageModel, bag: Any, ia: Any, idd: Any, logit: Any,
                     negated: Callable[[Any], Any]) -> tuple[Any, Any, Any]:
    """Per row the head is unsure of (0 elsewhere): what the nearest corpus activities and
    descriptions add to its logit, and the share of them labelled Review (activities,
    descriptions).  Each distinct wording is looked up once; a text with a negation in it gets
    no vote (its neighbours would be the texts that do what it rules out)."""
    import numpy as np

    out = np.zeros(len(logit))
    either = [np.zeros(len(logit)), np.zeros(len(logit))]
    p = 1 / (1 + np.exp(-logit))
    unsure = np.maximum(p, 1 - p) < NEIGHBOURS_BELOW
    if not unsure.any():
        return out, either[0], either[1]
    m = model.vectors.full_matrix()[: bag.shape[1]]
    for side, (codes, weight, desc) in enumerate(((ia, NEIGHBOUR_ACT, False), (idd, NEIGHBOUR_DESC, True))):
        texts = np.unique(codes[unsure])
        texts = texts[~negated(texts)]
        # texts with the same known words ('Webinar Q1 #12', 'Webinar Q2 #13') share one lookup
        _, first, back = np.unique(_row_hash(bag[texts]), return_index=True, return_inverse=True)
        vote, share = np.zeros(bag.shape[0]), np.zeros(bag.shape[0])
        v, e = model.neighbours.read(np.asarray(bag[texts[first]] @ m), description=desc)
        vote[texts], share[texts] = v[back.ravel()], e[back.ravel()]
        out += np.where(unsure, weight * vote[codes], 0.0)
        either[side] = np.where(unsure, share[codes], 0.0)
    return out, either[0], either[1]


def _codes(values: Any) -> Any:
    import pandas as pd

    return pd.factorize(values)[0]


def _first_of(codes: Any) -> Any:
    """Per row, the first row with the same code (a representative to compute things once)."""
    import numpy as np

    _, first = np.unique(codes, return_index=True)
    return first[codes]
