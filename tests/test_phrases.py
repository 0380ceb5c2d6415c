"""The words of every language: each data file has every phrase of English, with the same placeholders."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest
import yaml

from voicecoach._routine.languages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, CuePhrases, phrases_for, placeholders

LANGUAGES = sorted(SUPPORTED_LANGUAGES)
TRANSLATIONS = sorted(SUPPORTED_LANGUAGES - {DEFAULT_LANGUAGE})


def raw(code: str) -> dict[str, Any]:
    """A language's data file as YAML reads it (strictly UTF-8)."""
    path = resources.files("voicecoach").joinpath("languages", f"{code}.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"spoken.minutes.one": "{n} minute", ...}``: every value, by its dotted key path."""
    found: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            found.update(leaves(value, path + "."))
        else:
            found[path] = value
    return found


def templates(code: str) -> dict[str, Any]:
    data = raw(code)
    return leaves({"spoken": data["spoken"], "written": data["written"]})


ENGLISH = templates(DEFAULT_LANGUAGE)


def test_the_supported_languages():
    assert SUPPORTED_LANGUAGES == {"en", "es", "de", "fr", "it", "pt", "nl"}


def test_the_english_tree_is_what_the_other_files_are_checked_against():
    # Guards the comparisons below: if English lost its one/other forms, so could every translation.
    assert {"spoken.minutes.one", "spoken.minutes.other", "spoken.seconds.one", "spoken.seconds.other",
            "spoken.time_left.one", "spoken.time_left.other", "written.exercises.one",
            "written.exercises.other", "written.no_sessions", "spoken.and"} <= ENGLISH.keys()
    assert placeholders(ENGLISH["written.no_sessions"]) == {"command"}
    assert placeholders(ENGLISH["spoken.exercise"]) == {"number", "total", "name"}


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_every_file_has_exactly_the_keys_of_english(code):
    assert raw(code).keys() == raw(DEFAULT_LANGUAGE).keys()
    assert templates(code).keys() == ENGLISH.keys()


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_every_template_uses_the_placeholders_of_english(code):
    translated = templates(code)
    for key, english in ENGLISH.items():
        assert isinstance(translated[key], str), f"{code} {key} is not a string: {translated[key]!r}"
        assert placeholders(translated[key]) == placeholders(english), f"{code} {key}: {translated[key]!r}"
        for name in placeholders(english):  # and each as often: no name said twice or dropped in one place
            assert translated[key].count("{" + name + "}") == english.count("{" + name + "}"), f"{code} {key}"


@pytest.mark.parametrize("code, name, id3_language, plural_one", [
    ("en", "English", "eng", {1}),
    ("es", "Español", "spa", {1}),
    ("de", "Deutsch", "deu", {1}),
    ("fr", "Français", "fra", {0, 1}),
    ("it", "Italiano", "ita", {1}),
    ("pt", "Português", "por", {0, 1}),
    ("nl", "Nederlands", "nld", {1}),
])
def test_the_language_of_each_file(code, name, id3_language, plural_one):
    phrases = phrases_for(code)
    assert phrases.language == code
    assert phrases.name == name
    assert phrases.id3_language == id3_language
    assert phrases.plural_one == plural_one


@pytest.mark.parametrize("code", LANGUAGES)
def test_one_takes_the_one_form_and_the_id3_code_is_three_lowercase_letters(code):
    phrases = phrases_for(code)
    assert 1 in phrases.plural_one
    assert re.fullmatch(r"[a-z]{3}", phrases.id3_language)


TIME_LEFT = [  # 1 s, 10 s, 60 s, 90 s and 120 s left
    ("en", "1 second left", "10 seconds left", "1 minute left", "1 minute 30 seconds left", "2 minutes left"),
    ("de", "noch 1 Sekunde", "noch 10 Sekunden", "noch 1 Minute", "noch 1 Minute und 30 Sekunden",
     "noch 2 Minuten"),
    ("fr", "1 seconde restante", "10 secondes restantes", "1 minute restante", "1 minute 30 secondes restantes",
     "2 minutes restantes"),
    ("es", "queda 1 segundo", "quedan 10 segundos", "queda 1 minuto", "quedan 1 minuto y 30 segundos",
     "quedan 2 minutos"),
    ("it", "manca 1 secondo", "mancano 10 secondi", "manca 1 minuto", "mancano 1 minuto e 30 secondi",
     "mancano 2 minuti"),
    ("pt", "falta 1 segundo", "faltam 10 segundos", "falta 1 minuto", "faltam 1 minuto e 30 segundos",
     "faltam 2 minutos"),
    ("nl", "nog 1 seconde", "nog 10 seconden", "nog 1 minuut", "nog 1 minuut en 30 seconden", "nog 2 minuten"),
]


@pytest.mark.parametrize("code, one_second, ten_seconds, one_minute, ninety_seconds, two_minutes", TIME_LEFT,
                         ids=[row[0] for row in TIME_LEFT])
def test_time_left_agrees_with_its_number(code, one_second, ten_seconds, one_minute, ninety_seconds,
                                          two_minutes):
    phrases = phrases_for(code)
    assert phrases.time_left(1_000) == one_second
    assert phrases.time_left(10_000) == ten_seconds
    assert phrases.time_left(60_000) == one_minute
    assert phrases.time_left(90_000) == ninety_seconds
    assert phrases.time_left(120_000) == two_minutes


def test_german_counts_repetitions():
    assert phrases_for("de").rep(3, 10) == "Wiederholung 3 von 10"


def test_the_serve_page_names_the_build_command_in_every_language():
    for code in LANGUAGES:
        text = phrases_for(code).label("no_sessions", command="voicecoach build")
        assert "voicecoach build" in text, code


WRITTEN_LABELS = {"sessions", "download", "no_sessions", "chapters", "script", "keep_screen_on", "damaged"}  # the page


def sample_outputs(phrases: CuePhrases) -> dict[str, str]:
    """Every method of CuePhrases with sample arguments."""
    announcement = phrases.exercise(2, 5, "Plank")
    outputs = {
        "exercise": announcement,
        "next_up": phrases.next_up(announcement),
        "set": phrases.set(2, 3),
        "rep": phrases.rep(3, 10),
        "side left": phrases.side("left"),
        "side right": phrases.side("right"),
        "side other": phrases.side("left foot"),
        "rest": phrases.rest(),
        "release": phrases.release(),
        "halfway": phrases.halfway(),
        **{f"time_left {ms}": phrases.time_left(ms) for ms in (1_000, 10_000, 60_000, 90_000, 120_000)},
        "session_complete": phrases.session_complete(),
        "intro_chapter": phrases.intro_chapter,
        "outro_chapter": phrases.outro_chapter,
        "exercises 1": phrases.exercises(1),
        "exercises 5": phrases.exercises(5),
    }
    for key in WRITTEN_LABELS:
        outputs[f"label {key}"] = phrases.label(key, command="voicecoach build")
    return outputs


def test_the_written_labels_are_all_sampled():
    assert set(raw(DEFAULT_LANGUAGE)["written"]) - {"intro", "outro", "exercises"} == WRITTEN_LABELS


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_phrase_comes_out_filled(code):
    phrases = phrases_for(code)
    outputs = sample_outputs(phrases)
    for what, text in outputs.items():
        assert isinstance(text, str) and text.strip(), f"{code} {what} is empty"
        assert "{" not in text and "}" not in text, f"{code} {what}: {text!r}"
    assert "Plank" in outputs["exercise"] and "2" in outputs["exercise"] and "5" in outputs["exercise"]
    assert outputs["exercise"] in outputs["next_up"] and outputs["next_up"] != outputs["exercise"]
    assert "3" in outputs["rep"] and "10" in outputs["rep"]
    assert outputs["side left"] != outputs["side right"]
    assert outputs["side other"] == "Left foot"
    assert "1" in outputs["exercises 1"] and "5" in outputs["exercises 5"]
    assert outputs["exercises 1"] != outputs["exercises 5"].replace("5", "1")  # one and other differ
    if code != DEFAULT_LANGUAGE:  # translated, not copied from English
        english = sample_outputs(phrases_for(DEFAULT_LANGUAGE))
        assert outputs["rep"] != english["rep"] and outputs["time_left 10000"] != english["time_left 10000"]
        assert outputs["session_complete"] != english["session_complete"]


def test_the_generated_cover_is_written_in_the_sessions_language():
    from voicecoach._publish.cover import cover_png

    english, german = (cover_png("Knee", 5, 600_000, None, language) for language in ("en", "de"))
    assert english != german and english == cover_png("Knee", 5, 600_000)
