"""The linear head over the shipped word vectors: P(Upstream) for a plan row.

logit = w_act . mean_vector(activity) + w_desc . mean_vector(description)
        + w_tax . log1p(taxonomy scores of activity and description) + bias

Because the head is linear and a text's vector is a mean of word vectors, the first two
terms are a weighted mean of one number per word (its vector times w): labelling 100k rows
costs one sparse product, and "the words that decided it" are those numbers.

A second head of the same shape (`review`) reads the same text for "serves either stage":
P(a person would call it Review), trained on the corpus rows labelled Review against the
clear ones.  decide.py sends a row to Review when that head is sure, whatever the first leans.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlplugin.engine.stages.model.vectors import HERE, Vectors

FORMAT = "xlplugin-stage-head/1"
HEAD_FILE = HERE / "head.json"
TAX_FEATURES = ("act_up", "act_down", "act_either", "desc_up", "desc_down", "desc_either")


def tax_features(act_scores: Any, desc_scores: Any) -> Any:
    """[n, 6]: log1p of the taxonomy's (up, down, either) weight in activity and description."""
    import numpy as np

    return np.log1p(np.hstack([act_scores, desc_scores]))


SEEN_WEIGHT = 0.5      # 0, 0.25 and 0.5 measured the same by source (909 sources); 0.5 keeps 'Phoenix initiative' out


@dataclass
class Head:
    w_act: Any                      # [dims]
    w_desc: Any                     # [dims]
    w_tax: Any                      # [6], TAX_FEATURES
    bias: float
    rows: int = 0                   # labelled rows it was trained on
    sources: list[str] = field(default_factory=list)
    word_act: dict[str, float] = field(default_factory=dict)    # a word's own weight, beyond its vector's
    word_desc: dict[str, float] = field(default_factory=dict)
    review: Head | None = None      # P(either stage), same features; None in an older head.json
    _word: dict[int, Any] = field(default_factory=dict, repr=False)
    _seen: dict[int, Any] = field(default_factory=dict, repr=False)

    def word_scores(self, vectors: Vectors) -> tuple[Any, Any]:
        """(activity, description) score of every word the vectors know so far."""
        m = vectors.full_matrix()
        cached = self._word.get(id(vectors))
        if cached is None or cached[0].shape[0] != m.shape[0]:
            sa, sd = m @ self.w_act, m @ self.w_desc
            for own, out in ((self.word_act, sa), (self.word_desc, sd)):
                for w, v in own.items():
                    i = vectors.word_id(w)
                    if 0 <= i < len(out):
                        out[i] += v
            m = vectors.full_matrix()           # word_id may have added words: score them too
            if m.shape[0] != sa.shape[0]:
                return self.word_scores(vectors)
            cached = (sa, sd)
            self._word[id(vectors)] = cached
        return cached

    def seen_words(self, vectors: Vectors) -> Any:
        """1.0 for each word the head learned something of (a weight of its own of at least
        SEEN_WEIGHT), else 0.0.  A word met in a row or two ('Falcon' once as a campus mascot)
        gets a small weight: a code name made of it still has nothing to rest a label on."""
        import numpy as np

        width = vectors.full_matrix().shape[0]
        cached = self._seen.get(id(vectors))
        if cached is None or cached.shape[0] != width:
            ids = [vectors.word_id(w) for own in (self.word_act, self.word_desc) for w, v in own.items()
                   if abs(v) >= SEEN_WEIGHT]
            width = vectors.full_matrix().shape[0]        # word_id may have added words
            cached = np.zeros(width, dtype=np.float32)
            cached[[i for i in ids if 0 <= i < width]] = 1.0
            self._seen[id(vectors)] = cached
        return cached

    def text_logits(self, vectors: Vectors, act_bag: Any, desc_bag: Any, ia: Any, idd: Any, taxf: Any) -> Any:
        """Per row: the logit of a row whose activity is act_bag[ia] and description desc_bag[idd]
        (bags of the distinct texts; plans repeat them), with taxonomy features taxf."""
        sa, sd = self.word_scores(vectors)
        return (act_bag @ sa[: act_bag.shape[1]])[ia] + (desc_bag @ sd[: desc_bag.shape[1]])[idd] + \
            taxf @ self.w_tax + self.bias

    # -- saving -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "rows": self.rows, "sources": self.sources,
                "w_act": [round(float(x), 6) for x in self.w_act],
                "w_desc": [round(float(x), 6) for x in self.w_desc],
                "w_tax": dict(zip(TAX_FEATURES, (round(float(x), 6) for x in self.w_tax), strict=True)),
                "bias": float(self.bias), "word_act": self.word_act, "word_desc": self.word_desc,
                **({"review": self.review.to_dict()} if self.review else {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Head:
        import numpy as np

        if data.get("format") != FORMAT:
            raise ValueError(f"not a stage head (format {data.get('format')!r})")
        return cls(np.asarray(data["w_act"], dtype=np.float32), np.asarray(data["w_desc"], dtype=np.float32),
                   np.asarray([data["w_tax"][k] for k in TAX_FEATURES], dtype=np.float64),
                   float(data["bias"]), int(data.get("rows", 0)), list(data.get("sources", [])),
                   dict(data.get("word_act", {})), dict(data.get("word_desc", {})),
                   cls.from_dict(data["review"]) if data.get("review") else None)

    def save(self, path: Path = HEAD_FILE) -> Path:
        path.write_text(json.dumps(self.to_dict(), indent=0) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path = HEAD_FILE) -> Head:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
