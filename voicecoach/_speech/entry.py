"""A speech cache entry as bytes: a magic line ``VCCLIP5``, a JSON header (who said what and how, the samples'
count and rate, the loudness statistics' size), the SHA-256 of the header and the body, then the body: the
statistics and the samples. Any damage, in the header as in the samples, is a ValueError that says what is
wrong (the cache then throws the entry away and makes it again)."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from .._loudness import SoundStats
from .engines import Clip, SpeechSettings
from .finish import clip_stats

CLIP_MAGIC = b"VCCLIP5\n"
_RATES_HZ = range(8_000, 192_001)  # a clip's sample rate, as any engine may give it


def settings_identity(settings: SpeechSettings) -> dict:
    identity = {"engine": settings.engine, "engine_version": settings.engine_version, "voice": settings.voice_id,
                "rate": settings.rate_wpm, "volume": round(settings.volume, 4)}
    if settings.voice_sha256 is not None:  # a voice that is a model file is known by its contents
        identity["voice_sha256"] = settings.voice_sha256
    return identity


def encode_entry(settings: SpeechSettings, text: str, clip: Clip) -> bytes:
    """An entry: the magic line, a JSON header line, the checksum line, then the clip's loudness statistics and
    its samples."""
    stats = clip.stats if clip.stats is not None else clip_stats(clip.samples, clip.sample_rate_hz)
    body = stats.cumulative_energy.astype("<f8").tobytes() + clip.samples
    header = json.dumps({**settings_identity(settings), "text": text, "sample_rate_hz": clip.sample_rate_hz,
                         "samples": clip.frames, "stats": {"energy": len(stats.cumulative_energy),
                                                           "frames": stats.frames, "true_peak": stats.true_peak}},
                        ensure_ascii=False).encode()
    checksum = hashlib.sha256(header + b"\n" + body).hexdigest().encode()
    return CLIP_MAGIC + header + b"\n" + checksum + b"\n" + body


def decode_entry(data: bytes) -> tuple[dict, Clip]:
    """The header and clip of a cache entry; ValueError says what is wrong with a damaged one."""
    if not data.startswith(CLIP_MAGIC):
        raise ValueError("not a voicecoach clip")
    header_line, newline, rest = data[len(CLIP_MAGIC):].partition(b"\n")
    checksum, newline_2, body = rest.partition(b"\n")
    if not newline or not newline_2:
        raise ValueError("unreadable header")
    try:
        header = json.loads(header_line)
        stats = header["stats"]
        rate_hz, count, energy_count = header["sample_rate_hz"], header["samples"], stats["energy"]
        peak, frames = float(stats["true_peak"]), stats["frames"]
        well_formed = all(isinstance(value, int) and not isinstance(value, bool) and value >= 0
                          for value in (rate_hz, count, energy_count, frames)) and rate_hz in _RATES_HZ \
            and all(isinstance(header[key], str) for key in ("engine", "voice", "text"))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):  # JSONDecodeError is a ValueError
        well_formed = False
    if not well_formed:
        raise ValueError("unreadable header")
    energy_bytes = 8 * energy_count
    samples = body[energy_bytes:]
    if len(samples) != 2 * count:
        raise ValueError(f"{max(0, len(samples)) // 2} of {count} samples")
    if hashlib.sha256(header_line + b"\n" + body).hexdigest().encode() != checksum:
        raise ValueError("checksum mismatch")
    energy = np.frombuffer(body[:energy_bytes], dtype="<f8")
    return header, Clip(samples, rate_hz, SoundStats(energy, peak, frames))
