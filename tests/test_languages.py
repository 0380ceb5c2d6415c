"""A session in each language: the real espeak-ng voices and ffmpeg, measured in the decoded MP3s."""

from __future__ import annotations

import json

import numpy as np
import pytest
from mutagen.id3 import ID3

from voicecoach._catalog.catalog import build_batch
from voicecoach._catalog.model import BatchOptions
from voicecoach._catalog.specs import batch_specs
from voicecoach._pipeline.build import BuildOptions, build_session
from voicecoach._routine.languages import SUPPORTED_LANGUAGES, phrases_for
from voicecoach._routine.load import load_routine_file
from voicecoach._routine.model import Voice
from voicecoach._routine.settings import parse_matrix, parse_setting
from voicecoach._speech.cache import PhraseCache
from voicecoach._speech.service import SpeechService

from .audio_probe import RATE_HZ, decode_mp3
from .conftest import write_routine
from .session_checks import check_timing, events

LANGUAGES = ("en", "es", "de", "fr", "it", "pt", "nl")

# One routine for every language: the title and intro per language, the exercises named the same way
# everywhere; sides from `sides: true`, sets, reps and a time-left call, so that every kind of cue is said.
ROUTINE = """\
title:
  en: Morning feet
  es: Pies por la mañana
  de: Füße am Morgen
  fr: Pieds du matin
  it: Piedi al mattino
  pt: Pés de manhã
  nl: Voeten in de ochtend
intro:
  en: Sit down.
  es: Siéntate.
  de: Setz dich hin.
  fr: Asseyez-vous.
  it: Siediti.
  pt: Senta-te.
  nl: Ga zitten.
outro: {en: Well done., es: Bien hecho., de: Gut gemacht., fr: Bravo., it: Ben fatto., pt: Muito bem., nl: Goed gedaan.}
prepare: 4s
exercises:
  - name: Toe curl
    hold: 8s
    reps: 2
    rep_rest: 6s
    sides: true
    side_rest: 6s
    announce: [6s]
    countdown: 2
    rest: 8s
  - name: Heel raise
    hold: 3s
    sets: 2
    set_rest: 8s
    countdown: 0
"""
HOLD_MS = {"toe-curl": 8000, "heel-raise": 3000}


@pytest.fixture(scope="module")
def routine_file(tmp_path_factory):
    return load_routine_file(write_routine(tmp_path_factory.mktemp("routine"), ROUTINE, "feet.yaml"),
                             display_name="feet.yaml")


@pytest.fixture(scope="module")
def built(routine_file, tmp_path_factory, cache_dir):
    """The routine built once per language, each through its language's espeak-ng voice."""
    output_dir = tmp_path_factory.mktemp("languages")
    results = {}
    for language in LANGUAGES:
        routine = routine_file.session(settings=(parse_setting(f"language={language}"),))
        results[language] = build_session(routine, BuildOptions(output_dir=output_dir, cache_dir=cache_dir))
    return results


def test_every_supported_language_is_built_here():
    assert set(LANGUAGES) == SUPPORTED_LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_cues_are_the_languages_phrases_and_keep_the_timing(built, language):
    result = built[language]
    timeline = json.loads(result.timeline_path.read_text(encoding="utf-8"))
    said = [event["text"] for event in events(timeline, "speech")]
    words = phrases_for(language)
    expected = [words.exercise(1, 2, "Toe curl"), words.side("left"), words.rep(1, 2), words.time_left(6000),
                words.release(), words.rep(2, 2), words.rest(), words.side("right"),
                words.next_up(words.exercise(2, 2, "Heel raise")), words.set(1, 2), words.set(2, 2),
                words.session_complete()]
    missing = [text for text in expected if text not in said]
    assert not missing, (missing, said)
    assert timeline["language"] == language
    assert [chapter["title"] for chapter in timeline["chapters"]] == [
        words.intro_chapter, "Toe curl", "Heel raise", words.outro_chapter]
    if language != "en":
        english = phrases_for("en")
        assert not {english.rep(1, 2), english.session_complete(), english.side("left")} & set(said)
    tones, holds, gaps = check_timing(decode_mp3(result.mp3_path), timeline, HOLD_MS)
    assert (holds, tones > 20, gaps > 10) == (6, True, True)


@pytest.mark.parametrize("language", LANGUAGES)
def test_titles_and_id3_language_fields_follow_the_language(built, language):
    result = built[language]
    tags = ID3(result.mp3_path)
    code = phrases_for(language).id3_language
    assert [frame.lang for frame in tags.getall("USLT") + tags.getall("SYLT")] == [code, code]
    assert tags["TLAN"].text == [code]
    title = {"en": "Morning feet", "de": "Füße am Morgen", "fr": "Pieds du matin"}.get(language)
    if title:
        assert tags["TIT2"].text == [f"{title} ({phrases_for(language).name})"]  # "Füße am Morgen (Deutsch)"
        assert result.mp3_path.name == {"en": "morning-feet--english.mp3",
                                        "de": "fusse-am-morgen--deutsch.mp3",
                                        "fr": "pieds-du-matin--francais.mp3"}[language]


def _spectrogram(samples: np.ndarray, frame: int = 512, hop: int = 256) -> np.ndarray:
    windows = np.lib.stride_tricks.sliding_window_view(samples, frame)[::hop] * np.hanning(frame)
    return np.log(np.abs(np.fft.rfft(windows, axis=1))[:, 4:160] + 1e-3)  # about 170 Hz to 6.9 kHz


def _likeness(heard: np.ndarray, clip_samples: np.ndarray) -> float:
    """How alike two sounds are: the correlation of their log spectrograms over the shorter one."""
    a, b = _spectrogram(heard), _spectrogram(clip_samples)
    frames = min(len(a), len(b))
    return float(np.corrcoef(a[:frames].ravel(), b[:frames].ravel())[0, 1])


def test_the_german_cue_heard_is_the_german_phrase(built, tmp_path):
    # Say "Wiederholung 2 von 2" again with a fresh cache (espeak-ng is not bit-for-bit repeatable),
    # and the same line in English, and compare both with what the MP3 plays at the timeline's time.
    timeline = json.loads(built["de"].timeline_path.read_text(encoding="utf-8"))
    german = phrases_for("de").rep(2, 2)
    event = next(event for event in events(timeline, "speech") if event["text"] == german)
    decoded = decode_mp3(built["de"].mp3_path)
    heard = decoded[round(event["start"] * RATE_HZ):round(event["end"] * RATE_HZ)]
    fresh = SpeechService(PhraseCache(tmp_path / "fresh"))
    again = fresh.clips([german], fresh.settings_for(Voice(), "de"))[german]
    english_text = phrases_for("en").rep(2, 2)
    english = fresh.clips([english_text], fresh.settings_for(Voice(), "en"))[english_text]
    assert abs(again.length_ms - (event["end"] - event["start"]) * 1000) < 60
    as_german = _likeness(heard, np.frombuffer(again.samples, "<i2") / 32768)
    as_english = _likeness(heard, np.frombuffer(english.samples, "<i2") / 32768)
    assert as_german > 0.8 and as_german > as_english + 0.2, (as_german, as_english)


def test_a_matrix_of_languages_makes_one_session_per_language(routine_file, tmp_path, cache_dir):
    specs = batch_specs(routine_file, matrix=[parse_matrix("language=en,de")])
    result = build_batch(routine_file, specs, BatchOptions(output_dir=tmp_path, jobs=1, cache_dir=cache_dir))
    assert [session.name for session in result.sessions] == ["morning-feet--english", "fusse-am-morgen--deutsch"]
    for session, language, title in zip(result.sessions, ("en", "de"), ("Morning feet", "Füße am Morgen")):
        tags = ID3(session.result.mp3_path)
        assert tags["TIT2"].text == [f"{title} ({phrases_for(language).name})"]
        assert tags.getall("USLT")[0].lang == phrases_for(language).id3_language
        said = [event.text for event in session.result.timeline.events if event.kind == "speech"]
        assert said[0] == {"en": "Sit down.", "de": "Setz dich hin."}[language]
        assert phrases_for(language).rep(1, 2) in said
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    assert [entry["overrides"] for entry in manifest["sessions"]] == [{"language": "en"}, {"language": "de"}]
