"""The speech cache: each distinct phrase's clip, synthesized once and kept in a store for every later build.

An entry is named by what makes the sound (engine, version, voice, rate,
volume, the words as spoken) and holds the finished clip with its loudness
statistics (``entry``). Entries are written once: the first one stored wins,
and nobody replaces an entry in use, so builds that share a cache (a folder or
an ``s3://`` store) agree on every phrase. A damaged entry is noticed when
read, thrown away and made again, and ``notices`` says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .._errors import OutputError
from .._stores import FileInfo, Store, open_store
from .engines import Clip, Engine, SpeechSettings
from .entry import decode_entry, encode_entry, settings_identity
from .finish import finish_clip

CACHE_FORMAT = 5  # 3: clips are peak-limited; 4: entries carry their BS.1770 statistics; 5: the checksum covers
# the header too


def default_cache_dir() -> Path:
    return Path(os.environ.get("VOICECOACH_CACHE_DIR") or platformdirs.user_cache_dir("voicecoach"))


@dataclass(frozen=True)
class CacheInfo:
    root: str
    entries: int
    size_bytes: int
    voices: int
    damaged: int
    leftovers: int
    old_format: int = 0  # entries an earlier voicecoach wrote; unused now


@dataclass(frozen=True)
class Cleared:
    root: str
    entries: int
    size_bytes: int


class PhraseCache:
    """One entry per (engine, version, voice, rate, volume, words as spoken), in ``store``.

    ``location``: a folder (the default: your user cache folder, or ``VOICECOACH_CACHE_DIR``), a ``file://``
    or ``s3://`` URL, or a store.
    """

    def __init__(self, location: str | Path | Store | None = None) -> None:
        self.store = open_store(location if location is not None else default_cache_dir(), "cache_dir")
        self.notices: list[str] = []
        _check_folder(self.store)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return PhraseCache, (self.store,)  # a worker gets the same store, and notices of its own

    @property
    def root(self) -> str:
        """Where the cache is, as a person would look for it."""
        return self.store.where()

    @property
    def entries_dir(self) -> str:
        return f"clips-v{CACHE_FORMAT}"

    def check(self, make: bool = True) -> None:
        """That entries can be written here, before any synthesis: the folder is made (``make``) and a file is
        made in it and dropped at once. Without ``make`` (``validate``), a folder not there yet is left alone."""
        root = self.store.local("")
        if make or (root is not None and root.is_dir()):
            self.store.check()

    def key(self, settings: SpeechSettings, text: str) -> str:
        identity = json.dumps({"format": CACHE_FORMAT, **settings_identity(settings), "text": text},
                              sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(identity.encode()).hexdigest()

    def relative_for(self, settings: SpeechSettings, text: str) -> str:
        """Where an entry is in the store: ``clips-v5/ab/abcd....clip``."""
        key = self.key(settings, text)
        return f"{self.entries_dir}/{key[:2]}/{key}.clip"

    def has(self, settings: SpeechSettings, text: str) -> bool:
        """Whether an entry is there (not whether it is whole: ``load`` checks that)."""
        return self.store.exists(self.relative_for(settings, text))

    def load(self, settings: SpeechSettings, text: str) -> Clip | None:
        """The clip of an entry; None when there is none or it is damaged (then it is removed, and noted)."""
        relative = self.relative_for(settings, text)
        data = self.store.read(relative)
        if data is None:
            return None
        try:
            return decode_entry(data)[1]
        except ValueError as problem:
            self.store.remove(relative)
            self.notices.append(f"a damaged speech cache entry ({problem}) was thrown away and made again")
            return None

    def take_notices(self) -> tuple[str, ...]:
        notices, self.notices = tuple(self.notices), []
        return notices

    def make(self, settings: SpeechSettings, text: str, engine: Engine) -> Clip:
        """Synthesize ``text`` with ``engine``, trim and limit it, and store it, unless another build stored it
        first: then theirs is the one used (espeak-ng gives the same samples every time, each phrase spoken by
        a fresh espeak-ng; piper does not, as it samples its prosody anew)."""
        relative = self.relative_for(settings, text)
        clip = finish_clip(engine.synthesize(text, settings), text, engine.label)
        if self.store.create(relative, encode_entry(settings, text, clip)):
            return clip
        return self.load(settings, text) or clip  # theirs; if it vanished meanwhile, ours (a later build stores it)

    def info(self) -> CacheInfo:
        """What the cache holds, every entry checked."""
        entries = size = damaged = leftovers = old_format = 0
        voices = set()
        for found in self._files():
            relative = found.name
            if relative.endswith(".part"):
                leftovers += 1
                continue
            if not relative.startswith(self.entries_dir + "/"):
                old_format += 1
                continue
            entries += 1
            size += found.size_bytes
            try:
                header, _ = decode_entry(self.store.read(relative) or b"")
                voices.add((header["engine"], header["voice"], header["rate"], header["volume"]))
            except (ValueError, KeyError, OutputError):
                damaged += 1
        return CacheInfo(self.root, entries, size, len(voices), damaged, leftovers, old_format)

    def clear(self) -> Cleared:
        """Remove every entry (of this and older formats) and any leftover; says how many entries and bytes."""
        files = self._files()
        cleared = Cleared(self.root, sum(not found.name.endswith(".part") for found in files),
                          sum(found.size_bytes for found in files))
        for folder in self._entry_dirs():
            self.store.remove_tree(folder)
        return cleared

    def _entry_dirs(self) -> list[str]:
        # this format's folder and those of older ones ("phrases" was format 1)
        return ["phrases", *(f"clips-v{number}" for number in range(2, CACHE_FORMAT + 1))]

    def _files(self) -> list[FileInfo]:
        return [found for folder in self._entry_dirs() for found in self.store.walk(folder)]


_KINDS = ((stat.S_ISREG, "a file"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISFIFO, "a pipe"),
          (stat.S_ISSOCK, "a socket"))


def _check_folder(store: Store) -> None:
    """A cache folder here that is a file or a device (``/dev/null``), or inside one, is one line at once."""
    root = store.local("")
    if root is None:
        return
    for folder in (root, *root.parents):
        try:
            mode = folder.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:
            return  # cannot be looked at: writing says why
        if stat.S_ISDIR(mode):
            return
        kind = next((name for test, name in _KINDS if test(mode)), "something else")
        where = "is" if folder == root else f"would be inside {folder}, which is"
        raise OutputError(f"the speech cache {where} {kind}, not a folder; give the path of a folder (one not there "
                          f"yet is made) with {{@{store.option}}}", file=str(root))
