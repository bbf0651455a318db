"""Stage labels on wording nobody here wrote: the corpus (tests/data/stages/*.csv), split by
source, the heads and neighbours retrained without the held-out sources
(benchmarks/bench_label.py prints the same figures, the per-row split beside them, and the speed)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.bench_label import CORPUS_MODES, FRESH, corpus_rows, evaluate, fresh_rows, split_results
from xlplugin.engine.stages.label import label_texts
from xlplugin.engine.stages.model import shipped_model
from xlplugin.engine.stages.model.train import CORPUS, load_corpus
from xlplugin.engine.stages.taxonomy import load_taxonomy

# The goal, by source on the corpus as committed (measured 91.0% / 86.2% / 91.0% right,
# 1.2-1.4% confidently wrong: benchmarks/LABELS.md)
FLOOR = {"name + description": 0.90, "name only": 0.85, "+ random Channel/KPI": 0.90}
CONFIDENTLY_WRONG = 0.03
# The shipped model on tests/data/stages_fresh (74 sources it never saw): the goal itself
FRESH_FLOOR = {"name + description": 0.90, "name only": 0.85, "+ random Channel/KPI": 0.90}


@pytest.fixture(scope="module")
def by_source():
    rows = corpus_rows()
    if len({r["source"] for r in rows}) < 5:
        pytest.fail(f"the corpus in {CORPUS} has fewer than 5 sources")
    return rows, split_results(rows, by_source=True, folds=5)


def test_corpus_is_broad_and_labelled():
    rows = load_corpus()
    assert len(rows) >= 1000
    sources = {r.source for r in rows}
    assert len(sources) >= 10
    assert {r.stage for r in rows} == {"Upstream", "Downstream", "Review"}
    assert max(sum(r.source == s for r in rows) for s in sources) <= 0.2 * len(rows)


@pytest.mark.parametrize("mode", list(CORPUS_MODES))
def test_by_source_accuracy(by_source, mode):
    res = by_source[1][mode][0]
    assert res.accuracy >= FLOOR[mode], f"{mode}: {res.accuracy:.1%} right"


@pytest.mark.parametrize("mode", list(CORPUS_MODES))
def test_by_source_few_confidently_wrong(by_source, mode):
    res = by_source[1][mode][0]
    assert res.confidently_wrong <= CONFIDENTLY_WRONG, f"{mode}: {res.confidently_wrong:.1%}"


def test_random_channel_and_kpi_never_flip_a_decided_row(by_source):
    plain = by_source[1]["name + description"][1]
    noisy = by_source[1]["+ random Channel/KPI"][1]
    flipped = [(a.stage, b.stage) for a, b in zip(plain, noisy, strict=True)
               if {a.stage, b.stage} == {"Upstream", "Downstream"}]
    assert flipped == []


def test_reason_names_the_words_and_the_nearest_known_phrases():
    # no taxonomy phrase in it: the words and the nearest known phrases are the whole reason
    lab = label_texts([{"activity": "Observe farmers at their sheds during harvest"}])[0]
    assert lab.stage == "Upstream"
    assert "closest to '" in lab.reason and "(upstream)" in lab.reason
    assert "words '" in lab.reason


def test_context_breaks_ties_only():
    clear = {"activity": "Customer interviews", "description": "Twelve interviews about unmet needs"}
    base = label_texts([clear])[0]
    noisy = label_texts([{**clear, "kpi": "Revenue", "channel": "Paid search"}])[0]
    assert base.stage == noisy.stage == "Upstream"


def test_a_teams_phrase_wins_over_the_model(tmp_path):
    f = tmp_path / "team.toml"
    f.write_text('extends = "default"\n[[upstream]]\nname = "our discovery"\nweight = 2.0\n'
                 'phrases = ["partner roadshow"]\n', encoding="utf-8")
    row = [{"activity": "Partner roadshow"}]
    assert label_texts(row)[0].stage == "Downstream"
    lab = label_texts(row, taxonomy=load_taxonomy(f))[0]
    assert lab.stage == "Upstream" and "our discovery: 'partner roadshow'" in lab.reason


def test_taxonomy_only_mode_still_works():
    lab = label_texts([{"activity": "Focus groups"}], stage_model=False)[0]
    assert lab.stage == "Upstream" and lab.reason.startswith("research: 'focus group'")


# ---------------------------------------------------------------- sources never trained on

@pytest.fixture(scope="module")
def fresh():
    rows = fresh_rows()
    if len({r["source"] for r in rows}) < 20:
        pytest.fail(f"{FRESH} holds fewer than 20 sources")
    tax = load_taxonomy()
    return {mode: evaluate(rows, fields, mode, tax) for mode, fields in CORPUS_MODES.items()}


def test_fresh_sources_are_kept_out_of_training():
    trained = {r.activity.lower() for r in load_corpus()}
    held = load_corpus(FRESH)
    assert len(held) >= 1000
    assert not [r.activity for r in held if r.activity.lower() in trained]
    assert not {p.name for p in FRESH.glob("*.csv")} & {p.name for p in CORPUS.glob("*.csv")}


@pytest.mark.parametrize("mode", list(CORPUS_MODES))
def test_fresh_sources_accuracy(fresh, mode):
    assert fresh[mode].accuracy >= FRESH_FLOOR[mode], f"{mode}: {fresh[mode].accuracy:.1%} right"
    assert fresh[mode].confidently_wrong <= CONFIDENTLY_WRONG, f"{mode}: {fresh[mode].confidently_wrong:.1%}"


@pytest.mark.parametrize("part", ["neighbours", "ngrams"])
@pytest.mark.parametrize("mode", ["name + description", "name only"])
def test_each_part_of_the_model_earns_its_place_on_sources_never_trained_on(part, mode):
    """The shipped model against itself without the corpus neighbours' vote, or without the
    n-gram head: each decides unsure rows and helps send wording people call either stage to
    Review, and both count."""
    model = shipped_model()
    rows, fields, tax = fresh_rows(), CORPUS_MODES[mode], load_taxonomy()
    with_it = evaluate(rows, fields, mode, tax, stage_model=model)
    without = evaluate(rows, fields, mode, tax, stage_model=replace(model, **{part: None}))

    def right(r):       # every row: a clear one with its stage, an ambiguous one with Review
        return r.accuracy * r.n_clear + r.ambiguous["Review"]

    assert right(with_it) >= right(without)
    assert with_it.confidently_wrong <= without.confidently_wrong + 0.005


@pytest.mark.parametrize("mode", list(CORPUS_MODES))
def test_fresh_ambiguous_rows_mostly_get_review(fresh, mode):
    # DOMAIN.md: where a careful marketer would say "either", ask for review rather than guess;
    # on unseen sources most such rows get Review (measured 97, 99 and 97 of 180)
    got = fresh[mode].ambiguous
    assert got["Review"] > fresh[mode].n_ambiguous / 2, f"{mode}: {got}"


@pytest.mark.parametrize("mode", list(CORPUS_MODES))
def test_fresh_sources_on_the_annotators_consensus(mode):
    # the kept-out sources' Review rows and 90 clear ones, labelled again by two more people
    # blind: on the label most of them gave, the shipped model meets the whole goal
    # (measured 91.5% / 86.1% / 91.5% right; 74, 70 and 74 of 118 ambiguous rows to Review)
    from benchmarks.bench_label import consensus_rows, score

    rows = fresh_rows()
    assert sum(bool(r["votes"]) for r in rows) >= 250
    agreed = consensus_rows(rows)
    res = score(agreed, label_texts([{f: r[f] for f in CORPUS_MODES[mode]} for r in rows]), mode)
    assert res.accuracy >= FRESH_FLOOR[mode], f"{mode}: {res.accuracy:.1%} right"
    assert res.confidently_wrong <= CONFIDENTLY_WRONG
    assert res.ambiguous["Review"] > res.n_ambiguous / 2, f"{mode}: {res.ambiguous}"


def test_through_xlplugin_run_on_a_plan_of_unseen_wording(tmp_path):
    # the whole user path: a plan workbook of kept-out rows, `xlplugin run` as a process, the
    # Stage column read back from the file it wrote (benchmarks/bench_label_run.py, every row)
    from benchmarks.bench_label import score
    from benchmarks.bench_label_run import build_plan, read_labels
    from tests.test_cli import cli

    rows = fresh_rows()[::6]
    src = tmp_path / "plan.xlsx"
    build_plan(rows, ("activity", "description"), src)
    done = cli("run", str(src), "--out", str(tmp_path / "out"))
    assert done.returncode in (0, 1), done.stderr
    res = score(rows, read_labels(tmp_path / "out" / "plan.xlsx", len(rows)))
    assert res.accuracy >= FRESH_FLOOR["name + description"], f"{res.accuracy:.1%} right"
    assert res.confidently_wrong <= CONFIDENTLY_WRONG
    assert res.ambiguous["Review"] > max(res.ambiguous["Upstream"], res.ambiguous["Downstream"]), res.ambiguous


def test_more_annotators_labels_name_corpus_rows():
    # tests/data/stages_second: every row its writer called Review, and clear rows, labelled
    # blind by a second annotator, and by a third wherever the first two differ (every
    # annotated row of the kept-out sources)
    import csv

    from xlplugin.engine.stages.model.train import SECOND, STAGES

    writer = {(r.source, r.activity, r.description): r.stage for r in load_corpus() + load_corpus(FRESH)}
    with SECOND.open(encoding="utf-8", newline="") as f:
        ann = list(csv.DictReader(f))
    assert len(ann) >= 4000 and len({(a["source"], a["activity"], a["description"]) for a in ann}) == len(ann)
    for a in ann:
        key = (a["source"], a["activity"], a["description"])
        assert writer.get(key) == a["first"], key
        assert a["second"] in STAGES and a["third"] in (*STAGES, "")
        assert a["third"] or a["first"] == a["second"], f"no third label where two differ: {key}"
    annotated = {(a["source"], a["activity"], a["description"]) for a in ann}
    assert all(k in annotated for k, stage in writer.items() if stage == "Review")


def test_consensus_is_the_label_most_annotators_gave():
    from xlplugin.engine.stages.model.train import consensus

    assert consensus("Review", "Downstream", "Downstream") == "Downstream"
    assert consensus("Upstream", "Upstream") == "Upstream"
    assert consensus("Review", "Review", "Upstream") == "Review"
    # no two agree: people read it as either
    assert consensus("Review", "Upstream", "Downstream") == "Review"
    assert consensus("Upstream", "Downstream") == "Review"


@pytest.mark.parametrize("mode", list(CORPUS_MODES))
def test_rows_the_annotators_call_review_mostly_get_review(by_source, mode):
    # the "ambiguous rows mostly Review", on the rows two or three people labelled
    # blind and all called Review (measured 58.9% / 56.6% / 58.9%), and on the rows most of
    # them called Review (54% / 52% / 54%); on all the writers' Review rows it is 40% / 42%:
    # half of them two other people read as one stage (stages_second)
    from benchmarks.bench_label import consensus_rows, score, unanimous_review

    rows, res = by_source
    every = [i for i, r in enumerate(rows) if unanimous_review(r)]
    assert len(every) >= 1000
    got = [res[mode][1][i].stage for i in every]
    review = got.count("Review")
    assert review > 0.5 * len(every), f"{mode}: {review} of {len(every)}"
    res_c = score(consensus_rows(rows), res[mode][1], mode)
    assert res_c.ambiguous["Review"] > res_c.n_ambiguous / 2, f"{mode}: {res_c.ambiguous}"
