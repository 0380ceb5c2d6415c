"""A catalog: many routines, each with many sessions, built at once through the one session path.

``open_catalog`` finds the routines (files, folders, globs), reads each and
works out its sessions (variants times the matrix); a routine that cannot be
read is one error, and the others go on. ``build_catalog`` then:

1. plans every session (``PlannedSession``): its plan, voice, music and build
   key; a session whose files are there with the same key is up to date;
2. synthesizes each voice's distinct phrases once for the whole catalog;
3. hands each session's job to a ``Runner`` (here, a process pool, or Dask),
   which reports it built or failed;
4. writes each routine's playlist and manifest, and ``catalog.json`` for more
   than one routine.

Everything goes to one store (``-o``), the speech cache is another (``--cache-dir``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .._audio.encode import check_mp3_format
from .._audio.music_tracks import measure_tracks
from .._audio.timeline import Timeline
from .._errors import RoutineError, VoicecoachError
from .._parts import ffmpeg_path
from .._pipeline.build import BuildResult, voices_for, with_voice
from .._pipeline.session import copy_session
from .._plan.planner import plan_session
from .._publish.lyrics import check_subtitle_formats
from .._routine.examples import open_routine
from .._routine.load import RoutineFile
from .._routine.resolve import check_said
from .._routine.settings import Setting
from .._routine.slug import session_slug
from .._speech.cache import PhraseCache
from .._speech.service import SpeechService
from .._stores import Store, open_store
from .index import write_catalog, write_index
from .keys import session_keys, up_to_date
from .model import (
    BatchOptions,
    BatchResult,
    CatalogProgress,
    CatalogResult,
    PlannedSession,
    SessionOutcome,
    Speaker,
    phrases_by_speaker,
    unused,
)
from .runners import InlineRunner, PoolRunner, Runner, SessionDone
from .specs import SessionSpec, batch_specs, find_routines

STORE_REQUESTS = 16  # requests to a store at once when checking which sessions are up to date

Batch = tuple[RoutineFile, tuple[SessionSpec, ...]]


def open_catalog(paths: Sequence[Path | None], variants: Sequence[str] = (), all_variants: bool = False,
                 settings: Sequence[Setting] = (), matrix: Sequence[Sequence[Setting]] = ()
                 ) -> tuple[list[Batch], tuple[VoicecoachError, ...]]:
    """The routines ``paths`` name (files, folders with every ``*.yaml`` below, globs; None: the bundled
    example), each with its sessions. With more than one routine, one that cannot be read is returned as its
    error and the others go on; a single routine's error is raised."""
    found: list[Path | None] = list(find_routines([path for path in paths if path is not None])) \
        if any(path is not None for path in paths) else [None]
    batches: list[Batch] = []
    broken: list[VoicecoachError] = []
    for path in found:
        try:
            routine_file = open_routine(path)
            batches.append((routine_file, batch_specs(routine_file, variants, all_variants, settings, matrix)))
        except VoicecoachError as error:
            if len(found) == 1:
                raise
            broken.append(error)
    return batches, tuple(broken)


def build_catalog_of(paths: Sequence[Path | None], options: BatchOptions = BatchOptions(),
                     variants: Sequence[str] = (), all_variants: bool = False, settings: Sequence[Setting] = (),
                     matrix: Sequence[Sequence[Setting]] = (), on_progress: CatalogProgress | None = None
                     ) -> CatalogResult:
    """``open_catalog`` then ``build_catalog``: the routines ``paths`` name, each with its sessions, built."""
    batches, broken = open_catalog(paths, variants, all_variants, settings, matrix)
    return build_catalog(batches, options, on_progress, broken=broken)


def build_batch(routine_file: RoutineFile, specs: Sequence[SessionSpec], options: BatchOptions = BatchOptions(),
                on_progress: CatalogProgress | None = None, speech: SpeechService | None = None) -> BatchResult:
    """Build every session of ``specs`` into ``<routine-slug>/`` of the output, with a playlist and a manifest."""
    return build_catalog([(routine_file, tuple(specs))], options, on_progress, speech).batches[0]


def build_catalog(batches: Sequence[Batch], options: BatchOptions = BatchOptions(),
                  on_progress: CatalogProgress | None = None, speech: SpeechService | None = None,
                  broken: tuple[VoicecoachError, ...] = ()) -> CatalogResult:
    """Build many routines' sessions at once: each routine into ``<routine-slug>/`` of the output store with its
    playlist and manifest, speech planned across the whole catalog (each distinct phrase of a voice synthesized
    once for every routine), and, for more than one routine, ``catalog.json`` at the top. ``broken``: routines
    that could not be read (``open_catalog``), carried into the result."""
    report = on_progress or unused
    check_mp3_format(options.sample_rate_hz, options.bitrate_kbps)
    options = dataclasses.replace(options, subtitle_formats=check_subtitle_formats(options.subtitle_formats))
    ffmpeg_path()
    store = open_store(options.output_dir, "output_dir")
    folders = [Path(routine_file.base.slug) for routine_file, _ in batches]
    for folder in folders:
        store.check(folder)
    speech = speech or SpeechService(PhraseCache(options.cache_dir))
    speech.cache.store.check()
    total = sum(len(specs) for _, specs in batches)
    outcomes: dict[tuple[int, int], SessionOutcome] = {}  # by (routine, track)
    planned: list[tuple[int, PlannedSession]] = []
    for number, ((routine_file, specs), folder) in enumerate(zip(batches, folders)):
        for item in _plan_sessions(routine_file, specs, options, speech, folder, store):
            if isinstance(item, SessionOutcome):
                outcomes[number, item.track] = item
            else:
                planned.append((number, item))
    routine_of = {id(session): number for number, session in planned}
    for count in range(1, len(outcomes) + 1):  # failed or up to date already
        report("sessions", count, total, None)
    # Sessions that sound alike to the sample (the identical days of a program) are encoded once: the others are
    # copies of that audio with their own tags, made once it is there (or from a session up to date already).
    first: dict[str, SessionOutcome | PlannedSession] = {
        outcome.sound_key: outcome for outcome in outcomes.values() if outcome.ok and outcome.sound_key}
    encode: list[PlannedSession] = []
    copies: list[tuple[PlannedSession, SessionOutcome | PlannedSession]] = []
    for _, session in planned:
        if session.sound in first:
            copies.append((session, first[session.sound]))
        else:
            first[session.sound] = session
            encode.append(session)

    def done(session: PlannedSession, result: Timeline | VoicecoachError, shared_from: str | None = None) -> None:
        """A session built or failed: its outcome, reported."""
        if isinstance(result, VoicecoachError):
            outcome = SessionOutcome(session.track, session.name, session.title, session.spec, failure=result,
                                     sound_key=session.sound)
        else:
            outcome = SessionOutcome(session.track, session.name, session.title, session.spec,
                                     BuildResult(session.files(options), result, store=store), build_key=session.key,
                                     sound_key=session.sound, shared_from=shared_from)
        outcomes[routine_of[id(session)], session.track] = outcome
        report("sessions", len(outcomes), total, None)

    workers = min(options.jobs or os.cpu_count() or 1, len(encode))
    runner: Runner
    if options.dask:
        from .dask import DaskRunner

        runner = DaskRunner(options.dask, report, done)
    elif workers > 1:
        runner = PoolRunner(workers, report, done)
    else:
        runner = InlineRunner(report, done)
    try:
        _synthesize_and_render(encode, speech, options, report, runner, store, done)
        runner.finish()
    except BaseException:
        runner.stop()
        raise
    for session, source in copies:
        made = source if isinstance(source, SessionOutcome) else outcomes[routine_of[id(source)], source.track]
        if made.result is None:
            done(session, made.failure or VoicecoachError("its audio was not made"))
            continue
        try:
            timeline: Timeline | VoicecoachError = copy_session(session.job({}, options, store),
                                                                made.result.files.mp3, made.result.timeline)
        except VoicecoachError as error:
            timeline = error
        done(session, timeline, made.name)
    notices = speech.cache.take_notices()
    results = tuple(write_index(routine_file, folder,
                                tuple(outcomes[number, track] for track in range(1, len(specs) + 1)), notices, store)
                    for number, ((routine_file, specs), folder) in enumerate(zip(batches, folders)))
    path = write_catalog(results, store) if len(batches) > 1 else None
    return CatalogResult(results, path, store, broken)


def _plan_sessions(routine_file: RoutineFile, specs: Sequence[SessionSpec], options: BatchOptions,
                   speech: SpeechService, folder: Path, store: Store) -> list[PlannedSession | SessionOutcome]:
    """One routine's sessions, planned (their voices and music known), or already an outcome: failed, or up to
    date (its files there, made by the same build key)."""
    base = routine_file.base
    total = len(specs)
    names: dict[str, int] = {}
    sessions: list[PlannedSession | SessionOutcome] = []
    for track, spec in enumerate(specs, start=1):
        try:
            routine = with_voice(spec.routine(routine_file),
                                 options.voice_name, options.rate_wpm)
            plan = plan_session(routine)
            check_said(routine)
            if plan.slug in names:
                raise RoutineError(f"has the same file name as session {names[plan.slug]}; "
                                   "give the variants or values different names")
            names[plan.slug] = track
            voices = voices_for(speech, routine, plan, options)
            voice = voices[routine.language]
            tracks = measure_tracks(plan.music, options.sample_rate_hz, speech.cache.store, plan.source) \
                if plan.music is not None else None
            others = {language: other for language, other in voices.items() if language != routine.language}
            key, sound = session_keys(plan, voice, options, tracks, (track, total), others)
            sessions.append(PlannedSession(track, total, spec, folder, plan, voice, key, sound, tracks, voices))
        except VoicecoachError as error:
            sessions.append(SessionOutcome(track, session_slug(base.title, spec.name_parts),
                                           _title(base.title, spec.name_parts), spec, failure=error))
    if options.force:
        return sessions
    # Which sessions are up to date: one listing of the folder, then (in a shared store) a request or two each,
    # so many run at once.
    present = store.names(folder)
    checks = [session for session in sessions if isinstance(session, PlannedSession)]
    with ThreadPoolExecutor(STORE_REQUESTS) as threads:
        found = dict(zip(map(id, checks), threads.map(
            lambda session: up_to_date(session.files(options), session.key, store, present), checks)))
    result: list[PlannedSession | SessionOutcome] = []
    for item in sessions:
        timeline = found.get(id(item)) if isinstance(item, PlannedSession) else None
        if isinstance(item, PlannedSession) and timeline is not None:
            item = SessionOutcome(item.track, item.name, item.title, item.spec,
                                  BuildResult(item.files(options), timeline, store=store), build_key=item.key,
                                  up_to_date=True, sound_key=item.sound)
        result.append(item)
    return result


def _title(title: str, parts: Sequence[str]) -> str:
    return f"{title} ({', '.join(parts)})" if parts else title


def _synthesize_and_render(sessions: list[PlannedSession], speech: SpeechService, options: BatchOptions,
                           report: CatalogProgress, runner: Runner, store: Store, failed: SessionDone) -> None:
    """Synthesize each voice's phrases once for all its sessions, then hand those sessions to the runner.

    Sessions of the first voice are encoding while the next voice is synthesized.
    """
    # A voice is its settings plus the lexicon that turns written phrases into spoken ones. A session may need
    # two (text with no translation is said by a voice of its own language): it is handed on once both are done.
    needs = {id(session): session.speech_groups() for session in sessions}
    wanted = phrases_by_speaker(needs.values())
    all_phrases = sum(len(texts) for texts in wanted.values())
    done_before = 0
    said: dict[Speaker, Mapping] = {}
    coming_of: dict[Speaker, list] = {}
    gone: set[int] = set()  # sessions failed with a voice
    for voice, texts in wanted.items():
        def synthesized(done: int, _total: int, before: int = done_before) -> None:
            report("speech", before + done, all_phrases, None)
            runner.poll()
        group = [session for session in sessions if voice in needs[id(session)] and id(session) not in gone]
        try:
            said[voice], coming_of[voice] = runner.clips(speech, voice[0], tuple(texts), voice[1].apply, synthesized)
        except VoicecoachError as error:
            for session in group:
                failed(session, error)
                gone.add(id(session))
            done_before += len(texts)
            continue
        done_before += len(texts)
        for session in group:
            if not all(other in said for other in needs[id(session)]):
                continue  # its other voice comes later
            phrases = set(session.plan.phrases())
            clips = {text: clip for other in needs[id(session)] for text, clip in
                     _clips_of(said[other], set(needs[id(session)][other])).items()}
            coming = [future for other in needs[id(session)] for texts_of, future in coming_of[other]
                      if texts_of & phrases]
            job = session.job(clips, options, store)
            runner.submit(session, job, coming)


def _clips_of(clips: Mapping, phrases: set[str]) -> dict:
    return {text: clips[text] for text in phrases if text in clips}

