"""Which files of a folder ``serve`` may send: only what a build wrote, checked, never what merely looks like it.

- A session is served when its MP3 and its timeline are regular files (not symlinks, in no symlinked
  folder) and the timeline hash in the MP3's tags is the hash of that timeline.
- A sidecar (``NAME.lrc``, ``NAME.srt``, ``NAME.vtt``) only when the session's timeline lists it.
- A batch's ``manifest.json`` only when every session it lists is served and carries the build key the
  manifest gives it; its playlist only when that manifest names it.
- ``feed.xml`` at the top, a regular file. The feed's ``NAME.chapters.json`` and ``NAME.cover.png`` are
  never read from the folder: they are made from the checked session (see ``serve``).

Each verdict is kept while the files' sizes and times stay the same, so a player's many range requests
hash a timeline once.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mutagen import MutagenError
from mutagen.id3 import ID3

from .._audio.timeline import Timeline
from .feed import FEED_NAME
from .names import SessionFiles
from .tags import BUILD_KEY_TAG, TIMELINE_HASH_TAG, tag_values, timeline_sha256

MAX_INDEX_BYTES = 16_000_000  # a timeline or manifest larger than this is not read (a 12 h session's is ~2 MB)
T = TypeVar("T")
_SIDECARS = (".lrc", ".srt", ".vtt")


@dataclass(frozen=True)
class CheckedSession:
    files: SessionFiles
    timeline: Timeline
    build_key: str | None

    def lists(self, sidecar: Path) -> bool:
        return sidecar.name in self.timeline.files


def regular_file(path: Path) -> os.stat_result | None:
    """``path``'s status if it is a regular file itself (not a symlink to one), else None."""
    try:
        status = path.lstat()
    except (OSError, ValueError):
        return None
    return status if stat.S_ISREG(status.st_mode) else None


def inside_without_links(root: Path, target: Path) -> bool:
    """Whether ``target`` is inside ``root`` with no symlink on the way (``root`` itself is resolved)."""
    try:
        relative = target.relative_to(root)
    except ValueError:
        return False
    folder = root
    for part in relative.parts[:-1]:
        folder = folder / part
        if folder.is_symlink() or not folder.is_dir():
            return False
    return True


def _key(*statuses: os.stat_result) -> tuple:
    return tuple((s.st_ino, s.st_size, s.st_mtime_ns) for s in statuses)


class ServedFiles:
    """The verdicts for one served folder (thread-safe; one per server)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._known: dict[Hashable, tuple[tuple, Any]] = {}  # (what, which) -> (its files' state, the verdict)
        self._lock = threading.Lock()

    def remembered(self, name: Hashable, key: tuple, make: Callable[[], T]) -> T:
        """What ``make()`` gave last time for ``name`` while ``key`` (the state of its files) is the same."""
        with self._lock:
            known = self._known.get(name)
        if known is not None and known[0] == key:
            return known[1]
        made = make()
        with self._lock:
            self._known[name] = (key, made)
        return made

    def session(self, mp3: Path) -> CheckedSession | None:
        """The session whose MP3 is ``mp3``, if it is one a build wrote (see the module's rules)."""
        files = SessionFiles.of_mp3(mp3)
        mp3_status, timeline_status = regular_file(files.mp3), regular_file(files.timeline)
        if mp3_status is None or timeline_status is None or not inside_without_links(self.root, mp3):
            return None
        return self.remembered(("session", mp3), _key(mp3_status, timeline_status),
                               lambda: _check_session(files, timeline_status.st_size))

    def allows(self, target: Path) -> bool:
        """Whether ``target`` (inside the folder, already resolved by the caller's rules) may be sent."""
        if regular_file(target) is None or not inside_without_links(self.root, target):
            return False
        if target == self.root / FEED_NAME:
            return True
        if target.name == "manifest.json":
            return self._manifest(target) is not None
        if target.suffix == ".m3u8":
            manifest = self._manifest(target.with_name("manifest.json"))
            return manifest is not None and manifest.get("playlist") == target.name
        files = SessionFiles.of_file(target)
        if files is None:
            return False
        session = self.session(files.mp3)
        if session is None:
            return False
        if target in (files.mp3, files.timeline):
            return True
        return target.suffix in _SIDECARS and session.lists(target)

    def _manifest(self, path: Path) -> dict | None:
        status = regular_file(path)
        if status is None or not inside_without_links(self.root, path):
            return None
        return self.remembered(("manifest", path), _key(status), lambda: self._check_manifest(path, status.st_size))

    def _check_manifest(self, path: Path, size: int) -> dict | None:
        """The manifest, if a batch wrote it: every session it lists is served, with the build key it gives."""
        if size > MAX_INDEX_BYTES:
            return None
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("sessions"), list):
            return None
        listed = [entry for entry in data["sessions"] if isinstance(entry, dict) and "file" in entry]
        if not listed:
            return None
        for entry in listed:
            name = entry["file"]
            if not isinstance(name, str) or "/" in name or not name.endswith(".mp3"):
                return None
            session = self.session(path.with_name(name))
            if session is None or session.build_key is None or session.build_key != entry.get("build_key"):
                return None
        return data


def _check_session(files: SessionFiles, timeline_size: int) -> CheckedSession | None:
    if timeline_size > MAX_INDEX_BYTES:
        return None
    try:
        text = files.timeline.read_bytes().decode("utf-8")
        timeline = Timeline.from_json(text)
        tags = ID3(files.mp3)
    except (OSError, ValueError, MutagenError):
        return None
    if tag_values(tags, TIMELINE_HASH_TAG) != [timeline_sha256(text)]:
        return None
    keys = tag_values(tags, BUILD_KEY_TAG)
    return CheckedSession(files, timeline, keys[0] if keys else None)
