"""The JSON Schema for editors: generated from the models, committed, and as strict as they are about shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from voicecoach._cli.app import app
from voicecoach._errors import RoutineError
from voicecoach._routine.examples import example_routine_path
from voicecoach._routine.read import read_routine_source
from voicecoach._routine.schema import routine_schema, schema_path, schema_text

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "bad-routines"
VALIDATOR = jsonschema.Draft7Validator(routine_schema())
# The bad routines whose mistake is about shape: a type, an unknown key, a missing key, a value out of a closed
# set or range (a hold of 0 too). The others (a hold written as text too short, an id used twice, a voice not
# installed...) need voicecoach.
SHAPE_MISTAKES = ["09-list-not-mapping", "10-plain-text", "11-unknown-key-hodl", "12-unknown-key-duration",
                  "13-unknown-key-equipment", "14-exercise-singular", "15-reps-many", "16-sets-fraction",
                  "17-title-a-date", "18-voice-as-text", "19-missing-title", "22-reps-left-blank",
                  "23-hold-five-seconds", "24-hold-zero", "25-hold-negative", "29-empty-exercise-list",
                  "30-exercises-left-blank", "31-exercise-plain-string", "32-exercises-not-a-list", "35-empty-sides",
                  "37-language-no-phrases", "38-language-en-gb", "39-announce-not-halfway", "41-countdown-11",
                  "42-voice-rate-1000", "43-volume-2", "44-id-in-defaults", "53-variant-bad-value",
                  "54-variant-unknown-key", "55-variant-not-a-mapping", "58-engine-unknown",
                  "63-translation-unknown-language", "64-lexicon-not-a-mapping", "65-lexicon-no-spoken-form"]


def data_of(path: Path):
    """The file's YAML as voicecoach reads it (which refuses alias bombs and tags before anything else)."""
    data, _ = read_routine_source(path)
    return as_an_editor_sees_it(data)


def as_an_editor_sees_it(data):
    """A program's ``start: 2027-01-04`` as text: voicecoach's YAML (1.1) reads it as the date it is meant to be,
    and YAML 1.2, which editors read with the schema, as text. (Anywhere else a date is refused, by both.)"""
    program = data.get("program") if isinstance(data, dict) else None
    if isinstance(program, dict) and "start" in program:
        return {**data, "program": {**program, "start": str(program["start"])}}
    return data


def yaml_blocks(markdown: Path) -> list[str]:
    """The routines shown in a Markdown file: its ```yaml blocks that have a title and exercises."""
    blocks = re.findall(r"```yaml\n(.*?)```", markdown.read_text(encoding="utf-8"), flags=re.S)
    return [block for block in blocks if re.search(r"^title:", block, re.M) and "exercises:" in block]


def test_the_schema_is_valid_draft_07():
    jsonschema.Draft7Validator.check_schema(routine_schema())
    assert routine_schema()["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_the_committed_schema_is_current():
    assert schema_path().read_text(encoding="utf-8") == schema_text(), \
        "run `voicecoach schema -o voicecoach/routine.schema.json` and commit it"


@pytest.mark.parametrize("path", sorted((ROOT / "voicecoach" / "examples").glob("*.yaml"))
                         + [ROOT / "voicecoach" / "templates" / "starter.yaml"], ids=lambda path: path.name)
def test_every_bundled_routine_follows_the_schema(path):
    assert list(VALIDATOR.iter_errors(data_of(path))) == []


@pytest.mark.parametrize("markdown", ["README.md", "docs/routine-format.md"])
def test_every_routine_in_the_documentation_follows_the_schema(markdown, tmp_path):
    from voicecoach._routine.yamlsource import load_yaml_text

    checked = 0
    for block in yaml_blocks(ROOT / markdown):
        data, _ = load_yaml_text(block, "block.yaml")
        errors = [f"{'/'.join(map(str, error.path))}: {error.message}"
                  for error in VALIDATOR.iter_errors(as_an_editor_sees_it(data))]
        assert errors == [], block
        checked += 1
    assert checked >= 2


def test_every_article_in_the_corpus_imports_to_a_draft_that_follows_the_schema():
    from voicecoach._routine.article import ArticleError, import_article
    from voicecoach._routine.yamlsource import load_yaml_text

    checked = 0
    for article in sorted((ROOT / "tests" / "corpus" / "articles").iterdir()):
        if article.suffix not in (".txt", ".md", ".html") or article.name == "README.md":
            continue
        try:
            draft = import_article(article).text
        except ArticleError:
            continue  # an article with no exercises in it has no draft
        data, _ = load_yaml_text(draft, article.name)
        assert [error.message for error in VALIDATOR.iter_errors(data)] == [], article.name
        checked += 1
    assert checked >= 10


PLANK = {"title": "Plank", "exercises": [{"name": "Plank", "hold": 30}]}


def routine_with(**changes) -> dict:
    """PLANK with ``changes``: a top-level key, or ``exercise__KEY`` for its exercise (None: without it), or
    ``defaults__KEY``."""
    routine = json.loads(json.dumps(PLANK))
    for key, value in changes.items():
        where, _, field = key.rpartition("__")
        if where == "exercise" and value is None:
            del routine["exercises"][0][field]
        elif where == "exercise":
            routine["exercises"][0][field] = value
        elif where == "defaults":
            routine.setdefault("defaults", {})[field] = value
        else:
            routine[key] = value
    return routine


# Each range voicecoach checks (limits.py) that JSON Schema can say, just outside it; the schema refuses them all.
OUT_OF_RANGE = {
    "hold: 0": routine_with(exercise__hold=0),
    "hold: 0.2": routine_with(exercise__hold=0.2),
    "hold: 99999": routine_with(exercise__hold=99999),
    'hold: "0s"': routine_with(exercise__hold="0s"),
    'hold: "0:00"': routine_with(exercise__hold="0:00"),
    "hold: 0 under defaults": routine_with(exercise__hold=None, defaults__hold=0),
    "rest: 14401": routine_with(exercise__rest=14401),
    "prepare: 99999": routine_with(prepare=99999),
    "reps: 0": routine_with(exercise__reps=0),
    "reps: 1001": routine_with(exercise__reps=1001),
    "sets: 1001": routine_with(exercise__sets=1001),
    "countdown: 11": routine_with(exercise__countdown=11),
    "lead_in: 11": routine_with(lead_in=11),
    "duck_attack: 2": routine_with(duck_attack=2),
    "duck_release: 6": routine_with(duck_release=6),
    "crossfade: 31": routine_with(crossfade=31),
    "time_scale: 0.05": routine_with(time_scale=0.05),
    "voice.rate: 79": routine_with(voice={"rate": 79}),
    "voice.volume: 1.5": routine_with(voice={"volume": 1.5}),
    "announce: [0]": routine_with(exercise__announce=[0]),
    'announce: "0s"': routine_with(exercise__announce="0s"),
    "announce: [14400]": routine_with(exercise__announce=[14400]),
    "a tempo phase of 0.2": routine_with(exercise__hold=None, exercise__tempo={"down": 0.2, "up": 2}),
    "a 300-character name": routine_with(exercise__name="x" * 300),
    "a 300-character name in one language": routine_with(exercise__name={"en": "x" * 300}),
    "a 201-character title": routine_with(title="x" * 201),
    "a 2001-character intro": routine_with(intro="x" * 2001),
    "a 2001-character cue": routine_with(exercise__cue="x" * 2001),
    "a 201-character side": routine_with(exercise__sides=["left", "x" * 201]),
    "a 201-character phase name": routine_with(exercise__hold=None, exercise__tempo={"x" * 201: 2}),
    "501 exercises": routine_with(exercises=[{"name": f"Plank {n}", "hold": 30} for n in range(501)]),
    "a variant's hold: 0": routine_with(variants={"quick": {"exercises": {"plank": {"hold": 0}}}}),
    "a variant's 300-character title": routine_with(variants={"long": {"title": "x" * 300}}),
}
# And just inside: the least and the most voicecoach takes.
IN_RANGE = {
    "hold: 0.5": routine_with(exercise__hold=0.5),
    "hold: 14400": routine_with(exercise__hold=14400),
    'hold: "0.5s"': routine_with(exercise__hold="0.5s"),
    'hold: "0:30"': routine_with(exercise__hold="0:30"),
    "rest: 0": routine_with(exercise__rest=0),
    'rest: "0s"': routine_with(exercise__rest="0s"),
    "prepare: 0": routine_with(prepare=0),
    "tempo phases 0 and 0.5": routine_with(exercise__hold=None, exercise__tempo={"down": 0, "up": 0.5}),
    "a 200-character name": routine_with(exercise__name="x" * 200),
    "a 2000-character instructions": routine_with(exercise__instructions="x" * 2000),
    "500 exercises": routine_with(exercises=[{"name": f"Plank {n}", "hold": 30} for n in range(500)]),
    "lead_in: 10": routine_with(lead_in=10),
    "announce: [halfway, 10s, 0.5]": routine_with(exercise__announce=["halfway", "10s", 0.5]),
}


def test_the_schema_has_voicecoachs_ranges_refusing_just_outside_and_taking_the_edges():
    from voicecoach._routine.load import load_routine_text

    def voicecoach_takes(routine: dict) -> bool:
        try:
            load_routine_text(json.dumps(routine)).session()
        except RoutineError:
            return False
        return True

    # The schema is only for editors: each range in it is one voicecoach checks, never a new one.
    assert [case for case, routine in OUT_OF_RANGE.items() if voicecoach_takes(routine)] == []
    assert [case for case, routine in IN_RANGE.items() if not voicecoach_takes(routine)] == []
    assert [case for case, routine in OUT_OF_RANGE.items() if not list(VALIDATOR.iter_errors(routine))] == []
    refused = {case: [error.message[:80] for error in VALIDATOR.iter_errors(routine)]
               for case, routine in IN_RANGE.items()}
    assert {case: messages for case, messages in refused.items() if messages} == {}


@pytest.mark.parametrize("name", SHAPE_MISTAKES)
def test_a_mistake_of_shape_fails_the_schema_too(name):
    assert list(VALIDATOR.iter_errors(data_of(CORPUS / f"{name}.yaml"))), name


def test_the_shape_cases_are_in_the_corpus():
    names = {path.stem for path in CORPUS.glob("*.yaml")}
    assert set(SHAPE_MISTAKES) <= names
    with pytest.raises(RoutineError):
        data_of(CORPUS / "47-alias-bomb.yaml")  # why the corpus is read through voicecoach


def test_keys_have_hover_help_and_durations_a_pattern():
    schema = routine_schema()
    exercise = schema["definitions"]["ExerciseDoc"]["properties"]
    assert exercise["hold"]["description"].startswith("How long each rep is held")
    assert exercise["countdown_style"]["anyOf"][0]["enum"] == ["ticks", "voice", "both"]
    pattern = re.compile(exercise["hold"]["anyOf"][1]["pattern"])
    for good in ("5s", "1m30s", "1:30", "5 min", "80ms", "2.5", "1h"):
        assert pattern.match(good), good
    for bad in ("five seconds", "-30s", "5 parsecs", ""):
        assert not pattern.match(bad), bad
    assert schema["additionalProperties"] is False


def test_init_and_example_point_the_editor_at_the_schema(tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path / "mine.yaml")]).exit_code == 0
    assert runner.invoke(app, ["example", str(tmp_path / "feet.yaml")]).exit_code == 0
    for name in ("mine.yaml", "feet.yaml"):
        first = (tmp_path / name).read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema={schema_path().as_uri()}"
    assert (tmp_path / "feet.yaml").read_text(encoding="utf-8").splitlines()[1:] == \
        example_routine_path().read_text(encoding="utf-8").splitlines()


def test_schema_prints_or_writes_it(tmp_path):
    runner = CliRunner()
    printed = runner.invoke(app, ["schema"])
    assert json.loads(printed.output) == routine_schema()
    written = runner.invoke(app, ["schema", "-o", str(tmp_path / "s.json")])
    assert written.output == f"Wrote {tmp_path / 's.json'}\n"
    assert json.loads((tmp_path / "s.json").read_text()) == routine_schema()


@pytest.mark.parametrize("markdown", ["README.md", "docs/routine-format.md", "docs/benchmarks.md"])
def test_no_link_leaves_the_repository(markdown):
    # The reference lives in the repository: every link is relative and names a file that is there.
    text = (ROOT / markdown).read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    for link in links:
        if link.startswith("#"):
            continue
        assert not re.match(r"^[a-z]+:", link), link
        assert (ROOT / markdown).parent.joinpath(link.split("#")[0]).resolve().exists(), link
    assert "../shared" not in text


def test_a_program_file_follows_the_program_schema_and_a_wrong_one_does_not():
    from voicecoach._routine.schema import program_file_schema
    from voicecoach._routine.yamlsource import load_yaml_text

    schema = program_file_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    blocks = [block for block in re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "routine-format.md").read_text(
        encoding="utf-8"), flags=re.S) if block.startswith("routine:")]
    assert blocks
    for block in blocks:
        data, _ = load_yaml_text(block, "program.yaml")
        assert list(validator.iter_errors(data)) == [], block
    assert [error.message for error in validator.iter_errors({"routine": "knee.yaml", "weeks": 2, "dayz": []})] == [
        "Additional properties are not allowed ('dayz' was unexpected)"]


def test_a_variant_cannot_hold_a_program_in_the_schema_either():
    errors = list(VALIDATOR.iter_errors({"title": "x", "exercises": [{"name": "a", "hold": "5s"}],
                                         "variants": {"gentle": {"program": {"weeks": 2}}}}))
    assert [error.message for error in errors] == ["Additional properties are not allowed ('program' was unexpected)"]
