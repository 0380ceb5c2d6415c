"""Loudness: measure a session as ITU-R BS.1770-4 (EBU R 128) does, before it is encoded, and find its gain.

A session is a few distinct sounds (phrases, tones) placed many times, never
overlapping. So each distinct sound is K-weighted once (FFT convolution with
the filter's impulse response), and the session's 100 ms energy bins are
summed from each placement's slice of that sound's running energy. Gating
(absolute -70 LUFS, relative -10 LU over 400 ms blocks every 100 ms) then gives
the integrated loudness. The true peak of each sound is found on a 4x
oversampled copy; the session's is the largest. The result is a measurement of
the very samples that will be encoded, at a cost that does not grow with the
session's length beyond one pass over its bins. A single gain brings the mix to
the target: no limiter, so no tone onset moves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np

MONO_TARGET_LUFS = -19.0  # the spoken-word norm for mono (-16 LUFS for stereo)
MAX_TRUE_PEAK_DBTP = -1.0
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
ENERGY_STRIDE = 32  # running energy is kept every 32 samples (1.5 ms at 22.05 kHz): 1/32 of the memory
IR_SECONDS = 0.1  # the K-weighting filter's impulse response: it has died away by then (under -100 dB)


def _biquad_high_shelf(fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Stage 1 (the head's acoustic effect), redesigned for ``fs`` (Brecht De Man's derivation of BS.1770)."""
    gain_db, q, fc = 3.999843853973347, 0.7071752369554196, 1681.974450955533
    k = math.tan(math.pi * fc / fs)
    vh = 10 ** (gain_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    b = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    return np.array(b), np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])


def _biquad_high_pass(fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Stage 2 (the RLB weighting), redesigned for ``fs``."""
    q, fc = 0.5003270373238773, 38.13547087602444
    k = math.tan(math.pi * fc / fs)
    a0 = 1 + k / q + k * k
    return np.array([1.0, -2.0, 1.0]), np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])


def _lfilter(b: np.ndarray, a: np.ndarray, x: np.ndarray) -> np.ndarray:
    y = np.zeros_like(x)
    x1 = x2 = y1 = y2 = 0.0
    for n, xn in enumerate(x):
        yn = b[0] * xn + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
        x2, x1, y2, y1 = x1, xn, y1, yn
        y[n] = yn
    return y


def _gain_at(freq_hz: float, fs: float) -> float:
    """|H| of the K-weighting cascade at ``freq_hz``, sampled at ``fs``."""
    z = np.exp(-1j * 2 * math.pi * freq_hz / fs)
    gain = 1.0
    for b, a in (_biquad_high_shelf(fs), _biquad_high_pass(fs)):
        gain *= abs((b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z))
    return gain


@cache
def k_weighting_ir(sample_rate_hz: int) -> np.ndarray:
    """The impulse response of BS.1770's K-weighting (high shelf, then high pass) at ``sample_rate_hz``.

    The standard's filter is defined at 48 kHz; redesigned for 22.05 kHz its shelf sits nearer Nyquist and
    reads 0.27 dB high at 1 kHz. It is scaled to match the 48 kHz filter there, the standard's reference
    (a 997 Hz sine at full scale reads -3.01 LUFS).
    """
    impulse = np.zeros(int(IR_SECONDS * sample_rate_hz))
    impulse[0] = 1.0
    ir = _lfilter(*_biquad_high_pass(sample_rate_hz), _lfilter(*_biquad_high_shelf(sample_rate_hz), impulse))
    return ir * (_gain_at(997, 48_000) / _gain_at(997, sample_rate_hz))


@dataclass(frozen=True)
class SoundStats:
    """One distinct sound, K-weighted: its running energy (for any slice) and its true peak."""

    cumulative_energy: np.ndarray  # [i] = sum of squares of the first i * ENERGY_STRIDE weighted samples
    true_peak: float  # linear, full scale = 1.0
    frames: int

    def scaled(self, gain: float) -> SoundStats:
        """The statistics of the same sound ``gain`` times louder (linear): K-weighting is linear."""
        return SoundStats(self.cumulative_energy * (gain * gain), self.true_peak * gain, self.frames)


def sound_stats(samples: np.ndarray, sample_rate_hz: int) -> SoundStats:
    """``samples``: floats at full scale 1.0, at the level they will be mixed."""
    ir = k_weighting_ir(sample_rate_hz)
    size = 1 << (len(samples) + len(ir) - 1).bit_length()
    weighted = np.fft.irfft(np.fft.rfft(samples, size) * np.fft.rfft(ir, size), size)[: len(samples) + len(ir) - 1]
    cumulative = np.concatenate(([0.0], np.cumsum(weighted * weighted)))
    # A placement's energy is split between 100 ms bins at this stride; off by at most 1.5 ms of energy.
    return SoundStats(cumulative[::ENERGY_STRIDE].copy(), true_peak(samples),
                      (len(cumulative) - 1) // ENERGY_STRIDE * ENERGY_STRIDE)


def true_peak(samples: np.ndarray, oversampling: int = 4) -> float:
    """The peak between samples too (BS.1770 Annex 2): 4x oversampling by a 48-tap polyphase interpolator."""
    if len(samples) == 0:
        return 0.0
    peak = float(np.max(np.abs(samples)))
    for phase in _interpolator(oversampling):
        peak = max(peak, float(np.max(np.abs(np.convolve(samples, phase)))))
    return peak


@cache
def _interpolator(oversampling: int, taps_per_phase: int = 12) -> tuple[np.ndarray, ...]:
    """The phases of a windowed-sinc low-pass that interpolates ``oversampling`` points per sample."""
    length = oversampling * taps_per_phase
    n = np.arange(length) - (length - 1) / 2
    h = np.sinc(n / oversampling) * np.hanning(length + 2)[1:-1]
    return tuple(h[phase::oversampling] / h[phase::oversampling].sum() for phase in range(oversampling))


@cache
def _overshoot() -> float:
    """The most the 4x interpolator can make of a signal within [-1, 1]: its largest phase's sum of |taps|."""
    return max(float(np.sum(np.abs(phase))) for phase in _interpolator(4))


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float


def session_loudness(placements: Iterable[tuple[int, SoundStats]], total_frames: int,
                     sample_rate_hz: int) -> Loudness:
    """Integrated loudness and true peak of sounds placed at frame offsets (they must not overlap)."""
    step = sample_rate_hz // 10  # 100 ms: blocks of 400 ms start every step
    bins = np.zeros(total_frames // step + 8)
    peak = 0.0
    for start, stats in placements:
        peak = max(peak, stats.true_peak)
        end = start + stats.frames
        first, last = start // step, (end - 1) // step
        edges = np.clip(np.arange(first, last + 2) * step - start, 0, stats.frames)
        energy = np.diff(stats.cumulative_energy[edges // ENERGY_STRIDE])
        bins[first:first + len(energy)] += energy
    return _gated(bins, total_frames, sample_rate_hz, peak)


def _gated(bins: np.ndarray, total_frames: int, sample_rate_hz: int, peak: float) -> Loudness:
    """BS.1770's gating over 100 ms energy bins: 400 ms blocks, absolute and relative gates."""
    step = sample_rate_hz // 10
    blocks = np.convolve(bins, np.ones(4), mode="valid")[: max(1, (total_frames - 4 * step) // step + 1)]
    mean_square = blocks / (4 * step)
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(mean_square)
    above = mean_square[loudness > ABSOLUTE_GATE_LUFS]
    if above.size == 0:
        return Loudness(-math.inf, _db(peak))
    relative_gate = -0.691 + 10 * math.log10(above.mean()) + RELATIVE_GATE_LU
    gated = mean_square[(loudness > ABSOLUTE_GATE_LUFS) & (loudness > relative_gate)]
    return Loudness(-0.691 + 10 * math.log10(gated.mean()), _db(peak))


class LoudnessMeter:
    """The same measurement over a stream of samples, a chunk at a time, when sounds overlap (music under
    the voice) and so cannot be measured one by one: the K-weighting runs on across chunks, memory holds
    one 100 ms bin per 100 ms of sound.
    """

    def __init__(self, sample_rate_hz: int, with_true_peak: bool = True) -> None:
        self.sample_rate_hz, self.with_true_peak = sample_rate_hz, with_true_peak
        self._ir = k_weighting_ir(sample_rate_hz)
        self._history = np.zeros(len(self._ir) - 1)  # the input before this chunk that the filter still hears
        self._bins = np.zeros(0)
        self.frames = 0
        self.peak = 0.0

    def add(self, samples: np.ndarray) -> None:
        """``samples``: floats at full scale 1.0, the next stretch of the stream."""
        count = len(samples)
        if not count:
            return
        signal = np.concatenate((self._history, samples))
        size = 1 << (len(signal) + len(self._ir) - 1).bit_length()
        weighted = np.fft.irfft(np.fft.rfft(signal, size) * np.fft.rfft(self._ir, size), size)[
            len(self._history):len(self._history) + count]
        step = self.sample_rate_hz // 10
        first = self.frames // step
        where = (self.frames + np.arange(count)) // step - first
        energy = np.bincount(where, weights=weighted * weighted)
        needed = first + len(energy)
        if len(self._bins) < needed:
            self._bins = np.concatenate((self._bins, np.zeros(needed - len(self._bins))))
        self._bins[first:needed] += energy
        self.peak = max(self.peak, float(np.max(np.abs(samples))))
        if self.with_true_peak:
            seen = np.concatenate((self._history[-23:], samples))
            self.peak = max(self.peak, self._true_peak_beyond(self.peak, seen))
        self._history = signal[-(len(self._ir) - 1):]
        self.frames += count

    def _true_peak_beyond(self, peak: float, seen: np.ndarray) -> float:
        """The largest value the 4x interpolator makes of ``seen``, looked for only where it could beat ``peak``.

        An interpolated value is at most the largest of the 12 samples it is made from times the interpolator's
        largest gain (``_overshoot``), so only the points near a sample over ``peak / _overshoot()`` are
        computed: in a long session, a few in a hundred. ``seen`` starts with the last 23 samples of the stretch
        before, so a peak between two stretches is found too.
        """
        phases = _interpolator(4)
        taps = len(phases[0])
        if len(seen) < taps:
            return 0.0
        loud = np.flatnonzero(np.abs(seen) > peak / _overshoot())
        if not loud.size:
            return 0.0
        near = np.zeros(len(seen) - taps + 1, dtype=bool)  # the windows that hold a loud sample
        for shift in range(taps):
            rows = loud - shift
            near[rows[(rows >= 0) & (rows < len(near))]] = True
        windows = np.lib.stride_tricks.sliding_window_view(seen, taps)[near]
        return max(float(np.max(np.abs(windows @ phase[::-1]))) for phase in phases)

    def result(self) -> Loudness:
        bins = np.concatenate((self._bins, np.zeros(8)))
        return _gated(bins, self.frames, self.sample_rate_hz, self.peak)


def normalizing_gain_db(measured: Loudness, target_lufs: float,
                        max_true_peak_dbtp: float = MAX_TRUE_PEAK_DBTP) -> float:
    """The one gain that brings the session to ``target_lufs``, lowered if it would push a peak over the limit."""
    if math.isinf(measured.integrated_lufs):
        return 0.0
    return min(target_lufs - measured.integrated_lufs, max_true_peak_dbtp - measured.true_peak_dbtp)


def _db(linear: float) -> float:
    return 20 * math.log10(linear) if linear > 0 else -math.inf
