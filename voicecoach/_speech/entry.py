"""A speech cache entry as bytes: a magic line ``VCCLIP4``, a JSON header (who said what, how, the samples' count
and SHA-256, the loudness statistics' size), then the statistics and the samples. A damaged entry is a
ValueError that says what is wrong."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import numpy as np

from .._loudness import SoundStats
from .engines import Clip, SpeechSettings
from .finish import clip_stats

if TYPE_CHECKING:  # a synthesis worker imports this module: it needs no routine models (pydantic)
    pass


CLIP_MAGIC = b"VCCLIP4\n"


def settings_identity(settings: SpeechSettings) -> dict:
    identity = {"engine": settings.engine, "engine_version": settings.engine_version, "voice": settings.voice_id,
                "rate": settings.rate_wpm, "volume": round(settings.volume, 4)}
    if settings.voice_sha256 is not None:  # a voice that is a model file is known by its contents
        identity["voice_sha256"] = settings.voice_sha256
    return identity


def encode_entry(settings: SpeechSettings, text: str, clip: Clip) -> bytes:
    """An entry: the magic line, a JSON header line, then the clip's loudness statistics and its samples."""
    stats = clip.stats if clip.stats is not None else clip_stats(clip.samples, clip.sample_rate_hz)
    body = stats.cumulative_energy.astype("<f8").tobytes() + clip.samples
    header = {**settings_identity(settings), "text": text, "sample_rate_hz": clip.sample_rate_hz,
              "samples": clip.frames, "stats": {"energy": len(stats.cumulative_energy), "frames": stats.frames,
                                                "true_peak": stats.true_peak},
              "sha256": hashlib.sha256(body).hexdigest()}
    return CLIP_MAGIC + json.dumps(header, ensure_ascii=False).encode() + b"\n" + body


def decode_entry(data: bytes) -> tuple[dict, Clip]:
    """The header and clip of a cache entry; ValueError says what is wrong with a damaged one."""
    if not data.startswith(CLIP_MAGIC):
        raise ValueError("not a voicecoach clip")
    header_line, newline, body = data[len(CLIP_MAGIC):].partition(b"\n")
    try:
        header = json.loads(header_line) if newline else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        header = None
    stats = header.get("stats") if isinstance(header, dict) else None
    if not isinstance(header, dict) or not isinstance(header.get("samples"), int) or not isinstance(stats, dict) \
            or not isinstance(stats.get("energy"), int):
        raise ValueError("unreadable header")
    energy_bytes = 8 * stats["energy"]
    samples = body[energy_bytes:]
    if len(samples) != 2 * header["samples"]:
        raise ValueError(f"{max(0, len(samples)) // 2} of {header['samples']} samples")
    if hashlib.sha256(body).hexdigest() != header.get("sha256"):
        raise ValueError("checksum mismatch")
    energy = np.frombuffer(body[:energy_bytes], dtype="<f8")
    return header, Clip(samples, int(header["sample_rate_hz"]),
                        SoundStats(energy, float(stats["true_peak"]), int(stats["frames"])))
