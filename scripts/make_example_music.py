#!/usr/bin/env python3
"""Make the bundled example's music: two short loops, synthesized here, so voicecoach ships no one's recording.

    python scripts/make_example_music.py      # writes voicecoach/examples/music/*.mp3

Soft chords of sine partials (between 98 and 587 Hz, clear of the tones at 660,
880, 1100 and 1320 Hz), a gentle pulse on each beat and a little brushed noise,
at 96 beats per minute. Deterministic: the same files every time. The files are
dedicated to the public domain (CC0), like the rest of the example.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from voicecoach._parts import ffmpeg_path

RATE_HZ = 22_050
BPM = 96
FOLDER = Path(__file__).resolve().parent.parent / "voicecoach" / "examples" / "music"
# Chords as frequencies (Hz): each lasts a bar of four beats.
PROGRESSIONS = {
    "morning-pulse": [(130.8, 164.8, 196.0, 261.6), (110.0, 130.8, 164.8, 220.0),
                      (87.3, 130.8, 174.6, 220.0), (98.0, 146.8, 196.0, 246.9)],
    "steady-ground": [(146.8, 174.6, 220.0, 293.7), (116.5, 146.8, 174.6, 233.1),
                      (130.8, 164.8, 196.0, 261.6), (110.0, 164.8, 220.0, 277.2)],
}
BARS = {"morning-pulse": 12, "steady-ground": 18}


def track(chords: list[tuple[float, ...]], bars: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    beat_s = 60 / BPM
    bar = np.arange(int(4 * beat_s * RATE_HZ)) / RATE_HZ
    pieces = []
    for number in range(bars):
        chord = chords[number % len(chords)]
        pad = sum(np.sin(2 * np.pi * f * bar + rng.uniform(0, 6.28)) / (1 + k) for k, f in enumerate(chord))
        pulse = 0.55 + 0.45 * np.exp(-((bar % beat_s) / 0.18))  # each beat swells, then settles
        bass = 0.6 * np.sin(2 * np.pi * chord[0] / 2 * bar) * np.exp(-((bar % (2 * beat_s)) / 0.6))
        hat = rng.standard_normal(len(bar)) * np.exp(-(((bar + beat_s / 2) % beat_s) / 0.03)) * 0.05
        pieces.append(0.22 * pad * pulse + 0.25 * bass + hat)
    signal = np.concatenate(pieces)
    fade = np.minimum(1, np.minimum(np.arange(len(signal)), np.arange(len(signal))[::-1]) / (0.05 * RATE_HZ))
    return signal * fade / np.max(np.abs(signal)) * 0.7


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for seed, (name, chords) in enumerate(PROGRESSIONS.items()):
        samples = (track(chords, BARS[name], seed) * 32767).astype("<i2")
        subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", "-f", "s16le", "-ar",
                        str(RATE_HZ), "-ac", "1", "-i", "-", "-c:a", "libmp3lame", "-b:a", "48k",
                        "-metadata", f"title={name.replace('-', ' ').title()}", "-metadata", "artist=voicecoach",
                        "-metadata", "copyright=CC0", str(FOLDER / f"{name}.mp3")],
                       input=samples.tobytes(), check=True)
        print(f"wrote {FOLDER / f'{name}.mp3'} ({len(samples) / RATE_HZ:.1f} s)")


if __name__ == "__main__":
    main()
