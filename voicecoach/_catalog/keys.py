"""Build keys, and whether a session's files are already there, made by the same key (then it is up to date)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from mutagen import MutagenError
from mutagen.id3 import ID3

from .. import __version__
from .._audio.music_tracks import TrackInfo
from .._audio.timeline import Timeline
from .._errors import OutputError
from .._plan.steps import Plan
from .._publish.names import SessionFiles
from .._publish.tags import BUILD_KEY_TAG, tag_values
from .._speech.engines.base import SpeechSettings
from .._stores import Store
from .model import BatchOptions


def session_keys(plan: Plan, voice: SpeechSettings, options: BatchOptions, tracks: Mapping[Path, TrackInfo] | None,
                 track: tuple[int, int], other_voices: Mapping[str, SpeechSettings] | None = None) -> tuple[str, str]:
    """A session's build key and its sound key.

    The build key is what makes a session what it is: the resolved routine (after variants and overrides, as its
    plan), the engine and voice, the files it uses (cover, music), the output options, its place in the batch
    (its track tag) and voicecoach's version. Two builds with the same key make the same files.

    The sound key is what makes its audio what it is: the same without what only names it (the title, album,
    track, date and cover). Two sessions with the same sound key sound the same to the sample: the second is a
    copy of the first's audio with its own tags (the identical days of a program).
    """
    def identity(path: Path | None) -> list | None:
        if path is None:
            return None
        try:
            status = path.stat()
        except OSError:
            return [str(path)]
        return [str(path), status.st_size, status.st_mtime_ns]

    plan_parts = plan.to_dict()
    sound = {
        "voicecoach": __version__,
        "tone_gain_db": plan.tone_gain_db,
        "music": dataclasses.asdict(plan.music) if plan.music else None,
        "tracks": {str(path): dataclasses.asdict(info) for path, info in (tracks or {}).items()},
        "voice": dataclasses.asdict(voice),
    }
    output = [options.sample_rate_hz, options.bitrate_kbps, options.loudness_lufs, options.strict]
    voices = {language: dataclasses.asdict(other) for language, other in sorted((other_voices or {}).items())}
    build = {
        **sound,
        "plan": plan_parts,
        "title": plan.title, "album": plan.album, "description": plan.description, "version": plan.version,
        "cover": identity(plan.cover),
        "output": [*output, list(options.subtitle_formats)],
        "track": list(track),
        # the voices of text with no translation, by language (none: the key is what it was before they existed)
        **({"other_voices": voices} if voices else {}),
        **({"day": plan.day.to_dict()} if plan.day else {}),  # a program's session: its week, day and date
    }
    sound.update(plan={key: value for key, value in plan_parts.items() if key not in ("title", "slug")},
                 output=output, other_voices=voices)
    return _hash(build), _hash(sound)


def _hash(parts: dict) -> str:
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def up_to_date(files: SessionFiles, key: str, store: Store, present: set[str]) -> Timeline | None:
    """The session's timeline when its files are all there and its MP3 was made by ``key``; else None.

    ``present`` names the files in the session's folder (listed once for all its sessions); only the MP3's tag
    is read, not its audio (in a shared store, a ranged read of its first 64 kB)."""
    if not all(path.name in present for path in (files.mp3, files.timeline, files.lrc, *files.subtitles)):
        return None
    try:
        with store.open(files.mp3) as handle:
            if tag_values(ID3(handle), BUILD_KEY_TAG) != [key]:
                return None
        return Timeline.from_json((store.read(files.timeline) or b"").decode("utf-8"))
    except (MutagenError, OSError, OutputError, ValueError, UnicodeDecodeError):
        return None  # damaged: built again
