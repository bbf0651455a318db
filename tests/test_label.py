"""Stage labels: accuracy targets on the evaluation set, the hard cases DOMAIN.md names,
the user's own Stage, and the XP401 finding.  Speed lives in benchmarks/bench_label.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.bench_label import MODES, evaluate, load_eval
from tests.plan_factory import make_plan
from xlplugin.engine.stages.label import (
    RULES,
    StageLabel,
    label_plan,
    label_texts,
    normalize_stage,
    stage_findings,
)
from xlplugin.engine.stages.taxonomy import load_taxonomy


def one(activity: str, **fields: str):
    return label_texts([{"activity": activity, **fields}])[0]


def parsed_from(path: Path):
    from xlplugin.engine.locate import locate_plan
    from xlplugin.engine.parse import parse_plan
    from xlplugin.file.read import open_workbook

    with open_workbook(path) as wb:
        plan = locate_plan(wb)
        return parse_plan(wb.grid(plan.sheet), plan, date1904=wb.date1904)


# ---------------------------------------------------------------- evaluation set targets

@pytest.fixture(scope="module")
def results():
    rows = load_eval()
    return {mode: evaluate(rows, fields, mode) for mode, fields in MODES.items()}


def test_eval_set_is_broad_and_labelled():
    rows = load_eval()
    assert len(rows) >= 300
    assert {r["industry"] for r in rows} == {"B2B software", "Consumer goods", "Retail", "Services"}
    assert {r["gold"] for r in rows} == {"Upstream", "Downstream", "Ambiguous"}
    assert sum(r["gold"] == "Ambiguous" for r in rows) >= 25
    assert len({r["activity"].lower() for r in rows}) == len(rows)
    assert len(load_eval(split="test")) + len(load_eval(split="dev")) == len(rows)


def test_accuracy_from_activity_name_alone(results):
    assert results["activity"].accuracy >= 0.92


def test_accuracy_with_description(results):
    assert results["activity+description"].accuracy >= 0.95


@pytest.mark.parametrize("mode", list(MODES))
def test_few_clear_rows_confidently_wrong(results, mode):
    assert results[mode].confidently_wrong < 0.03


@pytest.mark.parametrize("mode", list(MODES))
def test_ambiguous_rows_go_to_review(results, mode):
    res = results[mode]
    # most of them: the Review line sits where unseen wording is decided best (see the corpus
    # figures in benchmarks/LABELS.md); a wider band sent 70% here but cost 4-6 points there
    assert res.ambiguous["Review"] >= 0.55 * res.n_ambiguous
    assert res.ambiguous_confident <= 0.1 * res.n_ambiguous


def test_precision_per_class(results):
    for mode in ("activity", "activity+description"):
        assert min(results[mode].precision.values()) >= 0.92


# ---------------------------------------------------------------- hard cases

@pytest.mark.parametrize("activity, stage", [
    ("Pricing research for the new tier", "Upstream"),
    ("Price promotion on family packs", "Downstream"),
    ("Brand positioning workshop", "Upstream"),
    ("Rebranding ad campaign", "Downstream"),
    ("Launch collateral for sales", "Downstream"),
    ("Sales training before launch", "Downstream"),
    ("Concept survey", "Upstream"),
])
def test_hard_cases_follow_the_dividing_line(activity, stage):
    assert one(activity).stage == stage


@pytest.mark.parametrize("activity", ["Comparison pages against rival tools",
                                      "Versus pages for the top three competitors",
                                      "Alternatives page for people leaving a competitor"])
def test_pages_written_for_buyers_are_downstream_whatever_research_they_name(activity):
    # the page faces the buyer to sell; 'competitor' alone would say competitive analysis
    lab = one(activity)
    assert lab.stage == "Downstream" and lab.reason.startswith("pages for buyers")


def test_a_reason_names_the_qualifier_that_turned_the_phrase():
    lab = label_texts([{"activity": "Champion interview for case study"}], stage_model=False)[0]
    assert lab.stage == "Downstream" and lab.reason.startswith("for sellers and the press: 'interview'")
    lab = label_texts([{"activity": "Competitor page with research"}], stage_model=False)[0]
    assert lab.reason.startswith("pages for buyers")


def test_a_buyer_survey_after_launch_leans_downstream():
    # the corpus's sources split on it (after-sales feedback, or research for the next
    # version), so Review is fair; what must hold is that the qualifier turns it from
    # 'Concept survey' (Upstream)
    lab = one("Post-launch survey of buyers")
    assert lab.stage == "Downstream" or (lab.stage == "Review" and "leans downstream" in lab.reason)


@pytest.mark.parametrize("activity", ["Content marketing program", "Beta program for the new app",
                                      "Analyst relations", "Customer survey with a gated lead form",
                                      "Agency retainer", "Martech licence renewal"])
def test_genuinely_ambiguous_rows_ask_for_review(activity):
    # overhead that serves both sides (retainers, licences, headcount) is Review unless the row
    # says what it is for
    lab = one(activity)
    assert lab.stage == "Review"
    assert "decide by hand" in lab.reason


def test_overhead_that_says_what_it_is_for_takes_that_stage():
    assert one("Agency retainer", description="Search ads agency: keyword bids and ad copy").stage == "Downstream"


@pytest.mark.parametrize("activity, description, up, down", [
    ("Market survey that also collects leads", "", "survey", "collects leads"),
    ("Survey that doubles as lead generation", "", "survey", "lead generation"),
    ("Listener poll", "Ask listeners which topics they want next; it also enters them in a prize draw.",
     "poll", "prize draw"),
])
def test_a_row_that_says_it_does_both_asks_for_review(activity, description, up, down):
    # DOMAIN.md: "a survey that also collects leads" is genuinely ambiguous
    lab = one(activity, description=description)
    assert lab.stage == "Review"
    assert f"does both: '{up}' (upstream) and '{down}' (downstream): decide by hand" in lab.reason
    # the same wording without the word that says it does both is decided by the head
    plain = one(activity.replace(" also", "").replace("doubles as", "for"),
                description=description.replace(" also", ""))
    assert "does both" not in plain.reason


def test_both_words_need_a_phrase_of_each_stage():
    assert one("Customer interviews", description="Also interview lapsed buyers.").stage == "Upstream"
    assert one("Paid search", description="Also run retargeting ads.").stage == "Downstream"


def test_a_team_can_turn_the_both_words_off(tmp_path):
    f = tmp_path / "team.toml"
    f.write_text('extends = "default"\n[dual]\nwords = ["two in one"]\n', encoding="utf-8")
    tax = load_taxonomy(f)
    lab = label_texts([{"activity": "Market survey that also collects leads"}], taxonomy=tax)[0]
    assert "does both" not in lab.reason
    lab = label_texts([{"activity": "Two-in-one market survey that collects leads"}], taxonomy=tax)[0]
    assert lab.stage == "Review" and "does both" in lab.reason


def test_reason_names_the_phrase_and_the_kpi():
    lab = one("Focus groups", description="Six groups testing the idea", kpi="Brand awareness")
    assert lab.stage == "Upstream" and lab.confidence >= 0.8
    assert "research: 'focus group'" in lab.reason
    assert "KPI 'brand awareness' is an upstream measure" in lab.reason


def test_kpi_phrases_count_only_in_the_kpi_column():
    # "brand awareness" as the KPI is an upstream measure; an awareness campaign is advertising
    assert one("Brand awareness campaign").stage == "Downstream"


def test_negation_cancels_a_phrase():
    lab = one("Brand positioning workshop", description="Workshop only, no paid media, no ads")
    assert lab.stage == "Upstream"
    assert "paid media" not in lab.reason and "'ads'" not in lab.reason
    # compounds are not negations
    assert one("No-code builder launch").stage == "Downstream"
    assert one("Non-profit pricing research").stage == "Upstream"


def test_plurals_hyphens_and_case():
    a, b = one("FOCUS-GROUPS (x3)"), one("focus group")
    assert a.stage == b.stage == "Upstream"
    assert a.reason.split(";")[0] == b.reason.split(";")[0] == "research: 'focus group'"
    assert one("Post purchase surveys").stage == "Downstream"
    assert one("Market strategies").stage == "Upstream"


@pytest.mark.parametrize("name", ["Project Falcon", "Phoenix initiative", "Operation Nightingale"])
def test_no_evidence_is_review_with_zero_confidence(name):
    # a code name: its words have vectors, and one may stand in a corpus row or two (a mascot, a
    # city), but nothing a label could rest on
    lab = one(name)
    assert (lab.stage, lab.confidence, lab.source) == ("Review", 0.0, "none")
    assert label_texts([]) == []


def test_blank_and_non_text_cells_are_fine():
    labs = label_texts([{"activity": None, "kpi": 12.5}, {"activity": "", "description": "Paid search"}])
    assert [lab.stage for lab in labs] == ["Review", "Downstream"]
    assert [lab.row for lab in labs] == [0, 1]


def test_custom_taxonomy_changes_labels(tmp_path):
    f = tmp_path / "team.toml"
    f.write_text('extends = "default"\n[[upstream]]\nname = "discovery"\nweight = 2.0\n'
                 'phrases = ["sprint zero"]\n', encoding="utf-8")
    before = one("Sprint zero")     # no phrase of the taxonomy: never a confident label
    assert not before.confident and not before.reason.startswith("discovery")
    lab = label_texts([{"activity": "Sprint zero"}], taxonomy=load_taxonomy(f))[0]
    assert lab.stage == "Upstream" and lab.reason.startswith("discovery: 'sprint zero'")


def test_numbers_in_a_cell_do_not_change_its_label():
    # IDs, dates and counts say nothing of the stage: rows that differ only by them are one row,
    # and a phrase split by a number still reads ('Gate 2 review', 'in 40 stores')
    labs = label_texts([{"activity": f"Webinar #{i}", "description": f"Live demo for leads, 2026-0{i}-14"}
                        for i in range(1, 6)])
    assert len({(lab.stage, lab.confidence, lab.reason) for lab in labs}) == 1
    assert labs[0].stage == "Downstream"
    assert one("Gate 2 review of three concepts").reason.startswith("product development: 'gate review'")


def test_a_number_a_team_phrase_uses_still_counts(tmp_path):
    f = tmp_path / "team.toml"
    f.write_text('extends = "default"\n[[downstream]]\nname = "listicles"\nweight = 2.0\n'
                 'phrases = ["top 10 list"]\n', encoding="utf-8")
    lab = label_texts([{"activity": "Top 10 list"}], taxonomy=load_taxonomy(f))[0]
    assert lab.stage == "Downstream" and lab.reason.startswith("listicles: 'top 10 list'")


# ---------------------------------------------------------------- the user's Stage

@pytest.mark.parametrize("typed, meant", [
    ("Upstream", "Upstream"), (" downstream MARKETING ", "Downstream"), ("Up", "Upstream"),
    ("down", "Downstream"), ("Review", "Review"), ("Upstream marketing", "Upstream"),
    ("Mid-funnel", "Mid-funnel"), ("", None), (None, None), (float("nan"), None),
])
def test_normalize_stage(typed, meant):
    assert normalize_stage(typed) == meant


STAGE_HEADERS = ["ID", "Activity", "Description", "KPI", "Budget", "Stage"]


def stage_plan(tmp_path: Path) -> Path:
    rows = [
        ["A1", "Retargeting ads for cart abandoners", "Display ads to visitors", "Conversions", 5000,
         "Upstream"],
        ["A2", "Focus groups on packaging", "Three groups", "Insights", 8000, "upstream marketing"],
        ["A3", "Paid search", "Google Ads", "Leads", 12000, None],
        ["A4", "Project Falcon", "", "", 1000, "Downstream"],
        ["A5", "Concept test", "Online test of two concepts", "Concept score", 4000, "Mid-funnel"],
    ]
    return make_plan(tmp_path / "stage.xlsx", rows, STAGE_HEADERS)


def test_users_stage_survives_and_findings_flag_confident_disagreement(tmp_path):
    parsed = parsed_from(stage_plan(tmp_path))
    labels = label_plan(parsed)
    by_row = {lab.row: lab for lab in labels}
    assert len(labels) == 5
    # typed stages win, normalised; the tool's view is kept beside them
    assert (by_row[2].stage, by_row[2].source, by_row[2].user_stage) == ("Upstream", "user", "Upstream")
    assert isinstance(by_row[2], StageLabel) and by_row[2].suggested == "Downstream"
    assert "set by you; the tool suggests Downstream" in by_row[2].reason
    assert (by_row[3].stage, by_row[3].source) == ("Upstream", "user")
    assert "the tool agrees" in by_row[3].reason
    assert (by_row[5].stage, by_row[5].source, by_row[5].user_stage) == ("Downstream", "user", "Downstream")
    # blank -> the classifier; unrecognised text is kept as typed, the classifier labels the row
    assert (by_row[4].stage, by_row[4].source, by_row[4].user_stage) == ("Downstream", "taxonomy", None)
    assert (by_row[6].stage, by_row[6].user_stage) == ("Upstream", "Mid-funnel")

    findings = stage_findings(parsed, labels)
    assert [(f.rule, f.cell, f.severity) for f in findings] == [("XP401", "F2", "warning")]
    f = findings[0]
    assert f.message.startswith("Stage says Upstream, but '")
    assert re.search(r"is downstream \((0\.9\d|1\.00)\)", f.message)
    assert f.column == "Stage" and f.value == "Upstream"


def test_no_stage_column_no_findings(tmp_path):
    parsed = parsed_from(make_plan(tmp_path / "p.xlsx"))
    labels = label_plan(parsed)
    assert [lab.row for lab in labels] == parsed.plan.data_rows
    assert all(lab.user_stage is None and lab.source != "user" for lab in labels)
    assert stage_findings(parsed, labels) == []


def test_rules_have_the_documented_shape():
    assert [r["code"] for r in RULES] == ["XP401"]
    for r in RULES:
        assert set(r) == {"code", "severity", "summary", "why", "bad", "good"}
        assert all(isinstance(v, str) and v for v in r.values())
