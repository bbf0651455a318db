"""How far the annotators agree on the stage corpus, and how the labeller does by their agreement.

    python -m benchmarks.agreement

tests/data/stages_second/labels.csv holds more labels for part of the corpus: every row its
writer called Review and about 1,700 clear rows (and rows of the kept-out sources), given
blind (the activity and description alone, the DOMAIN rule, without the corpus's label, the
source or the model's) by a second annotator, and by a third wherever the first two differ (and on 400 rows where they agree, as a
check).  The heads train on the writers' labels; bench_label scores its by-source labels on
them and on the consensus (the label most annotators gave: train.consensus).  This prints how
far the annotators agree, what the consensus changes, and the labeller's by-source figures (the
heads and neighbours retrained without each group of sources, as bench_label does) on those
rows, grouped by how many annotators said Review.
"""

from __future__ import annotations

from collections import Counter

from benchmarks.bench_label import CORPUS_MODES, consensus_rows, corpus_rows, split_results, unanimous_review

STAGES = ("Upstream", "Downstream", "Review")


def _table(pairs: Counter, title: str) -> None:
    print(f"\n{title}:  " + "  ".join(f"{s:>10}" for s in STAGES))
    for a in STAGES:
        print(f"  {a:<{len(title) - 2}}" + "  ".join(f"{pairs[a, b]:>10}" for b in STAGES))


def main() -> int:
    rows = corpus_rows()
    # votes: (the writer's, the second's[, the third's]) on the rows labelled again
    found = [i for i, r in enumerate(rows) if r["votes"]]
    votes = {i: (*rows[i]["votes"], "")[:3] for i in found}
    first, second, third = ({i: v[k] for i, v in votes.items()} for k in range(3))
    print(f"{len(found)} of {len(rows)} corpus rows labelled again (the kept-out sources' are scored by bench_label)")
    _table(Counter((first[i], second[i]) for i in found), "first (the writer) / second")
    clear = [i for i in found if first[i] != "Review"]
    amb = [i for i in found if first[i] == "Review"]
    print(f"  the second agrees with the writer on {sum(second[i] == first[i] for i in clear)} of {len(clear)} "
          f"clear rows and {sum(second[i] == 'Review' for i in amb)} of {len(amb)} Review rows")
    split = [i for i in found if third[i] and first[i] != second[i]]
    check = [i for i in found if third[i] and first[i] == second[i]]
    print(f"\na third annotator on the {len(split)} rows where they differ: sides with the writer on "
          f"{sum(third[i] == first[i] for i in split)}, with the second on "
          f"{sum(third[i] == second[i] for i in split)}, with neither on "
          f"{sum(third[i] not in (first[i], second[i]) for i in split)}"
          + (f"; agrees with both on {sum(third[i] == first[i] for i in check)} of {len(check)} "
             "rows where they agree (a check)" if check else ""))
    agreed = consensus_rows(rows)
    final = {i: "Review" if agreed[i]["gold"] == "Ambiguous" else agreed[i]["gold"] for i in found}
    _table(Counter((first[i], final[i]) for i in found), "first (the writer) / consensus")

    def says_review(i: int) -> int:
        return votes[i].count("Review")

    results = split_results(rows)
    groups = {
        "consensus Review, all who labelled it": [i for i in found if unanimous_review(rows[i])],
        "consensus Review, two of three": [i for i in found if final[i] == "Review" and says_review(i) == 2
                                           and third[i]],
        "consensus Review, no two agree": [i for i in found if final[i] == "Review" and says_review(i) < 2],
        "writer's Review, consensus a stage": [i for i in amb if final[i] != "Review"],
        "clear, the annotators agree": [i for i in clear if final[i] == first[i]],
        "writer's stage, consensus otherwise": [i for i in clear if final[i] != first[i]],
    }
    print("\nthe labeller by source (model retrained without each group of sources), on the annotated rows:")
    for mode in CORPUS_MODES:
        labels = results[mode][1]
        print(f"  {mode}")
        for name, members in groups.items():
            if not members:
                continue
            got = Counter(labels[i].stage for i in members)
            right = sum(labels[i].stage == final[i] for i in members)
            print(f"    {name:<40} {len(members):>5} rows: {100 * right / len(members):5.1f}% as the consensus says "
                  f"(Review {got['Review']}, Upstream {got['Upstream']}, Downstream {got['Downstream']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
