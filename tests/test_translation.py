"""A routine built in another language: what is translated, what is not and says so, and the texts a routine can
give per language (its words, its sides, its lexicon). Pure: the plan and the layout on the fake engine's lengths."""

from __future__ import annotations

import pytest

from voicecoach._audio.layout import layout_session
from voicecoach._audio.timeline import SpeechEvent
from voicecoach._errors import LayoutError
from voicecoach._plan.planner import plan_session
from voicecoach._plan.script import format_script
from voicecoach._routine.load import load_routine_file
from voicecoach._routine.settings import parse_setting

from .conftest import write_routine
from .fake_engine import fake_ms

ENGLISH_ONLY = """title: Knee rehab
exercises:
  - name: Heel slides
    instructions: Slide your heel towards you.
    hold: 5s
  - name: Quad sets
    hold: 5s
    sets: 2
lexicon: {Set: sett}
"""

PER_LANGUAGE = """title: {en: Knee rehab, de: Knie-Reha, nl: Knierevalidatie}
exercises:
  - name: {en: Heel slides, de: Fersenrutschen, nl: Hielglijden}
    hold: 5s
    sides: {en: [left leg, right leg], de: [linkes Bein, rechtes Bein], nl: [linkerbeen, rechterbeen]}
  - name: {en: Quad sets, de: Quadrizepsspannen, nl: Quadricepsaanspanning}
    hold: 5s
    sets: 2
lexicon: {en: {Set: sett}, de: {Pause: Pausä}}
"""


def session(tmp_path, text: str, language: str):
    routine = load_routine_file(write_routine(tmp_path, text, "knee.yaml"))
    return routine.session(settings=(parse_setting(f"language={language}"),))


def laid_out(routine, strict: bool = False):
    plan = plan_session(routine)
    return plan, layout_session(plan, {text: fake_ms(text) for text in plan.phrases()}, strict=strict)


def said(timeline) -> list[str]:
    return [event.text for event in timeline.events if isinstance(event, SpeechEvent)]


def test_a_language_switch_says_which_text_has_no_translation(tmp_path):
    plan, timeline = laid_out(session(tmp_path, ENGLISH_ONLY, "de"))
    assert timeline.warnings[0] == ("no de text for title, exercises[0].name, exercises[0].instructions, "
                                    "exercises[1].name: said as written by a voice for en (a name inside a de "
                                    "cue, by the de voice); add `de: ...` under each")
    assert "Übung 1 von 2: Heel slides" in said(timeline)  # voicecoach's own words are in German
    script = format_script(plan)
    assert ("no de text, said as written in en: title, exercises[0].name, exercises[0].instructions, "
            "exercises[1].name") in script.splitlines()


def test_under_strict_a_missing_translation_is_an_error_before_anything_is_laid_out(tmp_path):
    routine = session(tmp_path, ENGLISH_ONLY, "de")
    with pytest.raises(LayoutError) as caught:
        laid_out(routine, strict=True)
    assert caught.value.format({"strict": "--strict"}) == (
        f"{tmp_path / 'knee.yaml'}: no de text for title, exercises[0].name, exercises[0].instructions, "
        "exercises[1].name: said as written by a voice for en (a name inside a de cue, by the de voice); add "
        "`de: ...` under each; or build without "
        "--strict")


def test_the_routine_s_own_language_has_no_warning(tmp_path):
    _, timeline = laid_out(session(tmp_path, ENGLISH_ONLY, "en"))
    assert timeline.warnings == ()


@pytest.mark.parametrize(("language", "sides", "name"), [
    ("de", ["Linkes Bein", "Rechtes Bein"], "Fersenrutschen"),
    ("nl", ["Linkerbeen", "Rechterbeen"], "Hielglijden"),
    ("en", ["Left leg", "Right leg"], "Heel slides"),
])
def test_sides_and_names_can_be_given_per_language(tmp_path, language, sides, name):
    plan, timeline = laid_out(session(tmp_path, PER_LANGUAGE, language))
    lines = said(timeline)
    assert [line for line in lines if line in sides] == sides
    assert any(line.endswith(f": {name}") for line in lines)
    assert timeline.warnings == ()  # every text has its translation


def test_a_lexicon_per_language_touches_only_its_language(tmp_path):
    german, _ = laid_out(session(tmp_path, PER_LANGUAGE, "de"))
    dutch, _ = laid_out(session(tmp_path, PER_LANGUAGE, "nl"))
    english, _ = laid_out(session(tmp_path, PER_LANGUAGE, "en"))
    assert dutch.spoken("Set 1 van 2") == "Set 1 van 2"  # the English entry for "Set" does not reach Dutch
    assert german.spoken("Pause") == "Pausä"
    assert english.spoken("Set 1 of 2") == "sett 1 of 2"


def test_a_flat_lexicon_is_for_the_routine_s_own_language_only(tmp_path):
    dutch, _ = laid_out(session(tmp_path, ENGLISH_ONLY, "nl"))
    english, _ = laid_out(session(tmp_path, ENGLISH_ONLY, "en"))
    assert (dutch.spoken("Set 1 van 2"), english.spoken("Set 1 of 2")) == ("Set 1 van 2", "sett 1 of 2")


def test_a_text_given_in_other_languages_falls_back_to_the_routine_s_own_and_says_so(tmp_path):
    _, timeline = laid_out(session(tmp_path, PER_LANGUAGE, "fr"))
    assert "Exercice 1 sur 2\u00a0: Heel slides" in said(timeline)
    assert timeline.warnings[0].startswith("no fr text for title, exercises[0].name, exercises[0].sides, "
                                           "exercises[1].name: said as written by a voice for en")


TEMPO = """title: Squats
exercises:
  - name: {en: Squats, de: Kniebeugen}
    reps: 2
    tempo: {en: {down: 2s, up: 1s}, de: {runter: 2s, hoch: 1s}}
"""


def test_tempo_phase_names_can_be_given_per_language(tmp_path):
    german = session(tmp_path, TEMPO, "de")
    assert [(phase.name, phase.ms) for phase in german.exercises[0].tempo] == [("runter", 2000), ("hoch", 1000)]
    timeline = laid_out(german)[1]
    assert [event.phase for event in timeline.events if event.kind == "phase"][:2] == ["runter", "hoch"]
    dutch = session(tmp_path, TEMPO, "nl")  # no Dutch: the routine's own names, and the warning says so
    assert [phase.name for phase in dutch.exercises[0].tempo] == ["down", "up"]
    assert dutch.untranslated == ("title", "exercises[0].name", "exercises[0].tempo")


def test_a_tempo_whose_phases_differ_between_languages_is_one_line(tmp_path):
    from voicecoach._errors import RoutineError

    with pytest.raises(RoutineError) as caught:
        session(tmp_path, TEMPO.replace("hoch: 1s", "hoch: 2s"), "de")
    assert str(caught.value) == (f"{tmp_path / 'knee.yaml'}:5: exercises[0].tempo: its phases last differently in "
                                 "different languages; give each language the same phases, in the same order and of "
                                 "the same lengths, named in its own words")


# ---------------------------------------------------------------- in the decoded MP3, with the real engine


def test_an_untranslated_instruction_is_said_by_a_voice_of_its_own_language(tmp_path, cache_dir, speech):
    import numpy as np

    from voicecoach._pipeline.build import BuildOptions, build_session
    from voicecoach._routine.model import Voice

    from .audio_probe import RATE_HZ, decode_mp3

    routine = session(tmp_path, ENGLISH_ONLY, "de")
    result = build_session(routine, BuildOptions(output_dir=tmp_path / "out", cache_dir=cache_dir))
    decoded = decode_mp3(result.mp3_path)
    events = {event.text: event for event in result.timeline.events if isinstance(event, SpeechEvent)}

    def reference(text: str, language: str) -> np.ndarray:
        clip = speech.clips([text], speech.settings_for(Voice(), language))[text]
        return np.frombuffer(clip.samples, dtype="<i2").astype(np.float64) / 32768

    def likeness(text: str, language: str) -> float:
        """How alike the MP3 where ``text`` is said and ``text`` said by the voice for ``language`` (1: the same
        sound), over the shorter of the two."""
        wanted = reference(text, language)
        start = round(events[text].start_ms * RATE_HZ / 1000)
        heard = decoded[start:start + len(wanted)]
        wanted = wanted[:len(heard)]
        return float(np.dot(heard, wanted) / (np.linalg.norm(heard) * np.linalg.norm(wanted)))

    instruction, cue = "Slide your heel towards you.", "Loslassen"
    assert likeness(instruction, "en") > 0.9 > likeness(instruction, "de")  # the English text, in English
    assert likeness(cue, "de") > 0.9 > likeness(cue, "en")  # voicecoach's words, in German
    said_length = events[instruction].end_ms - events[instruction].start_ms
    assert said_length == speech.clips([instruction], speech.settings_for(Voice(), "en"))[instruction].length_ms


def test_a_batch_in_two_languages_says_the_untranslated_text_in_its_own_voice_and_is_then_up_to_date(
        tmp_path, cache_dir, speech):
    from voicecoach._catalog.catalog import build_batch
    from voicecoach._catalog.model import BatchOptions
    from voicecoach._catalog.specs import batch_specs
    from voicecoach._routine.model import Voice
    from voicecoach._routine.settings import parse_matrix

    routine_file = load_routine_file(write_routine(tmp_path, ENGLISH_ONLY, "knee.yaml"))
    specs = batch_specs(routine_file, matrix=[parse_matrix("language=en,de")])
    options = BatchOptions(output_dir=tmp_path / "out", jobs=2, cache_dir=cache_dir)
    result = build_batch(routine_file, specs, options)
    instruction = "Slide your heel towards you."
    english_ms = speech.clips([instruction], speech.settings_for(Voice(), "en"))[instruction].length_ms
    lengths = [next(event.end_ms - event.start_ms for event in session.result.timeline.events
                    if isinstance(event, SpeechEvent) and event.text == instruction) for session in result.sessions]
    assert lengths == [english_ms, english_ms]  # the English voice in both sessions
    again = build_batch(routine_file, specs, options)
    assert [session.up_to_date for session in again.sessions] == [True, True]
