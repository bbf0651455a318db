"""The n-gram head (model/ngrams.py): the words and word pairs themselves, beside the vectors;
on the shipped file and through a save and load (on the sources kept out of training:
test_label_corpus.py)."""

from __future__ import annotations

import numpy as np
import pytest

from xlplugin.engine.stages.label import label_texts
from xlplugin.engine.stages.model import shipped_model
from xlplugin.engine.stages.model.ngrams import BUCKETS, TOKEN, NgramHead, hashed, lowered
from xlplugin.engine.stages.model.train import load_corpus


def _same(a, b) -> bool:
    return a.shape == b.shape and (a != b).nnz == 0


def test_texts_read_as_the_taxonomy_scan_reads_them():
    # lower case, punctuation as spaces, numbers dropped: the same words and word pairs
    assert _same(hashed(lowered(["Win-back e-mail #12 (Q3, 2,000 sends)"])), hashed([b"win back e mail q3 sends"]))
    # non-ASCII bytes are spaces ('été' reads as 't')
    assert _same(hashed([" win back  e mail \xc3\xa9t\xc3\xa9 ".encode("latin-1")]), hashed([b"win back e mail t"]))
    assert hashed([]).shape == (0, BUCKETS) and hashed([b"", b"2024 1"]).nnz == 0


def test_the_counts_are_the_hashing_vectorizers_on_every_corpus_text():
    """hashed() builds each distinct word and pair once; the matrix is the one sklearn's
    HashingVectorizer gives over the read texts, so the shipped weights mean the same."""
    from sklearn.feature_extraction.text import HashingVectorizer

    def read(texts: list[bytes]) -> list[str]:
        keep = bytes(c if 48 <= c <= 57 or 97 <= c <= 122 or c in b"&+" else 32 for c in range(256))
        return [" ".join(w.decode() for w in t.translate(keep).split() if not w.isdigit()) for t in texts]

    texts = lowered([t for r in load_corpus() for t in (r.activity, r.description)])
    texts += [b"", b"  ", b"2024 q1 2nd r&d +1 a+ &x x& ++ && a&&b 1 2 3", b"\x1e abc \x1f x\x1e", "café été".encode()]
    reference = HashingVectorizer(n_features=BUCKETS, token_pattern=TOKEN, ngram_range=(1, 2), lowercase=False,
                                  alternate_sign=False, norm=None, dtype=np.float32).transform(read(texts))
    assert _same(hashed(texts), reference)


def test_the_shipped_head_knows_the_corpus_words_and_pairs():
    head = shipped_model().ngrams
    assert head is not None
    rows = load_corpus()[::41]
    s = head.scores(lowered([r.activity for r in rows]))
    stage, review = s[:, 0] + head.bias[0], s[:, 2] + head.bias[1]
    clear = np.array([r.stage != "Review" for r in rows])
    up = np.array([r.stage == "Upstream" for r in rows])
    # trained on these rows: their names alone lean the labelled way for nearly all of them ...
    assert ((stage > 0) == up)[clear].mean() >= 0.9
    # ... and the Review model reads the rows people call either stage as more likely so
    assert review[~clear].mean() > review[clear].mean() + 1
    # a word pair reads apart from its words: the same words in another order score otherwise
    a = head.scores(lowered(["sales training", "training sales"]))[:, 0]
    assert a[0] != pytest.approx(a[1])


def test_saved_and_loaded_head_scores_the_same(tmp_path):
    rows = load_corpus()[:3000]
    built = NgramHead.fit([r.activity for r in rows], [r.description for r in rows], [r.stage for r in rows])
    loaded = NgramHead.load(built.save(tmp_path / "n.npz"))
    texts = lowered(["Customer interviews about onboarding", "Retargeting ads for cart abandoners", ""])
    x, y = built.scores(texts), loaded.scores(texts)
    assert np.allclose(x, y, atol=2e-3)                 # float16 on disk
    assert (y[2] == 0.0).all()                          # no words: no score
    assert (y[:2, :2] != 0).all() and (y[:2, 2:] != 0).all()
    assert loaded.bias == pytest.approx(built.bias)
    assert NgramHead.load(tmp_path / "missing.npz") is None


def test_a_plan_row_labels_the_same_alone_and_among_others():
    # the head scores each distinct text once: a row's label does not depend on its neighbours
    texts = [{"activity": "Pricing study with lapsed buyers", "description": "Van Westendorp survey"},
             {"activity": "Retargeting ads", "description": "Display ads to cart abandoners"}]
    alone = [label_texts([t])[0].stage for t in texts]
    assert [lab.stage for lab in label_texts(texts * 50)] == alone * 50
