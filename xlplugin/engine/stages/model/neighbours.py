"""The labelled corpus as neighbours: how the activities nearest a row's wording were labelled.

The linear head weighs each word on its own; a vote of the nearest corpus activities reads a
name as a whole, as people labelled wording like it ('prototype spy-shot teasing' sits with
other teasers, whatever 'prototype' says alone).  decide.py asks it only for rows the head is
unsure of (on the 1,979 kept-out rows it puts 31 right and 15 wrong with a description, 37
and 14 from the name), separately for the activity and the description (each distinct
wording once), and adds the vote, in [-1, 1], times a weight to the head's logit.  The share
of the vote's weight from rows labelled Review joins the Review head's reading of the row.

The vote is a kernel vote: every corpus row weighs exp(BETA * (similarity - 1)), so rows much
less similar than the nearest count for nothing (at BETA 40 a row at cosine 0.8 weighs
e^-8 of an identical one); it measured as well as a top-10 vote without sorting the whole
corpus's similarities per text.  To keep 100k distinct texts affordable the corpus is split
into CELLS cells (k-means over its vectors) and a text is compared only with the rows of the
PROBE cells whose centroids are nearest it: the rows that carry weight are there.

neighbours.npz holds, for activities and descriptions apart, the corpus rows' unit mean
vectors as int8 codes in cell order, the cells' centroids and bounds, and the rows' stages;
scripts/build_stage_model.py writes it with the head.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlplugin.engine.stages.model.vectors import HERE, Vectors

NEIGHBOURS_FILE = HERE / "neighbours.npz"
BETA = 40.0             # kernel sharpness (measured on the by-source split: 10, 20, 40, top-10)
CELLS = 64              # k-means cells over the corpus
PROBE = 12              # cells searched per text, those whose centroids are nearest it (8, 16 and all 64 measured
                        # the same by source; 12 gives the labels of a full search for 99.4-99.8% of unseen rows,
                        # 16 for 99.7-99.9% at 5-10% more time on rows worded differently)
CHUNK = 2048            # texts per similarity block (bounds memory: CHUNK x candidates floats)
SCALE = 127.0


@dataclass
class Side:
    """One column's corpus texts (activities or descriptions), in cell order."""
    unit: Any           # [m, dims] float32 unit vectors (zero for a blank text)
    vote: Any           # [m] float32: +1 Upstream, -1 Downstream, 0 Review
    centroids: Any      # [cells, dims] float32
    starts: Any         # [cells + 1] int64: cell c holds rows starts[c]:starts[c + 1]

    @classmethod
    def build(cls, unit: Any, vote: Any, cells: int = CELLS) -> Side:
        import numpy as np
        from sklearn.cluster import KMeans

        keep = np.linalg.norm(unit, axis=1) > 0              # a blank text votes for nothing
        unit, vote = unit[keep], vote[keep]
        k = max(1, min(cells, len(unit)))
        cell = KMeans(n_clusters=k, n_init=1, random_state=0).fit_predict(unit) if k > 1 else \
            np.zeros(len(unit), dtype=np.int64)
        order = np.argsort(cell, kind="stable")
        starts = np.searchsorted(cell[order], np.arange(k + 1))
        centroids = np.stack([unit[order[starts[c]:starts[c + 1]]].mean(axis=0) if starts[c + 1] > starts[c]
                              else np.zeros(unit.shape[1], dtype=np.float32) for c in range(k)])
        # as saved (int8 codes, float16 centroids), so a model built for a benchmark fold votes
        # exactly as the shipped file does
        return cls(_unit(np.round(unit[order] * SCALE).astype(np.int8).astype(np.float32)), vote[order],
                   _unit(_unit(centroids).astype(np.float16).astype(np.float32)), starts.astype(np.int64))

    def read(self, q: Any) -> tuple[Any, Any]:
        """([n], [n]): the kernel vote of this side's corpus rows near each unit vector of q, and
        the share of that weight from rows labelled Review (people called wording like it either)."""
        import numpy as np

        out = np.zeros(len(q), dtype=np.float32)
        either = np.zeros(len(q), dtype=np.float32)
        if not len(self.unit) or not len(q):
            return out, either
        live = np.flatnonzero(np.abs(q).sum(axis=1) > 0)       # a text with no known word: no vote
        near = q[live] @ self.centroids.T                      # [n, cells]
        p = max(1, min(PROBE, near.shape[1]))
        probe = np.argpartition(-near, p - 1, axis=1)[:, :p] if p < near.shape[1] else \
            np.broadcast_to(np.arange(p), near.shape)
        # each cell once, with every text that probes it: the texts' sums build up cell by cell
        cell, text = probe.ravel(), np.repeat(np.arange(len(live)), p)
        order = np.argsort(cell, kind="stable")
        bounds = np.searchsorted(cell[order], np.arange(near.shape[1] + 1))
        sums = np.zeros((len(live), 3))                         # vote, Review weight, weight
        if getattr(self, "_scaled", None) is None:
            # BETA folded into the rows, and per row (vote, is Review, 1): one matrix product
            # and one exp per block, in place (this is most of the time on unseen wording)
            self._scaled = self.unit * np.float32(BETA)
            self._cols = np.stack([self.vote, (self.vote == 0), np.ones_like(self.vote)], axis=1
                                  ).astype(np.float32)
        for c in range(near.shape[1]):
            lo_c, hi_c = self.starts[c], self.starts[c + 1]
            ref, cols = self._scaled[lo_c:hi_c], self._cols[lo_c:hi_c]
            mine = text[order[bounds[c]:bounds[c + 1]]]
            for lo in range(0, len(mine), CHUNK):
                rows = mine[lo:lo + CHUNK]
                w = q[live[rows]] @ ref.T
                w -= np.float32(BETA)
                np.exp(w, out=w)
                sums[rows] += w @ cols
        num, num_either, den = sums[:, 0], sums[:, 1], sums[:, 2]
        out[live] = num / np.maximum(den, 1e-300)
        either[live] = num_either / np.maximum(den, 1e-300)
        return out, either


@dataclass
class Neighbours:
    act: Side
    desc: Side

    @classmethod
    def build(cls, activities: list[str], descriptions: list[str], stages: list[str],
              vectors: Vectors) -> Neighbours:
        import numpy as np

        vote = np.array([{"Upstream": 1.0, "Downstream": -1.0}.get(s, 0.0) for s in stages], dtype=np.float32)
        return cls(Side.build(_unit(np.asarray(vectors.embed(activities))), vote),
                   Side.build(_unit(np.asarray(vectors.embed(descriptions))), vote))

    def votes(self, vecs: Any, description: bool = False) -> Any:
        """[n] in [-1, 1]: how the corpus activities (or descriptions) nearest each of vecs
        ([n, dims] mean vectors; a zero row votes 0) were labelled, +1 all Upstream."""
        return self.read(vecs, description)[0]

    def read(self, vecs: Any, description: bool = False) -> tuple[Any, Any]:
        """(votes, either): the votes, and per text the share of its neighbours' weight labelled
        Review, in [0, 1] (0 for a zero row)."""
        import numpy as np

        return (self.desc if description else self.act).read(_unit(np.asarray(vecs, dtype=np.float32)))

    # -- saving -------------------------------------------------------------------
    def save(self, path: Path = NEIGHBOURS_FILE) -> Path:
        import numpy as np

        parts = {}
        for name, side in (("act", self.act), ("desc", self.desc)):
            parts.update({f"{name}_unit": np.round(side.unit * SCALE).astype(np.int8),
                          f"{name}_vote": side.vote.astype(np.int8),
                          f"{name}_centroids": side.centroids.astype(np.float16),
                          f"{name}_starts": side.starts})
        np.savez_compressed(path, **parts)
        return path

    @classmethod
    def load(cls, path: Path = NEIGHBOURS_FILE) -> Neighbours | None:
        import numpy as np

        if not path.exists():
            return None
        with np.load(path) as z:
            sides = [Side(_unit(z[f"{n}_unit"].astype(np.float32)), z[f"{n}_vote"].astype(np.float32),
                          _unit(z[f"{n}_centroids"].astype(np.float32)), z[f"{n}_starts"].astype(np.int64))
                     for n in ("act", "desc")]
        return cls(*sides)


def _unit(m: Any) -> Any:
    import numpy as np

    norm = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.where(norm == 0, 1, norm)).astype(np.float32)
