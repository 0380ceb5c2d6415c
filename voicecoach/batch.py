"""Many sessions of one routine: plan them all, synthesize the union of their phrases
once, then render and encode them in a pool of processes.

The pool uses the spawn start method (a process with threads, such as piper's
runtime or Dask's, is not safe to fork), and synthesis happens here, in the
parent, before the pool starts. Workers get the clips they need with their job, so they never touch
the speech engine or write to the cache. One session failing does not stop the
others; each outcome says what happened.
"""

from __future__ import annotations

import dataclasses
import glob as globlib
import hashlib
import itertools
import json
import logging
import multiprocessing
import os
import queue as queue_module
import signal
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mutagen import MutagenError
from mutagen.id3 import ID3

from . import __version__
from .build import BuildOptions, BuildResult, session_tags, voice_source, with_voice
from .errors import ClusterError, MissingPartError, RoutineError, VoicecoachError
from .export import BUILD_KEY_TAG, check_mp3_format, check_writable, tag_values
from .files import SessionFiles, write_all
from .layout import Timeline
from .parts import ffmpeg_path
from .music import TrackInfo, measure_tracks
from .pipeline import SessionJob, write_session
from .plan import Plan, plan_session
from .slug import session_slug
from .lexicon import Lexicon
from .speech import Clip, PhraseCache, SpeechService, SpeechSettings, synthesize_task
from .store import CLUSTER_INSTALL, RemoteStore
from .variants import BASE, RoutineFile, Setting, labels_for

# on_progress(stage, done, total, name): stage is "speech" (all phrases), "encode"
# (chunks of the session ``name``) or "sessions" (sessions finished, failed ones included).
BatchProgress = Callable[[str, int, int, str | None], None]


@dataclass(frozen=True)
class SessionSpec:
    """One session of a batch: a variant (None for the base routine) and the settings over it."""

    variant: str | None
    settings: tuple[Setting, ...] = ()

    @property
    def name_parts(self) -> tuple[str, ...]:
        return ((self.variant,) if self.variant else ()) + labels_for(self.settings)

    @property
    def overrides(self) -> dict[str, Any]:
        return {setting.path: setting.value for setting in self.settings}


def batch_specs(routine_file: RoutineFile, variants: Sequence[str] = (), all_variants: bool = False,
                settings: Sequence[Setting] = (), matrix: Sequence[Sequence[Setting]] = ()) -> tuple[SessionSpec, ...]:
    """Every session a batch builds: each chosen variant times each point of the matrix.

    ``variants`` may name ``base`` for the routine without a variant; ``all_variants``
    means the base and every variant. ``matrix`` holds one group of settings per
    path; their cross product is built. ``settings`` apply to every session first.
    """
    chosen: list[str | None]
    if all_variants:
        chosen = [None, *routine_file.variant_names]
    elif variants:
        chosen = []
        for name in variants:
            if name != BASE:
                routine_file.check_variant_name(name)
            chosen.append(None if name == BASE else name)
    else:
        chosen = [None]
    paths = [group[0].path for group in matrix if group]
    for path in paths:
        if paths.count(path) > 1:
            raise RoutineError(f"{path} is given twice; put all its values in one {{@matrix}} {path}=V1,V2,...",
                               file=routine_file.source.file, field="{@matrix}")
    specs = [SessionSpec(variant, tuple(settings) + point)
             for variant in dict.fromkeys(chosen)
             for point in itertools.product(*(tuple(group) for group in matrix))]
    return tuple(dict.fromkeys(specs))


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


def build_batch(routine_file: RoutineFile, specs: Sequence[SessionSpec], options: BatchOptions = BatchOptions(),
                on_progress: BatchProgress | None = None, speech: SpeechService | None = None) -> BatchResult:
    """Build every session of ``specs`` into ``output_dir/<routine-slug>/`` with a playlist and a manifest."""
    return build_catalog([(routine_file, specs)], options, on_progress, speech).batches[0]


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
STORE_REQUESTS = 16  # requests to a shared store at once when checking which sessions are up to date


def build_catalog(batches: Sequence[tuple[RoutineFile, Sequence[SessionSpec]]], options: BatchOptions = BatchOptions(),
                  on_progress: BatchProgress | None = None, speech: SpeechService | None = None) -> CatalogResult:
    """Build many routines' sessions at once: each routine into ``output_dir/<routine-slug>/`` with its playlist
    and manifest, speech planned across the whole catalog (each distinct phrase of a voice synthesized once for
    every routine), and, for more than one routine, ``catalog.json`` at the top."""
    def ignore(stage: str, done: int, total: int, name: str | None = None) -> None:
        pass

    report: BatchProgress = on_progress or ignore
    check_mp3_format(options.sample_rate_hz, options.bitrate_kbps)
    ffmpeg_path()
    # In a shared store, paths are relative to the store's top; each file is written there whole.
    store = RemoteStore(options.output_url) if options.output_url else None
    top = Path(".") if store else Path(options.output_dir)
    folders = [top / routine_file.base.slug for routine_file, _ in batches]
    if store:
        store.check()
    else:
        for folder in folders:
            check_writable(folder)
    speech = speech or SpeechService(PhraseCache(options.cache_dir, options.cache_url))
    if speech.cache.remote is not None:
        speech.cache.remote.check()
    total = sum(len(specs) for _, specs in batches)
    groups = [_plan_sessions(routine_file, specs, options, speech, folder, store)
              for (routine_file, specs), folder in zip(batches, folders)]
    every = [session for group in groups for session in group]

    finished = [0]

    def session_finished() -> None:
        finished[0] += 1
        report("sessions", finished[0], total, None)

    planned = [session for session in every if session.error is None and not session.up_to_date]
    for session in every:
        if session.error is not None or session.up_to_date:
            session_finished()
    workers = min(options.jobs or os.cpu_count() or 1, len(planned))
    renderer: _Renderer
    if options.dask:
        renderer = _DaskRenderer(options.dask, report, session_finished, store)
    elif workers > 1:
        renderer = _PoolRenderer(workers, report, session_finished, store)
    else:
        renderer = _InlineRenderer(report, session_finished, store)
    try:
        _synthesize_and_render(planned, speech, options, report, renderer)
        renderer.finish()
    except BaseException:
        renderer.stop()
        raise
    notices = speech.cache.take_notices()
    results = tuple(_write_index(routine_file, folder, tuple(_outcome(session) for session in group), notices, store)
                    for (routine_file, _), folder, group in zip(batches, folders, groups))
    path = None
    if len(batches) > 1:
        path = top / CATALOG_NAME
        write_files({path: json.dumps(catalog_data(results, top), indent=2, ensure_ascii=False,
                                      default=str) + "\n"}, store)
    return CatalogResult(results, path, store)


def write_files(contents: Mapping[Path, str | bytes], store: RemoteStore | None = None) -> None:
    """The client's files (manifests, playlists, the catalog): here all together or none, or in a shared store
    each one whole (one object each)."""
    if store is None:
        write_all(contents)
        return
    for path, content in contents.items():
        store.write_bytes(path, content.encode() if isinstance(content, str) else content)


def catalog_data(results: Sequence[BatchResult], top: Path) -> dict:
    """``catalog.json``: every routine's folder and manifest, and every session with its status."""
    built, current, failed = CatalogResult(tuple(results)).counts
    return {
        "built": built, "up_to_date": current, "failed": failed,
        "routines": [{"folder": batch.folder.relative_to(top).as_posix(),
                      "manifest": batch.manifest_path.relative_to(top).as_posix()} for batch in results],
        "sessions": [{"routine": batch.folder.relative_to(top).as_posix(), "name": session.name,
                      "title": session.title,
                      "status": "failed" if not session.ok else "up to date" if session.up_to_date else "ok",
                      **({"file": session.result.mp3_path.relative_to(top).as_posix()} if session.result else
                         {"error": session.error})}
                     for batch in results for session in batch.sessions],
    }


def find_routines(paths: Sequence[Path]) -> list[Path]:
    """The routine files a catalog names: files as they are, every ``*.yaml`` below a folder (not hidden ones),
    and the files a glob matches (``routines/*.yaml``), each once, in order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(entry for entry in path.rglob("*.yaml")
                            if not any(part.startswith(".") for part in entry.relative_to(path).parts))
        elif not path.exists() and any(char in str(path) for char in "*?["):
            matches = sorted(Path(match) for match in globlib.glob(str(path), recursive=True))
            if not matches:
                raise RoutineError("matches no routine file; check the pattern", file=str(path))
            found += matches
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def _plan_sessions(routine_file: RoutineFile, specs: Sequence[SessionSpec], options: BatchOptions,
                   speech: SpeechService, folder: Path, store: RemoteStore | None = None) -> list[_Session]:
    """One routine's sessions, planned, their voices and music known, and those already up to date found."""
    base = routine_file.base
    total = len(specs)
    sessions = [_Session(track, spec, session_slug(base.title, spec.name_parts),
                         _title(base.title, spec.name_parts), folder=folder)
                for track, spec in enumerate(specs, start=1)]
    names: dict[str, int] = {}
    present = store.names(folder) if store and not options.force else None  # one listing per routine
    checks: list[tuple[_Session, SessionFiles]] = []
    for session in sessions:
        try:
            routine = with_voice(routine_file.session(session.spec.variant, session.spec.settings,
                                                      session.spec.name_parts), options.voice_name, options.rate_wpm)
            session.plan = plan_session(routine)
            session.name, session.title = session.plan.slug, session.plan.title
            if session.name in names:
                raise RoutineError(f"has the same file name as session {names[session.name]}; "
                                   "give the variants or values different names")
            names[session.name] = session.track
            session.voice = speech.settings_for(routine.voice, routine.language, voice_source(routine, options))
            if session.plan.music is not None:
                session.tracks = measure_tracks(session.plan.music, options.sample_rate_hz, speech.cache.root,
                                                session.plan.source)
            session.total = total
            session.key = build_key(session.plan, session.voice, options, session.tracks, (session.track, total))
            if not options.force:
                checks.append((session, SessionFiles.named(folder, session.name, options.subtitle_formats)))
        except VoicecoachError as error:
            session.error = error
    # Which sessions are up to date: in a shared store each check is a request or two, so many run at once.
    with ThreadPoolExecutor(STORE_REQUESTS if store else 1) as threads:
        found = list(threads.map(lambda check: up_to_date(check[1], check[0].key, store, present), checks))
    for (session, files), timeline in zip(checks, found):
        if timeline is not None:
            assert session.plan is not None
            session.timeline, session.up_to_date = timeline, True
            session.job = SessionJob(session.plan, {}, files, session_tags(session.plan), tracks=session.tracks)
    return sessions


def _title(title: str, parts: Sequence[str]) -> str:
    return f"{title} ({', '.join(parts)})" if parts else title


def _synthesize_and_render(sessions: list[_Session], speech: SpeechService, options: BatchOptions,
                           report: BatchProgress, renderer: _Renderer) -> None:
    """Synthesize each voice's phrases once for all its sessions, then hand those sessions to the renderer.

    Sessions of the first voice are encoding while the next voice is synthesized.
    """
    # A voice is its settings plus the lexicon that turns written phrases into spoken ones.
    by_voice: dict[tuple[SpeechSettings, Lexicon], list[tuple[_Session, Plan]]] = {}
    for session in sessions:
        assert session.voice is not None and session.plan is not None  # planned: see build_batch
        by_voice.setdefault((session.voice, session.plan.lexicon), []).append((session, session.plan))
    wanted = {voice: tuple(dict.fromkeys(text for _, plan in group for text in plan.phrases()))
              for voice, group in by_voice.items()}
    all_phrases = sum(len(texts) for texts in wanted.values())
    done_before = 0
    for voice, group in by_voice.items():
        def synthesized(done: int, _total: int, before: int = done_before) -> None:
            report("speech", before + done, all_phrases, None)
            renderer.poll()
        try:
            clips, coming = renderer.clips(speech, voice[0], wanted[voice], voice[1].apply, synthesized)
        except VoicecoachError as error:
            for session, _ in group:
                session.error = error
                renderer.finished()
            done_before += len(wanted[voice])
            continue
        done_before += len(wanted[voice])
        for session, plan in group:
            tags = dataclasses.replace(session_tags(plan, (session.track, session.total)), build_key=session.key)
            phrases = set(plan.phrases())
            session.job = SessionJob(plan, {text: clips[text] for text in phrases if text in clips},
                                     SessionFiles.named(session.folder, session.name, options.subtitle_formats),
                                     tags, options.sample_rate_hz,
                                     options.bitrate_kbps, options.loudness_lufs, options.strict,
                                     tracks=session.tracks)
            renderer.submit(session, session.job, [future for texts, future in coming if texts & phrases])


def _outcome(session: _Session) -> SessionOutcome:
    if session.error is not None or session.job is None or session.timeline is None:
        error = session.error or VoicecoachError("was not built")
        return SessionOutcome(session.track, session.name, session.title, session.spec, failure=error)
    return SessionOutcome(session.track, session.name, session.title, session.spec,
                          result=BuildResult(session.job.files, session.timeline), build_key=session.key,
                          up_to_date=session.up_to_date)


def build_key(plan: Plan, voice: SpeechSettings, options: BatchOptions, tracks: Mapping[Path, TrackInfo] | None,
              track: tuple[int, int]) -> str:
    """What makes a session what it is: the resolved routine (after variants and overrides, as its plan), the
    engine and voice, the files it uses (cover, music), the output options, its place in the batch (its track
    tag) and voicecoach's version. Two builds with the same key make the same files."""
    def identity(path: Path | None) -> list | None:
        if path is None:
            return None
        try:
            status = path.stat()
        except OSError:
            return [str(path)]
        return [str(path), status.st_size, status.st_mtime_ns]

    parts = {
        "voicecoach": __version__,
        "plan": plan.to_dict(),
        "title": plan.title, "album": plan.album, "description": plan.description, "version": plan.version,
        "tone_gain_db": plan.tone_gain_db, "cover": identity(plan.cover),
        "music": dataclasses.asdict(plan.music) if plan.music else None,
        "tracks": {str(path): dataclasses.asdict(info) for path, info in (tracks or {}).items()},
        "voice": dataclasses.asdict(voice),
        "output": [options.sample_rate_hz, options.bitrate_kbps, options.loudness_lufs, options.strict,
                   list(options.subtitle_formats)],
        "track": list(track),
    }
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def up_to_date(files: SessionFiles, key: str | None, store: RemoteStore | None = None,
               present: set[str] | None = None) -> Timeline | None:
    """The session's timeline when its files are all there and its MP3 was made by ``key``; else None.

    In a shared store, ``present`` names the files in the session's folder (listed once for all its sessions),
    and only the MP3's tag is read, not its audio."""
    paths = (files.mp3, files.timeline, files.lrc, *files.subtitles)
    if key is None:
        return None
    try:
        if store is not None:
            if present is None or not all(path.name in present for path in paths):
                return None
            with store.open(files.mp3) as handle:
                if tag_values(ID3(handle), BUILD_KEY_TAG) != [key]:
                    return None
            text = (store.read_bytes(files.timeline) or b"").decode("utf-8")
        else:
            if not all(path.is_file() for path in paths):
                return None
            if tag_values(ID3(files.mp3), BUILD_KEY_TAG) != [key]:
                return None
            text = files.timeline.read_text(encoding="utf-8")
        return Timeline.from_json(text)
    except (MutagenError, OSError, ValueError, UnicodeDecodeError):
        return None  # damaged: built again


# ---------------------------------------------------------------- rendering: here, or in a process pool


def render_session(job: SessionJob, store: RemoteStore | None = None,
                   on_chunk: Callable[[int, int], None] | None = None) -> Timeline:
    """Write one session: into its folder, or, for a shared store, into a scratch folder here and then into the
    store, one whole object per file, the MP3 last (so a session whose MP3 is there has all its files)."""
    if store is None:
        return write_session(job, on_chunk=on_chunk)
    with tempfile.TemporaryDirectory(prefix="voicecoach-") as scratch:
        here = SessionFiles(Path(scratch) / job.files.mp3, tuple(Path(scratch) / path for path in job.files.subtitles))
        here.mp3.parent.mkdir(parents=True, exist_ok=True)
        timeline = write_session(dataclasses.replace(job, files=here), on_chunk=on_chunk)
        for local, relative in ((here.timeline, job.files.timeline), (here.lrc, job.files.lrc),
                                *zip(here.subtitles, job.files.subtitles), (here.mp3, job.files.mp3)):
            store.put_file(local, relative)
    return timeline


class _Renderer:
    """Renders and encodes sessions handed to it; records each one's error, reports each one finished."""

    def __init__(self, report: BatchProgress, session_finished: Callable[[], None],
                 store: RemoteStore | None = None) -> None:
        self.report = report
        self.finished = session_finished  # called once per session, built or failed
        self.store = store  # the shared store the sessions go to, if not a local folder

    def clips(self, speech: SpeechService, settings: SpeechSettings, texts: Sequence[str],
              spoken: Callable[[str], str], on_progress: Callable[[int, int], None]
              ) -> tuple[dict[str, Clip], list[tuple[frozenset[str], Any]]]:
        """One voice's clips: those at hand, and those still coming (the texts a pending synthesis makes).
        Here every clip is at hand: synthesized by this process and its pool of engines."""
        return speech.clips(texts, settings, on_progress=on_progress, spoken=spoken), []

    def submit(self, session: _Session, job: SessionJob, coming: Sequence[Any] = ()) -> None:
        """Render ``job``; ``coming`` are the pending syntheses whose clips it still needs."""
        raise NotImplementedError

    def poll(self) -> None:
        """Take note of finished work without waiting."""

    def finish(self) -> None:
        """Wait for everything submitted."""

    def stop(self) -> None:
        """Abandon everything (Ctrl-C): nothing half-written may stay behind."""


class _InlineRenderer(_Renderer):
    """One session at a time, in this process: for -j 1 or a batch of one."""

    def submit(self, session: _Session, job: SessionJob, coming: Sequence[Any] = ()) -> None:
        try:
            session.timeline = render_session(
                job, self.store, on_chunk=lambda done, chunks: self.report("encode", done, chunks, session.name))
        except VoicecoachError as error:
            session.error = error
        self.finished()


_progress_queue: Any = None
_busy = False


def _worker_start(progress_queue: Any) -> None:
    """In each worker: report progress through the queue; stop cleanly on SIGTERM.

    Ctrl-C in a terminal reaches every process of the group; workers ignore it and
    the parent, which decides, sends them SIGTERM. A busy worker then unwinds like
    an interrupt, so its temporary files are removed and ffmpeg is stopped.
    """
    global _progress_queue
    _progress_queue = progress_queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_terminated)


def _worker_terminated(signum: int, frame: Any) -> None:
    if _busy:
        raise KeyboardInterrupt
    os._exit(128 + signum)


def _worker_render(name: str, job: SessionJob, store: RemoteStore | None) -> Timeline:
    global _busy
    _busy = True
    try:
        return render_session(job, store, on_chunk=lambda done, chunks: _progress_queue.put((name, done, chunks)))
    finally:
        _busy = False


class _PoolRenderer(_Renderer):
    """Sessions rendered by worker processes (spawned: see the module's docstring)."""

    def __init__(self, workers: int, report: BatchProgress, session_finished: Callable[[], None],
                 store: RemoteStore | None = None) -> None:
        super().__init__(report, session_finished, store)
        context = multiprocessing.get_context("spawn")
        self.queue = context.Queue()
        self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start,
                                        initargs=(self.queue,))
        self.futures: dict[Future, _Session] = {}

    def submit(self, session: _Session, job: SessionJob, coming: Sequence[Any] = ()) -> None:
        self.futures[self.pool.submit(_worker_render, session.name, job, self.store)] = session

    def poll(self, timeout_s: float = 0) -> None:
        if self.futures:
            finished, _ = wait(list(self.futures), timeout=timeout_s, return_when=FIRST_COMPLETED)
        else:
            finished = set()
        while True:
            try:
                name, done, chunks = self.queue.get_nowait()
            except (queue_module.Empty, OSError, ValueError):
                break
            self.report("encode", done, chunks, name)
        for future in finished:
            session = self.futures.pop(future)
            error = future.exception()
            if isinstance(error, VoicecoachError):
                session.error = error
            elif isinstance(error, BrokenProcessPool):
                session.error = VoicecoachError("its worker process stopped unexpectedly; build it again")
            elif error is not None:
                session.error = VoicecoachError(f"failed: {error!r}")
            else:
                session.timeline = future.result()
            self.finished()

    def finish(self) -> None:
        while self.futures:
            self.poll(timeout_s=0.1)
        self.pool.shutdown(wait=True)
        self.queue.close()

    def stop(self) -> None:
        """Cancel what has not started and make busy workers clean up and stop."""
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():  # an idle worker the pool left waiting; it holds nothing half-written
                process.kill()
                process.join()
        self.pool.shutdown(wait=True)
        self.queue.close()


def dask_client(address: str) -> tuple[Any, Any]:
    """A Dask client for ``address`` ("local" or "local:N" starts a LocalCluster of N worker processes here), and
    the cluster it started (None for a running scheduler)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise MissingPartError(f"{{@dask}} needs the cluster extra; install it with `{CLUSTER_INSTALL}`") from None
    # Dask logs every start, connection and shutdown at INFO on stderr; the batch reports what matters itself.
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if address == "local" or address.startswith("local:"):
        count = address.partition(":")[2] or str(os.cpu_count() or 1)
        if not count.isdigit() or int(count) < 1:
            raise ClusterError(f'"{address}" is not local:N; write e.g. {{@dask}} local:2', field="{@dask}")
        cluster = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
        return Client(cluster), cluster
    try:
        return Client(address, timeout="10s"), None
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} ({type(error).__name__}); start one with "
                           "`dask scheduler`, or use {@dask} local", field="{@dask}") from None


def _dask_render(job: SessionJob, store: RemoteStore | None, *made: Mapping[str, Clip]) -> Timeline:
    """One session, on a Dask worker: the clips it was given plus those its voice's synthesis tasks made
    (``made``, which Dask hands over from wherever they ran); its files appear whole or not at all."""
    phrases = set(job.plan.phrases())
    clips = {**job.clips, **{text: clip for batch in made for text, clip in batch.items() if text in phrases}}
    return render_session(dataclasses.replace(job, clips=clips), store)


SPEECH_TASK_PHRASES = 64  # at most this many phrases per synthesis task (a voice's phrases spread over workers)


class _DaskRenderer(_Renderer):
    """Speech synthesized and sessions rendered as tasks on a Dask cluster.

    Each voice's missing phrases are synthesized by tasks of that (engine, voice) only,
    into the speech cache (which the workers must see: a shared folder or an s3:// store);
    each session is one task that waits for the syntheses it needs. A task whose worker
    dies is retried on another (Dask's retries). The output folder must be one the
    workers see at the same path, or a shared store.
    """

    def __init__(self, address: str, report: BatchProgress, session_finished: Callable[[], None],
                 store: RemoteStore | None = None) -> None:
        super().__init__(report, session_finished, store)
        self.client, self.cluster = dask_client(address)
        self.futures: dict[Any, _Session] = {}
        self.speech: dict[Any, int] = {}  # pending synthesis tasks: how many phrases each makes
        self.reading: list[Any] = []  # tasks that read cached phrases
        self.phrases_done = self.phrases_total = 0
        self.tasks = 0
        if getattr(self.client, "dashboard_link", None):
            report("dask", 0, 0, str(self.client.dashboard_link))

    def _key(self, kind: str, name: str) -> str:
        self.tasks += 1
        return f"voicecoach-{kind}-{name}-{os.getpid()}-{id(self)}-{self.tasks}"

    def clips(self, speech: SpeechService, settings: SpeechSettings, texts: Sequence[str],
              spoken: Callable[[str], str], on_progress: Callable[[int, int], None]
              ) -> tuple[dict[str, Clip], list[tuple[frozenset[str], Any]]]:
        """One voice's clips, all made or read by tasks on the workers, none here: those the cache has by one task
        that reads them (Dask runs it again elsewhere if the worker holding them dies), the rest by tasks that
        synthesize them, in groups spread over the workers (at most SPEECH_TASK_PHRASES each)."""
        cached = [text for text in texts if speech.cache.has(settings, spoken(text))]
        missing = sorted(set(texts) - set(cached), key=list(texts).index)
        self.phrases_total += len(texts)
        self.phrases_done += len(cached)
        self._report_speech()
        def task(group: Sequence[str], kind: str) -> tuple[frozenset[str], Any]:
            future = self.client.submit(synthesize_task, settings, {text: spoken(text) for text in group},
                                        str(speech.cache.root), speech.cache.url, retries=2, pure=False,
                                        key=self._key(kind, settings.voice_id.replace("/", "-")))
            return frozenset(group), future

        coming = [task(cached, "cached")] if cached else []
        self.reading += [future for _, future in coming]
        threads = max(1, sum(self.client.nthreads().values())) if missing else 1
        size = min(SPEECH_TASK_PHRASES, max(1, -(-len(missing) // threads)))
        for start in range(0, len(missing), size):
            coming.append(task(missing[start:start + size], "speech"))
            self.speech[coming[-1][1]] = len(coming[-1][0])
        return {}, coming

    def _report_speech(self) -> None:
        self.report("speech", self.phrases_done, self.phrases_total, None)

    def submit(self, session: _Session, job: SessionJob, coming: Sequence[Any] = ()) -> None:
        future = self.client.submit(_dask_render, job, self.store, *coming, retries=2, pure=False,
                                    key=self._key("session", session.name))
        self.futures[future] = session

    def poll(self, timeout_s: float = 0) -> None:
        made = [future for future in self.speech if future.done()]
        for future in made:
            self.phrases_done += self.speech.pop(future)
        if made:
            self._report_speech()
        finished = [future for future in self.futures if future.done()]
        if not finished and timeout_s:
            time.sleep(timeout_s)
        for future in finished:
            session = self.futures.pop(future)
            if future.status == "finished":
                session.timeline = future.result()
            else:
                error = future.exception() if future.status == "error" else None
                session.error = error if isinstance(error, VoicecoachError) else \
                    VoicecoachError(f"failed on the cluster: {error!r}") if error is not None else \
                    VoicecoachError(f"its task was {future.status} on the cluster; build it again")
            self.finished()

    def finish(self) -> None:
        while self.futures:
            self.poll(timeout_s=0.1)
        self._close()

    def stop(self) -> None:
        """Cancel the cluster's tasks. A session task stopped midway leaves no file: it writes into an unnamed file
        (a scratch folder, for a shared store) and publishes last, each file whole."""
        self.client.cancel([*self.futures, *self.speech, *self.reading])
        self.futures.clear()
        self.speech.clear()
        self._close()

    def _close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# ---------------------------------------------------------------- playlist and manifest


def playlist_text(outcomes: Sequence[SessionOutcome]) -> str:
    """An extended M3U playlist (UTF-8, so .m3u8) of the built sessions, with their real durations."""
    lines = ["#EXTM3U"]
    for session in outcomes:
        if session.result is None:
            continue
        seconds = round(session.result.timeline.duration_ms / 1000)
        lines += [f"#EXTINF:{seconds},{session.title}", session.result.mp3_path.name]
    return "\n".join(lines) + "\n"


def manifest_data(routine_file: RoutineFile, outcomes: Sequence[SessionOutcome], playlist: str | None) -> dict:
    sessions = []
    for session in outcomes:
        entry: dict[str, Any] = {"track": session.track, "name": session.name, "title": session.title,
                                 "variant": session.spec.variant, "overrides": session.spec.overrides,
                                 "build_key": session.build_key}
        if session.result is not None:
            timeline = session.result.timeline
            entry.update(status="up to date" if session.up_to_date else "ok", file=session.result.mp3_path.name,
                         timeline=session.result.timeline_path.name, lyrics=session.result.lrc_path.name,
                         duration=round(timeline.duration_ms / 1000, 3), warnings=list(timeline.warnings))
        else:
            entry.update(status="failed", error=session.error)
        sessions.append(entry)
    return {"routine": routine_file.base.title, "source": routine_file.source.file, "playlist": playlist,
            "sessions": sessions}


def _write_index(routine_file: RoutineFile, folder: Path, outcomes: tuple[SessionOutcome, ...],
                 notices: tuple[str, ...], store: RemoteStore | None = None) -> BatchResult:
    playlist_path = folder / f"{routine_file.base.slug}.m3u8" if any(o.ok for o in outcomes) else None
    manifest_path = folder / "manifest.json"
    texts: dict[Path, str | bytes] = {
        manifest_path: json.dumps(manifest_data(routine_file, outcomes, playlist_path.name if playlist_path else None),
                                  indent=2, ensure_ascii=False, default=str) + "\n"}
    if playlist_path is not None:
        texts[playlist_path] = playlist_text(outcomes)
    write_files(texts, store)
    return BatchResult(folder, outcomes, playlist_path, manifest_path, notices, store)
