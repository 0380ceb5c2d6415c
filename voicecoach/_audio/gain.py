"""The one gain that brings a session to its loudness target, from each sound's BS.1770 statistics."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._loudness import Loudness, SoundStats, normalizing_gain_db, session_loudness, sound_stats
from .._speech.engines.base import Clip
from .mix import (
    SAMPLE_RATE_HZ,
    ChunkRenderer,
    Levels,
    ms_to_frame,
    segment_samples,
    session_length_frames,
    tone_segment,
)
from .timeline import SpeechEvent, Timeline


def measure_loudness(timeline: Timeline, clips: Mapping[str, Clip], sample_rate_hz: int = SAMPLE_RATE_HZ,
                     levels: Levels = Levels()) -> Loudness:
    """The session's integrated loudness and true peak at ``levels``, from the statistics of what it places.

    Each clip carries its statistics from when it was synthesized (they are kept
    in the speech cache), so on a warm cache nothing is measured again: the
    statistics are scaled by the speech's gain (K-weighting is linear). Tones,
    and clips at another sample rate than the session's, are measured on the
    samples the mix will use, each distinct one once, on every core.
    """
    renderer = ChunkRenderer(clips, sample_rate_hz, levels)
    speech_gain = 10 ** (levels.speech_gain_db / 20)
    found: dict[tuple, SoundStats] = {}
    to_measure: dict[tuple, tuple[np.ndarray, float | None]] = {}
    placements: list[tuple[int, tuple]] = []
    for event in timeline.sounds:
        if isinstance(event, SpeechEvent):
            key: tuple = ("speech", event.text)
            clip = clips[event.text]
            if key not in found and clip.stats is not None and clip.sample_rate_hz == sample_rate_hz:
                found[key] = clip.stats.scaled(speech_gain)
        else:
            key = ("tone", event.tone, event.freq_hz, event.end_ms - event.start_ms)
            found.setdefault(key, _tone_stats(event.freq_hz, event.end_ms - event.start_ms,
                                              levels.tone_gain_db(event.tone), sample_rate_hz))
        if key not in found and key not in to_measure:
            to_measure[key] = renderer.samples_of(event)
        placements.append((ms_to_frame(event.start_ms, sample_rate_hz), key))

    def stats_of(item: tuple[np.ndarray, float | None]) -> SoundStats:
        samples, gain = item
        level = np.rint(samples * gain) if gain is not None else samples
        return sound_stats(level.astype(np.float64) / 32768, sample_rate_hz)

    if to_measure:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            found.update(zip(to_measure, pool.map(stats_of, to_measure.values())))
    return session_loudness([(start, found[key]) for start, key in placements],
                            session_length_frames(timeline, sample_rate_hz), sample_rate_hz)


@functools.lru_cache(maxsize=64)
def _tone_stats(freq_hz: int, duration_ms: int, gain_db: float, sample_rate_hz: int) -> SoundStats:
    """A tone's statistics, measured once per process on the very samples the mix uses."""
    samples = segment_samples(tone_segment(freq_hz, duration_ms, gain_db, sample_rate_hz))
    return sound_stats(samples.astype(np.float64) / 32768, sample_rate_hz)


def normalized_levels(timeline: Timeline, clips: Mapping[str, Clip], target_lufs: float,
                      sample_rate_hz: int = SAMPLE_RATE_HZ, levels: Levels = Levels()) -> Levels:
    """``levels`` moved by the one gain that brings the session to ``target_lufs`` (peaks kept under -1 dBTP)."""
    gain_db = normalizing_gain_db(measure_loudness(timeline, clips, sample_rate_hz, levels), target_lufs)
    return levels.shifted(gain_db)
