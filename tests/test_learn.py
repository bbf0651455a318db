"""Learning a team's vocabulary from past plans' human Stage column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plan_factory import make_plan
from tests.test_label import parsed_from
from xlplugin.engine.stages.label import label_plan, label_texts
from xlplugin.engine.stages.learn import LearnedModel, fit
from xlplugin.errors import XlpluginError
from xlplugin.pipeline import learn_from

HEADERS = ["ID", "Activity", "Description", "Budget", "Stage"]
PAST = [  # a team that calls its discovery work "sprint zero" and its sales pushes "tiger team"
    ("Sprint zero: payments", "Scoping the payments idea", "Upstream"),
    ("Sprint zero - loyalty", "", "Upstream"),
    ("Sprint zero onboarding", "Whiteboard session", "Upstream"),
    ("Sprint zero for partner portal", "", "upstream"),
    ("Sprint zero retail app", "", "Upstream"),
    ("Sprint zero kiosk", "Scoping", "Up"),
    ("Tiger team: holiday push", "", "Downstream"),
    ("Tiger team Q4", "All hands on deck", "Downstream"),
    ("Tiger team - renewals", "", "downstream marketing"),
    ("Paid search", "Google Ads", "Downstream"),
    ("Focus groups", "Concept reactions", "Upstream"),
    ("Trade show booth", "", "Downstream"),
    ("Customer needs survey", "", "Upstream"),
    ("Email newsletter", "", "Downstream"),
    ("Team offsite", "", None),           # not labelled: not learned from
    ("Misc", "", "Review"),               # Review is not a stage to learn
]


def past_plan(tmp_path: Path, rows=PAST, name: str = "past.xlsx") -> Path:
    return make_plan(tmp_path / name, [[f"P{i}", a, d, 1000, s] for i, (a, d, s) in enumerate(rows)],
                     HEADERS)


def new_plan(tmp_path: Path) -> Path:
    rows = [["N1", "Sprint zero: mobile wallet", "", 5000],
            ["N2", "Tiger team spring", "", 3000],
            ["N3", "Retargeting ads", "Display ads to cart abandoners", 2000],
            ["N4", "Sprint zero retargeting ads", "", 1000]]
    return make_plan(tmp_path / "new.xlsx", rows, HEADERS[:4])


def test_learning_changes_the_label_of_a_team_term(tmp_path):
    parsed = parsed_from(new_plan(tmp_path))
    before = {lab.row: lab for lab in label_plan(parsed)}
    # the shipped model has at most a weak guess for a team's own term
    assert before[2].stage == "Review" or before[2].confidence < 0.8

    model = learn_from([past_plan(tmp_path)])
    assert model.rows == 14 and model.counts == {"Upstream": 8, "Downstream": 6}
    after = {lab.row: lab for lab in label_plan(parsed, model=model)}
    assert (after[2].stage, after[2].source) == ("Upstream", "model")
    assert after[2].reason.startswith("learned from your plans: 'sprint zero' -> Upstream (0.")
    assert after[2].confidence >= 0.75
    assert (after[3].stage, after[3].source) == ("Downstream", "model")
    # the taxonomy stays in charge where it is sure and the model agrees or has no view
    assert (after[4].stage, after[4].source) == ("Downstream", "taxonomy")
    # both sure, and they disagree: a person decides
    assert after[5].stage == "Review"
    assert "taxonomy says Downstream" in after[5].reason
    assert "your past plans say Upstream" in after[5].reason


def test_saved_model_round_trips_through_json(tmp_path):
    model = learn_from([past_plan(tmp_path)])
    path = model.save(tmp_path / "team-model.json")
    data = json.loads(path.read_text())
    assert data["format"] == "xlplugin-stage-model/1" and data["rows"] == 14
    loaded = learn_from([path])
    texts = [{"activity": "Sprint zero: wallet"}, {"activity": "Tiger team summer"}]
    a, b = label_texts(texts, model=model), label_texts(texts, model=loaded)
    assert [(x.stage, x.confidence, x.reason) for x in a] == [(x.stage, x.confidence, x.reason) for x in b]


def test_too_few_rows_or_one_class_is_a_clean_error(tmp_path):
    with pytest.raises(XlpluginError, match="at least 10 rows .* found 3 in few.xlsx"):
        learn_from([past_plan(tmp_path, PAST[:3], "few.xlsx")])
    one_class = [(f"Sprint zero {i}", "", "Upstream") for i in range(12)]
    with pytest.raises(XlpluginError, match="both stages; every labelled row in one.xlsx is Upstream"):
        learn_from([past_plan(tmp_path, one_class, "one.xlsx")])
    no_stage = make_plan(tmp_path / "nostage.xlsx")
    with pytest.raises(XlpluginError, match="found 0"):
        learn_from([no_stage])


def test_bad_inputs_are_clean_errors(tmp_path):
    with pytest.raises(XlpluginError, match="no such file"):
        learn_from([tmp_path / "missing.xlsx"])
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(XlpluginError, match="invalid JSON"):
        learn_from([bad])
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(XlpluginError, match="not an xlplugin stage model"):
        LearnedModel.load(bad)
    with pytest.raises(XlpluginError, match="not both"):
        learn_from([bad, past_plan(tmp_path)])


def test_learns_from_several_plans(tmp_path):
    a = past_plan(tmp_path, PAST[:7], "a.xlsx")
    b = past_plan(tmp_path, PAST[7:], "b.xlsx")
    model = learn_from([a, b])
    assert model.rows == 14 and model.sources == ["a.xlsx", "b.xlsx"]


def test_fit_ignores_blank_and_review_rows():
    texts = [{"activity": f"Sprint zero {i}"} for i in range(6)] + [{"activity": f"Tiger team {i}"} for i in range(6)]
    stages = ["Upstream"] * 6 + ["Downstream"] * 6
    model = fit(texts + [{"activity": ""}, {"activity": "x"}], stages + ["Upstream", "Review"])
    assert model.rows == 12


def test_pipeline_label_with_learn_from_writes_the_learned_stage(tmp_path):
    import openpyxl

    from xlplugin.pipeline import Options, process_file

    out = tmp_path / "out"
    out.mkdir()
    opts = Options(steps=frozenset({"label"}), out_dir=out, learn_from=(past_plan(tmp_path),))
    result = process_file(new_plan(tmp_path), opts)
    assert result.error is None, result.error
    ws = openpyxl.load_workbook(result.output)["Plan"]
    header = [c.value for c in ws[1]]
    stage, basis = header.index("Stage") + 1, header.index("Stage basis") + 1
    assert ws.cell(2, stage).value == "Upstream"
    assert ws.cell(2, basis).value.startswith("Upstream (0.")
    assert ": learned from your plans: 'sprint zero' -> Upstream" in ws.cell(2, basis).value


def test_a_plan_labelled_by_the_tool_does_not_teach_it_its_own_guesses(tmp_path):
    # A past plan without human stages, labelled by xlplugin: its Stage column holds the tool's
    # labels (told apart by their Stage basis), so there is nothing to learn from it.
    from xlplugin.errors import XlpluginError
    from xlplugin.pipeline import Options, process_file

    rows = [[f"P{i}", a, d, 1000] for i, (a, d, _) in enumerate(PAST)]
    src = make_plan(tmp_path / "unlabelled.xlsx", rows, HEADERS[:4])
    out = process_file(src, Options(steps=frozenset({"label"}), out_dir=tmp_path / "out"))
    assert out.error is None
    with pytest.raises(XlpluginError):
        learn_from([out.output])


def test_cli_learns_from_a_folder_of_past_plans(tmp_path):
    import json
    import subprocess
    import sys

    past = tmp_path / "past"
    past.mkdir()
    past_plan(past, name="a.xlsx")
    r = subprocess.run([sys.executable, "-m", "xlplugin.cli", "label", str(new_plan(tmp_path)),
                        "--learn-from", str(past), "--format", "json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    labels = {lab["row"]: lab for lab in json.loads(r.stdout)}
    assert labels[2]["stage"] == "Upstream" and labels[2]["source"] == "model"
