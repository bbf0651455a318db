"""The build-time distillation step of scripts/build_stage_model.py (no teacher model needed):
word vectors fitted so that the mean over a text approaches the text's own embedding."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from xlplugin.engine.stages.model.vectors import Vectors

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_stage_model.py"


def _build():
    spec = importlib.util.spec_from_file_location("build_stage_model", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _vectors(tmp_path: Path, words: list[str]) -> Vectors:
    np.savez(tmp_path / "vectors.npz", q=np.zeros((len(words), 1), np.int8), scale=np.ones(len(words)))
    (tmp_path / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    return Vectors(tmp_path)


def test_unknown_words_spread_over_their_pieces(tmp_path):
    build = _build()
    vec = _vectors(tmp_path, ["price", "study", "on", "##board", "##ing"])
    bag = build.bag_over_vocabulary(vec, ["price study", "onboarding", "the and"]).toarray()
    assert bag[0].tolist() == [0.5, 0.5, 0, 0, 0]
    assert np.allclose(bag[1], [0, 0, 1 / 3, 1 / 3, 1 / 3])
    assert bag[2].sum() == 0                                   # stop words only: no row weight


def test_fit_brings_the_mean_towards_the_text_and_leaves_unused_words(tmp_path):
    build = _build()
    vec = _vectors(tmp_path, ["pricing", "survey", "banner", "idle"])
    own = np.eye(4)
    target = np.array([[0.0, 0.0, 1.0, 0.0]])                 # "pricing survey" reads like "banner"
    bag = build.bag_over_vocabulary(vec, ["pricing survey"])
    before = np.linalg.norm(bag @ own - target)
    fitted = build.fit_to_texts(bag, target, own, ridge=0.1)
    assert np.linalg.norm(bag @ fitted - target) < 0.2 * before
    assert np.array_equal(fitted[2:], own[2:])                # words no text uses keep their vector
