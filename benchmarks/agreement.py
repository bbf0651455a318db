"""How far the annotators agree on the stage corpus, and how the labeller does by their agreement.

    python -m benchmarks.agreement

tests/data/stages_second/labels.csv holds more labels for part of the corpus: every row its
writer called Review and about 1,700 clear rows (and rows of the kept-out sources), given blind (the activity and description
alone, the DOMAIN rule, without the corpus's label, the source or the model's) by a second
annotator, and by a third wherever the first two differ (and on 400 rows where they agree, as a
check).  The heads train on the writers' labels; bench_label scores its by-source labels on
them and on the consensus (the label most annotators gave: train.consensus).  This prints how
far the annotators agree, what the consensus changes, and the labeller's by-source figures (the
heads and neighbours retrained without each group of sources, as bench_label does) on those
rows, grouped by how many annotators said Review.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from benchmarks.bench_label import CORPUS_MODES, corpus_rows, split_results
from xlplugin.engine.stages.model.train import SECOND, consensus

STAGES = ("Upstream", "Downstream", "Review")


def load_labels(path: Path = SECOND) -> list[dict[str, str]]:
    """The annotation rows: source, activity, description, first (the writer's), second, third."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _table(pairs: Counter, title: str) -> None:
    print(f"\n{title}:  " + "  ".join(f"{s:>10}" for s in STAGES))
    for a in STAGES:
        print(f"  {a:<{len(title) - 2}}" + "  ".join(f"{pairs[a, b]:>10}" for b in STAGES))


def main() -> int:
    ann = load_labels()
    rows = corpus_rows()
    where = {(r["source"], r["activity"], r["description"]): i for i, r in enumerate(rows)}
    found = [a for a in ann if (a["source"], a["activity"], a["description"]) in where]
    print(f"{len(found)} of {len(ann)} annotated rows are corpus rows ({len(rows)} rows); the others are rows of "
          "the kept-out sources, which bench_label scores")
    _table(Counter((a["first"], a["second"]) for a in found), "first (the writer) / second")
    clear = [a for a in found if a["first"] != "Review"]
    amb = [a for a in found if a["first"] == "Review"]
    print(f"  the second agrees with the writer on {sum(a['second'] == a['first'] for a in clear)} of {len(clear)} "
          f"clear rows and {sum(a['second'] == 'Review' for a in amb)} of {len(amb)} Review rows")
    third = [a for a in found if a.get("third")]
    split = [a for a in third if a["first"] != a["second"]]
    check = [a for a in third if a["first"] == a["second"]]
    print(f"\na third annotator on the {len(split)} rows where they differ: sides with the writer on "
          f"{sum(a['third'] == a['first'] for a in split)}, with the second on "
          f"{sum(a['third'] == a['second'] for a in split)}, with neither on "
          f"{sum(a['third'] not in (a['first'], a['second']) for a in split)}"
          + (f"; agrees with both on {sum(a['third'] == a['first'] for a in check)} of {len(check)} "
             "rows where they agree (a check)" if check else ""))
    final = {id(a): consensus(a["first"], *(s for s in (a["second"], a.get("third")) if s)) for a in found}
    _table(Counter((a["first"], final[id(a)]) for a in found), "first (the writer) / consensus")

    def says_review(a: dict[str, str]) -> int:
        return sum(s == "Review" for s in (a["first"], a["second"], a.get("third") or ""))

    results = split_results(rows)
    groups = {
        "consensus Review, all who labelled it": [a for a in found if final[id(a)] == "Review"
                                                 and says_review(a) == 2 + bool(a.get("third"))],
        "consensus Review, two of three": [a for a in found if final[id(a)] == "Review"
                                           and says_review(a) == 2 and a.get("third")],
        "consensus Review, no two agree": [a for a in found if final[id(a)] == "Review" and says_review(a) < 2],
        "writer's Review, consensus a stage": [a for a in amb if final[id(a)] != "Review"],
        "clear, the annotators agree": [a for a in clear if final[id(a)] == a["first"]],
        "writer's stage, consensus otherwise": [a for a in clear if final[id(a)] != a["first"]],
    }
    print("\nthe labeller by source (model retrained without each group of sources), on the annotated rows:")
    for mode in CORPUS_MODES:
        labels = results[mode][1]
        print(f"  {mode}")
        for name, members in groups.items():
            if not members:
                continue
            got = Counter(labels[where[(a["source"], a["activity"], a["description"])]].stage for a in members)
            right = sum(labels[where[(a["source"], a["activity"], a["description"])]].stage == final[id(a)]
                        for a in members)
            print(f"    {name:<40} {len(members):>5} rows: {100 * right / len(members):5.1f}% as the consensus says "
                  f"(Review {got['Review']}, Upstream {got['Upstream']}, Downstream {got['Downstream']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
