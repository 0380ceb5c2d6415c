"""Speech through the real espeak-ng (via pyttsx3) and the on-disk phrase cache."""

from __future__ import annotations

import dataclasses

import pytest

from voicecoach.errors import RoutineError
from voicecoach.routine import Voice
from voicecoach.speech import PhraseCache, SpeechService


class CountingEngine:
    """The real engine, counting how often it is asked to speak."""

    def __init__(self, engine):
        self.engine, self.calls = engine, []
        self.name, self.version = engine.name, engine.version

    def voices(self):
        return self.engine.voices()

    def synthesize(self, text, settings, wav_path):
        self.calls.append(text)
        self.engine.synthesize(text, settings, wav_path)


@pytest.fixture()
def counting(speech, tmp_path):
    engine = CountingEngine(speech.engine)
    return SpeechService(PhraseCache(tmp_path / "cache"), engine_factory=lambda: engine), engine


def test_a_phrase_is_synthesized_once_then_read_from_the_cache(counting, tmp_path):
    service, engine = counting
    settings = service.settings_for(Voice(), "en")
    first = service.clips(["Rep 3 of 10", "Rest", "Rep 3 of 10"], settings)
    again = SpeechService(PhraseCache(tmp_path / "cache"), engine_factory=lambda: engine).clips(
        ["Rep 3 of 10", "Rest"], settings)
    assert engine.calls == ["Rep 3 of 10", "Rest"]
    assert again["Rep 3 of 10"] == first["Rep 3 of 10"]
    assert 300 < first["Rep 3 of 10"].length_ms < 2500
    assert not list((tmp_path / "cache").rglob("*.part*"))  # temporary files were renamed or removed


def test_a_rate_change_between_phrases_is_not_lost(counting):
    # Pins the pyttsx3 2.99 trap: a property set between phrases was silently dropped.
    service, _ = counting
    slow = service.clips(["Rep 3 of 10"], service.settings_for(Voice(rate_wpm=120), "en"))["Rep 3 of 10"]
    fast = service.clips(["Rep 3 of 10"], service.settings_for(Voice(rate_wpm=320), "en"))["Rep 3 of 10"]
    slow_again = service.clips(["Rest now"], service.settings_for(Voice(rate_wpm=120), "en"))["Rest now"]
    fast_again = service.clips(["Rest now"], service.settings_for(Voice(rate_wpm=320), "en"))["Rest now"]
    assert fast.length_ms < 0.7 * slow.length_ms
    assert fast_again.length_ms < 0.7 * slow_again.length_ms


def test_a_voice_change_between_phrases_is_not_lost(counting):
    service, _ = counting
    british = service.clips(["Tomato"], service.settings_for(Voice(name="gmw/en"), "en"))["Tomato"]
    american = service.clips(["Tomato"], service.settings_for(Voice(name="en-us"), "en"))["Tomato"]
    assert british.samples != american.samples


def test_nothing_is_printed_on_stdout(counting, capfd):
    service, _ = counting
    service.clips(["Quiet please"], service.settings_for(Voice(), "en"))
    assert capfd.readouterr().out == ""


def test_an_unknown_voice_is_an_error_listing_what_exists(speech):
    with pytest.raises(RoutineError) as caught:
        speech.settings_for(Voice(name="robot"), "en", ("k.yaml", 3, "voice.name"))
    message = str(caught.value)
    assert message.startswith('k.yaml:3: voice.name: "robot" is not a voice of espeak-ng; try one of ')
    assert "en-us" in message and "(all: `voicecoach voices`)" in message


def test_voices_resolve_by_id_language_and_name(speech):
    assert speech.settings_for(Voice(), "en").voice_id == "gmw/en"
    assert speech.settings_for(Voice(name="en-us"), "en").voice_id == "gmw/en-us"
    assert speech.settings_for(Voice(name="gmw/en-us"), "en").voice_id == "gmw/en-us"


def test_a_damaged_cache_entry_is_made_again(counting, tmp_path):
    service, engine = counting
    settings = service.settings_for(Voice(), "en")
    good = service.clips(["Breathe"], settings)["Breathe"]
    entry = service.cache.path_for(settings, "Breathe")
    entry.write_bytes(entry.read_bytes()[:30])  # a truncated WAV
    again = service.clips(["Breathe"], settings)["Breathe"]
    # espeak-ng is not bit-for-bit repeatable (lengths vary by a few ms), hence the cache; compare loosely.
    assert abs(again.length_ms - good.length_ms) < 0.1 * good.length_ms
    assert engine.calls.count("Breathe") == 2
    assert service.cache.load(settings, "Breathe") == again


def test_when_another_build_stored_the_phrase_first_its_entry_is_used(speech, tmp_path):
    # Two builds sharing a cache must agree on one clip per phrase (espeak-ng output varies by a few ms).
    ours = SpeechService(PhraseCache(tmp_path / "ours"), engine_factory=lambda: speech.engine)
    settings = ours.settings_for(Voice(), "en")
    # "Their" clip is spoken faster, so it cannot be mistaken for ours.
    other_cache = PhraseCache(tmp_path / "other")
    fast = dataclasses.replace(settings, rate_wpm=300)
    theirs = SpeechService(other_cache, engine_factory=lambda: speech.engine).clips(["Same words"], fast)["Same words"]
    entry = ours.cache.path_for(settings, "Same words")

    class AnotherBuildFinishesFirst:
        """Synthesizes for real, while another build's entry lands in the shared cache."""

        name, version = speech.engine.name, speech.engine.version

        def synthesize(self, text, settings, wav_path):
            speech.engine.synthesize(text, settings, wav_path)
            entry.write_bytes(other_cache.path_for(fast, text).read_bytes())

    assert ours.cache.make(settings, "Same words", AnotherBuildFinishesFirst()) == theirs
    assert ours.cache.load(settings, "Same words") == theirs
