"""Loudness as BS.1770 measures it: a calibrated sine, gating of silence, true peak between samples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from voicecoach._audio.mix import Levels
from voicecoach._loudness import Loudness, normalizing_gain_db, session_loudness, sound_stats, true_peak

RATE_HZ = 22_050


def sine(freq_hz: float, seconds: float, amplitude: float) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * freq_hz * np.arange(int(seconds * RATE_HZ)) / RATE_HZ)


@pytest.mark.parametrize("amplitude_db", [0.0, -10.0, -23.0])
def test_a_997_hz_sine_measures_as_the_standard_says(amplitude_db):
    # BS.1770's calibration: a 997 Hz sine at full scale reads -3.01 LKFS.
    stats = sound_stats(sine(997, 10, 10 ** (amplitude_db / 20)), RATE_HZ)
    measured = session_loudness([(0, stats)], stats.frames, RATE_HZ)
    assert measured.integrated_lufs == pytest.approx(-3.01 + amplitude_db, abs=0.1)


def test_silence_between_sounds_is_gated_out():
    # Only the few 400 ms blocks that straddle a sound's edges differ; the silence itself does not count.
    stats = sound_stats(sine(997, 10, 0.5), RATE_HZ)
    alone = session_loudness([(0, stats)], stats.frames, RATE_HZ).integrated_lufs
    spaced = session_loudness([(0, stats), (60 * RATE_HZ, stats)], 120 * RATE_HZ, RATE_HZ).integrated_lufs
    assert spaced == pytest.approx(alone, abs=0.3)


def test_the_true_peak_is_found_between_samples():
    # A sine at a quarter of the sample rate, sampled 45 degrees off its crests, never shows its peak.
    samples = 0.5 * np.sin(2 * np.pi * (np.arange(4000) / 4 + 1 / 8))
    assert np.max(np.abs(samples)) == pytest.approx(0.5 * math.sqrt(0.5), abs=1e-6)
    assert true_peak(samples) == pytest.approx(0.5, abs=0.02)


def test_the_gain_reaches_the_target_unless_a_peak_would_pass_minus_1_dbtp():
    assert normalizing_gain_db(Loudness(-22.0, -10.0), -19.0) == pytest.approx(3.0)
    assert normalizing_gain_db(Loudness(-22.0, -2.5), -19.0) == pytest.approx(1.5)


def test_tone_gain_moves_the_tones_against_the_speech_and_a_shift_moves_all():
    levels = Levels().with_tones(-6.0).shifted(2.0)
    assert levels.speech_gain_db == pytest.approx(Levels().speech_gain_db + 2.0)
    assert levels.tick_gain_db == pytest.approx(Levels().tick_gain_db - 4.0)


def test_cached_clip_statistics_give_the_loudness_of_the_samples_mixed(example_build, speech, cache_dir):
    # The statistics stored with each cache entry, scaled by the mix's gain, measure the session exactly as
    # measuring the mixed samples again does.
    import dataclasses

    from voicecoach._audio.gain import measure_loudness
    from voicecoach._audio.layout import layout_session
    from voicecoach._plan.planner import plan_session
    from voicecoach._routine.examples import open_routine

    routine = open_routine(None).base
    plan = plan_session(routine)
    clips = speech.clips(plan.phrases(), speech.settings_for(routine.voice, routine.language))
    assert all(clip.stats is not None for clip in clips.values())
    timeline = layout_session(plan, {text: clip.length_ms for text, clip in clips.items()})
    stripped = {text: dataclasses.replace(clip, stats=None) for text, clip in clips.items()}
    for levels in (Levels(), Levels().shifted(-7.5)):
        cached, measured = measure_loudness(timeline, clips, levels=levels), \
            measure_loudness(timeline, stripped, levels=levels)
        assert cached.integrated_lufs == pytest.approx(measured.integrated_lufs, abs=0.01)
        assert cached.true_peak_dbtp == pytest.approx(measured.true_peak_dbtp, abs=0.01)


def test_the_streaming_meter_measures_as_the_whole_signal_does():
    # Music under the voice is measured a chunk at a time (LoudnessMeter): the same loudness and true peak as
    # measuring the whole signal at once, however it is cut, and the true peak found between two chunks.
    from voicecoach._loudness import LoudnessMeter

    rate = 22_050
    rng = np.random.default_rng(7)
    t = np.arange(rate * 4) / rate
    signal = np.concatenate([0.3 * np.sin(2 * np.pi * 997 * t + 0.3), np.zeros(rate * 2),
                             0.05 * rng.standard_normal(rate * 5), 0.45 * np.sin(2 * np.pi * 5000 * t + 0.7)])
    whole = session_loudness([(0, sound_stats(signal, rate))], len(signal), rate)
    for chunk in (rate // 3, rate * 10 // 7, 1_000_003):
        meter = LoudnessMeter(rate)
        for start in range(0, len(signal), chunk):
            meter.add(signal[start:start + chunk])
        measured = meter.result()
        assert measured.integrated_lufs == pytest.approx(whole.integrated_lufs, abs=0.01)
        assert measured.true_peak_dbtp == pytest.approx(20 * np.log10(true_peak(signal)), abs=1e-9)
