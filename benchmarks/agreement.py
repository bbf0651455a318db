"""How far two annotators agree on the stage corpus, and how the labeller does where they agree.

    python -m benchmarks.agreement

tests/data/stages_second/labels.csv holds a second, independent label for a random sample of the
corpus (half of it rows the corpus calls Review, half clear rows, shuffled), given by the DOMAIN
rule from the activity and description alone, without the first label, the source or the
model's.  This prints the agreement between the two, then the labeller's by-source figures (the
heads and neighbours retrained without each group of sources, as bench_label does) on the sample,
split by whether the annotators agree: ambiguous rows both call Review are the ones the goal
"ambiguous rows mostly Review" is about, and rows they disagree on bound what any labeller can
score on them.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from benchmarks.bench_label import CORPUS_MODES, corpus_rows, split_results

SECOND = Path(__file__).resolve().parent.parent / "tests" / "data" / "stages_second" / "labels.csv"
STAGES = ("Upstream", "Downstream", "Review")


def load_second(path: Path = SECOND) -> dict[tuple[str, str, str], str]:
    """(source, activity, description) -> the second annotator's stage."""
    with path.open(encoding="utf-8", newline="") as f:
        return {(r["source"], r["activity"], r["description"]): r["second"] for r in csv.DictReader(f)}


def main() -> int:
    second = load_second()
    rows = corpus_rows()
    idx = [i for i, r in enumerate(rows) if (r["source"], r["activity"], r["description"]) in second]
    first = {i: ("Review" if rows[i]["gold"] == "Ambiguous" else rows[i]["gold"]) for i in idx}
    other = {i: second[(rows[i]["source"], rows[i]["activity"], rows[i]["description"])] for i in idx}
    print(f"{len(idx)} of {len(second)} second labels found in the corpus ({len(rows)} rows)")
    table = Counter((first[i], other[i]) for i in idx)
    print("\nfirst label (corpus) / second label:  " + "  ".join(f"{s:>10}" for s in STAGES))
    for a in STAGES:
        print(f"  {a:<34}" + "  ".join(f"{table[a, b]:>10}" for b in STAGES))
    clear = [i for i in idx if first[i] != "Review"]
    amb = [i for i in idx if first[i] == "Review"]
    print(f"  clear rows: second annotator agrees on {sum(other[i] == first[i] for i in clear)} of {len(clear)}; "
          f"Review rows: on {sum(other[i] == 'Review' for i in amb)} of {len(amb)}")

    results = split_results(rows)
    groups = {
        "ambiguous, both say Review": [i for i in amb if other[i] == "Review"],
        "ambiguous to the corpus only (second: a stage)": [i for i in amb if other[i] != "Review"],
        "clear, both say the same stage": [i for i in clear if other[i] == first[i]],
        "clear to the corpus, second says otherwise": [i for i in clear if other[i] != first[i]],
    }
    print("\nthe labeller by source (model retrained without each group of sources), on the sample:")
    for mode in CORPUS_MODES:
        labels = results[mode][1]
        print(f"  {mode}")
        for name, members in groups.items():
            if not members:
                continue
            got = Counter(labels[i].stage for i in members)
            right = sum(labels[i].stage == first[i] for i in members)
            print(f"    {name:<48} {len(members):>4} rows: {100 * right / len(members):5.1f}% as the corpus says "
                  f"(Review {got['Review']}, Upstream {got['Upstream']}, Downstream {got['Downstream']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
