"""The taxonomy file: the shipped one loads, extensions merge, mistakes name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlplugin.engine.stages.taxonomy import load_taxonomy, normalize, parse_taxonomy, shipped_taxonomy_text
from xlplugin.errors import XlpluginError

REPO_COPY = Path(__file__).resolve().parent.parent / "templates" / "taxonomy.toml"


def test_shipped_taxonomy_loads_with_every_part():
    tax = load_taxonomy()
    stages = {g.stage for g in tax.groups}
    assert stages == {"Upstream", "Downstream", "Review"}
    assert any(g.kpi and g.stage == "Upstream" for g in tax.groups)
    assert any(g.kpi and g.stage == "Downstream" for g in tax.groups)
    assert any(g.flips for g in tax.groups)
    assert tax.phrase_count() > 500
    assert "without" in tax.negations
    assert "doubles as" in tax.both_words
    assert 0.5 < tax.review_below < tax.confident <= 1
    assert load_taxonomy() is tax                       # cached


def test_shipped_text_is_the_templates_file():
    assert shipped_taxonomy_text() == REPO_COPY.read_text(encoding="utf-8")


def test_phrases_are_normalised():
    assert normalize("Post-launch  SURVEY!") == "post launch survey"
    tax = parse_taxonomy('[[upstream]]\nname = "r"\nphrases = ["Focus-Group"]\n'
                         '[[downstream]]\nname = "d"\nphrases = ["ads"]\n')
    assert tax.groups[0].phrases == ("focus group",)


def test_extends_default_adds_groups_and_overrides_settings(tmp_path):
    f = tmp_path / "team.toml"
    f.write_text('extends = "default"\n[settings]\nconfident = 0.9\n'
                 '[[downstream]]\nname = "team slang"\nweight = 2\nphrases = ["tiger team"]\n',
                 encoding="utf-8")
    tax = load_taxonomy(f)
    assert tax.confident == 0.9
    assert tax.groups[-1].phrases == ("tiger team",)
    assert len(tax.groups) == len(load_taxonomy().groups) + 1
    # a reload after an edit sees the edit (cache keyed on modification time)
    f.write_text(f.read_text().replace("0.9", "0.85"), encoding="utf-8")
    import os
    os.utime(f, (1, 1))
    assert load_taxonomy(f).confident == 0.85


def test_a_file_without_extends_replaces_the_shipped_one(tmp_path):
    f = tmp_path / "own.toml"
    f.write_text('[[upstream]]\nname = "r"\nphrases = ["study"]\n'
                 '[[downstream]]\nname = "d"\nphrases = ["ads"]\n', encoding="utf-8")
    assert load_taxonomy(f).phrase_count() == 2


@pytest.mark.parametrize("text, message, line", [
    ('[[upstream]]\nname = "r"\nphrases = ["a", b]\n', "invalid TOML", 3),
    ('[[upstream]]\nname = "r"\nphrases = ["survey"]\n\n[[downstream]]\nname = "d"\n'
     'phrases = ["Survey"]\n', "'survey' is listed under both Upstream ('r', line 1) and Downstream", 5),
    ('[[upstream]]\nname = "r"\nweight = "high"\nphrases = ["a"]\n', "weight must be a number", 1),
    ('[[upstream]]\nname = "r"\nphrases = ["a"]\n[[downstream]]\nname = "d"\nphrases = ["b"]\n'
     '[stages]\nx = 1\n', "unknown section [stages]", 7),
    ('[[upstream]]\nphrases = ["a"]\n', "needs a name", 1),
    ('[[upstream]]\nname = "r"\nphrases = ["a"]\n', "at least one [[upstream]] and one [[downstream]]", 0),
    ('[[upstream]]\nname = "r"\nphrases = ["a"]\n[[downstream]]\nname = "d"\nflips = ["nope"]\n'
     'phrases = ["b"]\n', "flips names unknown group(s) nope", 4),
    ('[[upstream]]\nname = "r"\nphrases = ["--"]\n', "has no letters or digits", 1),
    ('[[upstream]]\nname = "r"\nphrases = ["a"]\n[[downstream]]\nname = "d"\nphrases = ["b"]\n'
     '[settings]\nreview_below = 2\n', "review_below must be between", 7),
    ('[[upstream]]\nname = "r"\nphrases = ["a"]\n[[downstream]]\nname = "d"\nphrases = ["b"]\n'
     '[dual]\nmarkers = ["also"]\n', "[dual] takes a `words` list", 7),
])
def test_mistakes_name_the_file_and_line(tmp_path, text, message, line):
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(XlpluginError) as e:
        load_taxonomy(f)
    assert e.value.file == str(f)
    assert message in str(e.value)
    if line:
        assert f"line {line}:" in str(e.value)


def test_missing_file_is_a_clean_error(tmp_path):
    with pytest.raises(XlpluginError, match="cannot read taxonomy"):
        load_taxonomy(tmp_path / "nope.toml")


def test_dual_words_are_the_teams_to_set(tmp_path):
    f = tmp_path / "team.toml"
    f.write_text('extends = "default"\n[dual]\nwords = ["Two-in-one", "plus"]\n', encoding="utf-8")
    assert load_taxonomy(f).both_words == ("two in one", "plus")
    f.write_text('extends = "default"\n[settings]\nconfident = 0.9\n', encoding="utf-8")
    assert load_taxonomy(f).both_words == load_taxonomy().both_words     # inherited
