"""Measure a built MP3 the way a listener's player hears it: decode with ffmpeg, look for tones."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from voicecoach._parts import ffmpeg_path

RATE_HZ = 22_050  # voicecoach's default: decoding needs no resampling


def decode_mp3(path: Path, rate_hz: int = RATE_HZ) -> np.ndarray:
    """Samples as float in [-1, 1], decoded by ffmpeg (which honours the gapless header)."""
    raw = subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-i", str(path),
                          "-f", "s16le", "-ac", "1", "-ar", str(rate_hz), "-"],
                         check=True, capture_output=True, timeout=300).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768


def tone_power(samples: np.ndarray, freq_hz: float, rate_hz: int = RATE_HZ) -> float:
    """Goertzel: the power of one frequency in a block of samples."""
    coefficient = 2 * np.cos(2 * np.pi * freq_hz / rate_hz)
    s_prev = s_prev2 = 0.0
    for sample in samples:
        s = sample + coefficient * s_prev - s_prev2
        s_prev2, s_prev = s_prev, s
    return (s_prev2 ** 2 + s_prev ** 2 - coefficient * s_prev * s_prev2) / len(samples) ** 2


def dominant_tone(samples: np.ndarray, candidates_hz: list[int], rate_hz: int = RATE_HZ) -> int:
    """Which of ``candidates_hz`` is loudest in ``samples``."""
    return max(candidates_hz, key=lambda freq: tone_power(samples, freq, rate_hz))


def onset_s(samples: np.ndarray, expected_s: float, window_s: float = 0.06, rate_hz: int = RATE_HZ) -> float | None:
    """Where sound rises to a quarter of its peak near ``expected_s``, searching ``window_s`` either side."""
    begin = max(0, int((expected_s - window_s) * rate_hz))
    end = min(len(samples), int((expected_s + window_s + 0.05) * rate_hz))
    block = np.abs(samples[begin:end])
    if block.size == 0 or block.max() < 0.01:
        return None
    above = np.flatnonzero(block >= 0.25 * block.max())
    return (begin + above[0]) / rate_hz


def speech_onset_s(samples: np.ndarray, expected_s: float, rate_hz: int = RATE_HZ) -> float:
    """Where a word begins near ``expected_s``: the first sample over 0.01, from 60 ms before it, within 200 ms.

    A fixed threshold, unlike ``onset_s``: a word's first sound is soft, far below its peak.
    """
    start = round((expected_s - 0.06) * rate_hz)
    return (start + int(np.flatnonzero(np.abs(samples[start:start + rate_hz // 5]) > 0.01)[0])) / rate_hz


def ffmpeg_loudness(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file, as ffmpeg's EBU R 128 meter measures it."""
    import re

    run = subprocess.run([ffmpeg_path(), "-hide_banner", "-nostats", "-i", str(path),
                          "-af", "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    log = run.stderr
    summary = log[log.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary)[1])
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)[1])
    return integrated, peak
