"""voicecoach import: articles of several shapes become draft routines with the values their text gives."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from voicecoach._cli.app import app
from voicecoach._errors import RoutineError
from voicecoach._routine.article import import_article
from voicecoach._routine.read import parse_routine

ARTICLES = Path(__file__).resolve().parent / "corpus" / "articles"
CASES = sorted(path for path in ARTICLES.glob("*.expected.json") if json.loads(path.read_text())["exercises"])


def article_of(expected: Path) -> Path:
    stem = expected.name.removesuffix(".expected.json")
    return next(path for path in ARTICLES.glob(f"{stem}.*") if not path.name.endswith(".json"))


@pytest.mark.parametrize("expected_path", CASES, ids=lambda path: path.name.removesuffix(".expected.json"))
def test_an_article_becomes_the_routine_its_text_gives(expected_path):
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    imported = import_article(article_of(expected_path))
    routine = parse_routine(imported.text, "draft.yaml")  # it validates
    data = yaml.safe_load(imported.text)
    assert [exercise.name.lower() for exercise in routine.exercises] == \
        [exercise["name"].lower() for exercise in expected["exercises"]]
    blocks = imported.text.split("\n  - name: ")[1:]  # each exercise's own lines
    for want, got, written, block in zip(expected["exercises"], routine.exercises, data["exercises"], blocks):
        where = want["name"]
        if want["hold_s"] is None:
            assert got.hold_ms == 5000, where  # assumed, and the line says so
            assert "hold: 5s  # not in the text; assumed" in block
        else:
            assert got.hold_ms == want["hold_s"] * 1000, where
        assert (got.reps, got.sets, len(got.sides) == 2) == (want["reps"], want["sets"], want["sides"]), where
        rests = {key: written[key] for key in ("rep_rest", "set_rest", "rest") if key in written}
        from_text = [key for key in rests if f"{key}: {rests[key]}  #" not in block]
        if want["rest_s"] is None:
            assert not from_text, where
        else:
            assert len(from_text) == 1, where
            assert getattr(got, f"{from_text[0]}_ms") == want["rest_s"] * 1000, where
        said = " ".join(html.unescape(got.instructions or "").lower().split())  # as the corpus README compares
        for phrase in want["instructions_contain"]:
            assert phrase in said, (where, phrase)
        for phrase in want.get("instructions_exclude", []):
            assert phrase not in said, (where, phrase)
    for phrase in expected["ignored"]:
        assert all(phrase.lower() not in exercise.name.lower() for exercise in routine.exercises), phrase


def test_the_seed_article_imports_and_says_what_it_assumed(tmp_path):
    runner = CliRunner()
    out = tmp_path / "feet.yaml"
    result = runner.invoke(app, ["import", str(ARTICLES / "back-pain-feet-exercises.txt"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"Imported 5 exercises from {ARTICLES / 'back-pain-feet-exercises.txt'}: 18 values from "
                             "the text, 7 assumed (each says so on its line); check them, then run: voicecoach build "
                             f"{out}\n{SEED_SUMMARY}\n")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    assert text.count("not in the text;") == 7  # a value assumed, or a rest left out (it fits its speech)
    validate = runner.invoke(app, ["validate", str(out)])
    assert validate.exit_code == 0, validate.output


# Ten sets of a 5-minute hold: about an hour, and each value that makes it so is flagged with its sentence.
SEED_SUMMARY = ('The draft lasts at least 59:07 (holds and rests; speech adds more). Check: the session is over 30 '
                'minutes (51:45 of it in "Press your fingers"); a 5 min hold in "Press your fingers" ("Hold this '
                'position for about 5 minutes."); 10 sets of "Press your fingers" ("Repeat 10 sets of exercise 3 times '
                'a day.")')


def test_the_summary_gives_the_length_and_flags_what_is_implausible_with_its_sentence():
    imported = import_article(ARTICLES / "back-pain-feet-exercises.txt")
    assert imported.summary == SEED_SUMMARY
    assert imported.length_ms == 3_547_000  # the plan's holds and rests as asked, before any speech
    assert len(imported.flags) == 3


def test_a_plausible_draft_says_so_and_a_long_sentence_is_cut_short(tmp_path):
    assert import_article(ARTICLES / "plank-ladder.md").summary == (
        "The draft lasts at least 11:13 (holds and rests; speech adds more). Nothing looks implausible")
    article = tmp_path / "long.md"
    article.write_text("## Wall sit\n\nSit against the wall with your knees bent as if on a chair, and stay there "
                       "without moving for 3 minutes.\n", encoding="utf-8")
    assert import_article(article).summary == (
        'The draft lasts at least 3:06 (holds and rests; speech adds more). Check: a 3 min hold in "Wall sit" ("Sit '
        'against the wall with your knees bent as if on a chai...")')


def test_without_output_the_routine_is_printed(tmp_path):
    result = CliRunner().invoke(app, ["import", str(ARTICLES / "plank-ladder.md")])
    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)["exercises"][0]["name"] == "Glute bridges"


def test_an_article_without_exercises_is_one_line():
    path = ARTICLES / "no-exercises.txt"
    with pytest.raises(RoutineError) as caught:
        import_article(path)
    assert str(caught.value) == (
        f"{path}: has no exercises voicecoach can find; give each exercise a numbered or bulleted heading "
        '("1. Calf raises", "## Calf raises" or "- Calf raises:") followed by its hold, reps or sets ("hold for 5 '
        'seconds", "repeat 10 times")')
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_a_missing_article_is_one_line(tmp_path):
    result = CliRunner().invoke(app, ["import", str(tmp_path / "nothing.txt")])
    assert result.exit_code == 2
    assert result.stderr == (f"{tmp_path / 'nothing.txt'}: no such file; give the path of an article "
                             "(.txt, .md or .html)\n")
