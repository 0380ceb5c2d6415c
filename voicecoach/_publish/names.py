"""The one rule that names a session's files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Every file a session may have, by its suffix after the session's name (see SessionFiles).
_SESSION_SUFFIXES = (".mp3", ".timeline.json", ".lrc", ".srt", ".vtt", ".cover.png", ".chapters.json")


@dataclass(frozen=True)
class SessionFiles:
    """The one rule that names a session's files: ``NAME.mp3`` and, beside it, ``NAME.timeline.json``,
    ``NAME.lrc``, subtitles on request (``NAME.srt``, ``NAME.vtt``), and the feed's ``NAME.cover.png`` and
    ``NAME.chapters.json``."""

    mp3: Path
    subtitles: tuple[Path, ...] = ()

    @classmethod
    def named(cls, folder: Path, name: str, subtitle_formats: Sequence[str] = ()) -> SessionFiles:
        return cls(folder / f"{name}.mp3", tuple(folder / f"{name}.{format_}" for format_ in subtitle_formats))

    @classmethod
    def of_mp3(cls, mp3: Path) -> SessionFiles:
        """The files that go with an MP3 found in a folder (subtitles are not looked for)."""
        return cls(mp3)

    @classmethod
    def of_file(cls, path: Path) -> SessionFiles | None:
        """The session whose name rule gives ``path`` (its MP3 or a file beside it), or None for any other file.
        Whether that session exists is the caller's to check."""
        for suffix in _SESSION_SUFFIXES:
            if path.name.endswith(suffix) and len(path.name) > len(suffix):
                return cls(path.with_name(path.name[: -len(suffix)] + ".mp3"))
        return None

    @property
    def name(self) -> str:
        return self.mp3.name[: -len(".mp3")]

    def _beside(self, suffix: str) -> Path:
        return self.mp3.with_name(self.name + suffix)

    @property
    def timeline(self) -> Path:
        return self._beside(".timeline.json")

    @property
    def lrc(self) -> Path:
        return self._beside(".lrc")

    @property
    def cover(self) -> Path:
        return self._beside(".cover.png")

    @property
    def chapters(self) -> Path:
        return self._beside(".chapters.json")
