"""A second pair of heads over the texts' own words and word pairs: hashed TF-IDF, linear.

The vector heads (head.py) read a text as the mean of its word vectors, which carries a word
nobody here wrote to words of similar meaning but blurs wording it has seen ('sales training'
and 'training sales data' are the same mean).  These read the words and adjacent word pairs
themselves, as TF-IDF does:

- the stage score (logit of Upstream) joins the vector head's logit (decide.NGRAM_WEIGHT);
- the Review score (logit of "people call it either stage") is one of the inputs of
  decide.AMBIGUITY.

By source the two kinds of head disagree on different rows: together they get more clear rows
right and send more ambiguous ones to Review than the vector heads alone (benchmarks/LABELS.md).

score = w_act . tfidf(activity) + w_desc . tfidf(description) + bias, for each of the two.
tfidf: counts of the words and word pairs of the text as the taxonomy scan reads it (lower
case, punctuation as spaces, numbers dropped), hashed into 2**20 buckets (no vocabulary to
ship), 1 + log(count), times each bucket's idf (the highest idf where no training text had the
bucket), L2 normalised.  Only the buckets with a weight are kept (ngrams.npz, about 1.3 MB).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlplugin.engine.stages.model.vectors import HERE

NGRAM_FILE = HERE / "ngrams.npz"
FORMAT = "xlplugin-stage-ngrams/1"
BUCKETS = 2 ** 20
TOKEN = r"(?u)\b[a-z&+][a-z0-9&+]*\b"      # a word starts with a letter, as vectors.WORD
C = 2.0                                   # inverse regularisation; measured by source (bench_label)
REVIEW_C = 1.0
# the four weights per bucket: the stage model's (logit of Upstream) over an activity and over a
# description, then the Review model's (logit of "people call it either stage") the same.  The
# stage model trains on clear rows only (Review rows counted as half of each stage, as the vector
# head counts them, measured the same by source: the Review trade within 20 of 2,946 rows)
COLUMNS = ("stage_act", "stage_desc", "review_act", "review_desc")
_KEEP = bytes(c if 48 <= c <= 57 or 97 <= c <= 122 or c in b"&+" else 32 for c in range(256))
_TOKEN = re.compile(TOKEN)
_END = b"\x1e"                            # between two texts once joined (_KEEP makes a cell's own a space)


def _tfidf(counts: Any, idf: Any) -> Any:
    """Hashed counts -> (1 + log count) * idf, each row L2 normalised (in place)."""
    import numpy as np
    from sklearn.preprocessing import normalize

    counts.data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    return normalize(counts, copy=False)


def lowered(texts: list[str]) -> list[bytes]:
    """Raw cell texts lower-cased as the taxonomy scan has them (label._joined)."""
    return [t.lower().encode("utf-8", "replace") for t in texts]


def hashed(texts: list[bytes]) -> Any:
    """Sparse [n, BUCKETS] counts of the words and word pairs of lower-cased texts (lowered()):
    only a-z, 0-9, '&' and '+' read, a word of digits alone dropped, then the matrix sklearn's
    HashingVectorizer gives (TOKEN, word 1-2-grams, murmurhash3, no sign: the test says so).
    Each distinct word and word pair is hashed once: hashing every one of every text, as the
    vectorizer does, was most of the labeller's time on a plan of differently worded rows."""
    import numpy as np
    import pandas as pd
    from scipy.sparse import csr_matrix
    from sklearn.utils import murmurhash3_32

    n = len(texts)
    words = (b" " + _END + b" ").join(t.translate(_KEEP) for t in texts).split()
    codes, uniq = pd.factorize(np.fromiter(words, dtype=object, count=len(words)))
    # each distinct word's tokens as the hasher's pattern finds them (a token never spans a
    # space, so per word is the same as per text); numbers and the end of a text have none
    names: dict[str, int] = {}
    per_word = [[] if w == _END or w.isdigit() else [names.setdefault(t, len(names)) for t in
                                                     _TOKEN.findall(w.decode("ascii"))] for w in uniq]
    count = np.fromiter(map(len, per_word), dtype=np.int64, count=len(per_word))
    flat = np.fromiter((t for ts in per_word for t in ts), dtype=np.int64, count=int(count.sum()))
    start = np.cumsum(count) - count
    ends = np.flatnonzero(uniq == _END) if len(uniq) else np.zeros(0, np.int64)
    text_of_word = np.cumsum(codes == ends[0]) if len(ends) else np.zeros(len(codes), np.int64)
    k = count[codes]
    first = np.repeat(np.cumsum(k) - k, k)
    tok = flat[np.repeat(start[codes], k) + np.arange(int(k.sum())) - first]
    row = np.repeat(text_of_word, k)
    # adjacent tokens of one text make a pair, each distinct pair hashed once
    same = row[1:] == row[:-1]
    pair, pairs = pd.factorize(tok[:-1][same] * max(len(names), 1) + tok[1:][same])
    token = list(names)
    feature = token + [f"{token[p // len(names)]} {token[p % len(names)]}" for p in pairs.tolist()]
    h = np.fromiter((murmurhash3_32(f, 0) for f in feature), dtype=np.int64, count=len(feature))
    bucket = np.where(h == -2 ** 31, (2 ** 31 - 1 - (BUCKETS - 1)) % BUCKETS, np.abs(h) % BUCKETS)
    rows = np.concatenate([row, row[:-1][same]])
    cols = bucket[np.concatenate([tok, len(names) + pair])]
    out = csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, BUCKETS))
    out.sum_duplicates()
    return out


@dataclass
class NgramHead:
    idf: Any            # [BUCKETS] float32; the highest idf where no training text had the bucket
    weights: Any        # [BUCKETS, 4] float32: COLUMNS
    bias: Any           # [2]: the stage model's and the Review model's intercepts

    def counts(self, texts: list[bytes]) -> Any:
        """Sparse [n, BUCKETS] TF-IDF rows of lower-cased texts (lowered())."""
        return _tfidf(hashed(texts), self.idf)

    def scores(self, texts: list[bytes]) -> Any:
        """[n, 4] per lower-cased text (lowered()), the COLUMNS without the intercepts."""
        import numpy as np

        return np.asarray(self.counts(texts) @ self.weights, dtype=np.float64)

    # -- training and saving --------------------------------------------------------
    @classmethod
    def fit(cls, acts: list[str], descs: list[str], stages: list[str], c: float = C,
            review_c: float = REVIEW_C) -> NgramHead:
        """Two logistic regressions over the same features, each row also once without its
        description (the head must read a name alone too): Upstream against Downstream on the
        clear rows, and Review against clear on all; both classes weigh the same in each."""
        import numpy as np
        from scipy.sparse import csr_matrix, hstack, vstack
        from sklearn.linear_model import LogisticRegression

        raw_a, raw_d = hashed(lowered(acts)), hashed(lowered(descs))
        # idf over every text the head trains on (smooth, as TfidfTransformer's)
        both = vstack([raw_a, raw_d]).tocsr()
        df = np.bincount(both.indices, minlength=BUCKETS)
        idf = (np.log((1 + both.shape[0]) / (1 + df)) + 1).astype(np.float32)

        xa, xd = _tfidf(raw_a, idf), _tfidf(raw_d, idf)
        x = vstack([hstack([xa, xd]), hstack([xa, csr_matrix(xd.shape, dtype=xd.dtype)])]).tocsr()
        stage = np.concatenate([np.asarray(stages)] * 2)
        clear = stage != "Review"
        weights = np.zeros((BUCKETS, 4), np.float32)
        bias = np.zeros(2)
        for j, (rows, y, cc) in enumerate(((clear, stage[clear] == "Upstream", c),
                                           (np.ones(len(stage), bool), ~clear, review_c))):
            if len(set(y.tolist())) < 2:        # nothing to tell apart (no Review row to learn from)
                continue
            clf = LogisticRegression(C=cc, max_iter=3000, class_weight="balanced").fit(x[rows], y)
            coef = clf.coef_[0].astype(np.float32)
            weights[:, 2 * j], weights[:, 2 * j + 1], bias[j] = coef[:BUCKETS], coef[BUCKETS:], clf.intercept_[0]
        return cls(idf, weights, bias)

    def save(self, path: Path = NGRAM_FILE) -> Path:
        """The buckets that carry a weight, float16 (the rest read as the highest idf, weight 0)."""
        import numpy as np

        used = np.flatnonzero(np.abs(self.weights).max(axis=1) > 1e-4).astype(np.int32)
        np.savez_compressed(path, format=np.array(FORMAT), buckets=np.array(BUCKETS), used=used,
                            idf=self.idf[used].astype(np.float16), default_idf=np.array(float(self.idf.max())),
                            weights=self.weights[used].astype(np.float16), bias=np.asarray(self.bias))
        return path

    @classmethod
    def load(cls, path: Path = NGRAM_FILE) -> NgramHead | None:
        """The saved head, or None where there is none (an older model)."""
        import numpy as np

        if not path.exists():
            return None
        with np.load(path) as z:
            if str(z["format"]) != FORMAT or int(z["buckets"]) != BUCKETS:
                raise ValueError(f"{path.name}: not a stage n-gram head of this version")
            used = z["used"]
            idf = np.full(BUCKETS, float(z["default_idf"]), dtype=np.float32)
            idf[used] = z["idf"]
            weights = np.zeros((BUCKETS, 4), np.float32)
            weights[used] = z["weights"]
            return cls(idf, weights, np.asarray(z["bias"], dtype=np.float64))
