"""The words of every language: each data file has every phrase of English, with the same placeholders."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest
import yaml

from voicecoach._plan.planner import plan_session
from voicecoach._plan.steps import Hold
from voicecoach._routine.languages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, CuePhrases, phrases_for, placeholders
from voicecoach._routine.lexicon import Lexicon
from voicecoach._routine.limits import MAX_DURATION_S
from voicecoach._routine.read import parse_routine

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
    ("pt", "Português", "por", {1}),  # "0 segundos": only 1 is singular
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


TIME_LEFT = [  # 1 s, 10 s, 60 s, 90 s and 120 s left: a line of its own, so it starts with a capital
    ("en", "1 second left", "10 seconds left", "1 minute left", "1 minute 30 seconds left", "2 minutes left"),
    ("de", "Noch 1 Sekunde", "Noch 10 Sekunden", "Noch 1 Minute", "Noch 1 Minute und 30 Sekunden",
     "Noch 2 Minuten"),
    ("fr", "Encore 1 seconde", "Encore 10 secondes", "Encore 1 minute", "Encore 1 minute 30 secondes",
     "Encore 2 minutes"),
    ("es", "Queda 1 segundo", "Quedan 10 segundos", "Queda 1 minuto", "Quedan 1 minuto y 30 segundos",
     "Quedan 2 minutos"),
    ("it", "Manca 1 secondo", "Mancano 10 secondi", "Manca 1 minuto", "Mancano 1 minuto e 30 secondi",
     "Mancano 2 minuti"),
    ("pt", "Falta 1 segundo", "Faltam 10 segundos", "Falta 1 minuto", "Faltam 1 minuto e 30 segundos",
     "Faltam 2 minutos"),
    ("nl", "Nog 1 seconde", "Nog 10 seconden", "Nog 1 minuut", "Nog 1 minuut en 30 seconden", "Nog 2 minuten"),
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


WRITTEN_LABELS = {"sessions", "download", "no_sessions", "chapters", "script", "keep_screen_on", "damaged",  # the page
                  "week_day", "week", "today", "up_next", "played", "week_progress"}  # a program's titles and page


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
        outputs[f"label {key}"] = phrases.label(key, command="voicecoach build", week=2, day=3, done=1, total=3)
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


# -- a native speaker's review of the phrase files, pinned

REVIEWED = [  # (language, key in the data file, text)
    ("es", "spoken.next_up", "A continuación: {exercise}"),
    ("es", "spoken.phases.down", "baja"),
    ("es", "spoken.phases.bottom", "pausa"),
    ("es", "spoken.phases.up", "sube"),
    ("es", "spoken.phases.top", "arriba"),
    ("fr", "spoken.exercise", "Exercice {number} sur {total}\u00a0: {name}"),
    ("fr", "spoken.next_up", "À suivre\u00a0: {exercise}"),
    ("fr", "spoken.release", "Relâche"),
    ("fr", "spoken.halfway", "Mi-temps"),
    ("fr", "spoken.time_left.one", "encore {time}"),
    ("fr", "spoken.time_left.other", "encore {time}"),
    ("fr", "spoken.phases.down", "descends"),
    ("fr", "written.no_sessions", "Aucune séance pour l’instant. Crée-en une avec {command}."),
    ("fr", "written.keep_screen_on", "Garde l’écran allumé pendant que tu t’entraînes\u00a0: désactive le verrouillage "
                                     "automatique dans les réglages d’affichage de ton téléphone, ou ouvre cette page "
                                     "en HTTPS."),
    ("pt", "spoken.halfway", "A meio"),
    ("pt", "written.no_sessions", "Ainda não há sessões. Cria uma com {command}."),
    ("pt", "written.keep_screen_on", "Mantém o ecrã ligado enquanto treinas: desativa o bloqueio automático nas "
                                     "definições de ecrã do teu telemóvel, ou abre esta página por HTTPS."),
    ("nl", "spoken.release", "Laat los"),  # espeak-ng stresses "Loslaten" on its last syllable
    ("nl", "spoken.next_up", "Volgende: {exercise}"),
    ("nl", "written.no_sessions", "Nog geen trainingen. Maak er één met {command}."),
    ("de", "spoken.release", "Loslassen"),
    ("de", "written.keep_screen_on", "Lass den Bildschirm beim Training an: Schalte die automatische Sperre in den "
                                     "Anzeigeeinstellungen deines Handys aus, oder öffne diese Seite über HTTPS."),
]


@pytest.mark.parametrize("code, key, text", REVIEWED, ids=[f"{code}-{key}" for code, key, _ in REVIEWED])
def test_the_reviewed_wording(code, key, text):
    assert templates(code)[key] == text


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_four_phases_of_a_tempo_are_four_different_words(code):
    words = [phrases_for(code).phase(name) for name in ("down", "bottom", "up", "top")]
    assert len({word.casefold() for word in words}) == 4, words


def test_a_spanish_four_phase_tempo_is_heard_as_four_different_words():
    routine = parse_routine('title: Sentadillas\nlanguage: es\nexercises:\n'
                            '  - {name: Sentadilla, tempo: "2-1-1-1", reps: 2, phase_cue: voice}\n', "t.yaml")
    holds = [step for step in plan_session(routine).steps if isinstance(step, Hold) and step.tempo]
    assert [phase.word for phase in holds[0].tempo.phases] == ["baja", "pausa", "sube", "arriba"]


def test_french_says_tu_with_one_apostrophe_and_a_no_break_space_before_high_punctuation():
    texts = {key: value for key, value in leaves(raw("fr")).items() if isinstance(value, str)}
    texts.update({f"say {written}": said for written, said in phrases_for("fr").say})
    for key, text in texts.items():
        assert "'" not in text, key  # the apostrophe is ’ everywhere
        assert "\u202f" not in text, key  # and the space before : ; ! ? is U+00A0 everywhere
        for mark in re.finditer(r"[:;!?]", text):
            assert text[mark.start() - 1] == "\u00a0", (key, text)
        assert not re.search(r"\b(vous|votre|vos)\b|\w{2}ez\b", text, re.IGNORECASE), (key, text)  # "Relâchez"


def test_portuguese_says_tu_in_its_written_labels():
    written = " ".join(raw("pt")["written"][key] for key in WRITTEN_LABELS)
    assert not re.search(r"\b(Mantenha|treina|desative|abra|você)\b", written)


def test_zero_takes_the_plural_in_portuguese_and_the_singular_in_french():
    assert phrases_for("pt").exercises(0) == "0 exercícios"
    assert phrases_for("fr").exercises(0) == "0 exercice"


# -- the time-left line: a line of its own, so capitalised; and said with the right number words

@pytest.mark.parametrize("code", LANGUAGES)
def test_every_time_left_line_starts_with_a_capital_or_a_number(code):
    for ms in (1_000, 10_000, 60_000, 90_000, 120_000, 3_599_000):
        line = phrases_for(code).time_left(ms)
        assert line[0].isupper() or line[0].isdigit(), line


def test_the_start_of_a_line_gets_its_capital_where_the_language_has_one():
    assert phrases_for("es").line_start("quedan 10 segundos") == "Quedan 10 segundos"
    assert phrases_for("es").line_start("¡vamos!") == "¡Vamos!"
    assert phrases_for("en").line_start("10 seconds left") == "10 seconds left"  # not "10 Seconds left"
    assert phrases_for("nl").line_start("ijsberen") == "IJsberen"  # Dutch ij is one letter
    assert phrases_for("en").line_start("ijsberen") == "Ijsberen"
    assert phrases_for("de").line_start("ßig") == "ßig"  # no one-letter capital: left as it is
    assert phrases_for("en").line_start("あと10秒") == "あと10秒"  # a script without capitals


def test_a_built_sessions_time_left_call_is_capitalised():
    routine = parse_routine("title: Tabla\nlanguage: es\nexercises: [{name: Plancha, hold: 40s, announce: [10s]}]\n",
                            "t.yaml")
    calls = [call.text for step in plan_session(routine).steps if isinstance(step, Hold) for call in step.calls]
    assert calls == ["Quedan 10 segundos"]


MAX_MINUTES = MAX_DURATION_S // 60  # a hold's longest time left, in whole minutes (it is less than the hold)


def needs_spoken_form(code: str, n: int) -> bool:
    """Whether the voice must be told how to say "n minutes" or "n seconds": the number word agrees with the noun
    where espeak-ng says the bare number ("uno minutos", "vingt-et-un minutes", "eins Minute")."""
    if code == "es":
        return n % 10 == 1 and n % 100 != 11  # "veintiún minutos", "ciento un minutos"; "once" does not change
    if code == "fr":
        return n % 10 == 1 and n % 100 not in (11, 71, 91)  # "vingt-et-une minutes"; "onze" does not change
    return n == 1 and code in ("de", "it")  # "eine Minute", "un minuto"


ES_ONES = {1: "un", 21: "veintiún", 31: "treinta y un", 41: "cuarenta y un", 51: "cincuenta y un",
           61: "sesenta y un", 71: "setenta y un", 81: "ochenta y un", 91: "noventa y un"}
FR_ONES = {1: "une", 21: "vingt-et-une", 31: "trente-et-une", 41: "quarante-et-une", 51: "cinquante-et-une",
           61: "soixante-et-une", 81: "quatre-vingt-une"}
SPELLED = {
    "es": lambda n: {0: "", 1: "ciento ", 2: "doscientos "}[n // 100] + ES_ONES[n % 100],
    "fr": lambda n: {0: "", 1: "cent-", 2: "deux-cent-"}[n // 100] + FR_ONES[n % 100],
    "de": lambda n: "eine",
    "it": lambda n: "un",
}


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_minute_and_second_count_a_hold_can_leave_is_said_in_agreement(code):
    phrases = phrases_for(code)
    lexicon = Lexicon(phrases.say)
    needed = set()
    for unit, last, ms in (("minutes", MAX_MINUTES, 60_000), ("seconds", 59, 1_000)):
        for n in range(1, last + 1):
            written = phrases.time_left(n * ms)
            said = lexicon.apply(written)
            if needs_spoken_form(code, n):
                counted = phrases._counted(phrases.spoken[unit], n)
                needed.add(counted)
                assert said == written.replace(counted, counted.replace(str(n), SPELLED[code](n))), (n, said)
            else:
                assert said == written, (n, said)
    assert {written for written, _ in phrases.say} == needed  # and no entry the voice never needs


def test_minutes_and_seconds_are_both_said_in_agreement():
    for code, said in (("es", "Quedan sesenta y un minutos y veintiún segundos"),
                       ("fr", "Encore soixante-et-une minutes vingt-et-une secondes")):
        phrases = phrases_for(code)
        assert Lexicon(phrases.say).apply(phrases.time_left(61 * 60_000 + 21_000)) == said


@pytest.mark.parametrize("code, minutes, said", [
    ("es", 61, "Quedan sesenta y un minutos"), ("es", 91, "Quedan noventa y un minutos"),
    ("es", 231, "Quedan doscientos treinta y un minutos"),
    ("fr", 61, "Encore soixante-et-une minutes"), ("fr", 81, "Encore quatre-vingt-une minutes"),
    ("fr", 71, "Encore 71 minutes"),  # soixante-et-onze: the same for every noun
])
def test_a_long_holds_time_left_is_said_in_agreement(code, minutes, said):
    routine = parse_routine(f"title: Long\nlanguage: {code}\n"
                            f"exercises: [{{name: Hold, hold: {minutes + 1}m, announce: [{minutes}m]}}]\n", "t.yaml")
    plan = plan_session(routine)
    calls = [call.text for step in plan.steps if isinstance(step, Hold) for call in step.calls]
    assert [plan.spoken(text) for text in calls] == [said]
