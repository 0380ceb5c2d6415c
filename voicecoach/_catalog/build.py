"""TODO"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


from .._build import BuildResult, session_tags, voice_source, with_voice
from .._errors import RoutineError, VoicecoachError
from .._audio.encode import check_mp3_format, check_writable
from .._publish.files import SessionFiles
from .._parts import ffmpeg_path
from .._audio.music_tracks import measure_tracks
from .._audio.session import SessionJob
from .._plan.steps import Plan
from .._plan.planner import plan_session
from .._routine.slug import session_slug
from .._routine.lexicon import Lexicon
from .._speech.engines.base import SpeechSettings
from .._speech.cache import PhraseCache
from .._speech.service import SpeechService
from .._stores.remote import RemoteStore
from .._routine.load import RoutineFile
from .dask import _DaskRenderer
from .index import _write_index, catalog_data, write_files
from .keys import build_key, up_to_date
from .runners import _InlineRenderer, _PoolRenderer, _Renderer
from .specs import SessionSpec
from .model import BatchOptions, BatchProgress, BatchResult, CATALOG_NAME, CatalogResult, SessionOutcome, _Session


def build_batch(routine_file: RoutineFile, specs: Sequence[SessionSpec], options: BatchOptions = BatchOptions(),
                on_progress: BatchProgress | None = None, speech: SpeechService | None = None) -> BatchResult:
    """Build every session of ``specs`` into ``output_dir/<routine-slug>/`` with a playlist and a manifest."""
    return build_catalog([(routine_file, specs)], options, on_progress, speech).batches[0]
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
