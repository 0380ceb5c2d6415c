"""A catalog's data: its options, each session as planned, and what became of each (all frozen)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._audio.music_tracks import TrackInfo
from .._errors import VoicecoachError
from .._pipeline.build import BuildOptions, BuildResult, session_tags
from .._pipeline.job import SessionJob
from .._plan.steps import Plan
from .._publish.names import SessionFiles
from .._routine.lexicon import Lexicon
from .._speech.engines.base import Clip, SpeechSettings
from .._stores import FolderStore, Store
from .specs import SessionSpec

# on_progress(stage, done, total, name): stage is "speech" (all phrases), "encode" (chunks of the session
# ``name``), "sessions" (sessions finished, failed ones included) or "dask" (``name`` is the dashboard's address).
CatalogProgress = Callable[[str, int, int, str | None], None]
CATALOG_NAME = "catalog.json"


@dataclass(frozen=True)
class BatchOptions(BuildOptions):
    """A build's options, for every session, plus how many sessions are rendered at once.

    ``voice_name`` and ``rate_wpm`` win over every variant and setting, as in a
    build; the command line offers ``--set voice.rate=...`` instead, which names
    the sessions after it.
    """

    jobs: int | None = None  # None: every core
    force: bool = False  # build every session, even one whose files are up to date
    dask: str | None = None  # render on a Dask cluster: "tcp://host:8786", "local" or "local:N" (the cluster extra)


Speaker = tuple[SpeechSettings, Lexicon]  # a voice, and the lexicon that turns written phrases into spoken ones


def speech_groups(plan: Plan, voices: Mapping[str, SpeechSettings], voice: SpeechSettings
                  ) -> dict[Speaker, tuple[str, ...]]:
    """A plan's phrases by who says them: the voice of their language (``voice`` for one ``voices`` lacks) with
    that language's lexicon."""
    return {(voices.get(language, voice), plan.lexicon if language == plan.language else plan.foreign_lexicon): texts
            for language, texts in plan.phrases_by_language().items()}


def phrases_by_speaker(groups: Iterable[Mapping[Speaker, Sequence[str]]]) -> dict[Speaker, dict[str, None]]:
    """Every distinct phrase of many sessions' ``speech_groups``, by who says it, each once, in order."""
    wanted: dict[Speaker, dict[str, None]] = {}
    for group in groups:
        for speaker, texts in group.items():
            wanted.setdefault(speaker, {}).update(dict.fromkeys(texts))
    return wanted


@dataclass(frozen=True)
class PlannedSession:
    """One session of a catalog, planned: where it goes, what it says, who says it and its build key."""

    track: int
    total: int  # sessions in its routine's batch (its track tag says "track/total")
    spec: SessionSpec
    folder: Path  # its routine's folder in the store
    plan: Plan
    voice: SpeechSettings
    key: str
    sound: str  # its sound key: sessions with the same one are encoded once (``keys.session_keys``)
    tracks: Mapping[Path, TrackInfo] | None = None  # its music files, measured
    voices: Mapping[str, SpeechSettings] = field(default_factory=dict)  # by language (``voices_for``)

    def speech_groups(self) -> dict[Speaker, tuple[str, ...]]:
        """Its phrases by who says them (``speech_groups``)."""
        return speech_groups(self.plan, self.voices, self.voice)

    @property
    def name(self) -> str:
        return self.plan.slug

    @property
    def title(self) -> str:
        return self.plan.title

    def files(self, options: BuildOptions) -> SessionFiles:
        return SessionFiles.named(self.folder, self.name, options.subtitle_formats)

    def job(self, clips: Mapping[str, Clip], options: BuildOptions, store: Store) -> SessionJob:
        tags = dataclasses.replace(session_tags(self.plan, (self.track, self.total)), build_key=self.key,
                                   sound_key=self.sound)
        return SessionJob(self.plan, clips, self.files(options), tags, options.sample_rate_hz, options.bitrate_kbps,
                          options.loudness_lufs, options.strict, tracks=self.tracks, store=store)


@dataclass(frozen=True)
class SessionOutcome:
    """What became of one session: built now, up to date already, or failed (``failure`` says why)."""

    track: int
    name: str
    title: str
    spec: SessionSpec
    result: BuildResult | None = None
    failure: VoicecoachError | None = field(default=None, compare=False)
    build_key: str | None = None
    up_to_date: bool = False  # its files were there, made by the same build key: not built again
    sound_key: str | None = None
    shared_from: str | None = None  # built as a copy of this session's audio (the same sound key), not encoded

    @property
    def error(self) -> str | None:
        """Why the session failed, in one line (the library's words; the CLI names its flags)."""
        return str(self.failure) if self.failure is not None else None

    @property
    def exit_code(self) -> int:
        return self.failure.exit_code if self.failure is not None else 0

    @property
    def ok(self) -> bool:
        return self.result is not None


def _located(store: Store, relative: Path) -> Path:
    return store.local(relative) or relative


@dataclass(frozen=True)
class BatchResult:
    """One routine's sessions, and its playlist and manifest. Paths are on this machine for a folder store, and
    places in the store otherwise (``where`` gives their URLs)."""

    folder_in_store: Path
    sessions: tuple[SessionOutcome, ...]
    playlist_in_store: Path | None
    manifest_in_store: Path
    notices: tuple[str, ...] = ()  # about the whole batch, e.g. a repaired cache entry
    store: Store = field(default_factory=lambda: FolderStore("."), compare=False)
    title: str = ""  # the routine's

    def where(self, path: Path) -> str:
        """Where a file of this batch is, as a person would look for it (a URL in a shared store)."""
        return self.store.where(path)

    @property
    def folder(self) -> Path:
        return _located(self.store, self.folder_in_store)

    @property
    def playlist_path(self) -> Path | None:
        return None if self.playlist_in_store is None else _located(self.store, self.playlist_in_store)

    @property
    def manifest_path(self) -> Path:
        return _located(self.store, self.manifest_in_store)

    @property
    def failed(self) -> tuple[SessionOutcome, ...]:
        return tuple(session for session in self.sessions if not session.ok)

    @property
    def exit_code(self) -> int:
        return max((session.exit_code for session in self.failed), default=0)

    @property
    def counts(self) -> tuple[int, int, int]:
        """(built, up to date, failed)."""
        up_to_date = sum(session.up_to_date for session in self.sessions)
        return len(self.sessions) - up_to_date - len(self.failed), up_to_date, len(self.failed)

    @property
    def shared(self) -> int:
        """Sessions built as a copy of another's audio (an identical day), not encoded."""
        return sum(1 for session in self.sessions if session.ok and session.shared_from is not None)


@dataclass(frozen=True)
class CatalogResult:
    """Every routine's batch, the routines that could not be read (``broken``, each one error), and the
    catalog file listing them (written when there is more than one routine)."""

    batches: tuple[BatchResult, ...]
    path_in_store: Path | None = None
    store: Store = field(default_factory=lambda: FolderStore("."), compare=False)
    broken: tuple[VoicecoachError, ...] = field(default=(), compare=False)

    @property
    def where(self) -> str | None:
        """Where ``catalog.json`` is (a URL in a shared store)."""
        return None if self.path_in_store is None else self.store.where(self.path_in_store)

    @property
    def sessions(self) -> tuple[SessionOutcome, ...]:
        return tuple(session for batch in self.batches for session in batch.sessions)

    @property
    def failed(self) -> tuple[SessionOutcome, ...]:
        return tuple(session for batch in self.batches for session in batch.failed)

    @property
    def notices(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(notice for batch in self.batches for notice in batch.notices))

    @property
    def counts(self) -> tuple[int, int, int]:
        """(built, up to date, failed) over the whole catalog."""
        totals = [batch.counts for batch in self.batches]
        return sum(t[0] for t in totals), sum(t[1] for t in totals), sum(t[2] for t in totals)

    @property
    def shared(self) -> int:
        """Sessions built as a copy of another's audio (an identical day), not encoded."""
        return sum(batch.shared for batch in self.batches)

    @property
    def exit_code(self) -> int:
        """0 when every session was built or up to date; else the worst failure's code (2 for a broken
        routine)."""
        return max([batch.exit_code for batch in self.batches] + [2 if self.broken else 0])


def unused(*_: Any) -> None:
    """A progress callback that ignores what it hears."""
