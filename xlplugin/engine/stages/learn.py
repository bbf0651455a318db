"""Learning a team's vocabulary from past plans whose Stage column people filled in.

`learn_from(paths)` reads each workbook (read -> locate -> parse), keeps the rows whose
Stage a person set to Upstream or Downstream, and fits a small model: TF-IDF over word
1-2-grams, then logistic regression.  No network, no downloads;
a few hundred rows fit in well under a second.

`combine` merges it with the taxonomy: the taxonomy decides when it is sure; the model
decides when the taxonomy has little or no evidence and the model is sure (the reason
says so: "learned from your plans: 'sprint zero' -> Upstream (0.86)"); when both are sure
and disagree the row goes to Review.

A model saves to JSON (`LearnedModel.save`) rather than pickle, so loading one never
runs code; `learn_from` accepts such a .json file in place of workbooks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlplugin.errors import XlpluginError

if TYPE_CHECKING:  # pragma: no cover
    from xlplugin.engine.stages.label import StageLabel
    from xlplugin.engine.stages.taxonomy import Taxonomy

MIN_ROWS = 10            # fewer labelled rows than this teach nothing reliable
MODEL_CONFIDENT = 0.85   # the model's probability needed to decide a row (measured: on held-out
                         # rows its predictions at >= 0.85 were all right; at 0.75, 65 of 66)
FIELDS = ("activity", "description", "category", "channel", "kpi", "objective")
FORMAT = "xlplugin-stage-model/1"


def _doc(row: dict[str, str] | list[str]) -> str:
    parts = row if isinstance(row, list) else [row.get(f) or "" for f in FIELDS]
    return " | ".join(str(p) for p in parts if p).lower()


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Word 1-2-grams only.  Adding character 3-5-grams (measured: trained on the eval set's
    # dev split, applied to its test split) let the model decide more rows at >= 0.85
    # (50 of 109 against 29, all correct either way) but made labelling 100k rows with a
    # model take ~23 s of CPU instead of ~4.5 s: sklearn's char analyzers are pure Python.
    return TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                           token_pattern=r"(?u)\b\w[\w&+]*\b")


@dataclass
class LearnedModel:
    """Two TF-IDF vectorizers and a logistic regression; classes are Upstream/Downstream."""

    word: Any
    clf: Any
    rows: int = 0                                  # labelled rows it learned from
    counts: dict[str, int] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    _word_terms: list[str] = field(default_factory=list, repr=False)

    # -- predicting ----------------------------------------------------------------
    def _matrix(self, docs: list[str]) -> Any:
        return self.word.transform(docs).tocsr()

    def predict(self, docs: list[str]) -> list[tuple[str, float]]:
        """(stage, probability of that stage) per document; each distinct text is scored once."""
        import numpy as np

        if not docs:
            return []
        uniq = list(dict.fromkeys(docs))
        proba = self.clf.predict_proba(self._matrix(uniq))
        best = proba.argmax(axis=1)
        classes = [str(c) for c in self.clf.classes_]
        scored = {d: (classes[j], float(p)) for d, j, p in
                  zip(uniq, best.tolist(), proba[np.arange(len(uniq)), best].tolist(), strict=True)}
        return [scored[d] for d in docs]

    def explain(self, docs: list[str], stages: list[str]) -> list[str]:
        """The word n-gram that pushed each document hardest towards its stage ('' if none)."""
        if not docs:
            return []
        xw = self.word.transform(docs).tocsr()
        coef = self.clf.coef_[0]                  # > 0 pushes towards classes_[1]
        positive = str(self.clf.classes_[1])
        terms = self._terms()
        out = []
        for i, stage in enumerate(stages):
            lo, hi = xw.indptr[i], xw.indptr[i + 1]
            idx = xw.indices[lo:hi]
            contrib = xw.data[lo:hi] * coef[idx] * (1.0 if stage == positive else -1.0)
            if not len(contrib) or contrib.max() <= 0:
                out.append("")
                continue
            top = float(contrib.max())
            # the longest n-gram close to the strongest reads best ('sprint zero', not 'sprint')
            close = [(len(terms[idx[k]].split()), float(contrib[k]), int(idx[k]))
                     for k in range(len(contrib)) if contrib[k] >= 0.8 * top]
            out.append(terms[max(close)[2]])
        return out

    def _terms(self) -> list[str]:
        if not self._word_terms:
            vocab = self.word.vocabulary_
            terms = [""] * len(vocab)
            for t, i in vocab.items():
                terms[i] = t
            self._word_terms = terms
        return self._word_terms

    def combine(self, labels: list[StageLabel], columns: dict[str, list[str]], tax: Taxonomy) -> None:
        """Merge this model's view into the classifier's labels (in place; see combine)."""
        combine(labels, self, columns, tax)

    # -- saving --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def vec(v: Any) -> dict[str, Any]:
            return {"vocabulary": {t: int(i) for t, i in v.vocabulary_.items()},
                    "idf": [float(x) for x in v.idf_]}
        return {"format": FORMAT, "rows": self.rows, "counts": self.counts, "sources": self.sources,
                "word": vec(self.word),
                "classes": [str(c) for c in self.clf.classes_],
                "coef": [float(x) for x in self.clf.coef_[0]],
                "intercept": float(self.clf.intercept_[0])}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict()), encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any], file: str = "") -> LearnedModel:
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        if data.get("format") != FORMAT:
            raise XlpluginError(f"not an xlplugin stage model (format {data.get('format')!r})", file=file)
        try:
            word = _vectorizer()
            word.vocabulary_ = dict(data["word"]["vocabulary"])
            word.idf_ = np.asarray(data["word"]["idf"], dtype=float)
            clf = LogisticRegression()
            clf.classes_ = np.asarray(data["classes"])
            clf.coef_ = np.asarray([data["coef"]], dtype=float)
            clf.intercept_ = np.asarray([data["intercept"]], dtype=float)
            return cls(word, clf, int(data.get("rows", 0)), dict(data.get("counts", {})),
                       list(data.get("sources", [])))
        except (KeyError, TypeError, ValueError) as e:
            raise XlpluginError(f"damaged stage model ({e})", file=file) from None

    @classmethod
    def load(cls, path: str | Path) -> LearnedModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as e:
            raise XlpluginError(f"cannot read stage model ({e.strerror or e})", file=str(path)) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise XlpluginError(f"not a stage model: invalid JSON ({e})", file=str(path)) from None
        if not isinstance(data, dict):
            raise XlpluginError("not an xlplugin stage model", file=str(path))
        return cls.from_dict(data, str(path))


# ---------------------------------------------------------------------- fitting

def fit(texts: list[dict[str, str]], stages: list[str], sources: list[str] | None = None) -> LearnedModel:
    """Fit on rows (field -> text) with their human Stage (Upstream/Downstream only)."""
    from sklearn.linear_model import LogisticRegression

    where = ", ".join(sources or []) or "the given rows"
    pairs = [(_doc(t), s) for t, s in zip(texts, stages, strict=True) if s in ("Upstream", "Downstream")]
    pairs = [(d, s) for d, s in pairs if d]
    counts = {s: sum(1 for _, st in pairs if st == s) for s in ("Upstream", "Downstream")}
    if len(pairs) < MIN_ROWS:
        raise XlpluginError(f"learning needs at least {MIN_ROWS} rows whose Stage people set to Upstream "
                            f"or Downstream; found {len(pairs)} in {where}")
    if min(counts.values()) == 0:
        only = "Upstream" if counts["Upstream"] else "Downstream"
        raise XlpluginError(f"learning needs rows of both stages; every labelled row in {where} is {only}")
    docs = [d for d, _ in pairs]
    y = [s for _, s in pairs]
    word = _vectorizer()
    x = word.fit_transform(docs)
    # strong-ish C: a team term seen a handful of times should be able to decide
    clf = LogisticRegression(C=20.0, class_weight="balanced", max_iter=2000)
    clf.fit(x, y)
    return LearnedModel(word, clf, len(pairs), counts, list(sources or []))


def labelled_rows(parsed: Any, stage_cells: dict[int, object] | None = None
                  ) -> tuple[list[dict[str, str]], list[str]]:
    """Rows of a ParsedPlan whose Stage a person set as Upstream or Downstream.

    stage_cells (label.earlier_stages): what people set, leaving out the stages xlplugin
    wrote itself, so a plan the tool has already labelled does not teach it its own guesses."""
    from xlplugin.engine.stages.label import _strings, normalize_stage

    frame = parsed.frame
    if stage_cells is None:
        if "stage" not in frame.columns:
            return [], []
        stage_cells = dict(zip(frame.index, frame["stage"].tolist(), strict=True))
    cols = {f: _strings(frame[f].tolist()) for f in FIELDS if f in frame.columns}
    texts, stages = [], []
    for i, row in enumerate(frame.index):
        s = normalize_stage(stage_cells.get(row))
        if s in ("Upstream", "Downstream"):
            texts.append({f: v[i] for f, v in cols.items()})
            stages.append(s)
    return texts, stages


def combine(labels: list[StageLabel], model: LearnedModel, columns: dict[str, list[str]],
            tax: Taxonomy) -> None:
    """Let the model decide where the taxonomy is unsure (in place; see module doc)."""
    n = len(labels)
    docs = [_doc([columns[f][i] for f in FIELDS if f in columns]) for i in range(n)]
    todo = []      # (label, model stage, probability, doc): rows where the model changes something
    for lab, doc, (stage, p) in zip(labels, docs, model.predict(docs), strict=True):
        if p < MODEL_CONFIDENT:
            continue
        tax_sure = lab.stage != "Review" and lab.confidence >= tax.confident
        if tax_sure and lab.stage == stage:
            lab.reason += "; your past plans agree"
        else:
            todo.append((lab, stage, p, doc))
    terms = model.explain([t[3] for t in todo], [t[1] for t in todo])
    for (lab, stage, p, _), term in zip(todo, terms, strict=True):
        said = f"'{term}' -> {stage}" if term else f"wording like your {stage.lower()} rows"
        if lab.stage != "Review" and lab.confidence >= tax.confident:
            lab.reason = (f"taxonomy says {lab.stage} ({lab.reason}) but your past plans say "
                          f"{stage} ({p:.2f}, {said}): decide by hand")
            lab.stage = "Review"
            lab.confidence = round(min(lab.confidence, p), 3)
        else:
            before = "" if lab.source == "none" else f"; taxonomy alone: {lab.stage} ({lab.confidence:.2f})"
            lab.reason = f"learned from your plans: {said} ({p:.2f}){before}"
            lab.stage = stage  # type: ignore[assignment]
            lab.confidence = round(p, 3)
            lab.evidence = term or lab.evidence
        lab.source = "model"
