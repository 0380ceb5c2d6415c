"""Every engine's clip made alike: checked to be plausible speech, trimmed of its silence, peak-limited, measured."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._errors import SpeechError
from .._loudness import SoundStats, sound_stats
from .engines import Clip
from .engines.base import SILENCE_THRESHOLD

if TYPE_CHECKING:  # a synthesis worker imports this module: it needs no routine models (pydantic)
    pass
KEEP_BEFORE_S = 0.005            # kept before the first audible sample
PEAK_CEILING = 10 ** (-6 / 20)   # speech peaks are limited to -6 dBFS when synthesized
KEEP_AFTER_S = 0.020             # kept after the last one, so word endings are not clipped


def clip_stats(samples: bytes, rate_hz: int) -> SoundStats:
    """A clip's BS.1770 statistics at full level (the mix scales them by its gain)."""
    return sound_stats(np.frombuffer(samples, dtype="<i2").astype(np.float64) / 32768, rate_hz)


def finish_clip(raw: Clip, text: str, engine_label: str = "the speech engine") -> Clip:
    """An engine's clip, checked to be plausible speech, trimmed of its silence and peak-limited."""
    rate_hz = raw.sample_rate_hz
    samples = np.frombuffer(raw.samples, dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_THRESHOLD)
    if len(samples) < rate_hz * 0.05 or loud.size == 0:
        raise SpeechError(f'{engine_label} produced no audible speech for "{text}"')
    words = max(1, len(text.split()))
    if len(samples) > rate_hz * (2 + words * 2):
        raise SpeechError(f'{engine_label} produced {len(samples) / rate_hz:.1f} s of audio for "{text}"; '
                          "that is implausibly long")
    first = max(0, loud[0] - int(KEEP_BEFORE_S * rate_hz))
    last = min(len(samples), loud[-1] + 1 + int(KEEP_AFTER_S * rate_hz))
    finished = limit_peaks(samples[first:last], rate_hz).tobytes()
    return Clip(finished, rate_hz, clip_stats(finished, rate_hz))


def limit_peaks(samples: np.ndarray, rate_hz: int, ceiling: float = PEAK_CEILING) -> np.ndarray:
    """Turn down the rare speech peaks above ``ceiling`` (of full scale), smoothly, inside the clip only.

    espeak-ng's speech peaks some 19 dB above its loudness; a session brought to
    the spoken-word norm would then peak over -1 dBTP. Limiting each phrase once,
    when it is synthesized (and so cached limited), leaves the mix a single gain
    away from the norm, and never touches a tone: tone onsets stay exact.
    The gain is the needed reduction's minimum over a 2 ms window, then averaged
    over the same window, so it is never above what a sample needs and has no clicks.
    """
    level = samples.astype(np.float64) / 32768
    magnitude = np.abs(level)
    if magnitude.max(initial=0.0) <= ceiling:
        return samples
    window = max(3, int(0.002 * rate_hz) | 1)
    need = np.minimum(1.0, ceiling / np.maximum(magnitude, 1e-9))
    padded = np.pad(need, window // 2, mode="edge")
    smallest = np.lib.stride_tricks.sliding_window_view(padded, window).min(axis=1)
    smooth = np.convolve(np.pad(smallest, window // 2, mode="edge"), np.ones(window) / window, mode="valid")
    return np.rint(level * smooth * 32768).clip(-32768, 32767).astype("<i2")
