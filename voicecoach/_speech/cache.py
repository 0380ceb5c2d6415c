"""TODO"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from .engines import Clip, Engine, SpeechSettings
from .._errors import SpeechError
from .._publish.files import PendingFile
from .._stores.remote import RemoteStore
from .entry import _settings_dict, decode_entry, encode_entry
from .finish import finish_clip

if TYPE_CHECKING:  # a synthesis worker imports this module: it needs no routine models (pydantic)
    pass

CACHE_FORMAT = 4  # 3: clips are peak-limited when synthesized; 4: entries carry their BS.1770 statistics


def default_cache_dir() -> Path:
    return Path(os.environ.get("VOICECOACH_CACHE_DIR") or platformdirs.user_cache_dir("voicecoach"))


@dataclass(frozen=True)
class CacheInfo:
    root: Path
    entries: int
    size_bytes: int
    voices: int
    damaged: int
    leftovers: int
    old_format: int = 0  # entries an earlier voicecoach wrote; unused now


@dataclass(frozen=True)
class Cleared:
    root: Path
    entries: int
    size_bytes: int


class PhraseCache:
    """One file per (engine, version, voice, rate, volume, text): the trimmed clip, checked when read.

    An entry is a line ``VCCLIP2``, a JSON line (what was said, how, and the
    samples' count and SHA-256), then the samples. It is written as an unnamed
    file and linked in only when complete, so a reader sees a whole entry or
    none, and two builds may share the folder: the first entry linked in wins.
    A truncated or altered entry is noticed when read, thrown away and made
    again, and ``notices`` says so.

    With ``url`` (``s3://bucket/prefix``, the cluster extra) the entries live
    in that shared store instead, created by conditional PUTs: the first
    stored wins there too (see ``voicecoach.store``). ``root`` then only keeps
    what the client measures for itself (music).
    """

    def __init__(self, root: Path | None = None, url: str | None = None) -> None:
        self.root = Path(root) if root else default_cache_dir()
        self.url = url
        self.remote = RemoteStore(url, "cache_dir") if url else None
        self.notices: list[str] = []

    @property
    def entries_dir(self) -> Path:
        return self.root / f"clips-v{CACHE_FORMAT}"

    def key(self, settings: SpeechSettings, text: str) -> str:
        identity = json.dumps({"format": CACHE_FORMAT, **_settings_dict(settings), "text": text},
                              sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(identity.encode()).hexdigest()

    def relative_for(self, settings: SpeechSettings, text: str) -> str:
        """Where an entry is below the cache's top, in a folder or a store: ``clips-v4/ab/abcd....clip``."""
        key = self.key(settings, text)
        return f"{self.entries_dir.name}/{key[:2]}/{key}.clip"

    def path_for(self, settings: SpeechSettings, text: str) -> Path:
        return self.root / self.relative_for(settings, text)

    def has(self, settings: SpeechSettings, text: str) -> bool:
        """Whether an entry is there (not whether it is whole: ``load`` checks that)."""
        if self.remote is not None:
            return self.remote.exists(self.relative_for(settings, text))
        return self.path_for(settings, text).is_file()

    def load(self, settings: SpeechSettings, text: str) -> Clip | None:
        if self.remote is not None:
            return self._load_remote(self.relative_for(settings, text))
        return self.load_entry(self.path_for(settings, text))

    def _load_remote(self, relative: str) -> Clip | None:
        remote = self.remote
        assert remote is not None
        data = remote.read_bytes(relative)
        return None if data is None else self._decoded(data, lambda: remote.remove(relative))

    def load_entry(self, path: Path) -> Clip | None:
        """The clip stored at ``path``; None when there is none or it is damaged (then it is removed)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise SpeechError(f"the speech cache cannot be read ({error.strerror}); choose another with "
                              "{@cache_dir}, or run `voicecoach cache clear`", file=str(path)) from None
        def discard() -> None:
            with contextlib.suppress(OSError):
                path.unlink()

        return self._decoded(data, discard)

    def _decoded(self, data: bytes, discard: Callable[[], object]) -> Clip | None:
        """An entry's clip; a damaged one is discarded (so it is made again), noted, and None."""
        try:
            return decode_entry(data)[1]
        except ValueError as problem:
            discard()
            self.notices.append(f"a damaged speech cache entry ({problem}) was thrown away and made again")
            return None

    def take_notices(self) -> tuple[str, ...]:
        notices, self.notices = tuple(self.notices), []
        return notices

    def make(self, settings: SpeechSettings, text: str, engine: Engine) -> Clip:
        """Synthesize ``text`` with ``engine``, trim and limit it, and store it (unless another build did first)."""
        path = self.path_for(settings, text)
        if self.remote is None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise SpeechError(f"the speech cache {self.root} cannot be written ({error.strerror}); "
                                  "choose another with {@cache_dir}", file=None) from None
        clip = finish_clip(engine.synthesize(text, settings), text, engine.label)
        return self._publish(path, settings, text, clip)

    def _publish(self, path: Path, settings: SpeechSettings, text: str, clip: Clip) -> Clip:
        """Put a fresh entry in place unless another build got there first; then use theirs.

        espeak-ng gives the same samples for the same phrase every time (each is
        spoken by a fresh espeak-ng), but piper does not (it samples its prosody
        anew each time), so two builds sharing the cache must agree on one entry:
        the first one linked in (or, in a store, created by a conditional PUT) wins,
        and nobody ever replaces an entry in use.
        """
        if self.remote is not None:
            relative = self.relative_for(settings, text)
            if self.remote.create(relative, encode_entry(settings, text, clip)):
                return clip
            return self._load_remote(relative) or clip  # another worker stored it first: use theirs
        for _ in range(3):
            entry = PendingFile(path)
            try:
                with open(entry.path, "wb") as handle:
                    handle.write(encode_entry(settings, text, clip))
                if entry.publish_if_absent():
                    return clip
            except FileNotFoundError:  # `voicecoach cache clear` removed the folder meanwhile
                entry.discard()
                path.parent.mkdir(parents=True, exist_ok=True)
                continue
            except OSError as error:
                entry.discard()
                raise SpeechError(f"the speech cache {self.root} cannot be written ({error.strerror}); "
                                  "choose another with {@cache_dir}", file=None) from None
            existing = self.load_entry(path)
            if existing is not None:
                return existing
        return clip  # the cache keeps losing it; use the fresh clip and let a later build store it

    def info(self) -> CacheInfo:
        """What the cache holds, every entry checked."""
        entries = size = damaged = leftovers = old_format = 0
        voices = set()
        for path in self._files():
            if path.name.endswith(".part"):
                leftovers += 1
                continue
            if self.entries_dir not in path.parents:
                old_format += 1
                continue
            entries += 1
            size += path.stat().st_size
            try:
                header, _ = decode_entry(path.read_bytes())
                voices.add((header["engine"], header["voice"], header["rate"], header["volume"]))
            except (ValueError, KeyError, OSError):
                damaged += 1
        return CacheInfo(self.root, entries, size, len(voices), damaged, leftovers, old_format)

    def clear(self) -> Cleared:
        """Remove every entry (of this and older formats) and any leftover; says how many entries and bytes."""
        files = self._files()
        cleared = Cleared(self.root, sum(not path.name.endswith(".part") for path in files),
                          sum(path.stat().st_size for path in files))
        for folder in self._entry_dirs():
            shutil.rmtree(folder, ignore_errors=True)
        return cleared

    def _entry_dirs(self) -> list[Path]:
        # this format's folder and those of older ones ("phrases" was format 1)
        return [self.root / "phrases", *sorted(self.root.glob("clips-v*"))]

    def _files(self) -> list[Path]:
        return [path for folder in self._entry_dirs() for path in folder.rglob("*") if path.is_file()]
