"""The timing contract, checked on a decoded MP3 against its timeline file: shared by every end-to-end test."""

from __future__ import annotations

import numpy as np

from voicecoach._audio.layout import Timing

from .audio_probe import RATE_HZ, dominant_tone, onset_s

TOLERANCE_S = 0.010
TIMING = Timing()
FREQS = [TIMING.start_freq_hz, TIMING.stop_freq_hz, TIMING.tick_freq_hz, TIMING.phase_freq_hz]


def events(timeline: dict, kind: str) -> list[dict]:
    return [event for event in timeline["events"] if event["kind"] == kind]


def check_length(decoded: np.ndarray, timeline: dict, rate_hz: int = RATE_HZ) -> None:
    """The decoded MP3 is as long as the timeline says: within half a sample of duration x rate."""
    assert abs(len(decoded) - timeline["duration"] * rate_hz) <= 0.5, (len(decoded), timeline["duration"])


def check_tones(decoded: np.ndarray, timeline: dict) -> int:
    """Every tone starts within 10 ms of its time and has its pitch; returns how many were checked."""
    tones = events(timeline, "tone")
    for tone in tones:
        heard = onset_s(decoded, tone["start"])
        assert heard is not None, f"no sound near {tone}"
        assert abs(heard - tone["start"]) <= TOLERANCE_S, (tone, heard)
        body = decoded[int((tone["start"] + 0.01) * RATE_HZ):int((tone["end"] - 0.01) * RATE_HZ)]
        assert dominant_tone(body, FREQS) == tone["freq"], tone
    return len(tones)


def check_holds(decoded: np.ndarray, timeline: dict, hold_ms: dict[str, int]) -> int:
    """Every hold, start tone to stop tone in the audio, lasts what the routine asks (``hold_ms`` by exercise id)."""
    holds = events(timeline, "hold")
    for hold in holds:
        assert round((hold["end"] - hold["start"]) * 1000) == hold_ms[hold["exercise"]]
        start, stop = onset_s(decoded, hold["start"]), onset_s(decoded, hold["end"])
        assert abs((stop - start) - hold_ms[hold["exercise"]] / 1000) <= TOLERANCE_S, hold
    return len(holds)


def check_silence(decoded: np.ndarray, timeline: dict) -> int:
    """Quiet wherever the timeline has nothing for 200 ms or more; returns how many gaps were checked."""
    sounds = sorted((e["start"], e["end"]) for e in timeline["events"] if e["kind"] in ("speech", "tone"))
    checked = 0
    for (_, end), (next_start, _) in zip(sounds, sounds[1:]):
        if next_start - end >= 0.2:
            quiet = decoded[int((end + 0.05) * RATE_HZ):int((next_start - 0.05) * RATE_HZ)]
            assert abs(quiet).max() < 0.02, (end, next_start)
            checked += 1
    return checked


def check_timing(decoded: np.ndarray, timeline: dict, hold_ms: dict[str, int]) -> tuple[int, int, int]:
    """All of the above; returns (tones, holds, silent gaps) checked."""
    check_length(decoded, timeline)
    return check_tones(decoded, timeline), check_holds(decoded, timeline, hold_ms), check_silence(decoded, timeline)
