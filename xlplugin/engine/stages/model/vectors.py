"""Static word vectors shipped with the package: text -> mean vector, with no model at run time.

The vectors (vectors.npz: int8 codes and one scale per word; vocab.txt) were distilled at
build time from all-MiniLM-L6-v2 by scripts/build_stage_model.py: each word's own embedding,
then fitted so that the mean over a text approaches the model's embedding of the whole text
(tokenlearn-style, over marketing texts), so the mean reads a phrase more as the model does.
A word missing from the vocabulary is split into WordPiece pieces ('onboarding' -> 'on', '##board', '##ing'), as the
model's own tokenizer would, and gets the mean of their vectors; so wording nobody here wrote
still lands near words of similar meaning.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORD = re.compile(r"[a-z&+][a-z0-9&+]*")     # starts with a letter: ids and sums do not count
# bag() reads WORD's words without the regex: lower-cased UTF-8 bytes with every byte outside
# [a-z0-9&+] (and the text separator) made a space, then split; a token starting with a digit
# is WORD's match only from its first non-digit ('2b' -> 'b', '#12' -> nothing).
_TOKEN = bytes(c if 48 <= c <= 57 or 97 <= c <= 122 or c in b"&+\x1f" else 32 for c in range(256))
_DIGITS = b"0123456789"
_LONGEST_PIECE = 24
MAX_WORD = 40             # longer "words" (pasted hashes, filler) get no vector and stay out of reasons

# Function words carry no stage; dropping them keeps a mean vector on the words that do.
STOPWORDS = frozenset("""
a an the and or of for to in on at by with from into onto over under about as is are was were be
been being it its this that these those their our your my his her we you they i he she them us
so than then there here what which who whom whose how when where why all any each every both
per via vs etc also will would can could should may might must do does did done has have had
not no new next one two three four five q1 q2 q3 q4 fy h1 h2 inc ltd co
project initiative misc other tbd phase team
item items task tasks activity activities entry entries line general placeholder untitled various
""".split())  # noqa: SIM905 (reads better as text)


class Vectors:
    """Vocabulary and int8 vectors; `embed` turns texts into mean vectors (float32, [n, dims])."""

    def __init__(self, directory: Path = HERE) -> None:
        import numpy as np

        with np.load(directory / "vectors.npz") as z:
            self.matrix = z["q"].astype(np.float32) * z["scale"].astype(np.float32)[:, None]
        words = (directory / "vocab.txt").read_text(encoding="utf-8").split("\n")
        self.words = [w for w in words if w]
        self.index = {w: i for i, w in enumerate(self.words)}
        self.dims = self.matrix.shape[1]
        self._extra: list[Any] = []               # vectors of out-of-vocabulary words, made once
        self._ids: dict[str, int] = {}            # word -> row of matrix (or -1: no vector)
        self._bids: dict[bytes, int] = {}         # the same for bag()'s byte tokens

    def _pieces(self, word: str) -> list[int]:
        """Greedy longest-match WordPiece split (BERT's); [] when some part has no piece."""
        out, start = [], 0
        while start < len(word):
            for end in range(min(len(word), start + _LONGEST_PIECE), start, -1):
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                i = self.index.get(piece)
                if i is not None:
                    out.append(i)
                    start = end
                    break
            else:
                return []
        return out

    def word_id(self, word: str) -> int:
        """Row of `word` in the (growing) matrix; -1 for a stop word or a word with no vector."""
        i = self._ids.get(word)
        if i is not None:
            return i
        if word in STOPWORDS or word.isdigit() or len(word) > MAX_WORD:
            i = -1
        elif word in self.index:
            i = self.index[word]
        else:
            pieces = self._pieces(word)
            if not pieces:
                i = -1
            else:
                self._extra.append(self.matrix[pieces].mean(axis=0))
                i = len(self.words) + len(self._extra) - 1
        self._ids[word] = i
        return i

    def full_matrix(self) -> Any:
        import numpy as np

        if not self._extra:
            return self.matrix
        if len(self._extra) > getattr(self, "_stacked", 0):
            self.matrix = np.vstack([self.matrix[: len(self.words)], np.asarray(self._extra)])
            self._stacked = len(self._extra)
        return self.matrix

    def bag(self, texts: list[str]) -> Any:
        """Texts -> sparse [n, vocabulary] matrix of word weights (each row sums to 1, or 0
        for a text with no known word).  One pass over all texts joined."""
        joined = " \x1f ".join(t.replace("\x1f", " ") for t in texts)
        return self.bag_of(joined.lower().encode("utf-8", "replace"), len(texts))

    def bag_of(self, joined: bytes, n: int) -> Any:
        """bag() of n texts given as one lower-cased UTF-8 string, separated by b"\x1f"
        (bytes outside [a-z0-9&+] may be anything: they read as spaces)."""
        import numpy as np
        from scipy.sparse import csr_matrix

        found = joined.translate(_TOKEN).split() if n else []
        known = self._bids
        known[b"\x1f"] = -2
        # known words through dict.get in C; only tokens met for the first time go through word_id
        ids = np.fromiter(map(known.get, found, repeat(-3)), dtype=np.int64, count=len(found))
        miss = np.flatnonzero(ids == -3)
        tokens = [found[i] for i in miss.tolist()]
        number = np.fromiter(map(bytes.isdigit, tokens), dtype=bool, count=len(tokens))
        ids[miss[number]] = -1            # a number: no vector, and not worth remembering
        for i in miss[~number].tolist():
            tok = found[i]
            word = tok.lstrip(_DIGITS)
            ids[i] = self.word_id(word.decode("ascii"))
            if len(word) == len(tok):
                known[tok] = ids[i]
        sep = ids == -2
        row = np.cumsum(sep)
        keep = ids >= 0
        rows, cols = row[keep], ids[keep]
        counts = np.bincount(rows, minlength=n).astype(np.float32)
        data = 1.0 / np.maximum(counts[rows], 1.0)
        width = len(self.words) + len(self._extra)
        return csr_matrix((data, (rows, cols)), shape=(n, width))

    def embed(self, texts: list[str]) -> Any:
        """Mean word vector per text ([n, dims] float32; zeros for a text with no known word)."""
        bag = self.bag(texts)
        return bag @ self.full_matrix()[: bag.shape[1]]

    def words_of(self, text: str) -> list[str]:
        """The words of `text` that have a vector (for reasons)."""
        return [w for w in WORD.findall(text.lower()) if self.word_id(w) >= 0]


@lru_cache(maxsize=1)
def shipped_vectors() -> Vectors:
    return Vectors()
