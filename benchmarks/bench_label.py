"""Stage labelling: accuracy on the corpus split by source, on the own set, and speed on 100k rows.

    python -m benchmarks.bench_label              # by source, per row, own set, timing
    python -m benchmarks.bench_label --folds 0    # leave one source out (slower) instead of 5 groups
    python -m benchmarks.bench_label --misses     # also list the rows it gets wrong (dev split)
    python -m benchmarks.bench_label --rows 200000 --taxonomy my.toml
    python -m benchmarks.bench_label --with-model # also: a model learned from the dev split's gold
    python -m benchmarks.bench_label --nested     # also: decide.py's constants picked per outer group
    python -m benchmarks.bench_label --nested --save   # ... and write it all to benchmarks/LABELS.md
    python -m benchmarks.bench_label --fresh DIR  # other folders of sources the model never saw

The corpus (tests/data/stages/*.csv, one CSV per public source) is split by source: the
heads are retrained without a group of sources and label them, so the figure says what
happens on wording it never saw; beside it the same with a per-row split.  The by-source labels
are also scored on the consensus of the annotators who labelled part of the corpus again
(tests/data/stages_second: every row its writer called Review, and some clear ones), and on
the rows all of them called Review.  --nested also
picks decide.py's constants (GRID) on the other groups only, to show what choosing them on
the same split flatters.  Each is run
with the description, with the name alone, and with Channel and KPI cells filled at random.
The issue's goal: by source >= 90% right with description, >= 85% name only, <= 3%
confidently wrong (also with random Channel/KPI).  tests/test_label_corpus.py asserts the
confidently-wrong goal and floors just under the accuracy measured today on the split, and the
goal itself on tests/data/stages_fresh.

tests/data/stages_fresh holds sources written after the shipped model was built and kept out of
training: the shipped model labels them as it is, the plainest figure for new wording.

The own set (tests/data/activities.csv) holds realistic plan activities labelled by
DOMAIN.md's rule (the release for sale divides the stages); gold is Upstream, Downstream
or Ambiguous.  Every third row (index % 3 == 2) is the held-out test split, kept out of
taxonomy tuning.  Targets (asserted in tests/test_label.py): accuracy on clear rows >= 92%
from the activity name alone and >= 95% with the description; < 3% of clear rows
confidently wrong; most ambiguous rows get Review; 100k rows in < 2 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/bench_label.py` from anywhere
    sys.path.insert(0, str(ROOT))

from xlplugin.engine.stages.label import label_texts  # noqa: E402
from xlplugin.engine.stages.taxonomy import Taxonomy, load_taxonomy  # noqa: E402

EVAL_SET = ROOT / "tests" / "data" / "activities.csv"
# Sources written after the shipped model was built and never trained on (train.py reads
# tests/data/stages only): the shipped model labels them as it is.
FRESH = ROOT / "tests" / "data" / "stages_fresh"
MODES = {
    "activity": ("activity",),
    "activity+description": ("activity", "description"),
    "all columns": ("activity", "description", "category", "channel", "kpi"),
}


def load_eval(path: Path = EVAL_SET, split: str = "all") -> list[dict[str, str]]:
    """Rows of the evaluation set; split 'dev' (2/3), 'test' (held-out 1/3) or 'all'."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if split == "dev":
        return [r for i, r in enumerate(rows) if i % 3 != 2]
    if split == "test":
        return [r for i, r in enumerate(rows) if i % 3 == 2]
    return rows


@dataclass
class Result:
    mode: str
    n_clear: int
    n_ambiguous: int
    accuracy: float                    # clear rows labelled with their gold stage (Review = miss)
    review_rate: float                 # clear rows sent to Review
    review_all: float                  # all rows (clear and ambiguous) sent to Review
    wrong: float                       # clear rows given the other stage
    confidently_wrong: float           # ... with confidence >= the taxonomy's `confident`
    precision: dict[str, float]
    recall: dict[str, float]
    ambiguous: dict[str, int]          # what ambiguous rows got
    ambiguous_confident: int           # ambiguous rows labelled with confidence >= `confident`
    misses: list[tuple[dict[str, str], object]] = field(default_factory=list)


def evaluate(rows: list[dict[str, str]], fields: tuple[str, ...], mode: str = "",
             taxonomy: Taxonomy | None = None, model=None, stage_model=None) -> Result:
    tax = taxonomy or load_taxonomy()
    labels = label_texts([{f: r.get(f, "") for f in fields} for r in rows], taxonomy=tax, model=model,
                         stage_model=stage_model)
    clear = [(r, lab) for r, lab in zip(rows, labels, strict=True) if r["gold"] != "Ambiguous"]
    amb = [(r, lab) for r, lab in zip(rows, labels, strict=True) if r["gold"] == "Ambiguous"]
    nc = max(len(clear), 1)
    correct = sum(lab.stage == r["gold"] for r, lab in clear)
    review = sum(lab.stage == "Review" for _, lab in clear)
    wrong = [(r, lab) for r, lab in clear if lab.stage not in ("Review", r["gold"])]
    conf_wrong = [x for x in wrong if x[1].confidence >= tax.confident]
    precision, recall = {}, {}
    for s in ("Upstream", "Downstream"):
        predicted = [(r, lab) for r, lab in zip(rows, labels, strict=True) if lab.stage == s]
        precision[s] = sum(r["gold"] == s for r, _ in predicted) / max(len(predicted), 1)
        gold = [(r, lab) for r, lab in clear if r["gold"] == s]
        recall[s] = sum(lab.stage == s for _, lab in gold) / max(len(gold), 1)
    got = {s: sum(lab.stage == s for _, lab in amb) for s in ("Review", "Upstream", "Downstream")}
    review_all = sum(lab.stage == "Review" for lab in labels) / max(len(labels), 1)
    return Result(mode, len(clear), len(amb), correct / nc, review / nc, review_all, len(wrong) / nc,
                  len(conf_wrong) / nc, precision, recall, got,
                  sum(lab.stage != "Review" and lab.confidence >= tax.confident for _, lab in amb),
                  misses=[(r, lab) for r, lab in clear if lab.stage != r["gold"]]
                  + [(r, lab) for r, lab in amb if lab.stage != "Review"])


# ---------------------------------------------------------------------- the corpus, by source

CORPUS_MODES = {
    "name + description": ("activity", "description"),
    "name only": ("activity",),
    "+ random Channel/KPI": ("activity", "description", "channel", "kpi"),
}
MODEL_FILES = ("vectors.npz", "vocab.txt", "head.json", "neighbours.npz", "ngrams.npz")
TEXT_MODES = {m: f for m, f in CORPUS_MODES.items() if "channel" not in f}   # the text alone


def corpus_rows(seed: int = 11, dirs: list[Path] | None = None) -> list[dict[str, str]]:
    """The corpus (or the source CSVs in `dirs`) as evaluation rows (gold: Upstream, Downstream
    or Ambiguous for Review), each with a Channel and a KPI drawn at random from the own set's,
    to test that context stays weak."""
    from xlplugin.engine.stages.model.train import CORPUS, load_corpus

    rng = random.Random(seed)
    own = load_eval()
    channels = sorted({r["channel"] for r in own if r["channel"]})
    kpis = sorted({r["kpi"] for r in own if r["kpi"]})
    return [{"activity": r.activity, "description": r.description, "source": r.source,
             "gold": "Ambiguous" if r.stage == "Review" else r.stage,
             "channel": rng.choice(channels), "kpi": rng.choice(kpis), "votes": r.votes}
            for d in (dirs or [CORPUS]) for r in load_corpus(d)]


def consensus_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows with gold the label most annotators gave where more people labelled the row
    (tests/data/stages_second, train.consensus); the others as they are."""
    from xlplugin.engine.stages.model.train import consensus

    def gold(stage: str) -> str:
        return "Ambiguous" if stage == "Review" else stage

    return [{**r, "gold": gold(consensus(*r["votes"]))} if r.get("votes") else r for r in rows]


def unanimous_review(row: dict[str, str]) -> bool:
    """Two or three people labelled the row, and every one of them called it Review."""
    return len(row.get("votes") or ()) >= 2 and set(row["votes"]) == {"Review"}


def fresh_rows(dirs: list[Path] | None = None) -> list[dict[str, str]]:
    """corpus_rows of sources the shipped model never saw (FRESH by default)."""
    return corpus_rows(dirs=dirs or [FRESH])


def train_rows(rows: list[dict[str, str]], keep: list[bool]) -> list:
    """train.Row for each evaluation row where keep is true (gold Ambiguous trains as Review)."""
    from xlplugin.engine.stages.model.train import Row

    return [Row(r["activity"], r["description"], "Review" if r["gold"] == "Ambiguous" else r["gold"], r["source"],
                r.get("votes", ()))
            for r, k in zip(rows, keep, strict=True) if k]


def source_folds(rows: list[dict[str, str]], folds: int = 5) -> list[int]:
    """Each row's group of sources: sources sorted by name, dealt round-robin into `folds`
    groups (0: a group per source), so all rows of a source are on the same side."""
    sources = sorted({r["source"] for r in rows})
    fold_of_source = {s: (i % folds if folds else i) for i, s in enumerate(sources)}
    return [fold_of_source[r["source"]] for r in rows]


def split_results(rows: list[dict[str, str]], by_source: bool = True, folds: int = 5,
                  taxonomy: Taxonomy | None = None, seed: int = 3) -> dict[str, tuple[Result, list]]:
    """mode -> (Result over all held-out rows, labels in row order), the model (heads, neighbours) retrained per fold.

    by_source: all rows of a source on the same side (folds=0: leave one source out);
    else rows dealt at random into `folds` groups."""
    from xlplugin.engine.stages.model import shipped_vectors
    from xlplugin.engine.stages.model.train import fit_model

    if by_source:
        fold = source_folds(rows, folds)
    else:
        rng = random.Random(seed)
        fold = [rng.randrange(folds) for _ in rows]
    vec = shipped_vectors()
    order: list[int] = []
    labels_by_mode: dict[str, list] = {m: [] for m in CORPUS_MODES}
    for k in sorted(set(fold)):
        sm = fit_model(train_rows(rows, [f != k for f in fold]), vec)
        test = [i for i, f in enumerate(fold) if f == k]
        order += test
        for mode, fields in CORPUS_MODES.items():
            labels_by_mode[mode] += label_texts([{f: rows[i][f] for f in fields} for i in test],
                                                taxonomy=taxonomy, stage_model=sm)
    out = {}
    ordered = [rows[i] for i in order]
    for mode, labels in labels_by_mode.items():
        back = [None] * len(rows)
        for i, lab in zip(order, labels, strict=True):
            back[i] = lab
        out[mode] = (score(ordered, labels, mode, taxonomy), back)
    return out


_REVIEW = {"Ambiguous": "Review"}
# The decision constants in decide.py and the values nested_results tries for each
GRID = {"AMBIGUOUS": (0.4, 0.45, 0.5), "AMBIGUOUS_NAME": (0.35, 0.4, 0.45), "SURE": (0.9, 0.95),
        "SILENT_SHIFT": (-0.15, -0.1), "EITHER_DECIDES": (0.6, 0.7)}


def nested_results(rows: list[dict[str, str]], folds: int = 5, taxonomy: Taxonomy | None = None
                   ) -> tuple[dict[str, Result], list[dict[str, float]]]:
    """By source, with decide.py's constants picked without the held-out sources: for each
    outer group, every point of GRID is scored on the other groups (each left out in turn, the
    model retrained on the rest) and the best labels the outer group.  Best: most rows right,
    with description and from the name, where an ambiguous row is right when it gets Review.
    Says how much picking the constants on the same split flatters."""
    import itertools

    from xlplugin.engine.stages.model import StageModel, shipped_vectors
    from xlplugin.engine.stages.model import decide as dm
    from xlplugin.engine.stages.model.train import fit_model

    modes = TEXT_MODES
    fold = source_folds(rows, folds)
    vec = shipped_vectors()
    keys = list(GRID)
    points = [dict(zip(keys, v, strict=True)) for v in itertools.product(*GRID.values())]
    saved = {k: getattr(dm, k) for k in keys}

    def fit(exclude: set[int]) -> StageModel:
        return fit_model(train_rows(rows, [f not in exclude for f in fold]), vec)

    def labels(sm: StageModel, idx: list[int], point: dict[str, float]) -> dict[str, list]:
        for k, v in point.items():
            setattr(dm, k, v)
        return {m: label_texts([{f: rows[i][f] for f in fields} for i in idx], taxonomy=taxonomy, stage_model=sm)
                for m, fields in modes.items()}

    picked, order = [], []
    out: dict[str, list] = {m: [] for m in modes}
    try:
        for k in range(folds):
            inner = [j for j in range(folds) if j != k]
            right = [0.0] * len(points)
            for j in inner:
                sm = fit({k, j})
                idx = [i for i, f in enumerate(fold) if f == j]
                for p, point in enumerate(points):
                    for labs in labels(sm, idx, point).values():
                        right[p] += sum(lab.stage == _REVIEW.get(rows[i]["gold"], rows[i]["gold"])
                                        for i, lab in zip(idx, labs, strict=True))
            best = points[max(range(len(points)), key=lambda p: right[p])]
            picked.append(best)
            idx = [i for i, f in enumerate(fold) if f == k]
            order += idx
            for m, labs in labels(fit({k}), idx, best).items():
                out[m] += labs
    finally:
        for k, v in saved.items():
            setattr(dm, k, v)
    ordered = [rows[i] for i in order]
    return {m: score(ordered, labs, m, taxonomy) for m, labs in out.items()}, picked


def score(rows: list[dict[str, str]], labels: list, mode: str = "", taxonomy: Taxonomy | None = None) -> Result:
    """evaluate()'s figures for labels already made."""
    tax = taxonomy or load_taxonomy()
    clear = [(r, lab) for r, lab in zip(rows, labels, strict=True) if r["gold"] != "Ambiguous"]
    amb = [(r, lab) for r, lab in zip(rows, labels, strict=True) if r["gold"] == "Ambiguous"]
    nc = max(len(clear), 1)
    wrong = [(r, lab) for r, lab in clear if lab.stage not in ("Review", r["gold"])]
    precision, recall = {}, {}
    for s in ("Upstream", "Downstream"):
        predicted = [r for r, lab in zip(rows, labels, strict=True) if lab.stage == s]
        precision[s] = sum(r["gold"] == s for r in predicted) / max(len(predicted), 1)
        gold = [lab for r, lab in clear if r["gold"] == s]
        recall[s] = sum(lab.stage == s for lab in gold) / max(len(gold), 1)
    return Result(mode, len(clear), len(amb), sum(lab.stage == r["gold"] for r, lab in clear) / nc,
                  sum(lab.stage == "Review" for _, lab in clear) / nc,
                  sum(lab.stage == "Review" for lab in labels) / max(len(labels), 1), len(wrong) / nc,
                  sum(lab.confidence >= tax.confident for _, lab in wrong) / nc, precision, recall,
                  {s: sum(lab.stage == s for _, lab in amb) for s in ("Review", "Upstream", "Downstream")},
                  sum(lab.stage != "Review" and lab.confidence >= tax.confident for _, lab in amb),
                  misses=[(r, lab) for r, lab in clear if lab.stage != r["gold"]])


def confusion(rows: list[dict[str, str]], labels: list) -> str:
    golds, got = ("Upstream", "Downstream", "Ambiguous"), ("Upstream", "Downstream", "Review")
    corner = "gold / label"
    lines = [f"  {corner:<14}" + "".join(f"{g:>12}" for g in got)]
    for g in golds:
        lines.append(f"  {g:<14}" + "".join(
            f"{sum(r['gold'] == g and lab.stage == s for r, lab in zip(rows, labels, strict=True)):>12}"
            for s in got))
    return "\n".join(lines)


def synthetic_rows(n: int, seed: int = 7, distinct: bool = False) -> list[dict[str, str]]:
    """n varied plan rows: evaluation phrases recombined, with IDs and quarters mixed in,
    so no two rows are the same string (no cache can shortcut the work).  Plans repeat their
    wording (an ID or a number has no vector, so 'Webinar #12' reads as 'Webinar'); distinct:
    every activity and description also gets other real words, so nearly every row's wording
    is its own (a log of 100k differently worded rows: the labeller's worst case)."""
    rng = random.Random(seed)
    base = load_eval()
    words: list[str] = []
    if distinct:
        from xlplugin.engine.stages.model import shipped_vectors

        words = [w for w in shipped_vectors().words if w.isalpha() and len(w) > 3][:20_000]
    out = []
    for i in range(n):
        a, b, c = rng.choice(base), rng.choice(base), rng.choice(base)
        extra_a = f" {rng.choice(words)}" if words else ""
        extra_d = f" {rng.choice(words)} {rng.choice(words)}" if words else ""
        out.append({
            "activity": f"{a['activity']}{extra_a} Q{i % 4 + 1} #{i}",
            "description": f"{b['description']}{extra_d} ({rng.choice(['EMEA', 'NA', 'APAC'])} {i})",
            "category": c["category"], "channel": a["channel"], "kpi": b["kpi"],
            "objective": "",
        })
    return out


@dataclass
class Timing:
    rows: int
    wall: float          # best wall-clock seconds to label the rows
    cpu: float           # CPU seconds of that run (what a busy shared machine cannot inflate)
    base_wall: float     # a plain str.lower() pass over the same cells, same run
    base_cpu: float


def time_labelling(n: int = 100_000, taxonomy: Taxonomy | None = None, repeat: int = 3,
                   model=None, distinct: bool = False) -> Timing:
    """Label n synthetic rows (six text columns) `repeat` times; keep the best run."""
    rows = synthetic_rows(n, distinct=distinct)
    tax = taxonomy or load_taxonomy()
    label_texts(rows[:100], taxonomy=tax, model=model)   # compile the taxonomy outside the timing
    best = (float("inf"), 0.0)
    base = (float("inf"), 0.0)
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        label_texts(rows, taxonomy=tax, model=model)
        best = min(best, (time.perf_counter() - w, time.process_time() - c))
        w, c = time.perf_counter(), time.process_time()
        _ = [[v.lower() for v in r.values()] for r in rows]
        base = min(base, (time.perf_counter() - w, time.process_time() - c))
    return Timing(n, best[0], best[1], base[0], base[1])


def model_size() -> int:
    """Bytes of the shipped stage model's files."""
    from xlplugin.engine.stages.model.vectors import HERE

    return sum((HERE / f).stat().st_size for f in MODEL_FILES if (HERE / f).exists())


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def report(res: Result, tax: Taxonomy) -> str:
    amb = ", ".join(f"{k} {v}" for k, v in res.ambiguous.items())
    return (f"  {res.mode:<22} accuracy {_pct(res.accuracy)}  review {_pct(res.review_rate)} "
            f"(all rows {_pct(res.review_all)})  "
            f"wrong {_pct(res.wrong)}  confidently wrong (>= {tax.confident}) {_pct(res.confidently_wrong)}\n"
            f"  {'':<22} precision Up {_pct(res.precision['Upstream'])} Down "
            f"{_pct(res.precision['Downstream'])}   recall Up {_pct(res.recall['Upstream'])} Down "
            f"{_pct(res.recall['Downstream'])}\n"
            f"  {'':<22} ambiguous rows ({res.n_ambiguous}): {amb}; labelled confidently: "
            f"{res.ambiguous_confident}")


def corpus_report(tax: Taxonomy, folds: int, misses: bool) -> None:
    rows = corpus_rows()
    nsrc = len({r["source"] for r in rows})
    nc = sum(r["gold"] != "Ambiguous" for r in rows)
    print(f"\ncorpus: {len(rows)} rows from {nsrc} sources ({nc} clear, {len(rows) - nc} Review)")
    for title, by_source in (("by source", True), ("per row", False)):
        how = ("leave one source out" if not folds else f"{folds} groups of sources") if by_source \
            else "5 random folds of rows"
        print(f"\n{title} ({how}; the model retrained without the held-out part):")
        res = split_results(rows, by_source, folds or 0 if by_source else 5, tax)
        for _mode, (r, _) in res.items():
            print(report(r, tax))
        if by_source:
            print(consensus_report(rows, {mode: labels for mode, (_r, labels) in res.items()}, tax))
            print("  confusion (name + description):")
            print(confusion(rows, res["name + description"][1]))
            if misses:
                for r, lab in res["name + description"][0].misses:
                    print(f"      miss [{r['gold'][:4]} -> {lab.stage} {lab.confidence:.2f}] "
                          f"{r['activity']!r} ({r['source']}): {lab.reason}")
    print("\ntaxonomy alone, whole corpus:")
    for mode, fields in CORPUS_MODES.items():
        print(report(evaluate(rows, fields, mode, tax, stage_model=False), tax))


def consensus_report(rows: list[dict[str, str]], labels: dict[str, list], tax: Taxonomy) -> str:
    """The labels (mode -> labels in row order) scored on the annotators' consensus, and the
    share of the rows every annotator called Review that they send to Review."""
    agreed = consensus_rows(rows)
    changed = sum(a["gold"] != r["gold"] for a, r in zip(agreed, rows, strict=True))
    every = [i for i, r in enumerate(rows) if unanimous_review(r)]
    lines = [f"  the same labels scored on the annotators' consensus ({sum(bool(r['votes']) for r in rows)} rows "
             f"labelled by two or three people, {changed} of them given another label; "
             f"{sum(r['gold'] == 'Ambiguous' for r in agreed)} Review):"]
    lines += [report(score(agreed, labs, mode, tax), tax) for mode, labs in labels.items()]
    lines.append(f"  rows every annotator called Review ({len(every)}), sent to Review: " + "; ".join(
        f"{mode} {n} ({100 * n / max(len(every), 1):.1f}%)" for mode, labs in labels.items()
        for n in [sum(labs[i].stage == "Review" for i in every)]))
    return "\n".join(lines)


LABELS_MD = Path(__file__).resolve().parent / "LABELS.md"


class _Tee:
    """stdout that also keeps what it printed (for --save)."""

    def __init__(self, out: object) -> None:
        self.out, self.parts = out, []

    def write(self, s: str) -> int:
        self.parts.append(s)
        return self.out.write(s)

    def flush(self) -> None:
        self.out.flush()


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if "--save" not in args_in:
        return _main(args_in)
    tee = _Tee(sys.stdout)
    sys.stdout = tee
    try:
        code = _main(args_in)
    finally:
        sys.stdout = tee.out
    cmd = "python -m benchmarks.bench_label " + " ".join(args_in)
    LABELS_MD.write_text(f"# Stage labels: measured\n\n`{cmd}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                         f"{os.cpu_count()} CPUs. Written by that command; see its docstring for what each figure means.\n\n"
                         "```\n" + "".join(tee.parts).strip() + "\n```\n", encoding="utf-8")
    print(f"wrote {LABELS_MD}")
    return code


def _main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--save", action="store_true", help="also write what it prints to benchmarks/LABELS.md")
    ap.add_argument("--taxonomy", type=Path, default=None)
    ap.add_argument("--rows", type=int, default=100_000, help="rows for the timing (0: skip)")
    ap.add_argument("--misses", action="store_true", help="list the dev rows it gets wrong")
    ap.add_argument("--split", choices=("dev", "test", "both"), default="both")
    ap.add_argument("--with-model", action="store_true",
                    help="also learn a model from the dev split's gold labels; report test split and timing")
    ap.add_argument("--folds", type=int, default=5,
                    help="source groups for the by-source split (0: leave one source out)")
    ap.add_argument("--no-corpus", action="store_true", help="skip the corpus figures")
    ap.add_argument("--fresh", type=Path, nargs="+", default=[],
                    help="folders of source CSVs the shipped model was not trained on: label them as it is")
    ap.add_argument("--nested", action="store_true",
                    help="also pick decide.py's constants without the held-out sources (slow)")
    args = ap.parse_args(argv)
    tax = load_taxonomy(args.taxonomy)
    print(f"taxonomy: {tax.source} ({tax.phrase_count()} phrases)")
    print(f"shipped model: {model_size() / 1e6:.1f} MB ({', '.join(MODEL_FILES)})")
    if not args.no_corpus:
        corpus_report(tax, args.folds, args.misses)
    fresh_dirs = args.fresh or ([] if args.no_corpus or not FRESH.is_dir() else [FRESH])
    if fresh_dirs:
        fresh = fresh_rows(fresh_dirs)
        nc = sum(r["gold"] != "Ambiguous" for r in fresh)
        print(f"\nfresh sources ({', '.join(str(d) for d in fresh_dirs)}), never trained on, the shipped "
              f"model as it is: {len(fresh)} rows from {len({r['source'] for r in fresh})} sources ({nc} clear)")
        labels = {mode: label_texts([{f: r[f] for f in fields} for r in fresh], taxonomy=tax)
                  for mode, fields in CORPUS_MODES.items()}
        for mode, labs in labels.items():
            print(report(score(fresh, labs, mode, tax), tax))
        if any(r["votes"] for r in fresh):
            print(consensus_report(fresh, labels, tax))
    if args.nested:
        res, picked = nested_results(corpus_rows(), args.folds or 5, tax)
        print("\nby source, decide.py's constants picked on the other source groups only (nested):")
        for r in res.values():
            print(report(r, tax))
        print("  picked per group: " + "; ".join(", ".join(f"{k} {v}" for k, v in p.items()) for p in picked))
    splits = ("dev", "test") if args.split == "both" else (args.split,)
    for split in splits:
        rows = load_eval(split=split)
        nc = sum(r["gold"] != "Ambiguous" for r in rows)
        print(f"\nown set, {split} split: {len(rows)} rows ({nc} clear, {len(rows) - nc} ambiguous)")
        for mode, fields in MODES.items():
            res = evaluate(rows, fields, mode, tax)
            print(report(res, tax))
            if args.misses and split == "dev" and mode != "all columns":
                for r, lab in res.misses:
                    print(f"      miss [{r['gold'][:4]} -> {lab.stage} {lab.confidence:.2f}] "
                          f"{r['activity']!r}: {lab.reason}")
    if args.with_model:
        from xlplugin.engine.stages.learn import fit

        dev = [r for r in load_eval(split="dev") if r["gold"] != "Ambiguous"]
        model = fit([{f: r[f] for f in MODES["all columns"]} for r in dev], [r["gold"] for r in dev])
        print(f"\nwith a model learned from the dev split ({model.rows} rows), on the test split:")
        for mode, fields in MODES.items():
            print(report(evaluate(load_eval(split="test"), fields, mode, tax, model), tax))
        if args.rows:
            n = min(args.rows, 20_000)
            t = time_labelling(n, tax, repeat=1, model=model)
            print(f"  timing with the model: {n:,} rows in {t.wall:.2f} s wall, {t.cpu:.2f} s CPU")
    if args.rows:
        t = time_labelling(args.rows, tax)
        load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"
        print(f"\ntiming: {t.rows:,} rows (6 text columns) labelled in {t.wall:.2f} s wall, "
              f"{t.cpu:.2f} s CPU ({t.rows / t.wall:,.0f} rows/s; target < 2 s)\n"
              f"        baseline, a plain str.lower() pass over the same cells: {t.base_wall:.2f} s wall, "
              f"{t.base_cpu:.2f} s CPU\n"
              f"        (load average {load} on {os.cpu_count()} CPUs: wall time grows on a busy machine)")
        t = time_labelling(args.rows, tax, repeat=2, distinct=True)
        print(f"timing, every row worded differently (the worst case): {t.rows:,} rows in {t.wall:.2f} s wall, "
              f"{t.cpu:.2f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
