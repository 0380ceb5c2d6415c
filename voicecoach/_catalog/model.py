"""TODO"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


from .._build import BuildOptions, BuildResult
from .._errors import VoicecoachError
from .._audio.timeline import Timeline
from .._audio.music_tracks import TrackInfo
from .._audio.session import SessionJob
from .._plan.steps import Plan
from .._speech.engines.base import SpeechSettings
from .._stores.remote import RemoteStore
from .specs import SessionSpec

# on_progress(stage, done, total, name): stage is "speech" (all phrases), "encode"
# (chunks of the session ``name``) or "sessions" (sessions finished, failed ones included).
BatchProgress = Callable[[str, int, int, str | None], None]


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
    # Shared stores at fsspec URLs (s3://bucket/prefix; the cluster extra), instead of output_dir and cache_dir:
    output_url: str | None = None
    cache_url: str | None = None


@dataclass(frozen=True)
class SessionOutcome:
    track: int
    name: str
    title: str
    spec: SessionSpec
    result: BuildResult | None = None
    failure: VoicecoachError | None = field(default=None, compare=False)
    build_key: str | None = None
    up_to_date: bool = False  # its files were there, made by the same build key: not built again

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


@dataclass(frozen=True)
class BatchResult:
    folder: Path
    sessions: tuple[SessionOutcome, ...]
    playlist_path: Path | None
    manifest_path: Path
    notices: tuple[str, ...] = ()  # about the whole batch, e.g. a repaired cache entry
    store: RemoteStore | None = None  # the paths are relative to it when the outputs went to a shared store

    def where(self, path: Path) -> str:
        """Where a file of this batch is, as a person would look for it (a URL in a shared store)."""
        return self.store.where(path) if self.store else str(path)

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


@dataclass
class _Session:
    """A session while the batch works on it."""

    track: int
    spec: SessionSpec
    name: str
    title: str
    folder: Path = Path(".")  # its routine's folder
    total: int = 1  # sessions in its routine's batch (its track tag says "track/total")
    plan: Plan | None = None
    voice: SpeechSettings | None = None
    tracks: Mapping[Path, TrackInfo] | None = None  # its music files, measured
    key: str | None = None  # its build key
    up_to_date: bool = False
    job: SessionJob | None = None
    timeline: Timeline | None = None  # once written
    error: VoicecoachError | None = None


@dataclass(frozen=True)
class CatalogResult:
    """Every routine's batch, and the catalog file listing them (written when there is more than one routine)."""

    batches: tuple[BatchResult, ...]
    path: Path | None = None
    store: RemoteStore | None = None

    @property
    def where(self) -> str | None:
        """Where ``catalog.json`` is (a URL in a shared store)."""
        return None if self.path is None else self.store.where(self.path) if self.store else str(self.path)

    @property
    def counts(self) -> tuple[int, int, int]:
        """(built, up to date, failed) over the whole catalog."""
        totals = [batch.counts for batch in self.batches]
        return sum(t[0] for t in totals), sum(t[1] for t in totals), sum(t[2] for t in totals)

    @property
    def exit_code(self) -> int:
        return max((batch.exit_code for batch in self.batches), default=0)


CATALOG_NAME = "catalog.json"
