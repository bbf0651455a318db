"""The corpus's rows as neighbours (model/neighbours.py): the vote decide.py adds for rows the
head is unsure of, on the shipped files and on the sources kept out of training (with and
without the vote: test_label_corpus.py)."""

from __future__ import annotations

import numpy as np

from benchmarks.bench_label import fresh_rows
from xlplugin.engine.stages.label import label_texts
from xlplugin.engine.stages.model import neighbours as nb
from xlplugin.engine.stages.model import shipped_model, shipped_vectors
from xlplugin.engine.stages.model.neighbours import Neighbours
from xlplugin.engine.stages.model.train import load_corpus


def test_shipped_neighbours_hold_the_training_corpus():
    model = shipped_model()
    assert model.neighbours is not None
    rows = load_corpus()
    assert len(model.neighbours.act.unit) == len(rows)          # every row has an activity
    assert sorted(model.neighbours.act.vote.tolist()) == sorted(
        {"Upstream": 1.0, "Downstream": -1.0, "Review": 0.0}[r.stage] for r in rows)


def test_an_activity_of_the_corpus_votes_its_own_label():
    rows = load_corpus()[::97]
    model = shipped_model()
    votes = model.neighbours.votes(shipped_vectors().embed([r.activity for r in rows]))
    clear = [(r, v) for r, v in zip(rows, votes, strict=True) if r.stage != "Review"]
    agree = sum((v > 0) == (r.stage == "Upstream") for r, v in clear)
    assert agree >= 0.95 * len(clear)


def test_the_cell_search_labels_as_searching_every_row_would(monkeypatch):
    # the cells are a shortcut: on wording the model never saw, the labels with the probed
    # cells are the labels with the whole corpus searched, for nearly every row
    rows = fresh_rows()[::2]
    for fields in (("activity",), ("activity", "description")):
        texts = [{f: r[f] for f in fields} for r in rows]
        probed = label_texts(texts)
        monkeypatch.setattr(nb, "PROBE", len(shipped_model().neighbours.act.centroids))
        every = label_texts(texts)
        monkeypatch.undo()
        same = sum(a.stage == b.stage for a, b in zip(probed, every, strict=True))
        assert same >= 0.985 * len(rows), f"{fields}: {same} of {len(rows)} the same"


def test_the_share_labelled_review_follows_the_corpus():
    rows = load_corpus()[::53]
    model = shipped_model()
    votes, either = model.neighbours.read(shipped_vectors().embed([r.activity for r in rows]))
    assert ((either >= 0) & (either <= 1)).all()
    review = np.array([r.stage == "Review" for r in rows])
    # a corpus activity is its own nearest neighbour: Review rows read as mostly Review
    assert either[review].mean() > 0.6 > 0.1 > either[~review].mean()
    assert np.allclose(votes, model.neighbours.votes(shipped_vectors().embed([r.activity for r in rows])))


def test_saved_and_loaded_neighbours_vote_the_same(tmp_path):
    vec = shipped_vectors()
    rows = load_corpus()[:400]
    built = Neighbours.build([r.activity for r in rows], [r.description for r in rows], [r.stage for r in rows], vec)
    loaded = Neighbours.load(built.save(tmp_path / "n.npz"))
    q = vec.embed(["Customer interviews about onboarding", "Retargeting ads for cart abandoners", ""])
    assert np.allclose(built.votes(q), loaded.votes(q), atol=1e-5)
    assert loaded.votes(q)[2] == 0.0                             # no words: no vote
    assert Neighbours.load(tmp_path / "missing.npz") is None


def test_a_reason_names_the_vote_when_it_helped_decide():
    rows = fresh_rows()[::4]
    labels = label_texts([{"activity": r["activity"], "description": r["description"]} for r in rows])
    named = [lab for lab in labels if "activities worded like it are mostly" in lab.reason]
    assert len(named) >= 0.05 * len(rows)
    for lab in named:
        side = "upstream" if "mostly upstream" in lab.reason else "downstream"
        # a Review row's reason is about the side it leans to
        assert lab.stage.lower() == side or \
            (lab.stage == "Review" and (f"leans {side}" in lab.reason or f"({side})" in lab.reason))


def test_the_review_decision_as_fit_ambiguity_replays_it():
    # benchmarks/fit_ambiguity.py refits AMBIGUITY from the inputs label_texts reports and replays
    # the Review decision from them: on rows nobody trained on, the replay must be the labels
    from benchmarks.fit_ambiguity import BASE, trade
    from xlplugin.engine.stages.model import decide as dm

    rows = fresh_rows()[::4]
    for fields in (("activity", "description"), ("activity",)):
        texts = [{f: r[f] for f in fields} for r in rows] * 2          # repeated rows: one decision each
        feats: dict = {}
        labs = label_texts(texts, features=feats)
        assert all(len(v) == len(texts) for v in feats.values())
        feats["|stage_logit|"] = np.abs(feats["stage_logit"])
        q = 1 / (1 + np.exp(-(np.column_stack([feats[n] for n in BASE]) @ np.asarray(dm.AMBIGUITY[:-1])
                               + dm.AMBIGUITY[-1])))
        line = np.where(feats["described"], dm.AMBIGUOUS, dm.AMBIGUOUS_NAME)
        review = ~feats["other_ok"] | ((q >= line) & (feats["conf"] < dm.SURE))
        replay = np.where(review, "Review", np.where(feats["lean"] == 0, "Upstream", "Downstream"))
        assert replay.tolist() == [lab.stage for lab in labs]
        feats["gold"] = np.array([lab.stage if lab.stage != "Review" else "Ambiguous" for lab in labs])
        acc, to_review, amb = trade(feats, q, dm.AMBIGUOUS if len(fields) == 2 else dm.AMBIGUOUS_NAME, dm.SURE)
        assert acc == 100.0 and to_review == amb
