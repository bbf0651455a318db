"""The shipped stage model: static word vectors (distilled at build time), linear heads, and
the labelled corpus's rows as neighbours for the rows the head is unsure of.

It reads wording nobody here wrote: a word the taxonomy does not list still has a vector,
close to words of similar meaning, so 'price-sensitivity survey' lands beside 'pricing
study'.  The taxonomy stays as explicit evidence (a feature of the head, and the phrases a
reason names); a team's own taxonomy groups decide outright.  See decide.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from xlplugin.engine.stages.model.head import Head
from xlplugin.engine.stages.model.neighbours import Neighbours
from xlplugin.engine.stages.model.ngrams import NgramHead
from xlplugin.engine.stages.model.vectors import Vectors, shipped_vectors

__all__ = ["Head", "Neighbours", "NgramHead", "StageModel", "Vectors", "shipped_model"]


@dataclass
class StageModel:
    vectors: Vectors
    head: Head
    neighbours: Neighbours | None = None     # the corpus's rows, for rows the head is unsure of
    ngrams: NgramHead | None = None          # the words and word pairs themselves (ngrams.py)


@lru_cache(maxsize=1)
def shipped_model() -> StageModel:
    return StageModel(shipped_vectors(), Head.load(), Neighbours.load(), NgramHead.load())
