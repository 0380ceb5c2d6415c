"""Speech through the real espeak-ng (via pyttsx3) and the on-disk phrase cache."""

from __future__ import annotations

import dataclasses
import os

import pytest

from voicecoach._errors import RoutineError, SpeechError
from voicecoach._routine.model import Voice
from voicecoach._speech.cache import PhraseCache
from voicecoach._speech.service import SpeechService

from .conftest import entry_path, write_routine


class CountingEngine:
    """The real engine, counting how often it is asked to speak."""

    def __init__(self, engine):
        self.engine, self.calls = engine, []
        self.name, self.label, self.version = engine.name, engine.label, engine.version

    def voices(self):
        return self.engine.voices()

    def settings_for(self, voice, language, where):
        return self.engine.settings_for(voice, language, where)

    def synthesize(self, text, settings):
        self.calls.append(text)
        return self.engine.synthesize(text, settings)


@pytest.fixture()
def counting(speech, tmp_path):
    engine = CountingEngine(speech.engine)
    return SpeechService(PhraseCache(tmp_path / "cache"), engines={"pyttsx3": engine}), engine


def test_a_phrase_is_synthesized_once_then_read_from_the_cache(counting, tmp_path):
    service, engine = counting
    settings = service.settings_for(Voice(), "en")
    first = service.clips(["Rep 3 of 10", "Rest", "Rep 3 of 10"], settings)
    again = SpeechService(PhraseCache(tmp_path / "cache"), engines={"pyttsx3": engine}).clips(
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
    entry = entry_path(service.cache, settings, "Breathe")
    data = entry.read_bytes()
    entry.write_bytes(data[:-100])  # truncated, as by a full disk or a copy cut short
    again = service.clips(["Breathe"], settings)["Breathe"]
    assert again == good  # the same samples: every phrase is spoken by a fresh espeak-ng
    assert engine.calls.count("Breathe") == 2
    assert service.cache.load(settings, "Breathe") == again
    assert service.cache.take_notices() == (
        f"a damaged speech cache entry ({good.frames - 50} of {good.frames} samples) was thrown away and made again",)


def test_an_altered_cache_entry_fails_its_checksum(counting):
    service, engine = counting
    settings = service.settings_for(Voice(), "en")
    service.clips(["Exhale"], settings)
    entry = entry_path(service.cache, settings, "Exhale")
    data = bytearray(entry.read_bytes())
    data[-1000] ^= 0x40  # one flipped bit in the samples
    entry.write_bytes(bytes(data))
    service.clips(["Exhale"], settings)
    assert engine.calls.count("Exhale") == 2
    assert service.cache.take_notices() == (
        "a damaged speech cache entry (checksum mismatch) was thrown away and made again",)
    assert service.cache.info().damaged == 0


@pytest.mark.parametrize("damage", [(b'"sample_rate_hz"', b'"sample_rate_hy"'), (b'"true_peak"', b'"true_peal"'),
                                    (b'"sample_rate_hz": 22050', b'"sample_rate_hz": 92050')],
                         ids=["a key", "another key", "the sample rate"])
def test_a_damaged_header_is_noticed_and_made_again(counting, damage):
    service, engine = counting
    settings = service.settings_for(Voice(), "en")
    good = service.clips(["Inhale"], settings)["Inhale"]
    entry = entry_path(service.cache, settings, "Inhale")
    data = entry.read_bytes()
    assert damage[0] in data
    entry.write_bytes(data.replace(damage[0], damage[1], 1))
    assert service.clips(["Inhale"], settings)["Inhale"] == good
    assert engine.calls.count("Inhale") == 2
    notices = service.cache.take_notices()
    assert len(notices) == 1 and notices[0].startswith("a damaged speech cache entry (")


def test_cache_info_counts_and_checks_and_clear_empties(counting, tmp_path):
    service, _ = counting
    for rate in (150, 200):
        service.clips(["One", "Two"], service.settings_for(Voice(rate_wpm=rate), "en"))
    broken = entry_path(service.cache, service.settings_for(Voice(rate_wpm=150), "en"), "Two")
    broken.write_bytes(b"rubbish")
    info = service.cache.info()
    assert (info.entries, info.voices, info.damaged, info.leftovers) == (4, 2, 1, 0)
    assert info.size_bytes == sum(p.stat().st_size for p in (tmp_path / "cache").rglob("*.clip"))
    assert service.cache.clear().entries == 4
    assert service.cache.info().entries == 0
    service.clips(["One"], service.settings_for(Voice(), "en"))  # a cleared cache fills again
    assert service.cache.info().entries == 1


def test_when_another_build_stored_the_phrase_first_its_entry_is_used(speech, tmp_path):
    # Two builds sharing a cache must agree on one clip per phrase (espeak-ng output varies by a few ms).
    ours = SpeechService(PhraseCache(tmp_path / "ours"), engines={"pyttsx3": speech.engine})
    settings = ours.settings_for(Voice(), "en")
    # "Their" clip is spoken faster, so it cannot be mistaken for ours.
    other_cache = PhraseCache(tmp_path / "other")
    fast = dataclasses.replace(settings, rate_wpm=300)
    theirs = SpeechService(other_cache, engines={"pyttsx3": speech.engine}).clips(["Same words"], fast)["Same words"]
    entry = entry_path(ours.cache, settings, "Same words")

    class AnotherBuildFinishesFirst:
        """Synthesizes for real, while another build's entry lands in the shared cache."""

        name, label, version = speech.engine.name, speech.engine.label, speech.engine.version

        def synthesize(self, text, settings):
            clip = speech.engine.synthesize(text, settings)
            entry.parent.mkdir(parents=True, exist_ok=True)
            entry.write_bytes(entry_path(other_cache, fast, text).read_bytes())
            return clip

    assert ours.cache.make(settings, "Same words", AnotherBuildFinishesFirst()) == theirs
    assert ours.cache.load(settings, "Same words") == theirs


def test_a_cold_cache_is_filled_by_a_pool_of_engine_processes(tmp_path, monkeypatch):
    # Spawned workers synthesize (each with its own espeak-ng); this process only hands clips on, in order.
    from voicecoach._speech.engines.pyttsx3_engine import Pyttsx3Engine

    def not_here(self, text, settings):
        raise AssertionError(f'"{text}" was synthesized in the parent')

    monkeypatch.setattr(Pyttsx3Engine, "synthesize", not_here)
    service = SpeechService(PhraseCache(tmp_path / "cache"), workers=2)
    settings = service.settings_for(Voice(), "en")
    texts = [f"Rep {number} of 8" for number in range(1, 9)]
    heard = []
    clips = service.clips(texts, settings, on_clip=lambda text, clip: heard.append(text))
    assert heard == texts
    for text in texts:
        assert service.cache.load(settings, text) == clips[text]
        assert clips[text].stats is not None and 300 < clips[text].length_ms < 2500
    assert not list((tmp_path / "cache").rglob("*.part*"))


def test_ctrl_c_while_a_pool_synthesizes_stops_it_cleanly(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from voicecoach._speech.entry import decode_entry

    from .conftest import wait_for

    # Enough phrases for the pool, and a hold of hours: the build cannot be over before the Ctrl-C lands.
    routine = write_routine(tmp_path, "title: Long and wordy\nintro: Many phrases start the pool.\n"
                                      "outro: That is all.\nexercises:\n"
                                      "  - {name: Stand, cue: Stand tall, hold: 4h, countdown: 0, announce: []}\n"
                                      "  - {name: Sit, cue: Sit down slowly, hold: 2s}\n"
                                      "  - {name: Lie, cue: Lie on your back, hold: 2s}\n")
    cache, out = tmp_path / "cache", tmp_path / "out"
    build = subprocess.Popen([sys.executable, "-m", "voicecoach", "build", str(routine), "-q", "-o", str(out),
                              "--cache-dir", str(cache)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    wait_for(lambda: bool(list(cache.rglob("*.clip"))), build)  # the workers have begun to fill the cache
    os.killpg(build.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, stderr = build.communicate(timeout=60)
    assert (build.returncode, stderr) == (130, "interrupted; no output file was left half-written\n")
    assert not out.exists() or not any(out.iterdir())
    entries = list(cache.rglob("*"))
    assert not [path for path in entries if path.name.endswith(".part")]
    for entry in (path for path in entries if path.suffix == ".clip"):
        decode_entry(entry.read_bytes())  # every entry is whole


def test_a_phrase_that_crashes_espeak_ng_is_one_short_error_and_the_engine_goes_on(speech):
    # espeak-ng 1.51 died of SIGSEGV on some inputs (tens of kB; not every time, so the crash is made here: the
    # child that speaks the phrase gets the signal while it speaks). It dies in its own child process, so this
    # process lives and says so in one short line, and the next phrase is spoken.
    import signal
    import threading
    from pathlib import Path

    from .conftest import wait_for

    settings = speech.settings_for(Voice(), "en")
    engine = speech.engine
    engine.synthesize("Rest", settings)  # the speaker is running
    speaker = engine._speaker._process.pid

    def children() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == speaker:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
        return found

    raised: list[BaseException] = []

    def speak() -> None:
        try:
            engine.synthesize("word " * 1_000, settings)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            raised.append(error)

    speaking = threading.Thread(target=speak)
    speaking.start()
    wait_for(lambda: bool(children()) or not speaking.is_alive())
    for child in children():
        os.kill(child, signal.SIGSEGV)
    speaking.join(timeout=120)
    assert [type(error) for error in raised] == [SpeechError]
    assert raised[0].format() == 'espeak-ng could not speak "' + "word " * 12 + '..." (5000 characters): ' \
                                 "espeak-ng crashed (signal 11)"
    assert len(engine.synthesize("Rest", settings).samples) > 0
