"""A session's job: everything its one path needs, handed from a build or a catalog to ``write_session``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .._audio.encode import DEFAULT_BITRATE_KBPS
from .._audio.mix import SAMPLE_RATE_HZ
from .._audio.music_tracks import TrackInfo
from .._loudness import MONO_TARGET_LUFS
from .._plan.steps import Plan
from .._publish.names import SessionFiles
from .._publish.tags import Tags
from .._speech.engines.base import Clip
from .._stores import FolderStore, Store


@dataclass(frozen=True)
class SessionJob:
    """Everything a session's path needs: the plan, its clips (by written text), where and how to write it.

    ``files`` are the session's places in ``store``.
    """

    plan: Plan
    clips: Mapping[str, Clip]
    files: SessionFiles
    tags: Tags
    sample_rate_hz: int = SAMPLE_RATE_HZ
    bitrate_kbps: int = DEFAULT_BITRATE_KBPS
    loudness_lufs: float | None = MONO_TARGET_LUFS  # None: no normalization (and the encode starts sooner)
    strict: bool = False  # a rest too short for its speech is an error, not a warning
    encoders: int = 1  # LAME processes that may encode this session at once (in pieces, joined: mp3join)
    tracks: Mapping[Path, TrackInfo] | None = None  # the music files measured (``music_tracks.measure_tracks``)
    store: Store = field(default_factory=lambda: FolderStore("."))
