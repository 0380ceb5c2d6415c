"""Building one session: routine -> plan -> speech -> the session's files, with progress and Ctrl-C handled.

``build_session`` checks everything it can before any synthesis (the voice,
ffmpeg, the music, the output store), then synthesizes the phrases in the
order they are heard while ``write_session`` writes the session on a second
thread. ``check_routine`` is ``validate``; ``watch_routine`` rebuilds on every save."""

from __future__ import annotations

import dataclasses
import datetime
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._audio.encode import DEFAULT_BITRATE_KBPS, check_mp3_format
from .._audio.mix import SAMPLE_RATE_HZ
from .._audio.music_tracks import measure_tracks
from .._audio.timeline import Timeline
from .._errors import VoicecoachError
from .._loudness import MONO_TARGET_LUFS
from .._parts import ffmpeg_path
from .._plan.planner import plan_session
from .._plan.steps import Plan
from .._publish.lyrics import check_subtitle_formats
from .._publish.names import SessionFiles
from .._publish.tags import Tags
from .._routine.examples import open_routine
from .._routine.model import Routine
from .._routine.resolve import check_said
from .._routine.settings import Setting
from .._speech.cache import PhraseCache
from .._speech.engines.base import Clip, SpeechSettings, VoiceSource
from .._speech.service import SpeechService
from .._stores import FolderStore, Store, open_store
from .job import SessionJob
from .session import write_session

# on_progress(stage, done, total): stage is "speech" or "encode".
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RoutineSummary:
    exercises: int
    holds: int
    asked_ms: int
    variants: tuple[str, ...] = ()
    program: tuple[int, int] | None = None  # a program's sessions, and how many of them are distinct


def check_routine(path: Path, speech: SpeechService, display_name: str | None = None) -> RoutineSummary:
    """Everything a build checks before synthesizing, for the base and every variant:
    the file, the plan, that the voice exists and that its music plays; and for a routine with a program (or a
    program file), every day of the program. ``display_name`` names the file in errors."""
    from .._program.expand import check_program  # a program is checked by its own stage, after the routine's

    routine_file, program = check_program(path, display_name)
    for variant in (None, *routine_file.variant_names):
        routine = routine_file.session(variant)
        plan = plan_session(routine)
        check_said(routine)
        speech.settings_for(routine.voice, routine.language, voice_source(routine))
        if plan.music is not None:
            measure_tracks(plan.music, SAMPLE_RATE_HZ, speech.cache.store, plan.source)
        if variant is None:
            summary = RoutineSummary(len(routine.exercises), len(plan.holds), plan.asked_ms,
                                     routine_file.variant_names, program)
    return summary


def check_routines(paths: Sequence[Path], cache_dir: str | Path | Store | None = None
                   ) -> Iterator[tuple[Path, RoutineSummary | VoicecoachError]]:
    """``check_routine`` for each file in turn: its summary, or the one error that says what is wrong."""
    speech = SpeechService(PhraseCache(cache_dir))
    speech.cache.check(make=False)
    for path in paths:
        try:
            yield path, check_routine(path, speech)
        except VoicecoachError as error:
            yield path, error


@dataclass(frozen=True)
class BuildOptions:
    output_dir: str | Path | Store = Path("output")  # a folder, a URL (s3://bucket/prefix) or a store
    voice_name: str | None = None
    rate_wpm: int | None = None
    strict: bool = False
    bitrate_kbps: int = DEFAULT_BITRATE_KBPS
    sample_rate_hz: int = SAMPLE_RATE_HZ
    cache_dir: str | Path | Store | None = None  # the speech cache: a folder, a URL or a store (None: the default)
    subtitle_formats: tuple[str, ...] = ()  # "srt", "vtt": subtitle sidecars on request
    loudness_lufs: float | None = MONO_TARGET_LUFS  # None: no normalization (and encoding starts sooner)
    encoders: int | None = None  # LAME processes for one session at once (None: every core); batch: 1 each


@dataclass(frozen=True)
class BuildResult:
    """A built session: its files (their places in ``store``), its timeline, and notices about the build."""

    files: SessionFiles
    timeline: Timeline
    notices: tuple[str, ...] = ()  # about the build rather than the session, e.g. a repaired cache entry
    store: Store = field(default_factory=lambda: FolderStore("."), compare=False)

    def path(self, relative: Path) -> Path:
        """A file's path on this machine; for a store elsewhere, its place in the store (``where`` has its URL)."""
        return self.store.local(relative) or relative

    def where(self, relative: Path) -> str:
        """Where a file is, as a person would look for it: a path, or a URL."""
        return self.store.where(relative)

    @property
    def mp3_path(self) -> Path:
        return self.path(self.files.mp3)

    @property
    def timeline_path(self) -> Path:
        return self.path(self.files.timeline)

    @property
    def lrc_path(self) -> Path:
        return self.path(self.files.lrc)

    @property
    def locations(self) -> tuple[str, ...]:
        """Where every file went: the MP3, the timeline, the lyrics and any subtitles."""
        return tuple(self.where(path) for path in (self.files.mp3, self.files.timeline, self.files.lrc,
                                                   *self.files.subtitles))

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.notices + self.timeline.warnings


def with_voice(routine: Routine, voice_name: str | None, rate_wpm: int | None) -> Routine:
    """The routine with the command line's voice choices applied over the file's."""
    voice = routine.voice
    if voice_name is not None:
        voice = dataclasses.replace(voice, name=voice_name)
    if rate_wpm is not None:
        voice = dataclasses.replace(voice, rate_wpm=rate_wpm)
    return dataclasses.replace(routine, voice=voice)


def build_session(routine: Routine, options: BuildOptions = BuildOptions(),
                  on_progress: ProgressCallback | None = None, speech: SpeechService | None = None) -> BuildResult:
    """Build ``routine`` into ``options.output_dir``; return where the files went.

    Speech is synthesized here, on the thread that owns the engine, in the order
    it is heard, while a second thread writes the session through the one path
    (``session.write_session``): without loudness normalization it goes as far
    as the phrases known so far allow, so on a cold cache the encoder works while
    the engine is still speaking; with it, the encode starts once every phrase
    exists and the gain is known. Ctrl-C here abandons the encoder, which stops
    at its next chunk and publishes nothing.
    """
    routine = with_voice(routine, options.voice_name, options.rate_wpm)
    plan = plan_session(routine)
    check_said(routine)
    store = open_store(options.output_dir, "output_dir")
    check_mp3_format(options.sample_rate_hz, options.bitrate_kbps)
    subtitles = check_subtitle_formats(options.subtitle_formats)
    speech = speech or SpeechService(PhraseCache(options.cache_dir))
    voices = voices_for(speech, routine, plan, options)
    ffmpeg_path()  # a missing part is reported before any synthesis, too
    tracks = measure_tracks(plan.music, options.sample_rate_hz, speech.cache.store, plan.source,
                            (lambda done, total: on_progress("music", done, total)) if on_progress else None) \
        if plan.music is not None else None
    store.check()  # before any synthesis; after every check of the routine
    speech.cache.check()  # and the speech cache, which the first phrase synthesized is written into
    files = SessionFiles.named(Path(), plan.slug, subtitles)
    clips = _LiveClips()
    outcome: dict[str, object] = {}

    job = SessionJob(plan, clips, files, session_tags(plan), options.sample_rate_hz, options.bitrate_kbps,
                     options.loudness_lufs, options.strict, encoders=options.encoders or os.cpu_count() or 1,
                     tracks=tracks, store=store)

    finished = threading.Event()

    def encode() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # Ctrl-C is the main thread's to handle
        try:
            outcome["timeline"] = write_session(
                job, on_chunk=(lambda done, total: on_progress("encode", done, total)) if on_progress else None,
                should_stop=clips.check)
        except BaseException as error:  # handed to the main thread below
            outcome["error"] = error
            clips.abandon()
        finally:
            finished.set()

    encoder = threading.Thread(target=encode, name="voicecoach-encode", daemon=True)
    encoder.start()
    try:
        clips_for(speech, plan, voices, on_clip=clips.put,
                  on_progress=(lambda done, total: on_progress("speech", done, total)) if on_progress else None)
        clips.complete()  # a phrase the plan did not list is now an error, never a wait
        encoder.join()
    except _Abandoned:
        encoder.join()  # the encoder failed; its error is raised below
    except BaseException:
        clips.abandon()  # stops the encoder, which removes what it had begun
        # Not encoder.join(): a join that Ctrl-C interrupted returns at once the next time (CPython before 3.13,
        # gh-90882), and the encoder would be cut off at exit with its files and processes left behind.
        finished.wait()
        raise
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    timeline: Timeline = outcome["timeline"]  # type: ignore[assignment]
    return BuildResult(files, timeline, speech.cache.take_notices(), store)


class _Abandoned(Exception):
    """The other side of a build stopped; this side stops too."""


class _LiveClips(Mapping):
    """The clips of one build as they are synthesized; asking for one not there yet waits for it."""

    def __init__(self) -> None:
        self._clips: dict[str, Clip] = {}
        self._changed = threading.Condition()
        self._abandoned = False
        self._complete = False

    def put(self, text: str, clip: Clip) -> None:
        with self._changed:
            if self._abandoned:
                raise _Abandoned
            self._clips[text] = clip
            self._changed.notify_all()

    def abandon(self) -> None:
        with self._changed:
            self._abandoned = True
            self._changed.notify_all()

    def complete(self) -> None:
        """Every phrase has come: asking for another raises KeyError instead of waiting for it."""
        with self._changed:
            self._complete = True
            self._changed.notify_all()

    def check(self) -> None:
        if self._abandoned:
            raise _Abandoned

    def __getitem__(self, text: str) -> Clip:
        with self._changed:
            while text not in self._clips:
                if self._abandoned:
                    raise _Abandoned
                if self._complete:
                    raise KeyError(text)
                self._changed.wait()
            return self._clips[text]

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._clips))

    def __len__(self) -> int:
        return len(self._clips)


def voices_for(speech: SpeechService, routine: Routine, plan: Plan,
               options: Any = None) -> dict[str, SpeechSettings]:
    """Who says the plan's phrases, by language: the routine's voice in the session's language, and for text
    with no translation, the engine's voice for the routine's own language (the same voice when it is a voice
    file, which speaks one language)."""
    voices = {routine.language: speech.settings_for(routine.voice, routine.language, voice_source(routine, options))}
    for language in plan.phrases_by_language():
        if language not in voices:
            own = routine.voice if routine.voice.model is not None else dataclasses.replace(routine.voice, name=None)
            voices[language] = speech.settings_for(own, language, voice_source(routine, options))
    return voices


def clips_for(speech: SpeechService, plan: Plan, voices: Mapping[str, SpeechSettings],
              on_clip: Callable[[str, Clip], None] | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> dict[str, Clip]:
    """Every phrase of ``plan`` synthesized (or read from the cache) by the voice of its language."""
    groups = plan.phrases_by_language()
    total = sum(len(texts) for texts in groups.values())
    clips: dict[str, Clip] = {}
    done = 0
    for language, texts in groups.items():
        def progress(count: int, _total: int, before: int = done) -> None:
            if on_progress:
                on_progress(before + count, total)
        clips.update(speech.clips(texts, voices[language], on_clip=on_clip, spoken=plan.spoken,
                                  on_progress=progress))
        done += len(texts)
    return clips


def voice_source(routine: Routine, options: BuildOptions | None = None) -> VoiceSource:
    """Where the routine's voice was chosen (file, line, field, or the flag), for an error about it."""
    if options is not None and options.voice_name is not None:
        return None, None, "{@voice_name}"
    path = ("voice", "name") if routine.voice.name else ("language",)
    line, written_as = routine.source.locate(path)
    return routine.source.file, line, written_as or ".".join(path)


def session_tags(plan: Plan, track: tuple[int, int] | None = None) -> Tags:
    """The ID3 tags: title "Title (quick)", album the routine, track within a batch, this year, the cover."""
    cover = plan.cover.read_bytes() if plan.cover else None
    return Tags(title=plan.title, album=plan.album or plan.title, comment=plan.description, track=track,
                version=plan.version, exercises=plan.exercise_count, cover=cover, year=datetime.date.today().year,
                day=plan.day)


def build_file(path: Path | None, options: BuildOptions = BuildOptions(),
               on_progress: ProgressCallback | None = None, variant: str | None = None,
               settings: Sequence[Setting] = ()) -> BuildResult:
    """Load and build the routine at ``path`` (the bundled example when None), with a variant and overrides."""
    routine_file = open_routine(path)
    return build_session(routine_file.session(variant, settings), options, on_progress)


def watch_routine(path: Path, options: BuildOptions, on_result: Callable[[BuildResult | VoicecoachError], None],
                  variant: str | None = None, settings: Sequence[Setting] = (),
                  stop: threading.Event | None = None) -> None:
    """Build ``path``, then build it again every time it is saved, until ``stop`` is set (or Ctrl-C).

    Each build's result, or its one error, goes to ``on_result``; a build that fails leaves the last good
    files in place (a build publishes all its files or none). The routine's folder is watched, not the file,
    so an editor that saves by writing a new file and renaming it is seen too.
    """
    import watchfiles

    target = path.resolve()

    def build_once() -> None:
        try:
            on_result(build_file(path, options, None, variant, settings))
        except VoicecoachError as error:
            on_result(error)

    # The watcher is running before the first build (its first answer is a timeout, which says so), so a save
    # made at any moment after the call began is seen, even one made while the first build runs.
    started = False
    for changes in watchfiles.watch(target.parent, watch_filter=lambda _change, changed: Path(changed) == target,
                                    debounce=300, step=50, stop_event=stop, recursive=False,
                                    yield_on_timeout=True, rust_timeout=50):
        if not started or changes:
            started = True
            build_once()
