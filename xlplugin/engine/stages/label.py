"""Upstream / Downstream / Review labels for plan rows, each with a reason.

Two kinds of evidence.  The weighted phrase taxonomy (templates/taxonomy.toml) is matched over
every text column at once: each distinct cell text is scanned once, all of them joined into
one string that one compiled trie-shaped regex walks in a single pass (a second, smaller one
for KPI phrases in the KPI/objective columns).  The shipped stage model (xlplugin.engine.stages.model)
then reads the activity and description as static word vectors distilled at build time from a
sentence-embedding model, with a linear head trained on the labelled corpus; the taxonomy's
scores are features of that head, so it reads wording the taxonomy never listed.  Channel and
KPI only break ties; a team's own taxonomy groups decide outright; a label is "confident"
only with an explicit taxonomy phrase behind it.  100k rows take about 2 s of CPU
(benchmarks/bench_label.py).  A model learned from a team's plans (xlplugin.engine.stages.learn) may then
add the team's own vocabulary: it merges itself in (learn imports this module, not the
reverse), and a confident disagreement with the classifier becomes Review.

Pure: takes data (ParsedPlan or dicts of text), returns Labels and Findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xlplugin.engine.stages.taxonomy import KPI_FIELDS, TEXT_FIELDS, Taxonomy, load_taxonomy
from xlplugin.model import Column, Finding, Grid, Label, ParsedPlan, PlanTable, cell_ref

if TYPE_CHECKING:  # pragma: no cover
    from xlplugin.engine.stages.learn import LearnedModel
    from xlplugin.engine.stages.model import StageModel

__all__ = ["RULES", "StageLabel", "label_plan", "label_texts", "load_taxonomy", "normalize_stage",
           "stage_findings"]

UP, DOWN, EITHER = 0, 1, 2
STAGE_OF = {"Upstream": UP, "Downstream": DOWN, "Review": EITHER}
NAMES = ("Upstream", "Downstream")
SEP = "\x1f"   # joins cells into one string; never part of a phrase

RULES: list[dict[str, str]] = [
    {
        "code": "XP401",
        "severity": "warning",
        "summary": "The Stage typed in the plan disagrees with confident evidence in the row.",
        "why": "Budget by stage (and the Summary's upstream/downstream split) is only as good as the "
               "Stage column.  When the activity, description or KPI clearly belong to the other side "
               "of the release-for-sale line, the typed Stage is probably a slip.  The tool never "
               "changes a Stage you typed; it asks you to look.",
        "bad": "Activity 'Retargeting ads for cart abandoners', Stage 'Upstream'",
        "good": "Activity 'Retargeting ads for cart abandoners', Stage 'Downstream' (or, if your team "
                "really counts it upstream, teach the tool with --learn-from or a taxonomy entry)",
    },
]


@dataclass
class StageLabel(Label):
    """A Label plus what the classifier itself thinks (kept when the user's Stage wins)."""

    suggested: str | None = None            # classifier's stage (Upstream/Downstream/Review)
    suggested_confidence: float = 0.0
    suggested_reason: str = ""
    evidence: str = ""                      # strongest phrase for the suggested stage, as matched
    confident: bool = False                 # suggestion at or above the taxonomy's `confident`
    typed: object = None                    # the Stage cell's value when a person set it


# ---------------------------------------------------------------------- user's Stage

_STAGE_WORDS = {
    "upstream": "Upstream", "up": "Upstream", "u": "Upstream", "up stream": "Upstream",
    "downstream": "Downstream", "down": "Downstream", "d": "Downstream", "down stream": "Downstream",
    "review": "Review", "to review": "Review", "needs review": "Review",
}


def normalize_stage(value: object) -> str | None:
    """What a typed Stage means: 'Upstream', 'Downstream', 'Review', else the text as typed
    (stripped), or None when blank.  ' downstream MARKETING ' -> 'Downstream'; 'Up' -> 'Upstream'."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    key = re.sub(r"[^a-z ]+", " ", text.lower())
    key = " ".join(w for w in key.split() if w not in ("marketing", "stage", "activity"))
    return _STAGE_WORDS.get(key, text)


# ---------------------------------------------------------------------- the matcher

def _trie_pattern(phrases: list[str]) -> str:
    """A regex alternation shaped like a trie, so the engine branches on one character at a
    time instead of trying a thousand alternatives at every position.  Greedy optional
    groups give the longest phrase first; backtracking finds shorter ones."""
    trie: dict[str, Any] = {}
    for p in phrases:
        node = trie
        for ch in p:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict[str, Any]) -> str:
        end = "" in node
        alts = [(" +" if ch == " " else re.escape(ch)) + build(sub)
                for ch, sub in sorted(node.items()) if ch != ""]
        if not alts:
            return ""
        if len(alts) == 1 and not end:
            return alts[0]
        return "(?:" + "|".join(alts) + ")" + ("?" if end else "")

    return build(trie)


# A phrase (and its plural forms) maps to a hit id: an index into _Compiled.hits
# (group name, phrase), .hit_stage and .hit_weight.  Id 0 means "no phrase".


class _Compiled:
    """A taxonomy compiled to two regexes (all columns; KPI columns) and lookup tables.

    Qualifier groups (Group.flips) get "shadow" hits: the same phrase of a flipped group,
    counted for the qualifier's stage, used when both occur in one cell.
    """

    def __init__(self, tax: Taxonomy) -> None:
        self.tax = tax
        self.hits: list[tuple[str, str]] = [("", "")]
        self.hit_stage: list[int] = [0]
        self.hit_weight: list[float] = [0.0]
        self.hit_len: list[int] = [0]
        self.hit_qualifier: list[int] = [-1]       # a qualifier hit's group (index into _qualifiers), else -1
        self.hit_team: list[bool] = [False]        # from a team's own groups (they win outright)
        self._team = _team_groups(tax)
        self._qualifiers = [g for g in tax.groups if g.flips and not g.kpi]
        self.phrases = self._table(tax, kpi=False)
        self.kpi = self._table(tax, kpi=True)
        self.flips: dict[int, Any] = self._shadows(tax)   # qualifier -> hit id -> shadow id
        self.re_all = self._regex(self.phrases)
        self.re_kpi = self._regex(self.kpi)
        self.re_number = self._numbers()

    def _table(self, tax: Taxonomy, kpi: bool) -> dict[bytes, int]:
        table: dict[str, int] = {}
        for g in tax.groups:
            if g.kpi != kpi:
                continue
            for p in g.phrases:
                if p not in table:       # the first group listing a phrase wins
                    table[p] = self._hit(g.name, p, STAGE_OF[g.stage], g.weight,
                                         self._qualifiers.index(g) if g in self._qualifiers else -1,
                                         g in self._team)
        # plural forms second, so an exact phrase beats another phrase's plural ("sales")
        for p, entry in list(table.items()):
            forms = [p + "s", p + "es"]
            if re.search(r"[^aeiou]y$", p):
                forms.append(p[:-1] + "ies")
            for form in forms:
                table.setdefault(form, entry)
        return {k.encode(): v for k, v in table.items()}

    def _hit(self, name: str, phrase: str, stage: int, weight: float, qualifier: int = -1,
             team: bool = False) -> int:
        self.hits.append((name, phrase))
        self.hit_team.append(team)
        self.hit_stage.append(stage)
        self.hit_weight.append(weight)
        self.hit_len.append(len(phrase))
        self.hit_qualifier.append(qualifier)
        return len(self.hits) - 1

    def _shadows(self, tax: Taxonomy) -> dict[int, Any]:
        import numpy as np

        out: dict[int, list[tuple[int, int]]] = {}
        for qi, q in enumerate(self._qualifiers):     # each qualifier its own shadows: a reason names it
            for g in tax.groups:
                if g.kpi or g.name not in q.flips:
                    continue
                for p in g.phrases:
                    hid = self.phrases.get(p.encode())
                    if hid and self.hits[hid][0] == g.name:
                        shadow = self._hit(q.name, p, STAGE_OF[q.stage], g.weight, -1, q in self._team)
                        out.setdefault(qi, []).append((hid, shadow))
        maps = {}
        for qi, pairs in out.items():
            m = np.zeros(len(self.hits), dtype=np.int64)
            for hid, shadow in pairs:
                m[hid] = m[hid] or shadow
            maps[qi] = m
        return maps

    def _regex(self, table: dict[bytes, int]) -> re.Pattern[bytes]:
        # Cells are joined as " cell one \x1f cell two ", so every phrase starts after a
        # space: the pattern starts with a literal, and the regex engine skips from space
        # to space in C instead of trying the trie at every character.
        neg = _trie_pattern(sorted(set(self.tax.negations)))
        if self.tax.not_negating:   # "no-code", "non-profit": not a negation
            neg += r"(?! +(?:" + _trie_pattern(sorted(set(self.tax.not_negating))) + r")(?= ))"
        window = max(self.tax.negation_window - 1, 0)
        words = sorted(k.decode() for k in table)
        # One group, so findall returns plain strings: '' for a separator, the phrase, or
        # "no paid media" for a negated one, which the phrase table then does not know.
        pat = ("\x1f| ((?:(?:" + neg + r") +(?:[^ \x1f]+ +){0," + str(window) + "})?"
               + _trie_pattern(words) + ")(?= )")
        return re.compile(pat.encode())

    def _numbers(self) -> re.Pattern[bytes]:
        # A number says nothing of the stage and has no vector, so cells that differ only by
        # one ('Webinar #12', 'Webinar #13', a date) are read once.  A number a phrase uses stays.
        kept = sorted({t for k in (*self.phrases, *self.kpi) for t in k.split() if t.isdigit()})
        keep = b"(?!(?:" + b"|".join(kept) + b") )" if kept else b""
        return re.compile(b" (?:" + keep + b"[0-9]+ +)+")


def _team_groups(tax: Taxonomy) -> set[Any]:
    """Groups a team added (or a whole taxonomy of its own): their phrases decide outright."""
    shipped = load_taxonomy()
    if tax is shipped:
        return set()
    return {g for g in tax.groups if not g.kpi} - set(shipped.groups)


_COMPILED: dict[int, _Compiled] = {}


def _compiled(tax: Taxonomy) -> _Compiled:
    c = _COMPILED.get(id(tax))
    if c is None or c.tax is not tax:
        if len(_COMPILED) > 16:
            _COMPILED.clear()
        c = _COMPILED[id(tax)] = _Compiled(tax)
    return c


# bytes.translate keeps a-z, 0-9, '&', '+', the cell separator and non-ASCII (UTF-8) bytes;
# everything else (punctuation, hyphens, '_') becomes a space.  Far faster than re.sub.
_KEEP = bytes(c if 48 <= c <= 57 or 97 <= c <= 122 or c in b"&+\x1f" or c >= 128 else 32
              for c in range(256))


def _joined(texts: list[str]) -> bytes:
    """Texts as one lower-cased string the matchers read: ' one \x1f two ' (see _KEEP)."""
    text = " \x1f ".join(texts)
    if text.count("\x1f") >= len(texts):       # a separator inside a cell reads as a space
        text = " \x1f ".join(t.replace("\x1f", " ") for t in texts)
    return (" " + text.lower() + " ").encode("utf-8", "replace").translate(_KEEP)


def _scan_texts(comp: _Compiled, regex: re.Pattern[bytes], table: dict[bytes, int], texts: list[str],
                joined: bytes | None = None):
    """Evidence per text: (scores[U, 3], best weight[U, 3], best hit id[U, 3], team scores[U, 3])
    as numpy arrays (team: the part of scores from a team's own groups).

    All texts are joined into one string so the regex runs once over everything; the
    matches are then turned into arrays without a Python loop per match."""
    from itertools import repeat

    import numpy as np

    u = len(texts)
    sc = np.zeros((u, 3))
    bw = np.zeros((u, 3))
    bh = np.zeros((u, 3), dtype=np.int64)
    tm = np.zeros((u, 3))
    found = regex.findall(_joined(texts) if joined is None else joined) if u else []
    if not found:
        return sc, bw, bh, tm
    m = len(found)
    sep = np.fromiter(map(len, found), dtype=np.int64, count=m) == 0
    cell = np.cumsum(sep)                        # separators before each match = its text
    hid = np.fromiter(map(table.get, found, repeat(0)), dtype=np.int64, count=m)
    for i in np.flatnonzero((hid == 0) & ~sep).tolist():   # runs of spaces, or negated
        hid[i] = table.get(b" ".join(found[i].split()), 0)
    keep = hid > 0
    k_a, h_a = cell[keep], hid[keep]
    if not len(h_a):
        return sc, bw, bh, tm
    if comp.flips:      # qualifiers: "post-launch survey" makes the survey after-sale work
        qual = np.asarray(comp.hit_qualifier)[h_a]
        if (qual >= 0).any():
            cell_q = np.full(u, -1)
            cell_q[k_a[qual >= 0]] = qual[qual >= 0]
            q_of_hit = cell_q[k_a]
            for qi, shadow in comp.flips.items():
                m = (q_of_hit == qi) & (shadow[h_a] > 0)
                h_a = np.where(m, shadow[h_a], h_a)
    st_a = np.asarray(comp.hit_stage)[h_a]
    w_a = np.asarray(comp.hit_weight)[h_a]
    np.add.at(sc, (k_a, st_a), w_a)
    if comp._team:
        np.add.at(tm, (k_a, st_a), w_a * np.asarray(comp.hit_team)[h_a])
    # best hit per (text, stage): write in increasing (weight, phrase length) order, the
    # last write wins: "paid search" rather than "campaign" when both weigh the same
    order = np.lexsort((np.asarray(comp.hit_len)[h_a], w_a))
    bw[k_a[order], st_a[order]] = w_a[order]
    bh[k_a[order], st_a[order]] = h_a[order]
    return sc, bw, bh, tm


@dataclass
class _Evidence:
    scores: Any        # numpy [n, 3]: up, down, either
    best: Any          # numpy [n, 3]: hit id of the strongest non-KPI phrase per stage
    best_kpi: Any      # numpy [n, 3]: hit id of the strongest KPI phrase per stage
    fields: dict[str, Any]   # field -> numpy [n, 3]: that column's own (unweighted) scores
    team: Any          # numpy [n, 3]: weighted scores from a team's own groups (text columns)
    texts: list[bytes]   # the distinct texts of the text columns as the matchers read them
    joined: bytes        # (_distinct_texts): those texts joined (the word bag reads them too)
    codes: dict[str, Any]    # field -> numpy [n]: each row's text as an index into texts

    def take(self, rows: list[int]) -> _Evidence:
        return _Evidence(self.scores[rows], self.best[rows], self.best_kpi[rows],
                         {f: v[rows] for f, v in self.fields.items()}, self.team[rows], self.texts, self.joined,
                         {f: v[rows] for f, v in self.codes.items()})


def _factorize(columns: dict[str, list[str]], names: list[str], n: int) -> tuple[list[str], dict[str, Any]]:
    """(distinct texts of those columns, field -> each row's index into them): one hash pass in C."""
    from itertools import chain

    import numpy as np
    import pandas as pd

    if not names:
        return [], {}
    values = np.fromiter(chain.from_iterable(columns[f] for f in names), dtype=object, count=n * len(names))
    codes, uniq = pd.factorize(values)
    return list(uniq), {f: codes[j * n:(j + 1) * n] for j, f in enumerate(names)}


def _distinct_texts(comp: _Compiled, columns: dict[str, list[str]], names: list[str], n: int
                    ) -> tuple[list[bytes], bytes, dict[str, Any]]:
    """(the distinct texts of those columns as the matchers read them: ' lower cased words ',
    without numbers; the same joined by b'\x1f'; field -> each row's index into them)."""
    import numpy as np
    import pandas as pd

    uniq, idx = _factorize(columns, names, n)
    if not uniq:
        return [], b"", idx
    parts = comp.re_number.sub(b" ", _joined(uniq)).split(b"\x1f")
    codes, read = pd.factorize(np.fromiter(parts, dtype=object, count=len(parts)))
    read = list(read)
    return read, b"\x1f".join(read), {f: codes[v] for f, v in idx.items()}


def _gather(comp: _Compiled, columns: dict[str, list[str]], n: int) -> _Evidence:
    """Score every row: each distinct cell text is scanned once (categories, channels and
    KPIs repeat down a plan), then rows add up their cells' evidence, weighted per column."""
    import numpy as np

    tax = comp.tax
    rows = np.arange(n)
    out = []
    fields: dict[str, Any] = {}
    team = np.zeros((n, 3))
    kept: tuple[list[bytes], bytes, dict[str, Any]] = ([], b"", {})
    for regex, table, names in ((comp.re_all, comp.phrases, [f for f in TEXT_FIELDS if f in columns]),
                                (comp.re_kpi, comp.kpi, [f for f in KPI_FIELDS if f in columns])):
        uniq, joined, idx = _distinct_texts(comp, columns, names, n)
        if regex is comp.re_all:
            kept = (uniq, joined, idx)
        sc, bw, bh, tm = _scan_texts(comp, regex, table, uniq, joined)
        scores = np.zeros((n, 3))
        cand_w = np.zeros((len(names) + 1, n, 3))
        cand_h = np.zeros((len(names) + 1, n, 3), dtype=np.int64)
        for j, f in enumerate(names):
            fw = tax.field_weights.get(f, 0.0)
            scores += fw * sc[idx[f]]
            if regex is comp.re_all:
                fields[f] = sc[idx[f]]
                team += fw * tm[idx[f]]
            cand_w[j + 1] = fw * bw[idx[f]]
            cand_h[j + 1] = bh[idx[f]]
        pick = cand_w.argmax(axis=0)                       # [n, 3]: which column gave the best
        best = cand_h[pick, rows[:, None], np.arange(3)[None, :]]
        out.append((scores, best))
    (s1, b1), (s2, b2) = out
    return _Evidence(s1 + s2, b1, b2, fields, team, *kept)


def _distinct_rows(ev: _Evidence, n: int) -> tuple[Any, Any]:
    """(first row of each distinct row, each row's index into those): rows are the same when
    every text column holds the same text (ev.codes)."""
    import numpy as np
    import pandas as pd

    if not ev.codes:
        return np.arange(n), np.arange(n)
    width = len(ev.texts) + 1
    key = np.zeros(n, dtype=np.int64)
    for codes in ev.codes.values():     # exact: a key stays < n, so key * width fits in 64 bits
        key = pd.factorize(key * width + codes)[0]
    return np.unique(key, return_index=True)[1], key


def _decide(comp: _Compiled, ev: _Evidence) -> list[tuple[str, float, str, str]]:
    """(stage, confidence, reason, strongest phrase) per row.

    Stage and confidence are array arithmetic; a reason depends only on the verdict and
    the best phrases, so it is written once per distinct combination, not once per row."""
    import numpy as np

    tax = comp.tax
    up, down, either = ev.scores[:, 0], ev.scores[:, 1], ev.scores[:, 2]
    total = up + down
    conf = np.round(0.5 + 0.5 * np.abs(up - down) / (total + 2 * either + 1), 3)
    lean = np.where(up >= down, UP, DOWN)
    verdict = np.where((total + either) < tax.min_evidence, 0,
                       np.where((conf >= tax.review_below) & (total >= tax.min_evidence), 1, 2))
    conf = np.where(verdict == 0, 0.0, conf)
    keys = np.column_stack([verdict, lean, total > 0, ev.best, ev.best_kpi]).tolist()
    said: dict[tuple[int, ...], tuple[str, str, str]] = {}
    hits = comp.hits
    out = []
    for key, c in zip(map(tuple, keys), conf.tolist(), strict=True):
        r = said.get(key)
        if r is None:
            r = said[key] = _reason(hits, *key)
        out.append((r[0], r[1], r[2], c))
    return out


def _reason(hits: list[tuple[str, str]], verdict: int, ln: int, any_total: int,
            b0: int, b1: int, b2: int, k0: int, k1: int, _k2: int) -> tuple[str, str, str]:
    """(stage, reason, strongest phrase) for one combination of verdict and best phrases."""
    if verdict == 0:
        return "Review", "no stage words found: decide by hand", ""
    b, bk = (b0, b1, b2), (k0, k1)
    other = 1 - ln
    phrase = hits[b[ln]][1] or hits[bk[ln]][1]
    parts = []
    if verdict == 1:
        if b[ln]:
            parts.append(f"{hits[b[ln]][0]}: '{hits[b[ln]][1]}'")
        if bk[ln]:
            parts.append(f"KPI '{hits[bk[ln]][1]}' is {_MEASURE[ln]} measure")
        against = hits[b[other]][1] or hits[bk[other]][1]
        if against:
            parts.append(f"outweighs '{against}'")
        return NAMES[ln], "; ".join(parts), phrase
    if b2:
        parts.append(f"'{hits[b2][1]}' can serve either stage")
    u_ph, d_ph = hits[b0][1] or hits[k0][1], hits[b1][1] or hits[k1][1]
    if u_ph and d_ph:
        parts.append(f"mixed: upstream '{u_ph}' vs downstream '{d_ph}'")
    elif any_total:
        parts.append(f"weak: {_STAGE_WORD[ln]} '{phrase}'")
    return "Review", "; ".join(parts) + ": decide by hand", phrase


_MEASURE = ("an upstream", "a downstream")
_STAGE_WORD = ("upstream", "downstream")


# ---------------------------------------------------------------------- public API

def _columns_from_dicts(texts: list[dict[str, str]]) -> dict[str, list[str]]:
    from itertools import repeat

    cols: dict[str, list[str]] = {}
    present = set().union(*texts) if texts else set()
    for f in TEXT_FIELDS:
        if f in present:
            cols[f] = _strings(list(map(dict.get, texts, repeat(f))))
    return cols


def _strings(values: list[object]) -> list[str]:
    """Cell values as text ('' for blank); a fast path when they are all strings already."""
    if set(map(type, values)) <= {str}:
        return values  # type: ignore[return-value]
    return [_text(v) for v in values]


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return v if isinstance(v, str) else str(v)


def taxonomy_scores(texts: list[str], tax: Taxonomy) -> Any:
    """[n, 3] (up, down, either) taxonomy weight found in each text (unweighted by column)."""
    comp = _compiled(tax)
    return _scan_texts(comp, comp.re_all, comp.phrases, texts)[0]


def _shipped_stage_model() -> StageModel:
    from xlplugin.engine.stages.model import shipped_model

    return shipped_model()


def _classify(columns: dict[str, list[str]], n: int, rows: list[int],
              taxonomy: Taxonomy | None, model: LearnedModel | None,
              stage_model: StageModel | None | bool = None,
              features: dict[str, Any] | None = None) -> list[StageLabel]:
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    comp = _compiled(tax)
    decided: list[tuple[str, str, str, float]] = []
    if n:
        ev = _gather(comp, columns, n)
        # plans repeat rows: decide each distinct row (same texts in every column) once
        first, inverse = _distinct_rows(ev, n)
        if len(first) < n:
            ev = ev.take(first)
        if stage_model is False:
            decided = _decide(comp, ev)
        else:
            from xlplugin.engine.stages.model.decide import decide

            sm = _shipped_stage_model() if stage_model in (None, True) else stage_model
            decided = decide(sm, comp, ev, columns, len(first),  # type: ignore[arg-type]
                             lambda rows: _decide(comp, ev.take(rows)), features)
        if len(first) < n:
            decided = [decided[i] for i in inverse.tolist()]
            if features:
                features.update({k: v[inverse] for k, v in features.items()})
    sure = tax.confident
    out = [StageLabel(row, st, conf, reason, "taxonomy" if conf else "none",  # type: ignore[arg-type]
                      None, st, conf, reason, phrase, st != "Review" and conf >= sure)
           for row, (st, reason, phrase, conf) in zip(rows, decided, strict=True)]
    if model is not None and n:
        # the model merges itself in (learn.py imports this module, never the other way round)
        model.combine(out, columns, tax)
        for lab in out:
            lab.suggested, lab.suggested_confidence, lab.suggested_reason = (
                lab.stage, lab.confidence, lab.reason)
            lab.confident = lab.suggested != "Review" and lab.suggested_confidence >= sure
    return out


def label_texts(texts: list[dict[str, str]], taxonomy: Taxonomy | None = None,
                model: LearnedModel | None = None,
                stage_model: StageModel | None | bool = None,
                features: dict[str, Any] | None = None) -> list[Label]:
    """Label plain rows (dicts of field -> text: activity, description, category, channel, kpi,
    objective).  Label.row is the position in `texts` (0-based).  stage_model: None for the
    shipped word-vector model, False for the taxonomy alone, or a StageModel.  features: a dict
    the word-vector model fills with its Review decision's inputs, an array each (benchmarks)."""
    return list(_classify(_columns_from_dicts(texts), len(texts), list(range(len(texts))),
                          taxonomy, model, stage_model, features))


def earlier_stages(grid: Grid, plan: PlanTable) -> dict[int, object]:
    """Row -> what a person set in the Stage column (None where nobody did).

    The Stage column is the user's own or the one the tool added on an earlier run.  A
    cell the tool wrote has a Stage basis beside it that starts with that very stage
    ("Upstream (0.91): ..."); any other non-blank value was typed or picked by a person
    and wins on every re-run."""
    from xlplugin.render.labels import BASIS, STAGE, label_columns

    cols = label_columns(plan)
    stage_col = cols.get(STAGE)
    basis_col = plan.tool_cols.get(BASIS)
    if stage_col is None or (plan.fields.get("stage") is None and STAGE not in plan.tool_cols):
        return {}
    out: dict[int, object] = {}
    for r in plan.data_rows:
        v = grid.value(r, stage_col)
        if v is None or (isinstance(v, str) and not v.strip()):
            out[r] = None
            continue
        b = grid.value(r, basis_col) if basis_col is not None else None
        tool_wrote = isinstance(b, str) and isinstance(v, str) and v in ("Upstream", "Downstream", "Review") and (
            b.startswith(f"{v} (") or b.startswith(f"{v}:"))
        out[r] = None if tool_wrote else v
    return out


def label_plan(parsed: ParsedPlan, taxonomy: Taxonomy | None = None,
               model: LearnedModel | None = None,
               stage_cells: dict[int, object] | None = None) -> list[Label]:
    """One label per plan row.  A Stage a person set wins (source 'user'); the classifier's
    own view is kept on the label (StageLabel.suggested) for the reason and XP401.

    stage_cells: row -> the Stage a person set (earlier_stages); by default the plan's own
    Stage column as parsed."""
    frame = parsed.frame
    rows = [int(r) for r in frame.index]
    n = len(rows)
    columns = {f: _strings(frame[f].tolist()) for f in TEXT_FIELDS if f in frame.columns}
    labels = _classify(columns, n, rows, taxonomy, model)
    if stage_cells is None and "stage" in frame.columns:
        raw = parsed.raw["stage"] if parsed.raw is not None and "stage" in parsed.raw.columns else frame["stage"]
        stage_cells = dict(zip(rows, raw.tolist(), strict=True))
    for lab in labels:
        typed = (stage_cells or {}).get(lab.row)
        user = normalize_stage(typed)
        lab.user_stage = user
        if user in ("Upstream", "Downstream", "Review"):
            lab.typed = typed
            _user_wins(lab, user)
    return list(labels)


def _user_wins(lab: StageLabel, user: str) -> None:
    sug, conf = lab.suggested, lab.suggested_confidence
    if sug == user:
        why = f"the tool agrees ({lab.suggested_reason})"
    elif sug == "Review" or not sug:
        why = f"the tool is unsure ({lab.suggested_reason})"
    else:
        why = f"the tool suggests {sug} ({conf:.2f}): {lab.suggested_reason}"
    lab.stage = user  # type: ignore[assignment]
    lab.confidence = 1.0
    lab.source = "user"
    lab.reason = f"set by you; {why}"


def stage_findings(parsed: ParsedPlan, labels: list[Label]) -> list[Finding]:
    """XP401 where the user's Stage and a confident classifier disagree, at the Stage cell."""
    from xlplugin.render.labels import STAGE, label_columns

    plan = parsed.plan
    col = plan.fields.get("stage")
    if col is None and STAGE in plan.tool_cols:   # the tool's Stage column, edited by a person
        col = Column(STAGE, label_columns(plan)[STAGE], None)
    if col is None:
        return []
    out = []
    for lab in labels:
        if not isinstance(lab, StageLabel) or lab.source != "user":
            continue
        if lab.user_stage not in NAMES or lab.suggested not in NAMES or lab.suggested == lab.user_stage:
            continue
        if not lab.confident:
            continue
        what = lab.evidence or lab.suggested_reason
        out.append(Finding(
            rule="XP401", severity="warning", sheet=plan.sheet,
            message=(f"Stage says {lab.user_stage}, but '{what}' is {lab.suggested.lower()} "
                     f"({lab.suggested_confidence:.2f})"),
            hint=f"Check the Stage. Evidence: {lab.suggested_reason}",
            cell=cell_ref(lab.row, col.col), row=lab.row, col=col.col, column=col.header,
            value=lab.typed if lab.typed is not None else _raw(parsed, lab.row), scope="cell"))
    return out


def _raw(parsed: ParsedPlan, row: int) -> object:
    frame = parsed.raw if parsed.raw is not None and "stage" in parsed.raw.columns else parsed.frame
    try:
        return frame.at[row, "stage"]
    except KeyError:
        return None
