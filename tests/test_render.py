"""Render: sounds land on exact samples, tones are the right pitch and fade in and out, nothing else sounds."""

from __future__ import annotations

import numpy as np
import pytest

from voicecoach._audio.mix import SAMPLE_RATE_HZ, ChunkRenderer, render, render_chunks, tone_segment
from voicecoach._audio.timeline import SpeechEvent, Timeline, ToneEvent
from voicecoach._speech.engines.base import Clip

from .audio_probe import dominant_tone

SPEECH = Clip((np.full(2205, 8000, dtype="<i2")).tobytes(), 22_050)  # 100 ms of "speech" at 22.05 kHz


def timeline() -> Timeline:
    events = (SpeechEvent(0, 100, "hi"), ToneEvent(1000, 1300, "start", 880), ToneEvent(2500, 2580, "tick", 1320),
              ToneEvent(6000, 6300, "stop", 660))
    return Timeline("t", 7000, events, ())


def samples(chunk_frames=None) -> np.ndarray:
    data = b"".join(render_chunks(timeline(), {"hi": SPEECH}, chunk_frames=chunk_frames))
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768


def test_the_session_has_exactly_its_duration_in_samples():
    assert len(samples()) == 7 * SAMPLE_RATE_HZ
    segment = render(timeline(), {"hi": SPEECH})
    assert (segment.frame_rate, segment.channels, segment.sample_width, len(segment)) == (SAMPLE_RATE_HZ, 1, 2, 7000)


def test_chunk_size_does_not_change_a_sample():
    # Pins the chunked renderer against sounds that straddle a chunk boundary.
    assert np.array_equal(samples(), samples(chunk_frames=1000))
    assert np.array_equal(samples(), samples(chunk_frames=44_101))


def test_each_sound_starts_on_its_sample_and_silence_is_exact():
    audio = samples()
    rate = SAMPLE_RATE_HZ
    assert np.all(audio[:int(0.1 * rate) - 5] > 0.2)            # the speech, resampled to 44.1 kHz
    assert not np.any(audio[int(0.1 * rate) + 5:rate])          # digital silence up to the start tone
    assert audio[rate] == 0 and np.any(audio[rate + 1:rate + 20])  # the tone begins exactly at 1.000 s
    assert not np.any(audio[int(1.3 * rate):int(2.5 * rate)])
    for start_s, end_s, freq in ((1.0, 1.3, 880), (2.5, 2.58, 1320), (6.0, 6.3, 660)):
        body = audio[int((start_s + 0.01) * rate):int((end_s - 0.01) * rate)]
        assert dominant_tone(body, [660, 880, 1320]) == freq


def test_tones_fade_so_they_do_not_click():
    tone = np.frombuffer(tone_segment(880, 300, -8.0).raw_data, dtype="<i2").astype(np.float64)
    peak = np.abs(tone).max()
    assert len(tone) == int(0.3 * SAMPLE_RATE_HZ)
    assert abs(tone[0]) < 0.01 * peak and abs(tone[-1]) < 0.05 * peak
    assert np.abs(tone[:44]).max() < 0.3 * peak               # still rising 1 ms in
    assert np.abs(tone[300:400]).max() > 0.9 * peak           # full level after the 6 ms fade


def test_rendering_step_by_step_as_the_layout_settles_gives_the_same_samples():
    # The build renders while phrases are still being synthesized: sounds arrive a step at a time
    # and only chunks before the settled point are produced. The result must not depend on that.
    whole = b"".join(render_chunks(timeline(), {"hi": SPEECH}, chunk_frames=1000))
    renderer = ChunkRenderer({"hi": SPEECH}, chunk_frames=1000)
    produced = []
    for settled_ms, sounds in ((900, timeline().events[:1]), (2400, timeline().events[1:2]),
                               (5900, timeline().events[2:3]), (6400, timeline().events[3:])):
        renderer.add(sounds)
        produced += renderer.chunks_until(settled_ms * SAMPLE_RATE_HZ // 1000)
    produced += renderer.finish(7 * SAMPLE_RATE_HZ)
    assert b"".join(produced) == whole
    assert renderer.pending == []  # nothing is kept once it has been heard


def test_a_sound_may_not_arrive_after_its_samples_were_produced():
    renderer = ChunkRenderer({"hi": SPEECH}, chunk_frames=1000)
    list(renderer.chunks_until(5000))
    with pytest.raises(ValueError):
        renderer.add([ToneEvent(100, 400, "start", 880)])
