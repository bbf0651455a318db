"""The n-gram head (model/ngrams.py): the words and word pairs themselves, beside the vectors;
on the shipped file, through a save and load, and on sources kept out of training."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_label import CORPUS_MODES, evaluate, fresh_rows
from xlplugin.engine.stages.label import label_texts
from xlplugin.engine.stages.model import StageModel, shipped_model
from xlplugin.engine.stages.model.ngrams import NgramHead, normalise, read
from xlplugin.engine.stages.model.train import load_corpus
from xlplugin.engine.stages.taxonomy import load_taxonomy


def test_texts_read_as_the_taxonomy_scan_reads_them():
    assert normalise(["Win-back e-mail #12 (Q3, 2,000 sends)"]) == ["win back e mail q3 sends"]
    # the scan's own text: already lower case, numbers gone, non-ASCII bytes kept (read drops them)
    assert read([" win back  e mail \xc3\xa9t\xc3\xa9 ".encode("latin-1")]) == ["win back e mail t"]


def test_the_shipped_head_knows_the_corpus_words_and_pairs():
    head = shipped_model().ngrams
    assert head is not None
    rows = load_corpus()[::41]
    s = head.scores(normalise([r.activity for r in rows]))
    stage, review = s[:, 0] + head.bias[0], s[:, 2] + head.bias[1]
    clear = np.array([r.stage != "Review" for r in rows])
    up = np.array([r.stage == "Upstream" for r in rows])
    # trained on these rows: their names alone lean the labelled way for nearly all of them ...
    assert ((stage > 0) == up)[clear].mean() >= 0.9
    # ... and the Review model reads the rows people call either stage as more likely so
    assert review[~clear].mean() > review[clear].mean() + 1
    # a word pair reads apart from its words: the same words in another order score otherwise
    a = head.scores(normalise(["sales training", "training sales"]))[:, 0]
    assert a[0] != pytest.approx(a[1])


def test_saved_and_loaded_head_scores_the_same(tmp_path):
    rows = load_corpus()[:3000]
    built = NgramHead.fit([r.activity for r in rows], [r.description for r in rows], [r.stage for r in rows])
    loaded = NgramHead.load(built.save(tmp_path / "n.npz"))
    texts = normalise(["Customer interviews about onboarding", "Retargeting ads for cart abandoners", ""])
    x, y = built.scores(texts), loaded.scores(texts)
    assert np.allclose(x, y, atol=2e-3)                 # float16 on disk
    assert (y[2] == 0.0).all()                          # no words: no score
    assert (y[:2, :2] != 0).all() and (y[:2, 2:] != 0).all()
    assert loaded.bias == pytest.approx(built.bias)
    assert NgramHead.load(tmp_path / "missing.npz") is None


@pytest.mark.parametrize("mode", ["name + description", "name only"])
def test_the_head_earns_its_place_on_sources_never_trained_on(mode):
    rows = fresh_rows()
    tax = load_taxonomy()
    model = shipped_model()
    fields = CORPUS_MODES[mode]
    with_it = evaluate(rows, fields, mode, tax, stage_model=model)
    without = evaluate(rows, fields, mode, tax, stage_model=StageModel(model.vectors, model.head, model.neighbours))

    def right(r):       # every row: a clear one with its stage, an ambiguous one with Review
        return r.accuracy * r.n_clear + r.ambiguous["Review"]

    assert right(with_it) >= right(without)
    assert with_it.confidently_wrong <= without.confidently_wrong + 0.005


def test_a_plan_row_labels_the_same_alone_and_among_others():
    # the head scores each distinct text once: a row's label does not depend on its neighbours
    texts = [{"activity": "Pricing study with lapsed buyers", "description": "Van Westendorp survey"},
             {"activity": "Retargeting ads", "description": "Display ads to cart abandoners"}]
    alone = [label_texts([t])[0].stage for t in texts]
    assert [lab.stage for lab in label_texts(texts * 50)] == alone * 50
